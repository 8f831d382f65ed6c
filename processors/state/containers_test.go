package state_test

import (
	"testing"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/processors/state"
	"github.com/sfstream/sfstream/sysflow"
)

const cid = "0123456789ab"

var ckey = "node/C/" + cid

// inContainer returns the test process's attributes in container c.
func inContainer(c raw.Container) *raw.Proc {
	p := procAttrs()
	p.Container = &c
	return p
}

func containerSnapshot(ts int64, c raw.Container) raw.Event {
	return ev(raw.OpSnapshot, ts, func(e *raw.Event) { e.Proc = inContainer(c) })
}

// containerNotice is the producer's notice of new metadata (a batch of its own, hpid 0).
func containerNotice(ts int64, c raw.Container) *raw.Batch {
	e := raw.NewEvent(raw.OpContainer, ts, 0)
	e.Proc = &raw.Proc{Args: []string{}, Env: []string{}, Container: &c}
	return &raw.Batch{Exporter: exporter, Events: []raw.Event{e}}
}

// inContainerProcess is the test process's entity in container cid.
func inContainerProcess(state sysflow.ObjectState, ts int64) *sysflow.Process {
	p := processEntity(state, ts)
	p.ContainerID = strp(cid)
	return p
}

func containerCases() []goldenCase {
	ref := state.ReferenceTestConfig()
	bare := raw.Container{ID: cid, Runtime: 0}
	web := raw.Container{ID: cid, Name: "web", Image: "img:1:1", ImageID: "beef", Runtime: 0, Privileged: true, PodID: "pod-uid"}
	renamed := web
	renamed.Name = "web2"
	incomplete := &sysflow.Container{ID: cid, Name: "incomplete", Image: "incomplete:incomplete", Type: sysflow.CTDocker}
	full := func(c raw.Container) *sysflow.Container {
		return &sysflow.Container{ID: cid, Name: c.Name, Image: c.Image, ImageID: c.ImageID, Type: sysflow.CTDocker,
			Privileged: c.Privileged, PodID: strp(c.PodID)}
	}
	return []goldenCase{
		{
			name: "a container first written incomplete is written again when its metadata comes, and not back",
			cfg:  ref,
			in: []*raw.Batch{
				batch(containerSnapshot(t0, bare)),
				containerNotice(t0+1, web),
				containerNotice(t0+2, web),           // the same again: nothing
				batch(containerSnapshot(t0+3, bare)), // a stale copy of a process: nothing
				containerNotice(t0+4, renamed),       // renamed: a new version
			},
			want: []emitted{
				entity(ckey, incomplete),
				entity(pkey, inContainerProcess(sysflow.StateReup, t0)),
				entity(ckey, full(web)),
				entity(ckey, full(renamed)),
			},
		},
		{
			name: "a notice before any process of the container is used by the first one",
			cfg:  ref,
			in: []*raw.Batch{
				containerNotice(t0, web),
				batch(containerSnapshot(t0+1, bare)), // its copy predates the answer
			},
			want: []emitted{
				entity(ckey, full(web)),
				entity(pkey, inContainerProcess(sysflow.StateReup, t0+1)),
			},
		},
		{
			name: "metadata reaching the partition through a process replaces incomplete",
			cfg:  ref,
			in: []*raw.Batch{
				batch(containerSnapshot(t0, bare)),
				{Exporter: exporter, HPID: 300, CreateTS: 7, Events: []raw.Event{
					func() raw.Event {
						e := raw.NewEvent(raw.OpSnapshot, t0+1, 300)
						e.Proc = inContainer(web)
						return e
					}(),
				}},
			},
			want: []emitted{
				entity(ckey, incomplete),
				entity(pkey, inContainerProcess(sysflow.StateReup, t0)),
				entity(ckey, full(web)),
				entity("node/P/300/7", func() *sysflow.Process {
					p := inContainerProcess(sysflow.StateReup, t0+1)
					p.OID = sysflow.OID{CreateTS: 7, HPID: 300}
					return p
				}()),
			},
		},
	}
}

// A checkpoint written before container marks held their content ("1") restores as emitted
// with unknown content: the next metadata is written, once.
func TestOldContainerMarkRestores(t *testing.T) {
	o := &out{}
	s, err := state.Restore(state.ReferenceTestConfig(), o, state.Meta{}, map[string][]byte{ckey: []byte("1")})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []*raw.Batch{
		containerNotice(t0, raw.Container{ID: cid, Name: "web"}),
		containerNotice(t0+1, raw.Container{ID: cid, Name: "web"}),
	} {
		if err := s.Apply(b); err != nil {
			t.Fatal(err)
		}
	}
	check(t, o.recs, []emitted{entity(ckey, &sysflow.Container{ID: cid, Name: "web", Type: sysflow.CTDocker, Image: "incomplete:incomplete"})})
	if _, err := state.Restore(state.ReferenceTestConfig(), o, state.Meta{}, map[string][]byte{ckey: {2, 1, 200}}); err == nil {
		t.Error("a truncated container mark restored without an error")
	}
}
