package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/processors/pipeline"
	"github.com/sfstream/sfstream/processors/state"
	"github.com/sfstream/sfstream/sysflow"
)

// The workload runs in a child process (this test binary again), because the producer never
// captures its own process, which here is the test's.
const helperEnv = "SFSTREAM_PRODUCER_TEST_HELPER"

const (
	fileBytes = 4321
	netBytes  = 1234
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode, os.Args[len(os.Args)-1]))
	}
	os.Exit(m.Run())
}

// helper runs one workload step and returns the exit code.
func helper(mode, arg string) int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, mode+":", err); return 1 }
	switch mode {
	case "file": // write fileBytes to arg, then rename it to arg+".renamed"
		if err := os.WriteFile(arg, bytes.Repeat([]byte("x"), fileBytes), 0o644); err != nil {
			return fail(err)
		}
		if err := os.Rename(arg, arg+".renamed"); err != nil {
			return fail(err)
		}
	case "net": // connect to arg and send netBytes
		c, err := net.Dial("tcp", arg)
		if err != nil {
			return fail(err)
		}
		if _, err := c.Write(bytes.Repeat([]byte("y"), netBytes)); err != nil {
			return fail(err)
		}
		c.Close()
	case "setuid": // drop to uid 65534
		if err := syscall.Setuid(65534); err != nil {
			return fail(err)
		}
	case "spin": // arg write(2) calls of one byte to /dev/null
		n, _ := strconv.Atoi(arg)
		f, err := os.OpenFile("/dev/null", os.O_WRONLY, 0)
		if err != nil {
			return fail(err)
		}
		b := []byte{0}
		for i := 0; i < n; i++ {
			if _, err := syscall.Write(int(f.Fd()), b); err != nil {
				return fail(err)
			}
		}
	case "wait": // a process older than the producer: waits for a line, then writes arg
		line, _ := io.ReadAll(io.LimitReader(os.Stdin, 1))
		if err := os.WriteFile(arg, line, 0o644); err != nil {
			return fail(err)
		}
	}
	return 0
}

func runHelper(t *testing.T, mode, arg string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", arg)
	cmd.Env = append(testkit.CleanEnv(), helperEnv+"="+mode)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper %s: %v: %s", mode, err, out)
	}
	return cmd.Process.Pid
}

// The producer captures a workload it does not control the timing of, live, and sends it to
// sysflow.raw: file bytes and rename, TCP port and bytes, fork and exec, setuid, and a process
// that started before the producer keeps one OID across its snapshot and its live events.
func TestLiveCaptureToKafka(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (CI runs as root)")
	}
	env := testkit.New(t)
	dir := t.TempDir()

	// A process that exists before the producer starts.
	older := exec.Command(os.Args[0], "-test.run=^$", filepath.Join(dir, "older.out"))
	older.Env = append(testkit.CleanEnv(), helperEnv+"=wait")
	stdin, err := older.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := older.Start(); err != nil {
		t.Fatal(err)
	}
	defer older.Process.Kill()
	time.Sleep(200 * time.Millisecond)

	vars := map[string]string{
		"SFSTREAM_KAFKA_BROKERS": strings.Join(env.Brokers, ","), "SFSTREAM_SCHEMA_REGISTRY_URL": env.RegistryURL,
		"SFSTREAM_TOPIC_PREFIX": env.Prefix, "SFSTREAM_METRICS_ADDR": "127.0.0.1:0", "SFSTREAM_EXPORTER_ID": "e2e", "SFSTREAM_LOG_LEVEL": "warn",
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return vars[k] }, io.Discard) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("producer: %v", err)
		}
	}()
	kcfg := kafka.Config{Brokers: env.Brokers, TopicPrefix: env.Prefix}
	serde, err := codec.New(srclient.CreateSchemaRegistryClient(env.RegistryURL))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(kgo.ConsumeTopics(kcfg.Topics().Raw),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	batches := map[int64][]raw.Batch{} // by hpid
	poll := func(d time.Duration) {
		deadline := time.Now().Add(d)
		for time.Now().Before(deadline) {
			pctx, pcancel := context.WithTimeout(ctx, 300*time.Millisecond)
			cl.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
				var b raw.Batch
				if err := serde.DecodeRaw(ctx, r.Value, &b); err != nil {
					t.Errorf("decode raw: %v", err)
					return
				}
				batches[b.HPID] = append(batches[b.HPID], b)
			})
			pcancel()
		}
	}
	// Wait until the snapshot of the older process is on the topic: the capture is attached.
	for i := 0; i < 100 && len(batches[int64(older.Process.Pid)]) == 0; i++ {
		poll(300 * time.Millisecond)
	}
	if len(batches[int64(older.Process.Pid)]) == 0 {
		t.Fatal("no snapshot of the process older than the producer")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	target := filepath.Join(dir, "data.bin")
	filePID := runHelper(t, "file", target)
	netPID := runHelper(t, "net", ln.Addr().String())
	setuidPID := runHelper(t, "setuid", "-")
	trueCmd := exec.Command("/bin/sh", "-c", "/bin/true; exit 0")
	if err := trueCmd.Run(); err != nil {
		t.Fatal(err)
	}
	shPID := trueCmd.Process.Pid
	stdin.Write([]byte("z"))
	stdin.Close()
	older.Wait()

	events := func(pid int) []raw.Event {
		var out []raw.Event
		for _, b := range batches[int64(pid)] {
			out = append(out, b.Events...)
		}
		return out
	}
	// Each workload process's exit is its last event, and a process's batches arrive in
	// order: once every exit is on the topic, everything before it is too. A loaded machine
	// (the race detector, other packages' tests) may take a while.
	hasExit := func(pid int) bool {
		for _, e := range events(pid) {
			if e.Op == raw.OpExit && e.TID == int64(pid) {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		poll(500 * time.Millisecond)
		if hasExit(filePID) && hasExit(netPID) && hasExit(setuidPID) && hasExit(shPID) && hasExit(older.Process.Pid) {
			break
		}
	}
	poll(500 * time.Millisecond)
	oids := func(pid int) map[int64]bool {
		m := map[int64]bool{}
		for _, b := range batches[int64(pid)] {
			m[b.CreateTS] = true
		}
		return m
	}
	// File: the bytes written and the rename.
	var wrote int64
	renamed := false
	for _, e := range events(filePID) {
		if e.Op == raw.OpWrite && e.Ret > 0 {
			wrote += e.Ret
		}
		if e.Op == raw.OpRename && e.Path == target && e.Path2 == target+".renamed" && e.Ret == 0 {
			renamed = true
		}
	}
	if wrote < fileBytes || !renamed {
		t.Errorf("file workload (pid %d): wrote %d bytes (want >= %d), renamed %v", filePID, wrote, fileBytes, renamed)
	}
	// Network: the connect to the listener's port and the bytes sent.
	connected, sent := false, int64(0)
	for _, e := range events(netPID) {
		if e.Op == raw.OpConnect && e.Sock != nil && int(e.Sock.RPort) == port {
			connected = true
		}
		if e.Op == raw.OpWrite && e.Ret == netBytes {
			sent += e.Ret
		}
	}
	if !connected || sent < netBytes {
		t.Errorf("net workload (pid %d): connect to :%d seen %v, %d bytes sent", netPID, port, connected, sent)
	}
	// setuid.
	setuid := false
	for _, e := range events(setuidPID) {
		if e.Op == raw.OpSetuid && e.UID == 65534 && e.Ret == 0 {
			setuid = true
		}
	}
	if !setuid {
		t.Errorf("setuid(65534) of pid %d not captured", setuidPID)
	}
	// Fork and exec: the shell clones a child that execs /bin/true and exits.
	var child int64
	for _, e := range events(shPID) {
		if e.Op == raw.OpClone && e.Ret > 0 {
			child = e.Ret
		}
	}
	execed, exited := false, false
	for _, e := range events(int(child)) {
		execed = execed || (e.Op == raw.OpExec && e.Ret == 0 && strings.HasSuffix(e.Path, "true"))
		exited = exited || e.Op == raw.OpExit
	}
	if child == 0 || !execed || !exited {
		t.Errorf("fork/exec /bin/true from sh %d: child %d, exec %v, exit %v", shPID, child, execed, exited)
	}
	// One OID per process, the older process included.
	for _, pid := range []int{filePID, netPID, setuidPID, shPID, int(child), older.Process.Pid} {
		if n := len(oids(pid)); n != 1 {
			t.Errorf("pid %d: %d distinct createTS values in its batches, want 1", pid, n)
		}
	}
	var olderSnap, olderLive bool
	for _, e := range events(older.Process.Pid) {
		olderSnap = olderSnap || e.Op == raw.OpSnapshot
		olderLive = olderLive || (e.Op == raw.OpOpen && strings.HasSuffix(e.Path, "older.out"))
	}
	if !olderSnap || !olderLive {
		t.Errorf("older process %d: snapshot %v, live open %v", older.Process.Pid, olderSnap, olderLive)
	}
	t.Logf("captured: file pid %d (%d bytes), net pid %d (:%d), setuid pid %d, sh %d -> %d, older %d; %s",
		filePID, wrote, netPID, port, setuidPID, shPID, child, older.Process.Pid, strconv.Itoa(len(batches))+" processes")

	// The same workload through a processor: its flows, events and entities on sysflow.events
	// and sysflow.entities.
	proc, err := pipeline.New(pipeline.Config{Kafka: kcfg, Group: env.Prefix + "processors", TransactionalID: env.Prefix + "p",
		State: state.ReferenceTestConfig(), RestoreIdle: 100 * time.Millisecond}, serde, nil)
	if err != nil {
		t.Fatal(err)
	}
	pctx, pcancel := context.WithCancel(context.Background())
	pdone := make(chan error, 1)
	go func() { pdone <- proc.Run(pctx) }()
	defer func() {
		pcancel()
		if err := <-pdone; err != nil {
			t.Errorf("processor: %v", err)
		}
	}()
	out, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(kgo.ConsumeTopics(kcfg.Topics().Events, kcfg.Topics().Entities),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	type seen struct{ fileFlow, rename, netFlow, setuid, clone, exec, exit, childEntity bool }
	var got seen
	targetFOID := sysflow.NewFOID("", target)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && got != (seen{true, true, true, true, true, true, true, true}); {
		fctx, fcancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		out.PollFetches(fctx).EachRecord(func(r *kgo.Record) {
			if r.Value == nil {
				return // a count record (events) or a tombstone (entities)
			}
			rec, err := serde.DecodeSysFlow(context.Background(), r.Value)
			if err != nil {
				t.Errorf("decode: %v", err)
				return
			}
			switch x := rec.(type) {
			case *sysflow.FileFlow:
				got.fileFlow = got.fileFlow || (x.ProcOID.HPID == int64(filePID) && x.FileOID == targetFOID && x.NumWSendBytes >= fileBytes)
			case *sysflow.FileEvent:
				got.rename = got.rename || (x.ProcOID.HPID == int64(filePID) && x.OpFlags&int32(sysflow.OpRename) != 0 && x.FileOID == targetFOID)
			case *sysflow.NetworkFlow:
				got.netFlow = got.netFlow || (x.ProcOID.HPID == int64(netPID) && int(x.DPort) == port && x.NumWSendBytes >= netBytes)
			case *sysflow.ProcessEvent:
				got.setuid = got.setuid || (x.ProcOID.HPID == int64(setuidPID) && x.OpFlags == int32(sysflow.OpSetUID) && x.Ret == 0)
				got.clone = got.clone || (x.ProcOID.HPID == int64(shPID) && x.OpFlags == int32(sysflow.OpClone) && x.Ret == int32(child))
				got.exec = got.exec || (x.ProcOID.HPID == child && x.OpFlags == int32(sysflow.OpExec))
				got.exit = got.exit || (x.ProcOID.HPID == child && x.OpFlags == int32(sysflow.OpExit))
			case *sysflow.Process:
				got.childEntity = got.childEntity || (x.OID.HPID == child && strings.HasSuffix(x.Exe, "true"))
			}
		})
		fcancel()
	}
	if got != (seen{true, true, true, true, true, true, true, true}) {
		t.Errorf("SysFlow of the workload: %+v (every field should be true)", got)
	}
}

// BenchmarkCaptureToKafka measures the whole producer, capture and produce: a child makes
// b.N write(2) calls, and the events of that child that reach sysflow.raw on the embedded
// broker are counted afterwards. events/s is the child's events per second of its run (the
// child's own speed bounds it); loss% the share of its calls missing from the topic. The
// broker runs in this process, so CPU per event is not reported here (see
// producer/capture's BenchmarkPipeline for the capture side alone and sfbench for the sink).
func BenchmarkCaptureToKafka(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("live capture needs root")
	}
	env := testkit.New(b)
	vars := map[string]string{
		"SFSTREAM_KAFKA_BROKERS": strings.Join(env.Brokers, ","), "SFSTREAM_SCHEMA_REGISTRY_URL": env.RegistryURL,
		"SFSTREAM_TOPIC_PREFIX": env.Prefix, "SFSTREAM_METRICS_ADDR": "127.0.0.1:0", "SFSTREAM_EXPORTER_ID": "bench", "SFSTREAM_LOG_LEVEL": "error",
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return vars[k] }, io.Discard) }()
	time.Sleep(2 * time.Second) // attach and snapshot
	b.ResetTimer()
	start := time.Now()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$", strconv.Itoa(b.N))
	cmd.Env = append(testkit.CleanEnv(), helperEnv+"=spin")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("spin: %v: %s", err, out)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	time.Sleep(time.Second)
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	kcfg := kafka.Config{Brokers: env.Brokers, TopicPrefix: env.Prefix}
	serde, err := codec.New(srclient.CreateSchemaRegistryClient(env.RegistryURL))
	if err != nil {
		b.Fatal(err)
	}
	cl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(kgo.ConsumeTopics(kcfg.Topics().Raw),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond)))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	pid := int64(cmd.Process.Pid)
	var got int
	for idle := 0; idle < 3; {
		pctx, pcancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		fs := cl.PollFetches(pctx)
		pcancel()
		if fs.NumRecords() == 0 {
			idle++
			continue
		}
		idle = 0
		fs.EachRecord(func(r *kgo.Record) {
			var bt raw.Batch
			if err := serde.DecodeRaw(context.Background(), r.Value, &bt); err == nil && bt.HPID == pid {
				for _, e := range bt.Events {
					if e.Op == raw.OpWrite {
						got++
					}
				}
			}
		})
	}
	b.ReportMetric(float64(got)/elapsed.Seconds(), "events/s")
	b.ReportMetric(100*float64(b.N-min(got, b.N))/float64(b.N), "loss%")
}
