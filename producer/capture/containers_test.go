package capture

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/sfstream/sfstream/bpf"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/containers"
	"github.com/sfstream/sfstream/producer/procfs"
)

// stubRuntime never answers: the tests apply answers themselves.
type stubRuntime struct{}

func (stubRuntime) Inspect(ctx context.Context, _ string) (raw.Container, error) {
	<-ctx.Done()
	return raw.Container{}, ctx.Err()
}
func (stubRuntime) API() string  { return "stub" }
func (stubRuntime) Close() error { return nil }

// An exec in a container reports what the metadata cache says of the cgroup path's container,
// asked with the process's vpid and createTS.
func TestConvertAsksContainerMetadata(t *testing.T) {
	const id = "347b1411b047a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607182930"
	c := newTestConverter()
	delete(c.table, testPID)
	full := &raw.Container{ID: "347b1411b047", Name: "web", Image: "nginx:latest", Runtime: procfs.RuntimeDocker}
	var asked [3]int64
	c.containers = func(ctr *raw.Container, vpid, createTS int64) *raw.Container {
		if ctr.ID != full.ID {
			t.Errorf("asked about container %q, want %q", ctr.ID, full.ID)
		}
		asked = [3]int64{1, vpid, createTS}
		return full
	}
	var r bpf.Record
	if err := bpf.Decode(procRecord(raw.OpExec, 0, 0, "./app", "/srv/app", "./app", "/srv", "/docker/"+id), &r); err != nil {
		t.Fatal(err)
	}
	_, createTS, ev, err := c.convert(&r)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Proc.Container != full {
		t.Errorf("exec container = %+v, want the cache's %+v", ev.Proc.Container, full)
	}
	if want := [3]int64{1, 7, createTS}; asked != want {
		t.Errorf("cache asked with (called, vpid, createTS) %v, want %v", asked, want)
	}
}

// An answer that changes a container goes out after every batch pending before it, as a
// container notice (a batch of its own, hpid 0); the processes of the table in that container
// carry the new metadata from then on; an answer that changes nothing sends nothing.
func TestContainerAnswerNotifies(t *testing.T) {
	cache := containers.NewCache(stubRuntime{}, containers.CacheConfig{})
	bare := &raw.Container{ID: "347b1411b047", Runtime: procfs.RuntimeDocker}
	served := cache.Get(bare, 1, 1)
	m, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []raw.Batch
	s := &session{metrics: m, ctrs: cache, b: newBatcher("node", 512, func(b raw.Batch) error { out = append(out, b); return nil })}
	s.conv.table = procs{
		10: {createTS: 5, info: &raw.Proc{Comm: "app", Container: served}},
		11: {createTS: 6, info: &raw.Proc{Comm: "host"}},
	}
	if err := s.b.add(10, 5, raw.NewEvent(raw.OpRead, 1, 10)); err != nil {
		t.Fatal(err)
	}
	full := raw.Container{ID: bare.ID, Name: "web", Image: "nginx:latest", ImageID: "beef", Runtime: procfs.RuntimeDocker}
	if err := s.containerAnswer(containers.Answer{ID: bare.ID, C: full, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].HPID != 10 || out[1].HPID != 0 || !out[1].Notices() {
		t.Fatalf("batches %+v, want the pending one, then a notice batch", out)
	}
	n := out[1].Events[0]
	if n.Op != raw.OpContainer || n.Proc == nil || !reflect.DeepEqual(*n.Proc.Container, full) {
		t.Errorf("notice %+v, want OpContainer with %+v", n, full)
	}
	if got := s.conv.table[10].info; got.Container == nil || *got.Container != full || got.Comm != "app" {
		t.Errorf("process in the container: %+v, want its attributes with the new metadata", got)
	}
	if got := s.conv.table[11].info; got.Container != nil {
		t.Errorf("host process got a container: %+v", got.Container)
	}
	if err := s.containerAnswer(containers.Answer{ID: bare.ID, C: full, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 {
		t.Errorf("an answer that changes nothing sent %d more batches", len(out)-2)
	}
}
