package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfstream/sfstream/internal/testkit"
)

// scrape returns the sum of the named metrics' samples at url, false if it did not answer.
func scrape(url string, names ...string) (float64, bool) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || !slices.Contains(names, name) {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, false
		}
		sum += f
	}
	return sum, sc.Err() == nil
}

var statsTotal = regexp.MustCompile(`captured=(\d+) lost=(\d+) `)

// A run with a tiny ring buffer under a syscall-heavy load loses events in the kernel; the
// archive's objects say so, and sfprint --stats sums them to the producer's drop metrics
// (ring buffer and queue).
func TestTinyRingBufferLossesReachTheArchive(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (CI runs as root)")
	}
	sfstream := build(t, ".", "sfstream")
	sfprint := build(t, "../sfprint", "sfprint")
	dir := t.TempDir()
	metrics := freePort(t)
	const duration = 20 * time.Second
	cmd := exec.Command(sfstream, "run", "--data-dir", filepath.Join(dir, "data"), "--kafka-port", "0", "--registry-port", "0",
		"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", metrics), "--progress", "1h", "--log-level", "error",
		"--ringbuf-bytes", "4096", "--parquet=false", "--duration", duration.String())
	cmd.Env = testkit.CleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := fmt.Sprintf("http://127.0.0.1:%d", metrics)
	waitReady(t, base+"/readyz", 60*time.Second)
	time.Sleep(time.Second)

	// Two byte-at-a-time copies: about a million reads and writes each.
	for range 2 {
		if out, err := exec.Command("dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=500000", "status=none").CombinedOutput(); err != nil {
			t.Fatalf("workload: %v: %s", err, out)
		}
	}
	// The capture stops by itself after --duration; /metrics answers while the processor and
	// the archiver drain, so the last answer has the producer's final counts (other work on
	// the machine keeps losing events until the capture stops).
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var final, processed float64
	var finalAt time.Time
	giveUp := time.After(3 * time.Minute)
	for exited := false; !exited; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("sfstream run: %v\nstderr:\n%s", err, stderr.String())
			}
			exited = true
		case <-time.After(200 * time.Millisecond):
			if v, ok := scrape(base+"/metrics", "sfstream_producer_ringbuf_lost_total", "sfstream_producer_queue_dropped_total"); ok {
				final, finalAt = v, time.Now()
			}
			if v, ok := scrape(base+"/metrics", "sfstream_processor_lost_events_total"); ok {
				processed = v
			}
		case <-giveUp:
			t.Fatal("sfstream run still running 3 minutes after its start")
		}
	}
	if final <= 0 {
		t.Fatalf("no losses with a 4 KiB ring buffer (metrics sum %v)", final)
	}
	if !finalAt.After(started.Add(duration + 2*time.Second)) {
		t.Fatalf("/metrics last answered %v after the start, before the capture had surely stopped (%v)", finalAt.Sub(started), duration)
	}
	out, err := exec.Command(sfprint, "--stats", filepath.Join(dir, "data", "archive")).CombinedOutput()
	if err != nil {
		t.Fatalf("sfprint --stats: %v\n%s", err, out)
	}
	var captured, archived int64
	sc := bufio.NewScanner(bytes.NewReader(out))
	lines := 0
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "TOTAL ") {
			continue
		}
		lines++
		m := statsTotal.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Errorf("a file without counts: %s", sc.Text())
			continue
		}
		c, _ := strconv.ParseInt(m[1], 10, 64)
		l, _ := strconv.ParseInt(m[2], 10, 64)
		captured, archived = captured+c, archived+l
	}
	if archived != int64(final) {
		t.Errorf("the archive states %d events lost, the producer's metrics %v (the processor applied notices of %v)\n%s", archived, final, processed, out)
	}
	t.Logf("%d files: captured %d, lost %d (producer: ring buffer + queue %v), coverage %.2f%%",
		lines, captured, archived, final, 100*float64(captured)/float64(captured+archived))
}
