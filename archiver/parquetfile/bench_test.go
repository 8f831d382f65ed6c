package parquetfile_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sfstream/sfstream/archiver/archivetest"
	"github.com/sfstream/sfstream/archiver/hourly"
	"github.com/sfstream/sfstream/archiver/parquetfile"
	"github.com/sfstream/sfstream/internal/entities"
	"github.com/sfstream/sfstream/processors/state"
	"github.com/sfstream/sfstream/producer/synthetic"
	"github.com/sfstream/sfstream/sysflow"
)

// profileRecords runs rawEvents of a synthetic profile at rate events/s of event time
// through a processor state and returns the events and flows it emits, with an entity table
// holding its entities, as the archiver's table would.
func profileRecords(b *testing.B, prof *synthetic.Profile, rawEvents int64, rate float64) ([]sysflow.Record, *entities.Table, int64) {
	b.Helper()
	g, err := synthetic.New(synthetic.Config{Profile: prof, Rate: rate})
	if err != nil {
		b.Fatal(err)
	}
	table := entities.NewTable(0)
	var events []sysflow.Record
	st, err := state.New(state.DefaultConfig(), benchSink{
		entity: func(key []byte, rec sysflow.Record) {
			if err := table.Add(string(key), rec, 0); err != nil {
				b.Fatal(err)
			}
		},
		event: func(_ []byte, rec sysflow.Record) { events = append(events, rec) },
	})
	if err != nil {
		b.Fatal(err)
	}
	batches := g.Batches(rawEvents)
	for _, bt := range batches {
		if err := st.Apply(bt); err != nil {
			b.Fatal(err)
		}
	}
	return events, table, g.Config().Start
}

type benchSink struct{ entity, event func([]byte, sysflow.Record) }

func (s benchSink) Entity(k []byte, r sysflow.Record) { s.entity(k, r) }
func (s benchSink) Event(k []byte, r sysflow.Record)  { s.event(k, r) }

// writeObjects writes the records as the archiver does, one object per hour, and returns
// the finished objects.
func writeObjects(b *testing.B, dir string, events []sysflow.Record, table *entities.Table) []hourly.Object {
	b.Helper()
	files := map[int64]*hourly.File{}
	var order []int64
	for i, rec := range events {
		hour := hourly.HourOf(sysflow.EventFieldsOf(rec).TS)
		f := files[hour]
		if f == nil {
			k := hourly.Key{Exporter: synthetic.DefaultExporter, Hour: hour}
			var err error
			if f, err = hourly.Create(dir, k, k.Name("bench"), table); err != nil {
				b.Fatal(err)
			}
			files[hour] = f
			order = append(order, hour)
		}
		if err := f.Append(rec, 1, int64(i)); err != nil {
			b.Fatal(err)
		}
	}
	var out []hourly.Object
	for _, h := range order {
		obj, err := files[h].Finish("sysflow.events")
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, obj)
	}
	return out
}

// convert writes the Parquet file of each object to dir and returns their total size.
func convert(b *testing.B, dir string, objs []hourly.Object) (size int64, paths []string) {
	b.Helper()
	for _, obj := range objs {
		in, err := os.Open(obj.Path)
		if err != nil {
			b.Fatal(err)
		}
		p := filepath.Join(dir, strings.TrimSuffix(filepath.Base(obj.Path), ".sf")+".parquet")
		out, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		bw := bufio.NewWriterSize(out, 1<<20)
		if _, err := parquetfile.Convert(bw, bufio.NewReaderSize(in, 1<<20), nil); err != nil {
			b.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			b.Fatal(err)
		}
		info, _ := os.Stat(p)
		size += info.Size()
		paths = append(paths, p)
	}
	return size, paths
}

// BenchmarkWrite writes the events and flows of 400k raw events of each synthetic profile
// as the archiver does: "avro" is the hourly SysFlow object (entities resolved through the
// table), "parquet" the Parquet file made from that object (decode, flatten, encode, zstd).
// Both report the cost per event or flow and the bytes per million of them.
func BenchmarkWrite(b *testing.B) {
	for _, prof := range synthetic.Profiles() {
		b.Run(prof.Name, func(b *testing.B) {
			events, table, _ := profileRecords(b, prof, 400_000, synthetic.DefaultRate)
			n := float64(len(events))
			objs := writeObjects(b, b.TempDir(), events, table)
			b.Logf("%s: %d events and flows in %d object(s)", prof.Name, len(events), len(objs))
			b.Run("avro", func(b *testing.B) {
				var size int64
				for range b.N {
					size = 0
					for _, o := range writeObjects(b, b.TempDir(), events, table) {
						size += o.Size
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/event")
				b.ReportMetric(float64(size)/n*1e6/(1<<20), "MiB/Mevents")
			})
			b.Run("parquet", func(b *testing.B) {
				var size int64
				for range b.N {
					size, _ = convert(b, b.TempDir(), objs)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/event")
				b.ReportMetric(float64(size)/n*1e6/(1<<20), "MiB/Mevents")
			})
		})
	}
}

// BenchmarkDuckDBScanHour builds an hour of the httpd profile at 2000 raw events/s (the
// rate of sfstream run --synthetic; 7.2M raw events), writes its object and Parquet file,
// and times DuckDB queries over the Parquet file: a full scan counting rows by type, the
// NetworkFlow port filter, and bytes written per executable. Each query runs 5 times; the
// median is reported in ms. It needs $SFSTREAM_PYTHON with duckdb (make test-deps).
func BenchmarkDuckDBScanHour(b *testing.B) {
	py := archivetest.Python(b, "duckdb")
	t0 := time.Now()
	events, table, _ := profileRecords(b, synthetic.HTTPD, 7_200_000, 2000)
	dir := b.TempDir()
	objs := writeObjects(b, dir, events, table)
	var avro int64
	for _, o := range objs {
		avro += o.Size
	}
	pq, paths := convert(b, dir, objs)
	b.Logf("hour of httpd load: %d events and flows, %d object(s), avro %.1f MiB, parquet %.1f MiB; built in %v",
		len(events), len(objs), float64(avro)/(1<<20), float64(pq)/(1<<20), time.Since(t0).Round(time.Millisecond))
	script := `
import duckdb, json, sys, time, statistics
path = sys.argv[1]
con = duckdb.connect()
qs = {
  "count_by_type": f"select type, count(*) from read_parquet('{path}') group by type",
  "nf_dport_80": f"select count(*) from read_parquet('{path}') where type = 'NF' and net_dport = 80",
  "wbytes_by_exe": f"select proc_exe, sum(flow_wbytes) from read_parquet('{path}') where type in ('FF', 'NF') group by proc_exe order by 2 desc limit 10",
}
out = {}
for name, q in qs.items():
    times = []
    for _ in range(5):
        t = time.perf_counter(); res = con.execute(q).fetchall(); times.append(time.perf_counter() - t)
    out[name] = {"ms": statistics.median(times) * 1000, "first": str(res[:3])}
json.dump(out, sys.stdout)
`
	b.ResetTimer()
	var res map[string]struct {
		MS    float64 `json:"ms"`
		First string  `json:"first"`
	}
	for range b.N {
		cmd := exec.Command(py, "-c", script, paths[0])
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("duckdb: %v\n%s", err, stderr.String())
		}
		if err := json.Unmarshal(out, &res); err != nil {
			b.Fatal(err)
		}
	}
	for name, r := range res {
		b.ReportMetric(r.MS, name+"-ms")
		b.Logf("%s: %.1f ms (%s)", name, r.MS, r.First)
	}
	b.ReportMetric(float64(len(events)), "events")
	b.ReportMetric(float64(pq)/(1<<20), "parquet-MiB")
	b.ReportMetric(float64(avro)/(1<<20), "avro-MiB")
}
