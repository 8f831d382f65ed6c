package archivetest

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/processors/pipeline"
	"github.com/sfstream/sfstream/processors/state"
	"github.com/sfstream/sfstream/sysflow"
)

// ProcessorState is the SysFlow building configuration the tests' processors use.
func ProcessorState() state.Config { return state.ReferenceTestConfig() }

// Expected runs batches through one State and returns the events and flows they give, as a
// multiset of encoded records.
func Expected(t testing.TB, batches []*raw.Batch) map[string]int {
	t.Helper()
	out := map[string]int{}
	st, err := state.New(ProcessorState(), eventSink(func(rec sysflow.Record) {
		b, err := sysflow.Marshal(rec)
		if err != nil {
			t.Fatalf("encode expected event: %v", err)
		}
		out[string(b)]++
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := st.Apply(b); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

type eventSink func(sysflow.Record)

func (eventSink) Entity([]byte, sysflow.Record)      {}
func (f eventSink) Event(_ []byte, r sysflow.Record) { f(r) }

// Count returns the size of a multiset.
func Count(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// Setup creates the test's topics and returns its Kafka config and a Serde on its registry.
func Setup(t testing.TB, env *testkit.Env) (kafka.Config, *codec.Serde) {
	t.Helper()
	kcfg := env.Kafka()
	if err := kafka.EnsureTopics(t.Context(), env.Admin(t), nil, kcfg.TopicSpecs()...); err != nil {
		t.Fatal(err)
	}
	serde, err := codec.New(env.Registry())
	if err != nil {
		t.Fatal(err)
	}
	return kcfg, serde
}

// ProduceRaw produces batches to sysflow.raw, in order, keyed by process.
func ProduceRaw(t testing.TB, kcfg kafka.Config, serde *codec.Serde, batches []*raw.Batch) {
	t.Helper()
	ctx := t.Context()
	id, err := serde.RegisterRaw(ctx, kcfg.Topics().Raw)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(kgo.ProducerLinger(0)))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, b := range batches {
		v, err := serde.AppendRaw(nil, id, b)
		if err != nil {
			t.Fatal(err)
		}
		cl.Produce(ctx, &kgo.Record{Topic: kcfg.Topics().Raw, Key: raw.Key(b.Exporter, b.HPID, b.CreateTS), Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce raw: %v", err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// Process runs an in-process processor until sysflow.events holds want committed records,
// then stops it.
func Process(t testing.TB, kcfg kafka.Config, serde *codec.Serde, want int) {
	t.Helper()
	p, err := pipeline.New(pipeline.Config{
		Kafka: kcfg, TransactionalID: kcfg.TopicPrefix + "processor", State: ProcessorState(),
		MaxPollRecords: 500, RestoreIdle: 200 * time.Millisecond,
	}, serde, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	n := WaitEvents(t, kcfg, want, 60*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("processor: %v", err)
	}
	if n != want {
		t.Fatalf("sysflow.events holds %d records, want %d", n, want)
	}
}

// WaitEvents counts the committed records of sysflow.events until there are want or wait
// passed, and returns the count.
func WaitEvents(t testing.TB, kcfg kafka.Config, want int, wait time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		// The end offsets also count transaction markers and count records (no value): once
		// they reach want, count what is there.
		if EndOffsetsSum(t, kcfg, kcfg.Topics().Events) >= want || time.Now().After(deadline) {
			if n := countRecords(t, kcfg, kcfg.Topics().Events); n >= want || time.Now().After(deadline) {
				return n
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// EndOffsetsSum returns the sum of a topic's last stable offsets: an upper bound of its
// committed records (transaction markers take offsets too).
func EndOffsetsSum(t testing.TB, kcfg kafka.Config, topic string) int {
	t.Helper()
	cl, err := kafka.NewClient(kcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	offs, err := kadm.NewClient(cl).ListCommittedOffsets(t.Context(), topic)
	if err != nil {
		return 0
	}
	n := 0
	offs.Each(func(o kadm.ListedOffset) {
		if o.Err == nil && o.Offset > 0 {
			n += int(o.Offset)
		}
	})
	return n
}

// countRecords reads a topic read_committed to its current end and counts its records, but
// for count records (no value: the processors' capture counts).
func countRecords(t testing.TB, kcfg kafka.Config, topic string) int {
	t.Helper()
	cl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.KeepControlRecords()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	offs, err := kadm.NewClient(cl).ListCommittedOffsets(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	ends := map[int32]int64{}
	offs.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	pos := map[int32]int64{}
	done := func() bool {
		for p, e := range ends {
			if pos[p] < e {
				return false
			}
		}
		return true
	}
	n := 0
	deadline := time.Now().Add(30 * time.Second)
	for !done() && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			pos[r.Partition] = r.Offset + 1
			if !r.Attrs.IsControl() && r.Value != nil { // count records have no value
				n++
			}
		})
		cancel()
	}
	return n
}
