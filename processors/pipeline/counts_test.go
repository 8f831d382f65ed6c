package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/raw"
)

// produceBroadcast produces b unkeyed to every partition of sysflow.raw, as the producer's
// sink sends notices.
func produceBroadcast(t *testing.T, kcfg kafka.Config, serde *codec.Serde, b *raw.Batch) {
	t.Helper()
	ctx := context.Background()
	id, err := serde.RegisterRaw(ctx, kcfg.Topics().Raw)
	if err != nil {
		t.Fatal(err)
	}
	v, err := serde.AppendRaw(nil, id, b)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(kgo.RecordPartitioner(kgo.ManualPartitioner())))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for p := range kcfg.Partitions {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: kcfg.Topics().Raw, Partition: p, Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// consumeCounts reads sysflow.events (read_committed) for wait and sums its count records by
// exporter and hour.
func consumeCounts(t *testing.T, kcfg kafka.Config, wait time.Duration) (map[string]raw.Counts, int) {
	t.Helper()
	cl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(
		kgo.ConsumeTopics(kcfg.Topics().Events), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	sums := map[string]raw.Counts{}
	n := 0
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			if r.Value != nil {
				return
			}
			c, ok, err := raw.ParseCounts(func(name string) (string, bool) {
				for _, h := range r.Headers {
					if h.Key == name {
						return string(h.Value), true
					}
				}
				return "", false
			}, true)
			if err != nil || !ok {
				t.Errorf("record without value at %d/%d is no count record: %v", r.Partition, r.Offset, err)
				return
			}
			exp, _, _, ok := raw.ParseKey(string(r.Key))
			if !ok {
				t.Errorf("count record key %q is no process key", r.Key)
				return
			}
			k := exp + "@" + time.Unix(c.Hour, 0).UTC().Format("2006010215")
			s := sums[k]
			s.Hour = c.Hour
			s.Add(c)
			sums[k] = s
			n++
		})
	}
	return sums, n
}

// Drop notices reach sysflow.events as count records, exactly once over the transactions
// (a processor stopped mid-stream and its successor) and over the partitions (a notice sent
// to every partition counts once): their sums per exporter and hour are the events and the
// losses of the raw input.
func TestDropNoticesBecomeCountRecords(t *testing.T) {
	_, kcfg, serde := startStack(t)
	batches := workload(30)
	want := raw.Counts{}
	for i, b := range batches {
		for _, e := range b.Events {
			if e.Op != raw.OpSnapshot && e.Op != raw.OpDrop && e.Op != raw.OpEnd && e.Op != raw.OpContainer {
				want.Captured++
			}
		}
		if b.HPID == 0 || i%3 != 0 {
			continue
		}
		// A loss announced to the process's partition, as the capture does.
		kind := []int64{raw.DropKernel, raw.DropQueue, raw.DropUnspecified}[i%9/3]
		d := raw.NewEvent(raw.OpDrop, b.Events[len(b.Events)-1].TS, b.HPID)
		d.Ret, d.Flags = int64(i+1), kind
		b.Events = append(b.Events, d)
		want.AddDrop(kind, int64(i+1))
	}
	want.Hour = 1_700_000_000 / 3600 * 3600
	// An exporter-wide loss, which the producer sends unkeyed to every partition: counted once.
	shared := &raw.Batch{Exporter: "node", Events: []raw.Event{raw.NewEvent(raw.OpDrop, batches[len(batches)/2].Events[0].TS, 0)}}
	shared.Events[0].Ret, shared.Events[0].Flags = 1000, raw.DropQueue
	want.AddDrop(raw.DropQueue, 1000)
	produceRaw(t, kcfg, serde, batches[:len(batches)/2])
	produceBroadcast(t, kcfg, serde, shared)
	stop := runProcessor(t, context.Background(), kcfg, serde, "p-a", 7)
	time.Sleep(1500 * time.Millisecond)
	stop()
	produceRaw(t, kcfg, serde, batches[len(batches)/2:])
	stop = runProcessor(t, context.Background(), kcfg, serde, "p-b", 7)
	_, _ = consumeEvents(t, kcfg, serde, count(expected(t, batches)), 30*time.Second)
	stop()
	sums, n := consumeCounts(t, kcfg, 2*time.Second)
	hours := map[int64]bool{}
	var got raw.Counts
	for _, c := range sums {
		hours[c.Hour] = true
		got.Add(c)
	}
	if want.Lost() == 0 || n == 0 {
		t.Fatalf("test input has no losses (%+v) or no count records came (%d)", want, n)
	}
	got.Hour = want.Hour
	if got != want {
		t.Errorf("count records sum to %+v, want %+v", got, want)
	}
	t.Logf("%d count records, %d exporter-hours: %+v", n, len(sums), sums)
}
