package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/archiver/archive"
	"github.com/sfstream/sfstream/archiver/archivetest"
	"github.com/sfstream/sfstream/archiver/store"
	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/sysprint"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/processors/policy/engine"
	"github.com/sfstream/sfstream/processors/policy/rules"
)

// testRules fire on the archivetest workload: every worker exec in a container and every
// worker connection to port 443. Their outputs use the process, its parent and its container,
// so they check the join with sysflow.entities (the parent lives in another partition).
const testRules = `
- rule: worker_in_container
  desc: a worker started in a container
  condition: sf.type = PE and sf.opflags = EXEC and sf.proc.name = worker and sf.container.id exists
  output: worker %sf.proc.args in %sf.container.name (%sf.container.image) under %sf.pproc.name
  priority: NOTICE
  tags: [test, container]
- rule: worker_https
  desc: a worker connected to port 443
  condition: sf.type = NF and sf.net.dport = 443 and sf.proc.name = worker
  output: worker pid %sf.proc.pid %sf.proc.args to %sf.net.dip:%sf.net.dport parent %sf.pproc.exe
  priority: INFO
`

func ruleFiles() []rules.File {
	return []rules.File{rules.DefaultFile(), {Name: "test.yaml", Data: []byte(testRules)}}
}

func logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// expected returns the alerts the test rules give on workload w, as "rule|exporter|hpid|output".
func expected(w archivetest.Workload) []string {
	var out []string
	for _, exp := range w.Exporters {
		for i := range w.Sessions + w.Stragglers {
			hpid := 1000 + i
			if i >= w.Sessions {
				hpid = 50000 + i - w.Sessions
			}
			if i%4 == 0 {
				out = append(out, fmt.Sprintf("worker_in_container|%s|%d|worker --job %d in app (alpine:3.20) under bash", exp, hpid, i))
			}
			out = append(out, fmt.Sprintf("worker_https|%s|%d|worker pid %d --job %d to 10.0.1.1:443 parent /bin/bash", exp, hpid, hpid, i))
		}
	}
	sort.Strings(out)
	return out
}

func summary(alerts []engine.JSONAlert) []string {
	out := make([]string, 0, len(alerts))
	for _, a := range alerts {
		out = append(out, fmt.Sprintf("%s|%s|%d|%s", a.Rule, a.Exporter, a.HPID, a.Output))
	}
	sort.Strings(out)
	return out
}

// readAlerts reads sysflow.alerts read_committed to its end and decodes every alert by its
// registry schema.
func readAlerts(t *testing.T, kcfg kafka.Config, serde *codec.Serde) []engine.JSONAlert {
	t.Helper()
	topic := kcfg.Topics().Alerts
	cl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []engine.JSONAlert
	idle := 0
	for idle < 3 {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		if fs.NumRecords() == 0 {
			idle++
			continue
		}
		idle = 0
		fs.EachRecord(func(r *kgo.Record) {
			a, err := serde.DecodeAlert(t.Context(), r.Value)
			if err != nil {
				t.Fatalf("decode alert at %d/%d: %v", r.Partition, r.Offset, err)
			}
			j := engine.ToJSON(a)
			if string(r.Key) != j.Key {
				t.Errorf("alert keyed %q, want the process key %q", r.Key, j.Key)
			}
			out = append(out, j)
		})
	}
	return out
}

// TestLiveAndHunt runs the archivetest workload through a processor, then the policy
// engine over the topics and the archiver into a directory; the engine's alerts on
// sysflow.alerts are exactly the expected ones, once each, and sfstream hunt's over the
// archive are the same alerts (rule, record key fields, output and the rest).
func TestLiveAndHunt(t *testing.T) {
	env := testkit.New(t)
	kcfg, serde := archivetest.Setup(t, env)
	w := archivetest.Default()
	w.Sessions, w.Stragglers = 24, 1
	batches := w.Batches()
	archivetest.ProduceRaw(t, kcfg, serde, batches)
	archivetest.Process(t, kcfg, serde, archivetest.Count(archivetest.Expected(t, batches)))

	// The live engine.
	reg := prometheus.NewRegistry()
	eng, err := engine.New(engine.Config{Kafka: kcfg, Rules: ruleFiles(), Group: kcfg.TopicPrefix + "policy",
		TransactionalID: kcfg.TopicPrefix + "policy", SessionTimeout: 6 * time.Second, MaxPollRecords: 50}, serde, reg, engine.WithLogger(logger(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	dctx, dcancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer dcancel()
	if err := eng.Drain(dctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("policy engine: %v", err)
	}
	// The processor's count records (no value) are not SysFlow and not bad.
	if bad := archivetest.Metric(t, reg, "sfstream_policy_bad_records_total"); bad != 0 {
		t.Errorf("%v records of sysflow.events counted bad", bad)
	}
	live := readAlerts(t, kcfg, serde)
	want := expected(w)
	if got := summary(live); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("live alerts (%d):\n%s\nwant (%d):\n%s", len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
	}

	// The archive of the same records, and the hunt over it.
	dir := t.TempDir()
	target := store.Target{Dir: filepath.Join(dir, "archive")}
	arch, err := archive.New(archive.Config{Kafka: kcfg, Group: kcfg.TopicPrefix + "archivers", Target: target,
		StagingDir: filepath.Join(dir, "staging"), IdleTimeout: time.Hour, EntityWait: 5 * time.Second, SessionTimeout: 6 * time.Second},
		serde, nil, archive.WithLogger(logger(t)))
	if err != nil {
		t.Fatal(err)
	}
	actx, acancel := context.WithCancel(context.Background())
	adone := make(chan error, 1)
	go func() { adone <- arch.Run(actx) }()
	if err := arch.Drain(dctx); err != nil {
		t.Fatal(err)
	}
	acancel()
	if err := <-adone; err != nil {
		t.Fatalf("archiver: %v", err)
	}
	set, err := rules.Compile(sysprint.QueryFields, ruleFiles()...)
	if err != nil {
		t.Fatal(err)
	}
	var hunted []engine.JSONAlert
	if err := engine.HuntPaths(engine.NewEvaluator(set), func(a *codec.Alert) error {
		hunted = append(hunted, engine.ToJSON(a))
		return nil
	}, target.Dir); err != nil {
		t.Fatal(err)
	}
	if d := diffAlerts(live, hunted); d != "" {
		t.Fatalf("hunt over the archive differs from the live engine:\n%s", d)
	}
}

// diffAlerts compares two sets of alerts field by field (as their JSON).
func diffAlerts(a, b []engine.JSONAlert) string {
	text := func(as []engine.JSONAlert) map[string]int {
		m := map[string]int{}
		for _, x := range as {
			j, _ := json.Marshal(x)
			m[string(j)]++
		}
		return m
	}
	ma, mb := text(a), text(b)
	var d []string
	for k, n := range ma {
		if mb[k] != n {
			d = append(d, fmt.Sprintf("live %d, hunt %d: %s", n, mb[k], k))
		}
	}
	for k, n := range mb {
		if _, ok := ma[k]; !ok {
			d = append(d, fmt.Sprintf("live 0, hunt %d: %s", n, k))
		}
	}
	sort.Strings(d)
	return strings.Join(d, "\n")
}
