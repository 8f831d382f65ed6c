package sink_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/producer/sink"
)

// A delayed partition's records reach Kafka after the records sent later to other
// partitions, in their own order, and Close waits for them.
func TestDelayedPartitionLagsTheOthers(t *testing.T) {
	env := testkit.New(t)
	kcfg := env.Kafka()
	kcfg.Partitions = 3
	if err := kafka.EnsureTopics(t.Context(), env.Admin(t), nil, kcfg.TopicSpecs()...); err != nil {
		t.Fatal(err)
	}
	serde, err := codec.New(env.Registry())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := sink.New(ctx, kcfg, serde, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	const delay = 700 * time.Millisecond
	s.DelayPartition(1, delay)
	// Processes spread over the partitions, each with one event.
	for hpid := int64(1); hpid <= 30; hpid++ {
		b := raw.Batch{Exporter: "n", HPID: hpid, CreateTS: hpid, Events: []raw.Event{raw.NewEvent(raw.OpExit, hpid, hpid)}}
		if err := s.Send(ctx, &b); err != nil {
			t.Fatal(err)
		}
	}
	sent := time.Now()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if time.Since(sent) < delay/2 {
		t.Errorf("Close returned %v after the sends, before the held records could be produced", time.Since(sent))
	}
	cl := env.Client(t, kgo.ConsumeTopics(kcfg.Topics().Raw), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var first, last = map[int32]time.Time{}, map[int32]time.Time{}
	var prev = map[int32]int64{}
	n := 0
	for n < 30 {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			n++
			if _, ok := first[r.Partition]; !ok {
				first[r.Partition] = r.Timestamp
			}
			last[r.Partition] = r.Timestamp
			var b raw.Batch
			if err := serde.DecodeRaw(ctx, r.Value, &b); err != nil {
				t.Fatal(err)
			}
			if b.HPID < prev[r.Partition] {
				t.Errorf("partition %d: process %d after %d", r.Partition, b.HPID, prev[r.Partition])
			}
			prev[r.Partition] = b.HPID
		})
	}
	if len(first) != 3 {
		t.Fatalf("records in %d partitions, want 3", len(first))
	}
	for _, p := range []int32{0, 2} {
		if gap := first[1].Sub(last[p]); gap < delay/2 {
			t.Errorf("partition 1's first record %v after partition %d's last, want about %v", gap, p, delay)
		}
	}
}
