package hourly_test

import (
	"os"
	"strings"
	"testing"

	"github.com/sfstream/sfstream/archiver/archivetest"
	"github.com/sfstream/sfstream/archiver/hourly"
	"github.com/sfstream/sfstream/internal/entities"
	"github.com/sfstream/sfstream/processors/state"
	"github.com/sfstream/sfstream/sysflow"
)

// BenchmarkAppend writes the events of the archive test workload (2 exporters, 2×2000
// short-lived processes with exec, files and sockets: about 8 events and 4 entities each)
// to objects, one per exporter, resolving every reference through the entity table, and
// reports records/s and the object bytes per million events.
func BenchmarkAppend(b *testing.B) {
	w := archivetest.Default()
	w.Sessions = 2000
	table := entities.NewTable(0)
	var events []struct {
		exporter string
		rec      sysflow.Record
	}
	st, err := state.New(archivetest.ProcessorState(), benchSink{
		entity: func(key []byte, rec sysflow.Record) {
			if err := table.Add(string(key), rec, 0); err != nil {
				b.Fatal(err)
			}
		},
		event: func(key []byte, rec sysflow.Record) {
			exp, _, _ := strings.Cut(string(key), "/P/")
			events = append(events, struct {
				exporter string
				rec      sysflow.Record
			}{exp, rec})
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, bt := range w.Batches() {
		if err := st.Apply(bt); err != nil {
			b.Fatal(err)
		}
	}
	dir := b.TempDir()
	var size, entityRecs int64
	b.ResetTimer()
	for range b.N {
		files := map[string]*hourly.File{}
		for i, e := range events {
			f := files[e.exporter]
			if f == nil {
				k := hourly.Key{Exporter: e.exporter, Hour: archivetest.Boundary / 1e9}
				if f, err = hourly.Create(dir, k, k.Name("bench"), table); err != nil {
					b.Fatal(err)
				}
				files[e.exporter] = f
			}
			if err := f.Append(e.rec, 1, int64(i)); err != nil {
				b.Fatal(err)
			}
		}
		size, entityRecs = 0, 0
		for _, f := range files {
			obj, err := f.Finish("sysflow.events")
			if err != nil {
				b.Fatal(err)
			}
			size += obj.Size
			entityRecs += obj.Entities
			os.Remove(obj.Path)
		}
	}
	b.StopTimer()
	n := float64(len(events))
	b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(size)/n*1e6/(1<<20), "MiB/Mevents")
	b.ReportMetric(float64(entityRecs)/n, "entities/event")
}

type benchSink struct{ entity, event func([]byte, sysflow.Record) }

func (s benchSink) Entity(k []byte, r sysflow.Record) { s.entity(k, r) }
func (s benchSink) Event(k []byte, r sysflow.Record)  { s.event(k, r) }
