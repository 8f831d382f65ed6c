package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/stack"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/processors/policy/engine"
)

// The all-in-one with --rules default, as root, captures a workload that triggers default
// rules (a shadow file read, a write below /etc, a program run from a temporary directory, a
// shell connecting out): their alerts are on sysflow.alerts, decoded by the registry's schema,
// once each; sfstream hunt over the archive of the run gives the same alerts.
func TestRunRulesLiveThenHunt(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (CI runs as root)")
	}
	sfstream := build(t, ".", "sfstream")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	metrics := freePort(t)
	cmd := exec.Command(sfstream, "run", "--rules", "default", "--data-dir", data, "--kafka-port", "0", "--registry-port", "0",
		"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", metrics), "--progress", "1s", "--log-level", "warn")
	cmd.Env = testkit.CleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitReady(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", metrics), 90*time.Second)
	time.Sleep(time.Second)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	etcFile := fmt.Sprintf("/etc/sfstream-policy-test-%d", os.Getpid())
	defer os.Remove(etcFile)
	// exec_from_temp_dir looks below /tmp, wherever TMPDIR points the test's own directory.
	payloadDir, err := os.MkdirTemp("/tmp", "sfstream-policy-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(payloadDir)
	tmpExe := filepath.Join(payloadDir, "sfstream-payload")
	if out, err := exec.Command("cp", "/bin/true", tmpExe).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	workload := []string{
		"cat /etc/shadow > /dev/null",
		"echo sfstream > " + etcFile,
		tmpExe,
		fmt.Sprintf("exec 3<>/dev/tcp/127.0.0.1/%d; exec 3>&-", port),
	}
	for _, sh := range workload {
		if out, err := exec.Command("bash", "-c", sh).CombinedOutput(); err != nil {
			t.Fatalf("workload %q: %v: %s", sh, err, out)
		}
	}
	time.Sleep(3 * time.Second)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sfstream run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		}
	case <-time.After(3 * time.Minute):
		t.Fatalf("sfstream run still running 3 minutes after SIGINT\nstdout:\n%s", stdout.String())
	}

	live := liveAlerts(t, data)
	var out, errOut bytes.Buffer
	if err := dispatch(t.Context(), []string{"hunt", filepath.Join(data, "archive")}, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("hunt: %v\n%s", err, errOut.String())
	}
	var hunted []string
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		hunted = append(hunted, sc.Text())
	}
	sort.Strings(hunted)

	// The workload's alerts, once each, both ways.
	want := map[string]string{
		"read_sensitive_file":                       "/etc/shadow",
		"write_below_etc":                           etcFile + ", flags WRONLY", // bash writes again through a dup'd fd: a second flow
		"exec_from_temp_dir":                        tmpExe,
		"outbound_connection_by_non_network_binary": fmt.Sprintf(":%d ", port),
	}
	for name, alerts := range map[string][]string{"live": live, "hunt": hunted} {
		for rule, marker := range want {
			n := 0
			for _, a := range alerts {
				if strings.Contains(a, `"rule":"`+rule+`"`) && strings.Contains(a, marker) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s: %d alerts of %s on %s, want 1", name, n, rule, marker)
			}
		}
	}
	if d := diffLines(live, hunted); d != "" {
		t.Errorf("hunt over the archive differs from the live alerts:\n%s", d)
	}
	t.Logf("%d alerts live, %d hunted", len(live), len(hunted))
}

// liveAlerts opens the run's embedded stack again and returns every alert of sysflow.alerts,
// decoded through the registry, as hunt prints them.
func liveAlerts(t *testing.T, data string) []string {
	t.Helper()
	ctx := t.Context()
	st, err := stack.Start(ctx, stack.DataDir(data), stack.KafkaPort(0), stack.RegistryPort(0))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	serde, err := codec.New(srclient.CreateSchemaRegistryClient(st.RegistryURL()))
	if err != nil {
		t.Fatal(err)
	}
	kcfg := kafka.Config{Brokers: st.Brokers()}
	cl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(kgo.ConsumeTopics(kcfg.Topics().Alerts),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []string
	for idle := 0; idle < 3; {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		if fs.NumRecords() == 0 {
			idle++
			continue
		}
		idle = 0
		fs.EachRecord(func(r *kgo.Record) {
			a, err := serde.DecodeAlert(ctx, r.Value)
			if err != nil {
				t.Fatalf("decode alert: %v", err)
			}
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false) // as hunt prints
			if err := enc.Encode(engine.ToJSON(a)); err != nil {
				t.Fatal(err)
			}
			out = append(out, strings.TrimSuffix(b.String(), "\n"))
		})
	}
	sort.Strings(out)
	return out
}

func diffLines(a, b []string) string {
	count := func(xs []string) map[string]int {
		m := map[string]int{}
		for _, x := range xs {
			m[x]++
		}
		return m
	}
	ma, mb := count(a), count(b)
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
