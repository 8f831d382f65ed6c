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
	"github.com/sfstream/sfstream/producer/containers/enginetest"
	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// liveRun is a `sfstream run` of a test, capturing live.
type liveRun struct {
	dir, base string
	cmd       *exec.Cmd
	out       bytes.Buffer
}

// startLive builds sfstream and starts `sfstream run` with extra flags; it returns once the
// pipeline is ready.
func startLive(t *testing.T, extra ...string) *liveRun {
	t.Helper()
	r := &liveRun{dir: t.TempDir()}
	bin := filepath.Join(r.dir, "sfstream")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/sfstream").CombinedOutput(); err != nil {
		t.Fatalf("go build sfstream: %v\n%s", err, out)
	}
	port := freePort(t)
	r.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	args := append([]string{"run", "--data-dir", filepath.Join(r.dir, "data"), "--kafka-port", "0", "--registry-port", "0",
		"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", port), "--progress", "2s", "--log-level", "info"}, extra...)
	r.cmd = exec.Command(bin, args...)
	r.cmd.Env = testkit.CleanEnv()
	r.cmd.Stdout, r.cmd.Stderr = &r.out, &r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.cmd.Process.Kill() })
	waitOK(t, r.base+"/readyz", 90*time.Second)
	return r
}

// stop ends the run with SIGINT (it archives what it captured) and returns its /metrics as
// they were just before.
func (r *liveRun) stop(t *testing.T) string {
	t.Helper()
	metrics := get(t, r.base+"/metrics")
	if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sfstream run: %v\n%s", err, r.out.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("sfstream run still running 2 minutes after SIGINT\n%s", r.out.String())
	}
	return metrics
}

// metricValue returns the value of an unlabelled counter in a /metrics text, -1 if absent.
func metricValue(metrics, name string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(metrics)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// activity is what an archive holds of the tests' workloads.
type activity struct {
	// flows counts file flows by the file's base name and the flow's process: its container
	// id, or "host".
	flows map[string]map[string]int
	// hostRecords counts events and flows of processes in no container, by process and type.
	hostRecords map[string]int
}

func readActivity(t *testing.T, root string) activity {
	t.Helper()
	a := activity{flows: map[string]map[string]int{}, hostRecords: map[string]int{}}
	var paths []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".sf") {
			paths = append(paths, path)
		}
		return err
	})
	if err != nil || len(paths) == 0 {
		t.Fatalf("no SysFlow file under %s: %v", root, err)
	}
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := sffile.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		procs := map[sysflow.OID]*sysflow.Process{}
		files := map[sysflow.FOID]*sysflow.File{}
		var rec any
		host := func(oid sysflow.OID) {
			if p := procs[oid]; p != nil && p.ContainerID == nil {
				a.hostRecords[fmt.Sprintf("%s %q (pid %d): %T %+v", p.Exe, p.ExeArgs, p.OID.HPID, rec, rec)]++
			}
		}
		for {
			var err error
			rec, err = r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			switch x := rec.(type) {
			case *sysflow.Process:
				procs[x.OID] = x
			case *sysflow.File:
				files[x.OID] = x
			case *sysflow.FileFlow:
				host(x.ProcOID)
				p, fl := procs[x.ProcOID], files[x.FileOID]
				if p == nil || fl == nil {
					continue
				}
				who := "host"
				if p.ContainerID != nil {
					who = *p.ContainerID
				}
				name := filepath.Base(fl.Path)
				if a.flows[name] == nil {
					a.flows[name] = map[string]int{}
				}
				a.flows[name][who]++
			case *sysflow.FileEvent:
				host(x.ProcOID)
			case *sysflow.NetworkFlow:
				host(x.ProcOID)
			case *sysflow.ProcessEvent:
				host(x.ProcOID)
			case *sysflow.ProcessFlow:
				host(x.ProcOID)
			}
		}
		f.Close()
	}
	return a
}

// markerLoop writes and reads a marker file n times with shell builtins only, so that one
// process (the shell) does it all.
func markerLoop(marker string, n int) string {
	return fmt.Sprintf(`i=0; while [ $i -lt %d ]; do i=$((i+1)); echo $i > %s; read l < %s; sleep 0.2; done`, n, marker, marker)
}

// Live, as root: `sfstream run --filter 'proc.name != sfs-excluded'` leaves the activity of a
// process of that name (a copy of the shell) out of the archive, while the same workload of
// another name is in; the excluded process and its events are counted.
func TestLiveFilterProcName(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (CI runs as root)")
	}
	r := startLive(t, "--filter", "proc.name != sfs-excluded")
	shell, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	sh, err := os.ReadFile(shell)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"sfs-excluded", "sfs-included"} {
		if err := os.WriteFile(filepath.Join(r.dir, name), sh, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	excl := exec.Command(filepath.Join(r.dir, "sfs-excluded"), "-c", markerLoop(filepath.Join(r.dir, "excluded-marker"), 10))
	incl := exec.Command(filepath.Join(r.dir, "sfs-included"), "-c", markerLoop(filepath.Join(r.dir, "included-marker"), 10))
	for _, c := range []*exec.Cmd{excl, incl} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*exec.Cmd{excl, incl} {
		if err := c.Wait(); err != nil {
			t.Fatalf("%s: %v", c.Path, err)
		}
	}
	time.Sleep(2 * time.Second)
	metrics := r.stop(t)

	a := readActivity(t, filepath.Join(r.dir, "data", "archive"))
	if n := a.flows["excluded-marker"]; len(n) > 0 {
		t.Errorf("file flows on the excluded process's marker: %v", n)
	}
	if n := a.flows["included-marker"]["host"]; n < 10 {
		t.Errorf("%d file flows on the included process's marker, want 10 or more", n)
	}
	procs, events := metricValue(metrics, "sfstream_producer_filtered_processes_total"), metricValue(metrics, "sfstream_producer_filtered_events_total")
	if procs < 1 {
		t.Errorf("sfstream_producer_filtered_processes_total = %v, want at least 1", procs)
	}
	t.Logf("included marker flows %v; filtered: %v processes, %v events dropped in user space", a.flows["included-marker"], procs, events)
}

// Live, as root: `sfstream run --containers-only --filter 'container.name = sfs-delta or
// proc.name = sfs-host'` captures a container of a real Docker engine (enginetest: its own
// dockerd in a network namespace) and leaves out another container and the host's processes,
// also the one the expression matches: --containers-only excludes it.
func TestLiveContainersOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (CI runs as root)")
	}
	e := enginetest.Start(t)
	const image = "sfstream-test/busybox:v1"
	e.Image(image)
	// Until the runtime answers, a container's name is empty: a process of sfs-delta is
	// excluded for its first moments and captured once the name is known, sfs-gamma never.
	r := startLive(t, "--cri-socket", e.Socket, "--containers-only", "--filter", "container.name = sfs-delta or proc.name = sfs-host")

	loop := `i=0; while true; do i=$((i+1)); echo $i > /tmp/ctr-marker; read l < /tmp/ctr-marker; sleep 0.3; done`
	delta := e.Run("--name", "sfs-delta", image, "sh", "-c", loop)[:12]
	gamma := e.Run("--name", "sfs-gamma", image, "sh", "-c", loop)[:12]
	shell, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	sh, err := os.ReadFile(shell)
	if err != nil {
		t.Fatal(err)
	}
	hostShell := filepath.Join(r.dir, "sfs-host")
	if err := os.WriteFile(hostShell, sh, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(hostShell, "-c", markerLoop(filepath.Join(r.dir, "host-marker"), 10)).CombinedOutput(); err != nil {
		t.Fatalf("host workload: %v: %s", err, out)
	}
	time.Sleep(3 * time.Second)
	metrics := r.stop(t)

	a := readActivity(t, filepath.Join(r.dir, "data", "archive"))
	ctr := a.flows["ctr-marker"]
	if ctr[delta] < 5 {
		t.Errorf("%d file flows on the marker in sfs-delta, want 5 or more (all: %v)", ctr[delta], ctr)
	}
	if ctr[gamma] > 0 {
		t.Errorf("%d file flows on the marker in sfs-gamma, want none", ctr[gamma])
	}
	if n := a.flows["host-marker"]; len(n) > 0 {
		t.Errorf("file flows on the host marker: %v", n)
	}
	var hostRecords int
	for _, n := range a.hostRecords {
		hostRecords += n
	}
	if hostRecords > 0 {
		t.Errorf("%d events and flows of host processes (by exe: %v)", hostRecords, a.hostRecords)
	}
	t.Logf("marker flows %v (sfs-delta %s, sfs-gamma %s); filtered: %v processes, %v events dropped in user space",
		ctr, delta, gamma, metricValue(metrics, "sfstream_producer_filtered_processes_total"),
		metricValue(metrics, "sfstream_producer_filtered_events_total"))
}
