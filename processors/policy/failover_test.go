package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/archiver/archivetest"
	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/testkit"
)

const workerRule = `
- rule: worker_https
  desc: a worker connected to port 443
  condition: sf.type = NF and sf.net.dport = 443 and sf.proc.name = worker
  output: worker pid %sf.proc.pid %sf.proc.args to %sf.net.dip:%sf.net.dport parent %sf.pproc.exe
  priority: INFO
`

// Two sf-policy processes share the work (a rebalance when the second joins); one is killed
// with SIGKILL mid-stream and restarted under its transactional id (a restarted pod). Every
// alert is on sysflow.alerts exactly once.
func TestKillAndRebalance(t *testing.T) {
	env := testkit.New(t)
	kcfg, serde := archivetest.Setup(t, env)
	w := archivetest.Default()
	w.Sessions, w.Stragglers = 300, 0
	batches := w.Batches()
	archivetest.ProduceRaw(t, kcfg, serde, batches)
	archivetest.Process(t, kcfg, serde, archivetest.Count(archivetest.Expected(t, batches)))
	want := len(w.Exporters) * w.Sessions

	dir := t.TempDir()
	bin := filepath.Join(dir, "sf-policy")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	rulesFile := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rulesFile, []byte(workerRule), 0o644); err != nil {
		t.Fatal(err)
	}
	start := func(name string) *exec.Cmd {
		cmd := exec.Command(bin, "--kafka-brokers", strings.Join(kcfg.Brokers, ","), "--schema-registry-url", env.RegistryURL,
			"--topic-prefix", kcfg.TopicPrefix, "--group", kcfg.TopicPrefix+"policy", "--transactional-id", kcfg.TopicPrefix+name,
			"--rules", rulesFile, "--max-poll-records", "10", "--session-timeout", "6s", "--transaction-timeout", "10s", "--metrics-addr", "", "--log-level", "warn")
		cmd.Env = testkit.CleanEnv()
		log, err := os.Create(filepath.Join(dir, name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); log.Close() })
		return cmd
	}
	a := start("a")
	deadline := time.Now().Add(60 * time.Second)
	for archivetest.EndOffsetsSum(t, kcfg, kcfg.Topics().Alerts) < 20 {
		if time.Now().After(deadline) {
			t.Fatal("no alerts from the first instance")
		}
		time.Sleep(20 * time.Millisecond)
	}
	start("b") // a rebalance between two
	time.Sleep(200 * time.Millisecond)
	atKill := archivetest.EndOffsetsSum(t, kcfg, kcfg.Topics().Alerts)
	if err := a.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.Wait()
	start("a") // fences the killed instance's open transaction

	var got map[string]int
	deadline = time.Now().Add(90 * time.Second)
	for {
		got = alertCounts(t, kcfg, serde)
		n := 0
		for _, c := range got {
			n += c
		}
		if n >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	t.Logf("killed with %d of %d alert offsets written (markers included)", atKill, want)
	if atKill >= want {
		t.Errorf("the first instance had finished before it was killed: %d offsets, %d alerts", atKill, want)
	}
	if len(got) != want {
		t.Errorf("%d distinct alerts, want %d", len(got), want)
	}
	for k, c := range got {
		if c != 1 {
			t.Errorf("alert %s: %d times", k, c)
		}
	}
}

// alertCounts reads sysflow.alerts read_committed to its current end and counts each alert
// (rule, key, ts).
func alertCounts(t *testing.T, kcfg kafka.Config, serde *codec.Serde) map[string]int {
	t.Helper()
	cl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(kgo.ConsumeTopics(kcfg.Topics().Alerts),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	out := map[string]int{}
	for idle := 0; idle < 2; {
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		if fs.NumRecords() == 0 {
			idle++
			continue
		}
		idle = 0
		fs.EachRecord(func(r *kgo.Record) {
			al, err := serde.DecodeAlert(t.Context(), r.Value)
			if err != nil {
				t.Fatalf("decode alert: %v", err)
			}
			out[fmt.Sprintf("%s|%s|%d", al.Rule, r.Key, al.TS)]++
		})
	}
	return out
}
