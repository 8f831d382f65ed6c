package archive_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/archiver/archive"
	"github.com/sfstream/sfstream/archiver/archivetest"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/stack"
	"github.com/sfstream/sfstream/internal/testkit"
)

// benchRuns numbers the archivers of BenchmarkArchive: each needs a group of its own.
var benchRuns atomic.Int64

// BenchmarkArchive archives sysflow.events of a six-hour workload (2 exporters × 6000
// processes, about 100k events) from the embedded broker to a local directory, and compares
// the rate with the bare baseline of the same run: consuming and decoding the same records
// from the same broker.
func BenchmarkArchive(b *testing.B) {
	env := testkit.New(b)
	kcfg, serde := archivetest.Setup(b, env)
	w := archivetest.Default()
	w.Sessions, w.Span = 6000, 6*int64(time.Hour)
	batches := w.Batches()
	want := archivetest.Expected(b, batches)
	archivetest.ProduceRaw(b, kcfg, serde, batches)
	archivetest.Process(b, kcfg, serde, archivetest.Count(want))
	n := archivetest.Count(want)

	b.Run("baseline-consume-decode", func(b *testing.B) {
		for i := range b.N {
			cl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(kgo.ConsumeTopics(kcfg.Topics().Events),
				kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
				kgo.ClientID(fmt.Sprint("baseline-", i))))
			if err != nil {
				b.Fatal(err)
			}
			got := 0
			for got < n {
				fs := cl.PollFetches(context.Background())
				fs.EachRecord(func(r *kgo.Record) {
					if _, err := serde.DecodeSysFlow(context.Background(), r.Value); err != nil {
						b.Fatal(err)
					}
					got++
				})
			}
			cl.Close()
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})

	b.Run("archive-to-dir", func(b *testing.B) {
		var bytes, files float64
		for range b.N {
			target := stack.ArchiveTarget{Dir: b.TempDir(), Prefix: "bench"}
			reg := prometheus.NewRegistry()
			a, err := archive.New(archive.Config{
				Kafka: kcfg, Group: fmt.Sprintf("%sbench-%d", kcfg.TopicPrefix, benchRuns.Add(1)), Target: target,
				StagingDir: b.TempDir(), IdleTimeout: 100 * time.Millisecond,
			}, serde, reg, archive.WithLogger(slog.New(slog.DiscardHandler)))
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			t0 := time.Now()
			go func() { done <- a.Run(ctx) }()
			for !a.Ready() {
				time.Sleep(time.Millisecond)
			}
			t1 := time.Now()
			for archivetest.Metric(b, reg, "sfstream_archiver_records_written_total") < float64(n) {
				time.Sleep(5 * time.Millisecond)
			}
			t2 := time.Now()
			cancel()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.Logf("ready %v, stored %v, stopped %v", t1.Sub(t0), t2.Sub(t1), time.Since(t2))
			bytes = archivetest.Metric(b, reg, "sfstream_archiver_bytes_written_total")
			files = archivetest.Metric(b, reg, "sfstream_archiver_files_written_total")
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(files*float64(b.N)/b.Elapsed().Seconds(), "files/s")
		b.ReportMetric(bytes/float64(n)*1e6/(1<<20), "MiB/Mevents")
	})
}
