package consumer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/consumer"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// topics is a test's pipeline topics holding the records of a reference file as the
// processors write them: entities (keyed by identity) to sysflow.entities, then events and
// flows (keyed by process) to sysflow.events.
type topics struct {
	env    *testkit.Env
	kcfg   kafka.Config
	serde  *codec.Serde
	events []sysflow.Record
}

func produceReference(t testing.TB, name string) *topics {
	t.Helper()
	env := testkit.New(t)
	kcfg := env.Kafka()
	ctx := t.Context()
	if err := kafka.EnsureTopics(ctx, env.Admin(t), nil, kcfg.TopicSpecs()...); err != nil {
		t.Fatal(err)
	}
	serde, err := codec.New(env.Registry())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(referenceDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := sffile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var ents, evs []sysflow.Record
	exporter := ""
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		if h, ok := rec.(*sysflow.Header); ok {
			exporter = h.Exporter
		}
		if rec.Kind().IsEntity() {
			ents = append(ents, rec)
		} else {
			evs = append(evs, rec)
		}
	}
	tp := &topics{env: env, kcfg: kcfg, serde: serde}
	tp.produce(t, kcfg.Topics().Entities, exporter, ents)
	tp.produce(t, kcfg.Topics().Events, exporter, evs)
	tp.events = evs
	return tp
}

func (tp *topics) produce(t testing.TB, topic, exporter string, recs []sysflow.Record) {
	t.Helper()
	ctx := t.Context()
	id, err := tp.serde.RegisterSysFlow(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	cl := tp.env.Client(t, kgo.ProducerLinger(0))
	for _, rec := range recs {
		key, ok := sysflow.RecordKey(exporter, rec)
		if !ok {
			t.Fatalf("%s has no key", rec.Kind())
		}
		v, err := tp.serde.AppendSysFlow(nil, id, rec)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte(key), Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// config returns a KafkaConfig for the test's topics that stops at their end.
func (tp *topics) config() consumer.KafkaConfig {
	return consumer.KafkaConfig{
		Brokers:     tp.env.Brokers,
		RegistryURL: tp.env.RegistryURL,
		TopicPrefix: tp.kcfg.TopicPrefix,
		StopAtEnd:   true,
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func readKafka(t testing.TB, cfg consumer.KafkaConfig, opts ...consumer.Option) []string {
	t.Helper()
	src, err := consumer.FromKafka(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	got := drain(t, src)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestFromKafka(t *testing.T) {
	const file = "alpine/alpine.sf"
	tp := produceReference(t, file)
	// Every event and flow comes joined as the file's own flattening joins it: the same
	// process, parent, container and files (in partition order, not file order).
	want := sorted(fileSummaries(t, file))

	t.Run("all partitions", func(t *testing.T) {
		equalLists(t, sorted(readKafka(t, tp.config())), want)
	})
	t.Run("explicit partitions", func(t *testing.T) {
		var got []string
		for p := range tp.kcfg.Partitions {
			cfg := tp.config()
			cfg.Partitions = []int32{p}
			got = append(got, readKafka(t, cfg)...)
		}
		equalLists(t, sorted(got), want)
	})
	t.Run("from a time", func(t *testing.T) {
		cfg := tp.config()
		cfg.Start = consumer.AtTime(time.Now().Add(-time.Hour))
		equalLists(t, sorted(readKafka(t, cfg)), want)
		cfg.Start = consumer.AtTime(time.Now().Add(time.Hour))
		if got := readKafka(t, cfg); len(got) != 0 {
			t.Fatalf("%d records after a time in the future", len(got))
		}
	})
	t.Run("from an offset", func(t *testing.T) {
		cfg := tp.config()
		cfg.Start = consumer.AtOffset(1)
		nonEmpty := 0
		for p := range tp.kcfg.Partitions {
			one := tp.config()
			one.Partitions = []int32{p}
			if len(readKafka(t, one)) > 0 {
				nonEmpty++
			}
		}
		if got := readKafka(t, cfg); len(got) != len(want)-nonEmpty {
			t.Fatalf("%d records from offset 1, want %d", len(got), len(want)-nonEmpty)
		}
	})
	t.Run("at the end", func(t *testing.T) {
		cfg := tp.config()
		cfg.Start = consumer.AtEnd()
		if got := readKafka(t, cfg); len(got) != 0 {
			t.Fatalf("%d records from the end", len(got))
		}
	})
	t.Run("filter", func(t *testing.T) {
		got := readKafka(t, tp.config(), consumer.WithFilter("type = PE and proc.exe = /bin/touch"))
		if len(got) != 2 {
			t.Fatalf("%d records match, want the 2 events of /bin/touch: %q", len(got), got)
		}
	})
	t.Run("group", func(t *testing.T) {
		cfg := tp.config()
		cfg.StopAtEnd = false
		cfg.Group = tp.kcfg.TopicPrefix + "readers"
		// A first member reads everything and commits it on Close.
		src, err := consumer.FromKafka(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		var got []string
		for len(got) < len(want) {
			flat, err := src.Next(ctx)
			if err != nil {
				t.Fatalf("Next after %d records: %v", len(got), err)
			}
			got = append(got, summary(flat))
		}
		if err := src.Close(); err != nil {
			t.Fatal(err)
		}
		equalLists(t, sorted(got), want)
		// The next member of the group starts after the committed records: it gets only
		// what is produced now.
		src, err = consumer.FromKafka(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		extra := tp.events[len(tp.events)-1]
		tp.produce(t, tp.kcfg.Topics().Events, "tests", []sysflow.Record{extra})
		flat, err := src.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if flat.Rec.Kind() != extra.Kind() || sysflow.EventFieldsOf(flat.Rec) != sysflow.EventFieldsOf(extra) {
			t.Fatalf("after the commit the group got %s, want the record produced last", summary(flat))
		}
		short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
		defer cancelShort()
		if flat, err := src.Next(short); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Next = %v, %v; want nothing more", flat, err)
		}
	})
	t.Run("config", func(t *testing.T) {
		for _, cfg := range []consumer.KafkaConfig{
			{RegistryURL: "http://x"},
			{Brokers: []string{"x:9092"}},
			{Brokers: []string{"x:9092"}, RegistryURL: "http://x", Group: "g", Partitions: []int32{0}},
			{Brokers: []string{"x:9092"}, RegistryURL: "http://x", Group: "g", StopAtEnd: true},
		} {
			if _, err := consumer.FromKafka(cfg); err == nil {
				t.Errorf("FromKafka(%+v) succeeded", cfg)
			}
		}
	})
}

// TestFromKafkaJoins: for every reference file, the records read back from the topics are
// joined with the same entity versions as the file's own flattening joins them.
func TestFromKafkaJoins(t *testing.T) {
	for _, name := range referenceFiles {
		t.Run(name, func(t *testing.T) {
			tp := produceReference(t, name)
			equalLists(t, sorted(readKafka(t, tp.config())), sorted(fileSummaries(t, name)))
		})
	}
}
