package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// forkWorkload is a fork-heavy shell workload: pipelines, sh -c chains seven deep, a
// double-forking daemon, a multi-threaded process, and a parent that exits before its child
// does anything. Its processes spread over every partition. $1 is a directory for its files.
const forkWorkload = `
set -e
d=$1
# Each level forks the next (the "; true" keeps a shell from exec'ing its last command).
chain='n=$1; if [ "$n" -gt 0 ]; then sh -c "$0" "$0" $((n-1)) "$2" "$3"; true; else cat /etc/passwd > "$2/deep.$3"; fi'
for i in 1 2 3 4 5 6; do
  cat /etc/hostname | tr a-z A-Z | wc -c > "$d/pipe.$i"
  sh -c "$chain" "$chain" 6 "$d" "$i"
  ( ( sleep 0.05; cat /etc/os-release > "$d/daemon.$i" ) & )
  sh -c '( sleep 0.1; head -c 100 /etc/services > "$0/orphan.$1" ) & exit 0' "$d" "$i"
  python3 -c '
import sys, threading
def f(n):
    open(sys.argv[1] + "/thread.%s.%d" % (sys.argv[2], n), "w").write("x")
ts = [threading.Thread(target=f, args=(n,)) for n in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]' "$d" "$i"
done
sleep 0.3
`

var entityWaitsRE = regexp.MustCompile(`entity waits (\d+) \((\d+) ms mean\), unknown (\d+)`)

// Live archives are self-contained across partitions: with one raw partition held back so
// that it lags the others (a parent's entity then reaches sysflow.entities after its
// children's records), a fork-heavy workload captured live by sfstream run archives files in
// which fastavro finds no reference to a process, parent, file or container not written
// before it. SFSTREAM_SELFCONTAINED_REPS sets the repetitions (default 20).
func TestLiveArchivesAreSelfContainedAcrossLaggingPartitions(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (CI runs as root)")
	}
	reps := 20
	if v := os.Getenv("SFSTREAM_SELFCONTAINED_REPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SFSTREAM_SELFCONTAINED_REPS=%q: want a positive number", v)
		}
		reps = n
	}
	sfstream := build(t, ".", "sfstream")
	var waits, unknown, files, records int
	var waitMS []int
	for rep := 1; rep <= reps; rep++ {
		dir := t.TempDir()
		work := filepath.Join(dir, "work")
		if err := os.Mkdir(work, 0o755); err != nil {
			t.Fatal(err)
		}
		metrics := freePort(t)
		cmd := exec.Command(sfstream, "run", "--data-dir", filepath.Join(dir, "data"), "--kafka-port", "0", "--registry-port", "0",
			"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", metrics), "--progress", "1h", "--log-level", "warn",
			"--debug-delay-partition", "1:400ms")
		cmd.Env = testkit.CleanEnv()
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitReady(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", metrics), 60*time.Second)
		time.Sleep(500 * time.Millisecond) // the capture settles after the snapshot
		if out, err := exec.Command("sh", "-c", forkWorkload, "workload", work).CombinedOutput(); err != nil {
			_ = cmd.Process.Kill()
			t.Fatalf("rep %d: workload: %v: %s", rep, err, out)
		}
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("rep %d: sfstream run: %v\nstdout:\n%s\nstderr:\n%s", rep, err, stdout.String(), stderr.String())
			}
		case <-time.After(2 * time.Minute):
			_ = cmd.Process.Kill()
			t.Fatalf("rep %d: sfstream run still running 2 minutes after SIGINT\nstdout:\n%s", rep, stdout.String())
		}
		res := testkit.SelfContained(t, filepath.Join(dir, "data", "archive"))
		if len(res) == 0 {
			t.Fatalf("rep %d: no archived file\nstdout:\n%s", rep, stdout.String())
		}
		for _, f := range res {
			files++
			records += f.Records
			if n := f.Unresolved(); n > 0 {
				t.Errorf("rep %d: %s: %d references to entities not written before them %v: %s", rep, filepath.Base(f.File), n, f.Missing, strings.Join(f.Examples, "; "))
			}
		}
		if d := shellDepth(t, filepath.Join(dir, "data", "archive"), "/deep.1"); d < 6 {
			t.Errorf("rep %d: the process writing deep.1 has %d shell ancestors in its file, want the chain of 6", rep, d)
		}
		if m := entityWaitsRE.FindAllStringSubmatch(stdout.String(), -1); len(m) > 0 {
			last := m[len(m)-1]
			w, _ := strconv.Atoi(last[1])
			ms, _ := strconv.Atoi(last[2])
			u, _ := strconv.Atoi(last[3])
			waits += w
			unknown += u
			waitMS = append(waitMS, ms)
		}
	}
	t.Logf("%d repetitions: %d files, %d records; batches that waited for a lagging partition's entities: %d (mean wait per run, ms: %v); entities written as unknown: %d",
		reps, files, records, waits, waitMS, unknown)
	if waits == 0 {
		t.Error("no batch ever waited for an entity of the held-back partition: the workload did not exercise references across partitions")
	}
}

// shellDepth returns how many consecutive shell ancestors the process with a file flow on a
// path ending in suffix has, as the archived file that holds the flow records them (0 when
// no file holds one).
func shellDepth(t *testing.T, archive, suffix string) int {
	t.Helper()
	best := 0
	err := filepath.WalkDir(archive, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".sf") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r, err := sffile.NewReader(f)
		if err != nil {
			return err
		}
		procs := map[sysflow.OID]*sysflow.Process{}
		files := map[sysflow.FOID]string{}
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			switch x := rec.(type) {
			case *sysflow.Process:
				procs[x.OID] = x
			case *sysflow.File:
				files[x.OID] = x.Path
			case *sysflow.FileFlow:
				if !strings.HasSuffix(files[x.FileOID], suffix) {
					continue
				}
				n := 0
				for p := procs[x.ProcOID]; p != nil && p.POID != nil; n++ {
					p = procs[*p.POID]
					if p == nil || !strings.HasSuffix(p.Exe, "sh") {
						break
					}
				}
				best = max(best, n)
			}
		}
	})
	if err != nil {
		t.Fatalf("read %s: %v", archive, err)
	}
	return best
}
