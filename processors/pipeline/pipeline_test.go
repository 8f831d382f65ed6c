package pipeline_test

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/processors/pipeline"
	"github.com/sfstream/sfstream/processors/state"
	"github.com/sfstream/sfstream/producer/synthetic"
	"github.com/sfstream/sfstream/sysflow"
)

const sec = int64(1e9)

func workload(n int) []*raw.Batch { return synthetic.Simple("node", n, 1_700_000_000*sec) }

// expected runs the workload through State directly and returns the event records per key.
func expected(t *testing.T, batches []*raw.Batch) map[string][]sysflow.Record {
	t.Helper()
	c := &sink{events: map[string][]sysflow.Record{}}
	st, err := state.New(state.ReferenceTestConfig(), c)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := st.Apply(b); err != nil {
			t.Fatal(err)
		}
	}
	return c.events
}

type sink struct{ events map[string][]sysflow.Record }

func (s *sink) Entity([]byte, sysflow.Record) {}
func (s *sink) Event(k []byte, r sysflow.Record) {
	s.events[string(k)] = append(s.events[string(k)], r)
}

// startStack returns the test's brokers and registry (embedded, or the real stack with
// SFSTREAM_STACK=local) and a unique topic prefix.
func startStack(t *testing.T) (*testkit.Env, kafka.Config, *codec.Serde) {
	t.Helper()
	ctx := context.Background()
	s := testkit.New(t)
	kcfg := kafka.Config{Brokers: s.Brokers, Partitions: 3, TopicPrefix: s.Prefix}
	cl, err := kafka.NewClient(kcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := kafka.EnsureTopics(ctx, kadm.NewClient(cl), nil, kcfg.TopicSpecs()...); err != nil {
		t.Fatal(err)
	}
	serde, err := codec.New(srclient.CreateSchemaRegistryClient(s.RegistryURL))
	if err != nil {
		t.Fatal(err)
	}
	return s, kcfg, serde
}

func produceRaw(t *testing.T, kcfg kafka.Config, serde *codec.Serde, batches []*raw.Batch) {
	t.Helper()
	ctx := context.Background()
	id, err := serde.RegisterRaw(ctx, kcfg.Topics().Raw)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kafka.NewClient(kcfg)
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

// consumeEvents reads sysflow.events (read_committed) until want records arrived or the
// deadline, and returns them per key.
func consumeEvents(t *testing.T, kcfg kafka.Config, serde *codec.Serde, want int, wait time.Duration) (map[string][]sysflow.Record, int) {
	t.Helper()
	cl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(
		kgo.ConsumeTopics(kcfg.Topics().Events), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := map[string][]sysflow.Record{}
	n := 0
	deadline := time.Now().Add(wait)
	for n < want && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			if r.Value == nil {
				return // a count record
			}
			rec, err := serde.DecodeSysFlow(context.Background(), r.Value)
			if err != nil {
				t.Errorf("decode event: %v", err)
				return
			}
			got[string(r.Key)] = append(got[string(r.Key)], rec)
			n++
		})
	}
	// Linger briefly to catch duplicates beyond want.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { n++ })
	cancel()
	return got, n
}

func count(m map[string][]sysflow.Record) int {
	n := 0
	for _, v := range m {
		n += len(v)
	}
	return n
}

func compare(t *testing.T, got, want map[string][]sysflow.Record) {
	t.Helper()
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !reflect.DeepEqual(got[k], want[k]) {
			t.Errorf("events of %s differ: got %d records, want %d", k, len(got[k]), len(want[k]))
		}
	}
	if len(got) != len(want) {
		t.Errorf("events for %d processes, want %d", len(got), len(want))
	}
}

func runProcessor(t *testing.T, ctx context.Context, kcfg kafka.Config, serde *codec.Serde, txnID string, maxPoll int) (stop func()) {
	t.Helper()
	p, err := pipeline.New(pipeline.Config{Kafka: kcfg, Group: kcfg.TopicPrefix + "processors", TransactionalID: kcfg.TopicPrefix + txnID, State: state.ReferenceTestConfig(), MaxPollRecords: maxPoll, RestoreIdle: 200 * time.Millisecond}, serde, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("processor %s: %v", txnID, err)
		}
	}
}

func TestProcessorEndToEnd(t *testing.T) {
	_, kcfg, serde := startStack(t)
	batches := workload(20)
	want := expected(t, batches)
	produceRaw(t, kcfg, serde, batches)
	stop := runProcessor(t, context.Background(), kcfg, serde, "p-1", 50)
	got, n := consumeEvents(t, kcfg, serde, count(want), 30*time.Second)
	stop()
	if n != count(want) {
		t.Errorf("read %d event records, want %d", n, count(want))
	}
	compare(t, got, want)
}

// A processor stopped mid-stream and a second one taking over produce every record exactly
// once: the second restores the first's checkpoint.
func TestProcessorHandOverExactlyOnce(t *testing.T) {
	_, kcfg, serde := startStack(t)
	batches := workload(30)
	want := expected(t, batches)
	produceRaw(t, kcfg, serde, batches[:len(batches)/2])
	stop := runProcessor(t, context.Background(), kcfg, serde, "p-a", 7)
	time.Sleep(1500 * time.Millisecond)
	stop()
	produceRaw(t, kcfg, serde, batches[len(batches)/2:])
	stop = runProcessor(t, context.Background(), kcfg, serde, "p-b", 7)
	got, n := consumeEvents(t, kcfg, serde, count(want), 30*time.Second)
	stop()
	if n != count(want) {
		t.Errorf("read %d event records, want %d (duplicates or losses)", n, count(want))
	}
	compare(t, got, want)
}

func TestBadRawRecordsGoToDLQ(t *testing.T) {
	_, kcfg, serde := startStack(t)
	ctx := context.Background()
	cl, err := kafka.NewClient(kcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	id, err := serde.RegisterRaw(ctx, kcfg.Topics().Raw)
	if err != nil {
		t.Fatal(err)
	}
	invalid, err := serde.AppendRaw(nil, id, &raw.Batch{Exporter: "n", HPID: 5, Events: []raw.Event{{Op: 99}}})
	if err != nil {
		t.Fatal(err)
	}
	bad := [][]byte{[]byte("not avro"), {0, 0, 0, 0, 99, 1}, invalid}
	for _, v := range bad {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: kcfg.Topics().Raw, Key: []byte("k"), Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	good := workload(1)
	produceRaw(t, kcfg, serde, good)
	stop := runProcessor(t, ctx, kcfg, serde, "p-dlq", 100)
	_, n := consumeEvents(t, kcfg, serde, count(expected(t, good)), 20*time.Second)
	stop()
	if n != count(expected(t, good)) {
		t.Errorf("good records after bad ones: %d events, want %d", n, count(expected(t, good)))
	}
	dl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(kgo.ConsumeTopics(kcfg.Topics().RawDLQ), kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Close()
	var reasons []string
	deadline := time.Now().Add(10 * time.Second)
	for len(reasons) < len(bad) && time.Now().Before(deadline) {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		dl.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
			for _, h := range r.Headers {
				if h.Key == pipeline.DLQReasonHeader {
					reasons = append(reasons, string(h.Value))
				}
			}
		})
		cancel()
	}
	if len(reasons) != len(bad) {
		t.Fatalf("dead-lettered %d records with a reason, want %d: %q", len(reasons), len(bad), reasons)
	}
	t.Logf("reasons: %q", reasons)
}

// An exited process's entity is deleted from sysflow.entities with a tombstone (a nil value
// under its key) once EntityTombstoneAfter of event time has passed, in the same transaction
// as the raw record that made it due.
func TestExitedProcessEntityTombstone(t *testing.T) {
	_, kcfg, serde := startStack(t)
	ctx := t.Context()
	const t0 = 1_700_000_000 * sec
	exited := raw.Batch{Exporter: "node", HPID: 100, CreateTS: 5, Events: []raw.Event{
		raw.NewEvent(raw.OpExit, t0, 100),
	}}
	tick := func(ts int64) *raw.Batch { // another process on the same partition: advances event time
		e := raw.NewEvent(raw.OpRead, ts, 200)
		e.FD, e.Ret = 9, 1
		return &raw.Batch{Exporter: "node", HPID: 200, CreateTS: 7, Events: []raw.Event{e}}
	}
	id, err := serde.RegisterRaw(ctx, kcfg.Topics().Raw)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(kgo.RecordPartitioner(kgo.ManualPartitioner())))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, b := range []*raw.Batch{&exited, tick(t0 + 2*sec), tick(t0 + 4*sec)} {
		v, err := serde.AppendRaw(nil, id, b)
		if err != nil {
			t.Fatal(err)
		}
		r := &kgo.Record{Topic: kcfg.Topics().Raw, Partition: 0, Key: raw.Key(b.Exporter, b.HPID, b.CreateTS), Value: v}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	st := state.ReferenceTestConfig()
	st.ExitGrace, st.EntityTombstoneAfter = time.Second, 3*time.Second
	reg := prometheus.NewRegistry()
	p, err := pipeline.New(pipeline.Config{Kafka: kcfg, Group: kcfg.TopicPrefix + "processors", TransactionalID: kcfg.TopicPrefix + "p-tomb", State: st}, serde, reg)
	if err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(pctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("processor: %v", err)
		}
	}()

	rd, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(
		kgo.ConsumeTopics(kcfg.Topics().Entities), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	key := string(raw.Key("node", 100, 5))
	var versions, tombstones int
	deadline := time.Now().Add(30 * time.Second)
	for tombstones == 0 && time.Now().Before(deadline) {
		fctx, fcancel := context.WithTimeout(ctx, time.Second)
		rd.PollFetches(fctx).EachRecord(func(r *kgo.Record) {
			if string(r.Key) != key {
				return
			}
			if r.Value == nil {
				tombstones++
			} else {
				versions++
			}
		})
		fcancel()
	}
	if versions == 0 || tombstones != 1 {
		t.Fatalf("entity %s: %d versions and %d tombstones on %s, want its versions then one tombstone", key, versions, tombstones, kcfg.Topics().Entities)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := -1.0
	for _, mf := range mfs {
		if mf.GetName() == "sfstream_processor_entity_tombstones_total" {
			got = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if got != 1 {
		t.Errorf("sfstream_processor_entity_tombstones_total = %v, want 1", got)
	}
}

// Drain returns once every raw record produced before it is processed and committed: the
// events are all readable (read_committed) at that moment, without waiting for more.
func TestDrainReturnsWhenEverythingIsCommitted(t *testing.T) {
	_, kcfg, serde := startStack(t)
	batches := workload(25)
	want := expected(t, batches)
	produceRaw(t, kcfg, serde, batches)
	p, err := pipeline.New(pipeline.Config{Kafka: kcfg, Group: kcfg.TopicPrefix + "processors", TransactionalID: kcfg.TopicPrefix + "drain",
		State: state.ReferenceTestConfig(), MaxPollRecords: 9, RestoreIdle: 200 * time.Millisecond}, serde, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	dctx, dcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer dcancel()
	if err := p.Drain(dctx); err != nil {
		t.Fatal(err)
	}
	adm, err := kafka.NewClient(kcfg)
	if err != nil {
		t.Fatal(err)
	}
	lags, err := kadm.NewClient(adm).Lag(dctx, kcfg.TopicPrefix+"processors")
	adm.Close()
	if err != nil {
		t.Fatal(err)
	}
	gl, ok := lags[kcfg.TopicPrefix+"processors"]
	if !ok || gl.Error() != nil {
		t.Fatalf("lag of the group: %v", gl.Error())
	}
	if total := gl.Lag.Total(); total != 0 {
		t.Errorf("right after Drain the group lags %d raw records", total)
	}
	got, n := consumeEvents(t, kcfg, serde, count(want), time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("processor: %v", err)
	}
	if n != count(want) {
		t.Errorf("after Drain %d event records are committed, want %d", n, count(want))
	}
	compare(t, got, want)

	// A Drain that cannot finish in time says so.
	short, scancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer scancel()
	idle, err := pipeline.New(pipeline.Config{Kafka: kcfg, Group: kcfg.TopicPrefix + "never-started", TransactionalID: kcfg.TopicPrefix + "idle"}, serde, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := idle.Drain(short); err == nil || !strings.Contains(err.Error(), "drain processor") {
		t.Errorf("Drain of a processor that never runs: %v, want a drain error", err)
	}
}
