package consumer_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/sysprint"
	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/consumer"
)

// benchCopies is how many times the benchmarks' topics hold the events of alpine.sf (24
// events and flows each).
const benchCopies = 2000

// benchTopics produces alpine.sf's entities once and its events benchCopies times.
func benchTopics(b *testing.B) *topics {
	b.Helper()
	tp := produceReference(b, "alpine/alpine.sf")
	var more []sysflow.Record
	for range benchCopies - 1 {
		more = append(more, tp.events...)
	}
	tp.produceBatched(b, more)
	return tp
}

// produceBatched produces events to sysflow.events without waiting for each.
func (tp *topics) produceBatched(b *testing.B, recs []sysflow.Record) {
	b.Helper()
	ctx := b.Context()
	topic := tp.kcfg.Topics().Events
	id, err := tp.serde.RegisterSysFlow(ctx, topic)
	if err != nil {
		b.Fatal(err)
	}
	cl := tp.env.Client(b)
	for _, rec := range recs {
		key, _ := sysflow.RecordKey("tests", rec)
		v, err := tp.serde.AppendSysFlow(nil, id, rec)
		if err != nil {
			b.Fatal(err)
		}
		cl.Produce(ctx, &kgo.Record{Topic: topic, Key: []byte(key), Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				b.Error(err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkKafka reads the topics to their end with the consumer API (records/s: flattened,
// joined records returned) and with sfprint -o json to io.Discard, on the embedded stack.
func BenchmarkKafka(b *testing.B) {
	tp := benchTopics(b)
	total := len(tp.events) * benchCopies
	b.Run("consumer", func(b *testing.B) {
		for b.Loop() {
			if n := countKafka(b, tp.config()); n != total {
				b.Fatalf("%d records, want %d", n, total)
			}
		}
		b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("consumer-filter", func(b *testing.B) {
		for b.Loop() {
			if n := countKafka(b, tp.config(), consumer.WithFilter("type = PE and proc.exe = /bin/touch")); n != 2*benchCopies {
				b.Fatalf("%d records, want %d", n, 2*benchCopies)
			}
		}
		b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "records/s")
	})
	// sfprint prints every record as JSON, or (-filter) only the two the filter keeps, which
	// measures its reading and joining without the printing.
	for _, tt := range []struct{ name, filter string }{{"sfprint", ""}, {"sfprint-filter", "type = PE and proc.exe = /bin/touch"}} {
		b.Run(tt.name, func(b *testing.B) {
			args := []string{"-o", "json", "-registry", tp.env.RegistryURL}
			if tt.filter != "" {
				args = append(args, "--filter", tt.filter)
			}
			args = append(args, "kafka://"+tp.env.Brokers[0]+"/"+tp.kcfg.Topics().Events)
			for b.Loop() {
				var stderr strings.Builder
				if err := sysprint.Run(context.Background(), args, io.Discard, &stderr); err != nil {
					b.Fatalf("sfprint: %v\n%s", err, stderr.String())
				}
			}
			b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// countKafka reads the topics to their end and counts the records.
func countKafka(b *testing.B, cfg consumer.KafkaConfig, opts ...consumer.Option) int {
	b.Helper()
	src, err := consumer.FromKafka(cfg, opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	n := 0
	for {
		_, err := src.Next(b.Context())
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
}
