package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/processors/pipeline"
	"github.com/sfstream/sfstream/processors/state"
	"github.com/sfstream/sfstream/sysflow"
)

var refDir = filepath.Join("..", "testdata", "reference")

func TestHelpDocumentsFlags(t *testing.T) {
	var buf bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, func(string) string { return "" }, &buf); err == nil {
		t.Fatal("-h returned no error")
	}
	for _, want := range []string{"-replay", "-exporter-id", "-ringbuf-bytes", "-queue-events", "-exclude-comms", "-cri-socket", "-filter", "-containers-only", "-kafka-brokers", "-schema-registry-url"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("help lacks %s", want)
		}
	}
}

// A bad --filter (or SFSTREAM_FILTER) is an error at start naming the position, before
// anything is loaded or connected; a filter with --replay is refused.
func TestBadFilterAtStart(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown field", []string{"-filter", "proc.name = a and proc.nme = b"}, nil, `1:19: unknown field "proc.nme"`},
		{"from the environment", nil, map[string]string{"SFSTREAM_FILTER": "container.name !="}, "1:18: expected a value"},
		{"unbalanced", []string{"-filter", "(proc.name = a"}, nil, `1:15: expected "and", "or" or ")"`},
		{"with a replay", []string{"-filter", "proc.name = a", "-replay", "x.scap"}, nil, "apply to live capture"},
		{"containers only with a replay", []string{"-containers-only", "-replay", "x.scap"}, nil, "apply to live capture"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"SFSTREAM_METRICS_ADDR": "", "SFSTREAM_KAFKA_BROKERS": "127.0.0.1:1"}
			for k, v := range tt.env {
				env[k] = v
			}
			err := run(context.Background(), tt.args, func(k string) string { return env[k] }, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// A replayed capture flows through the producer and a processor: the SysFlow events and
// flows of the reference output come out of sysflow.events.
func TestReplayThroughProcessor(t *testing.T) {
	ctx := context.Background()
	s := testkit.New(t)
	env := map[string]string{
		"SFSTREAM_KAFKA_BROKERS":       strings.Join(s.Brokers, ","),
		"SFSTREAM_SCHEMA_REGISTRY_URL": s.RegistryURL,
		"SFSTREAM_TOPIC_PREFIX":        s.Prefix,
		"SFSTREAM_METRICS_ADDR":        "127.0.0.1:0",
		"SFSTREAM_EXPORTER_ID":         "tests",
		"SFSTREAM_LOG_LEVEL":           "warn",
	}
	capture := filepath.Join(refDir, "client-server", "tcp-client-server.scap")
	if err := run(ctx, []string{"-replay", capture}, func(k string) string { return env[k] }, &bytes.Buffer{}); err != nil {
		t.Fatalf("replay: %v", err)
	}
	kcfg := kafka.Config{Brokers: s.Brokers, TopicPrefix: s.Prefix}
	serde, err := codec.New(srclient.CreateSchemaRegistryClient(s.RegistryURL))
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(pipeline.Config{Kafka: kcfg, Group: s.Prefix + "processors", TransactionalID: s.Prefix + "rp", State: state.ReferenceTestConfig(), RestoreIdle: 100 * time.Millisecond}, serde, nil)
	if err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(pctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	// The reference output of this capture has 4 PE, 4 FF and 2 NF.
	want := map[sysflow.Kind]int{sysflow.KindProcessEvent: 4, sysflow.KindFileFlow: 4, sysflow.KindNetworkFlow: 2}
	got := map[sysflow.Kind]int{}
	cl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(kgo.ConsumeTopics(kcfg.Topics().Events),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var tuples []string
	deadline := time.Now().Add(30 * time.Second)
	for total(got) < total(want) && time.Now().Before(deadline) {
		fctx, fcancel := context.WithTimeout(ctx, time.Second)
		cl.PollFetches(fctx).EachRecord(func(r *kgo.Record) {
			if r.Value == nil {
				return // a count record: capture counts in its headers
			}
			rec, err := serde.DecodeSysFlow(ctx, r.Value)
			if err != nil {
				t.Errorf("decode: %v", err)
				return
			}
			got[rec.Kind()]++
			if nf, ok := rec.(*sysflow.NetworkFlow); ok {
				tuples = append(tuples, nf.Tuple())
			}
		})
		fcancel()
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s records: %d, want %d", k, got[k], n)
		}
	}
	for _, tu := range tuples {
		if !strings.Contains(tu, "127.0.0.1:40556") || !strings.Contains(tu, "127.0.0.1:8080") {
			t.Errorf("network flow tuple %s, want 127.0.0.1:40556 -> 127.0.0.1:8080", tu)
		}
	}
}

func total(m map[sysflow.Kind]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
