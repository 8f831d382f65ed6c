package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sfstream/sfstream/internal/testkit"
)

func build(t *testing.T, pkg, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitReady polls url until it answers 200 or the deadline passes.
func waitReady(t *testing.T, url string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s not ready after %s", url, d)
}

// The all-in-one, as root, captures a workload live: after SIGINT the archive holds the
// workload's file and network flows, readable by sfprint; /metrics lists the documented
// metrics of every stage while it runs.
func TestRunLiveCaptureAndArchive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (CI runs as root)")
	}
	sfstream := build(t, ".", "sfstream")
	sfprint := build(t, "../sfprint", "sfprint")
	dir := t.TempDir()
	metrics := freePort(t)
	cmd := exec.Command(sfstream, "run", "--data-dir", filepath.Join(dir, "data"), "--kafka-port", "0", "--registry-port", "0",
		"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", metrics), "--progress", "1s", "--log-level", "warn")
	cmd.Env = testkit.CleanEnv() // the archive is the data dir's, whatever a local run exports
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := fmt.Sprintf("http://127.0.0.1:%d", metrics)
	waitReady(t, base+"/readyz", 60*time.Second)

	// Workload: a file written and read back, and a TCP connection with data both ways.
	path := filepath.Join(dir, "workload-marker.txt")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.Copy(c, c)
			c.Close()
		}
	}()
	time.Sleep(time.Second) // the snapshot and attach are done once ready; let the capture settle
	for i := 0; i < 3; i++ {
		sh := fmt.Sprintf("echo sfstream > %s && cat %s > /dev/null && exec 3<>/dev/tcp/127.0.0.1/%d && echo ping >&3 && read -t 2 line <&3", path, path, port)
		if out, err := exec.Command("bash", "-c", sh).CombinedOutput(); err != nil {
			t.Fatalf("workload: %v: %s", err, out)
		}
	}

	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{
		"sfstream_build_info", "sfstream_producer_events_total", "sfstream_producer_ringbuf_lost_total",
		"sfstream_producer_queue_dropped_total", "sfstream_producer_batches_total",
		"sfstream_processor_records_in_total", "sfstream_processor_records_out_total", "sfstream_processor_lag",
		"sfstream_processor_transaction_seconds", "sfstream_processor_dlq_total",
		"sfstream_archiver_files_written_total", "sfstream_archiver_upload_seconds",
		"sfstream_codec_registry_requests_total",
	} {
		if !bytes.Contains(body, []byte(m)) {
			t.Errorf("/metrics lacks %s", m)
		}
	}

	time.Sleep(2 * time.Second)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sfstream run did not exit cleanly on SIGINT: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("sfstream run still running 2 minutes after SIGINT\nstdout:\n%s", stdout.String())
	}
	t.Logf("stdout:\n%s", stdout.String())
	if !strings.Contains(stdout.String(), "source: live eBPF capture") {
		t.Errorf("as root the source should be the live capture:\n%s", stdout.String())
	}

	out, err := exec.Command(sfprint, "-o", "flatjson", "-f", "type,proc.exe,file.path,net.dport,flow.rbytes,flow.wbytes", filepath.Join(dir, "data", "archive")).CombinedOutput()
	if err != nil {
		t.Fatalf("sfprint the archive: %v\n%s", err, out)
	}
	var fileFlows, netFlows int
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, `"FF"`) && strings.Contains(line, path) {
			fileFlows++
		}
		if strings.Contains(line, `"NF"`) && strings.Contains(line, fmt.Sprintf(`"net.dport": %d`, port)) {
			netFlows++
		}
	}
	if fileFlows == 0 {
		t.Errorf("no file flow on %s in the archive", path)
	}
	if netFlows == 0 {
		t.Errorf("no network flow to port %d in the archive", port)
	}
	t.Logf("archive: %d file flows on the marker file, %d network flows to the listener", fileFlows, netFlows)
}

func TestUsageAndUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if err := dispatch(context.Background(), []string{"bogus"}, os.Getenv, &out, &errb); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown command: err = %v", err)
	}
	if err := dispatch(context.Background(), []string{"run", "-h"}, func(string) string { return "" }, &out, &errb); err == nil {
		t.Error("run -h returned no error")
	}
	for _, want := range []string{"-data-dir", "-replay", "-synthetic", "-duration", "-s3-endpoint", "-metrics-addr"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("run -h lacks %s", want)
		}
	}
}
