package archive_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/archiver/archivetest"
	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/stack"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// producer writes SysFlow records to the test's topics.
type producer struct {
	t     testing.TB
	cl    *kgo.Client
	serde *codec.Serde
	ids   map[string]int
}

func newProducer(t testing.TB, kcfg kafka.Config, serde *codec.Serde) *producer {
	t.Helper()
	cl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(kgo.ProducerLinger(0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &producer{t: t, cl: cl, serde: serde, ids: map[string]int{}}
}

func (p *producer) produce(topic, key string, rec sysflow.Record) {
	p.t.Helper()
	id, ok := p.ids[topic]
	if !ok {
		var err error
		if id, err = p.serde.RegisterSysFlow(p.t.Context(), topic); err != nil {
			p.t.Fatal(err)
		}
		p.ids[topic] = id
	}
	v, err := p.serde.AppendSysFlow(nil, id, rec)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.cl.ProduceSync(p.t.Context(), &kgo.Record{Topic: topic, Key: []byte(key), Value: v}).FirstErr(); err != nil {
		p.t.Fatal(err)
	}
}

func readArchived(t testing.TB, target stack.ArchiveTarget) []sysflow.Record {
	t.Helper()
	var out []sysflow.Record
	for name, b := range archivetest.ReadObjects(t, target) {
		r, err := sffile.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out = append(out, rec)
		}
	}
	return out
}

// A record whose parent's entity comes from a partition that lags (it reaches
// sysflow.entities after the record reaches sysflow.events) is written after the real parent
// once it arrives, within the reference wait; an entity that never arrives is written as a
// placeholder after the wait, and counted. Either way the file is self-contained.
func TestEventsWaitForAncestorsFromLaggingPartitions(t *testing.T) {
	for _, tt := range []struct {
		name       string
		arrives    bool
		wantResult string
	}{
		{"parent arrives late", true, "resolved"},
		{"parent never arrives", false, "timeout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := testkit.New(t)
			kcfg, serde := archivetest.Setup(t, env)
			topics := kcfg.Topics()
			p := newProducer(t, kcfg, serde)
			now := time.Now().UnixNano()
			root := sysflow.OID{HPID: 1, CreateTS: now - int64(time.Hour)}
			parent := sysflow.OID{HPID: 300, CreateTS: now - int64(time.Second)}
			child := sysflow.OID{HPID: 301, CreateTS: now}
			p.produce(topics.Entities, root.Key("n"), &sysflow.Process{State: sysflow.StateReup, OID: root, TS: root.CreateTS, Exe: "/sbin/init", Env: []string{}})
			p.produce(topics.Entities, child.Key("n"), &sysflow.Process{State: sysflow.StateCreated, OID: child, POID: &parent, TS: child.CreateTS, Exe: "/bin/ls", Env: []string{}})
			p.produce(topics.Events, child.Key("n"), &sysflow.ProcessEvent{ProcOID: child, TS: child.CreateTS, OpFlags: 1, Args: []string{}})

			target := stack.ArchiveTarget{Dir: t.TempDir(), Prefix: "refs"}
			cfg := config(t, kcfg, target)
			cfg.ReferenceWait = 3 * time.Second
			if tt.arrives {
				cfg.ReferenceWait = time.Minute
			}
			cfg.IdleTimeout = time.Hour
			r := start(t, cfg, serde)
			waitFor(t, 30*time.Second, "the archiver to fetch the event", func() bool {
				return archivetest.Metric(t, r.reg, "sfstream_archiver_reference_wait_seconds") > 0 ||
					archivetest.MetricLabel(t, r.reg, "sfstream_archiver_reference_waits_total", "result", "timeout") > 0 || r.a.Ready()
			})
			if tt.arrives {
				time.Sleep(1500 * time.Millisecond) // the parent's partition lags
				p.produce(topics.Entities, parent.Key("n"), &sysflow.Process{State: sysflow.StateCreated, OID: parent, POID: &root, TS: parent.CreateTS, Exe: "/bin/sh", Env: []string{}})
			}
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			if err := r.a.Drain(ctx); err != nil {
				t.Fatal(err)
			}
			if v := archivetest.MetricLabel(t, r.reg, "sfstream_archiver_reference_waits_total", "result", tt.wantResult); v != 1 {
				t.Errorf("reference waits %s = %v, want 1", tt.wantResult, v)
			}
			missing := archivetest.MetricLabel(t, r.reg, "sfstream_archiver_missing_references_total", "kind", "parent")
			if err := r.stop(); err != nil {
				t.Fatal(err)
			}
			res := archivetest.Check(t, archivetest.ReadObjects(t, target), target.Prefix)
			if res.Objects != 1 {
				t.Fatalf("%d objects, want 1", res.Objects)
			}
			var got *sysflow.Process
			for _, rec := range readArchived(t, target) {
				if pr, ok := rec.(*sysflow.Process); ok && pr.OID == parent {
					got = pr
				}
			}
			switch {
			case got == nil:
				t.Fatal("the parent is not in the file")
			case tt.arrives && (got.Exe != "/bin/sh" || missing != 0):
				t.Errorf("parent written as %+v (%v missing), want its real entity", got, missing)
			case !tt.arrives && (got.Exe != "" || got.UID != -1 || missing != 1):
				t.Errorf("parent written as %+v (%v missing), want a placeholder, counted", got, missing)
			}
		})
	}
}
