package kafka_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/sysflow"
)

// These tests run on the stack SFSTREAM_STACK selects (embedded by default).

func TestEnsureTopics(t *testing.T) {
	env := testkit.New(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cfg := env.Kafka()
	adm := kadm.NewClient(env.Client(t, kgo.MetadataMinAge(50*time.Millisecond)))
	for range 2 { // the second run finds everything and creates nothing
		if err := kafka.EnsureTopics(ctx, adm, nil, cfg.TopicSpecs()...); err != nil {
			t.Fatal(err)
		}
	}
	// A real broker's metadata catches up with topic creation asynchronously: poll.
	var details kadm.TopicDetails
	for {
		var err error
		if details, err = adm.ListTopics(ctx); err != nil {
			t.Fatal(err)
		}
		visible := 0
		for _, spec := range cfg.TopicSpecs() {
			if d, ok := details[spec.Name]; ok && d.Err == nil && int32(len(d.Partitions)) == spec.Partitions {
				visible++
			}
		}
		if visible == len(cfg.TopicSpecs()) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("topics not visible: %v", details.Names())
		case <-time.After(100 * time.Millisecond):
		}
	}
	configs, err := adm.DescribeTopicConfigs(ctx, cfg.Topics().All()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, spec := range cfg.TopicSpecs() {
		d, ok := details[spec.Name]
		if !ok || d.Err != nil {
			t.Errorf("%s: not created: %v", spec.Name, d.Err)
			continue
		}
		if int32(len(d.Partitions)) != spec.Partitions {
			t.Errorf("%s: %d partitions, want %d", spec.Name, len(d.Partitions), spec.Partitions)
		}
		rc, err := configs.On(spec.Name, nil)
		if err != nil {
			t.Errorf("%s: describe configs: %v", spec.Name, err)
			continue
		}
		got := map[string]string{}
		for _, c := range rc.Configs {
			got[c.Key] = c.MaybeValue()
		}
		for k, v := range spec.Configs {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", spec.Name, k, got[k], v)
			}
		}
	}
}

// txnProducer produces values in transactions to one topic.
type txnProducer struct {
	t  *testing.T
	cl *kgo.Client
}

func newTxnProducer(ctx context.Context, t *testing.T, env *testkit.Env, cfg kafka.Config) *txnProducer {
	t.Helper()
	cfg.ClientID = env.Prefix + "producer"
	cl, err := kafka.Dial(ctx, cfg, kafka.WithKgoOpts(kgo.TransactionalID(env.Prefix+"txn")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &txnProducer{t: t, cl: cl}
}

func (p *txnProducer) produce(ctx context.Context, topic string, key []byte, values [][]byte, commit bool) {
	p.t.Helper()
	if err := p.cl.BeginTransaction(); err != nil {
		p.t.Fatal(err)
	}
	for _, v := range values {
		if err := p.cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: key, Value: v}).FirstErr(); err != nil {
			p.t.Fatal(err)
		}
	}
	if err := p.cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		p.t.Fatal(err)
	}
}

// consume reads n records of topic from the start with read_committed isolation.
func consume(ctx context.Context, t *testing.T, env *testkit.Env, cfg kafka.Config, topic string, n int) []*kgo.Record {
	t.Helper()
	cfg.ClientID = env.Prefix + "consumer"
	cl, err := kafka.Dial(ctx, cfg, kafka.WithKgoOpts(
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(200*time.Millisecond),
	))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(out), n, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

func setup(t *testing.T) (context.Context, *testkit.Env, kafka.Config, *codec.Serde) {
	t.Helper()
	env := testkit.New(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	cfg := env.Kafka()
	if err := kafka.EnsureTopics(ctx, env.Admin(t), nil, cfg.TopicSpecs()...); err != nil {
		t.Fatal(err)
	}
	serde, err := codec.New(env.Registry())
	if err != nil {
		t.Fatal(err)
	}
	return ctx, env, cfg, serde
}

func TestSysFlowTransactionalRoundTrip(t *testing.T) {
	ctx, env, cfg, serde := setup(t)
	topic := cfg.Topics().Events
	id, err := serde.RegisterSysFlow(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	encode := func(recs []sysflow.Record) [][]byte {
		var out [][]byte
		for _, r := range recs {
			v, err := serde.AppendSysFlow(nil, id, r)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		return out
	}
	committed := testkit.SysFlowRecords()
	aborted := []sysflow.Record{&sysflow.Header{Version: 5, Exporter: "aborted"}}
	last := []sysflow.Record{&sysflow.Header{Version: 5, Exporter: "last"}}
	key := raw.Key("node-1", 4242, 1_700_000_000_123_456_789)

	p := newTxnProducer(ctx, t, env, cfg)
	p.produce(ctx, topic, key, encode(committed), true)
	p.produce(ctx, topic, key, encode(aborted), false)
	p.produce(ctx, topic, key, encode(last), true)

	// One key, one partition: the aborted record would come before "last".
	want := append(append([]sysflow.Record{}, committed...), last...)
	// A fresh Serde, as a consumer has: it fetches the writer schema by id.
	reader, err := codec.New(env.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range consume(ctx, t, env, cfg, topic, len(want)) {
		got, err := reader.DecodeSysFlow(ctx, r.Value)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
}

func TestRawTransactionalRoundTrip(t *testing.T) {
	ctx, env, cfg, serde := setup(t)
	topic := cfg.Topics().Raw
	id, err := serde.RegisterRaw(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	batches := func(hpids ...int64) ([]*raw.Batch, [][]byte) {
		var bs []*raw.Batch
		var vs [][]byte
		for _, h := range hpids {
			b := testkit.RawBatch("node-1", h)
			v, err := serde.AppendRaw(nil, id, b)
			if err != nil {
				t.Fatal(err)
			}
			bs, vs = append(bs, b), append(vs, v)
		}
		return bs, vs
	}
	key := []byte("node-1/P/1/1")
	committed, cv := batches(1, 2, 3)
	_, av := batches(666)
	last, lv := batches(4)

	p := newTxnProducer(ctx, t, env, cfg)
	p.produce(ctx, topic, key, cv, true)
	p.produce(ctx, topic, key, av, false)
	p.produce(ctx, topic, key, lv, true)

	want := append(committed, last...)
	for i, r := range consume(ctx, t, env, cfg, topic, len(want)) {
		var got raw.Batch
		if err := serde.DecodeRaw(ctx, r.Value, &got); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if fmt.Sprint(normalize(&got)) != fmt.Sprint(normalize(want[i])) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got, *want[i])
		}
	}
}

// normalize renders a batch with nil and empty slices alike.
func normalize(b *raw.Batch) string {
	s := fmt.Sprintf("%s %d %d", b.Exporter, b.HPID, b.CreateTS)
	for _, e := range b.Events {
		proc, sock := e.Proc, e.Sock
		e.Proc, e.Sock = nil, nil
		if len(e.FDs) == 0 {
			e.FDs = nil
		}
		s += fmt.Sprintf(" %+v", e)
		if proc != nil {
			c := proc.Container
			p := *proc
			p.Container = nil
			if len(p.Env) == 0 {
				p.Env = nil
			}
			s += fmt.Sprintf(" proc %+v", p)
			if c != nil {
				s += fmt.Sprintf(" container %+v", *c)
			}
		}
		if sock != nil {
			s += fmt.Sprintf(" sock %+v", *sock)
		}
	}
	return s
}
