package pipeline_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/producer/pipeline"
)

// source emits n batches of one event each, then waits for ctx (or fails with err).
type source struct {
	n   int
	err error
}

func (s source) Run(ctx context.Context, emit func(raw.Batch) error) error {
	for i := 1; i <= s.n; i++ {
		b := raw.Batch{Exporter: "n", HPID: int64(i), CreateTS: 1, Events: []raw.Event{raw.NewEvent(raw.OpExit, int64(1000+i), int64(i))}}
		if err := emit(b); err != nil {
			return err
		}
	}
	if s.err != nil {
		return s.err
	}
	<-ctx.Done()
	return nil
}

func setup(t *testing.T) (kafka.Config, *codec.Serde) {
	t.Helper()
	env := testkit.New(t)
	kcfg := env.Kafka()
	kcfg.Partitions = 2
	if err := kafka.EnsureTopics(t.Context(), env.Admin(t), nil, kcfg.TopicSpecs()...); err != nil {
		t.Fatal(err)
	}
	serde, err := codec.New(env.Registry())
	if err != nil {
		t.Fatal(err)
	}
	return kcfg, serde
}

// readRaw returns the batches of sysflow.raw, in offset order per partition.
func readRaw(t *testing.T, kcfg kafka.Config, serde *codec.Serde, want int) []raw.Batch {
	t.Helper()
	cl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(kgo.ConsumeTopics(kcfg.Topics().Raw), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []raw.Batch
	deadline := time.Now().Add(20 * time.Second)
	for len(out) < want && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			var b raw.Batch
			if err := serde.DecodeRaw(context.Background(), r.Value, &b); err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		})
		cancel()
	}
	return out
}

// Drain stops the source, sends the end notice to every partition after the source's
// batches, and Run returns nil; the end notice's ts is the latest event's at least.
func TestDrainSendsEverythingThenTheEndNotice(t *testing.T) {
	kcfg, serde := setup(t)
	p, err := pipeline.New(pipeline.Config{Kafka: kcfg, Exporter: "n", EndOnShutdown: true}, source{n: 5}, serde)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	for !p.Ready() {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run after Drain: %v", err)
	}
	got := readRaw(t, kcfg, serde, 5+2)
	var batches, ends int
	for _, b := range got {
		if b.Notices() {
			ends++
			if b.Events[0].Op != raw.OpEnd || b.Events[0].TS < 1005 {
				t.Errorf("notice %+v, want an end notice at the latest event's ts or later", b.Events[0])
			}
			continue
		}
		batches++
	}
	if batches != 5 || ends != 2 {
		t.Errorf("%d batches and %d end notices, want 5 and one per partition (2)", batches, ends)
	}
}

// A source that fails makes Run fail with its error, after what it emitted is flushed; no
// end notice is sent for a failed capture.
func TestSourceErrorIsRunsError(t *testing.T) {
	kcfg, serde := setup(t)
	boom := errors.New("ring buffer gone")
	p, err := pipeline.New(pipeline.Config{Kafka: kcfg, Exporter: "n", EndOnShutdown: true}, source{n: 3, err: boom}, serde)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("Run: %v, want the source's error", err)
	}
	got := readRaw(t, kcfg, serde, 3)
	for _, b := range got {
		if b.Notices() {
			t.Errorf("end notice after a failed capture: %+v", b)
		}
	}
	if len(got) != 3 {
		t.Errorf("%d batches flushed, want 3", len(got))
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  pipeline.Config
		want string
	}{
		{"no brokers", pipeline.Config{}, "broker"},
		{"end without exporter", pipeline.Config{Kafka: kafka.Config{Brokers: []string{"b:9092"}}, EndOnShutdown: true}, "exporter"},
		{"negative flush", pipeline.Config{Kafka: kafka.Config{Brokers: []string{"b:9092"}}, FlushTimeout: -1}, "flush timeout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error about %s", err, tt.want)
			}
		})
	}
	if err := (pipeline.Config{Kafka: kafka.Config{Brokers: []string{"b:9092"}}}).Validate(); err != nil {
		t.Errorf("a config with brokers only: %v", err)
	}
}
