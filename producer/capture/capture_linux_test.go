//go:build linux

package capture

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/procfs"
)

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the capture loads eBPF programs, which needs root: run this test as root (CI does)")
	}
}

// collector keeps every emitted batch.
type collector struct {
	mu      sync.Mutex
	batches []raw.Batch
}

func (c *collector) emit(b raw.Batch) error {
	if err := b.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches = append(c.batches, b)
	return nil
}

// events returns the events of process hpid, in order, and the createTS values seen for it.
func (c *collector) events(hpid int64) (evs []raw.Event, createTS []int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.batches {
		if b.HPID == hpid {
			evs = append(evs, b.Events...)
			if !slices.Contains(createTS, b.CreateTS) {
				createTS = append(createTS, b.CreateTS)
			}
		}
	}
	return evs, createTS
}

func (c *collector) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *collector) hasOp(hpid int64, op raw.Op, match func(raw.Event) bool) bool {
	evs, _ := c.events(hpid)
	for _, e := range evs {
		if e.Op == op && (match == nil || match(e)) {
			return true
		}
	}
	return false
}

// startCapture runs a Capture until the test ends and waits until its snapshot is out.
func startCapture(t *testing.T, cfg Config, reg prometheus.Registerer) *collector {
	t.Helper()
	c, err := New(cfg, WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}
	col := &collector{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, col.emit) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	col.waitFor(t, "the snapshot", func() bool { return col.hasOp(int64(os.Getppid()), raw.OpSnapshot, nil) })
	return col
}

func find(t *testing.T, evs []raw.Event, what string, match func(raw.Event) bool) raw.Event {
	t.Helper()
	for _, e := range evs {
		if match(e) {
			return e
		}
	}
	t.Errorf("no %s among %d events", what, len(evs))
	return raw.Event{}
}

func TestCaptureWorkload(t *testing.T) {
	requireRoot(t)
	reg := prometheus.NewRegistry()
	col := startCapture(t, Config{Exporter: "test-node", FlushInterval: 10 * time.Millisecond}, reg)

	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", "-c", `exec "$0" -test.run='^$'`, exe)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), helperEnv+"=workload")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := int64(cmd.Process.Pid)
	var rep workloadReport
	if err := json.NewDecoder(bufio.NewReader(stdout)).Decode(&rep); err != nil {
		t.Fatalf("workload report: %v", err)
	}
	// The procfs path's createTS, read while the process lives.
	clock, err := procfs.NewClock("/proc")
	if err != nil {
		t.Fatal(err)
	}
	procTS, err := procfs.New(clock).CreateTS(pid)
	if err != nil {
		t.Fatal(err)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("workload: %v", err)
	}
	isGroupExit := func(e raw.Event) bool { return e.TID == pid }
	col.waitFor(t, "the workload's exit", func() bool { return col.hasOp(pid, raw.OpExit, isGroupExit) })
	child := int64(rep.ChildPID)
	col.waitFor(t, "the child's exit", func() bool { return col.hasOp(child, raw.OpExit, nil) })

	evs, createTS := col.events(pid)
	t.Logf("workload pid %d: %d events", pid, len(evs))
	if len(createTS) != 1 || createTS[0] != procTS {
		t.Errorf("createTS of the workload's batches %v, want only %d (from /proc)", createTS, procTS)
	}

	// The process as sh, then as this test binary.
	clone := find(t, evs, "clone child event", func(e raw.Event) bool { return e.Op == raw.OpClone && e.Ret == 0 })
	if clone.Proc == nil || clone.Proc.PPID != int64(os.Getpid()) {
		t.Errorf("clone child proc %+v, want ppid %d", clone.Proc, os.Getpid())
	}
	sh := find(t, evs, "exec of sh", func(e raw.Event) bool { return e.Op == raw.OpExec && e.Path == "/bin/sh" })
	if sh.Proc == nil || !slices.Equal(sh.Proc.Args, []string{"-c", `exec "$0" -test.run='^$'`, exe}) || sh.Proc.Cwd != dir {
		t.Errorf("exec of sh: proc %+v", sh.Proc)
	}
	self := find(t, evs, "exec of the workload", func(e raw.Event) bool { return e.Op == raw.OpExec && e.Path == exe })
	if self.Proc == nil || self.Proc.Exe != exe || !slices.Equal(self.Proc.Args, []string{"-test.run=^$"}) ||
		self.Proc.Cwd != dir || self.Proc.UserName != "root" || self.Proc.PCreateTS == 0 {
		t.Errorf("exec of the workload: proc %+v", self.Proc)
	}

	// Files.
	open := find(t, evs, "open for writing", func(e raw.Event) bool {
		return e.Op == raw.OpOpen && e.Path == "data.txt" && e.Ret == int64(rep.WriteFD) && e.Flags&0o1 != 0
	})
	if open.DirFD != raw.AtFDCWD || open.Mode != 0o640 || open.Flags&0o100 == 0 {
		t.Errorf("open: %+v", open)
	}
	find(t, evs, "write", func(e raw.Event) bool {
		return e.Op == raw.OpWrite && e.FD == int32(rep.WriteFD) && e.Ret == int64(rep.Written) && rep.Written == 14
	})
	find(t, evs, "open for reading", func(e raw.Event) bool {
		return e.Op == raw.OpOpen && e.Path == "data.txt" && e.Ret == int64(rep.ReadFD) && e.Flags&0o3 == 0
	})
	find(t, evs, "read", func(e raw.Event) bool {
		return e.Op == raw.OpRead && e.FD == int32(rep.ReadFD) && e.Ret == 14
	})
	find(t, evs, "close", func(e raw.Event) bool { return e.Op == raw.OpClose && e.FD == int32(rep.ReadFD) && e.Ret == 0 })
	find(t, evs, "rename", func(e raw.Event) bool {
		return e.Op == raw.OpRename && e.Path == "data.txt" && e.Path2 == "renamed.txt" && e.Ret == 0
	})
	find(t, evs, "mkdir", func(e raw.Event) bool {
		return e.Op == raw.OpMkdir && e.Path == "subdir" && e.Mode == 0o750 && e.Ret == 0
	})
	find(t, evs, "failed open", func(e raw.Event) bool {
		return e.Op == raw.OpOpen && e.Path == "missing/nope" && e.Ret == -int64(rep.MissingErrno) && rep.MissingErrno != 0
	})

	find(t, evs, "symlink", func(e raw.Event) bool {
		return e.Op == raw.OpSymlink && e.Path == "renamed.txt" && e.Path2 == "sym" && e.DirFD2 == raw.AtFDCWD && e.Ret == 0
	})
	find(t, evs, "link", func(e raw.Event) bool {
		return e.Op == raw.OpLink && e.Path == "renamed.txt" && e.Path2 == "hard" && e.Ret == 0
	})
	find(t, evs, "unlink", func(e raw.Event) bool { return e.Op == raw.OpUnlink && e.Path == "hard" && e.Flags == 0 })
	find(t, evs, "rmdir (unlinkat with AT_REMOVEDIR)", func(e raw.Event) bool {
		return e.Op == raw.OpUnlink && e.Path == "subdir" && e.Flags == 0x200 && e.Ret == 0
	})
	find(t, evs, "pipe2", func(e raw.Event) bool {
		return e.Op == raw.OpPipe && len(e.FDs) == 2 && e.FDs[0].FD == int32(rep.PipeR) && e.FDs[1].FD == int32(rep.PipeW) &&
			e.FDs[0].Kind == raw.FDPipe
	})
	find(t, evs, "dup", func(e raw.Event) bool {
		return e.Op == raw.OpDup && e.FD == int32(rep.PipeW) && e.Ret == int64(rep.DupFD)
	})

	// TCP over loopback, both ends in this process.
	lo := []byte{127, 0, 0, 1}
	find(t, evs, "socket", func(e raw.Event) bool {
		return e.Op == raw.OpSocket && e.Ret == int64(rep.ListenFD) && e.Sock != nil &&
			e.Sock.Family == raw.AFInet && e.Sock.Proto == raw.ProtoTCP
	})
	find(t, evs, "connect", func(e raw.Event) bool {
		return e.Op == raw.OpConnect && e.FD == int32(rep.ClientFD) && e.Ret == 0 && e.Sock != nil &&
			slices.Equal(e.Sock.LAddr, lo) && e.Sock.LPort == int32(rep.ClientPort) &&
			slices.Equal(e.Sock.RAddr, lo) && e.Sock.RPort == int32(rep.ServerPort) && e.Sock.Proto == raw.ProtoTCP
	})
	find(t, evs, "accept", func(e raw.Event) bool {
		return e.Op == raw.OpAccept && e.FD == int32(rep.ListenFD) && e.Ret == int64(rep.AcceptedFD) && e.Sock != nil &&
			e.Sock.LPort == int32(rep.ServerPort) && e.Sock.RPort == int32(rep.ClientPort) && slices.Equal(e.Sock.RAddr, lo)
	})
	find(t, evs, "send", func(e raw.Event) bool {
		return e.Op == raw.OpWrite && e.FD == int32(rep.ClientFD) && e.Ret == 4
	})
	find(t, evs, "receive", func(e raw.Event) bool {
		return e.Op == raw.OpRead && e.FD == int32(rep.AcceptedFD) && e.Ret == 4
	})

	lo6 := make([]byte, 16)
	lo6[15] = 1
	find(t, evs, "IPv6 connect", func(e raw.Event) bool {
		return e.Op == raw.OpConnect && e.FD == int32(rep.V6ClientFD) && e.Ret == 0 && e.Sock != nil &&
			e.Sock.Family == raw.AFInet6 && slices.Equal(e.Sock.LAddr, lo6) && e.Sock.LPort == int32(rep.V6ClientPort) &&
			slices.Equal(e.Sock.RAddr, lo6) && e.Sock.RPort == int32(rep.V6ServerPort)
	})
	find(t, evs, "IPv6 accept", func(e raw.Event) bool {
		return e.Op == raw.OpAccept && e.Ret == int64(rep.V6AcceptedFD) && e.Sock != nil && e.Sock.Family == raw.AFInet6 &&
			e.Sock.LPort == int32(rep.V6ServerPort) && e.Sock.RPort == int32(rep.V6ClientPort)
	})
	find(t, evs, "unix connect", func(e raw.Event) bool {
		return e.Op == raw.OpConnect && e.FD == int32(rep.UnixClientFD) && e.Ret == 0 && e.Sock != nil &&
			e.Sock.Family == raw.AFUnix && e.Sock.Path == rep.UnixPath
	})
	find(t, evs, "unix accept", func(e raw.Event) bool {
		return e.Op == raw.OpAccept && e.Ret == int64(rep.UnixAcceptedFD) && e.Sock != nil && e.Sock.Family == raw.AFUnix &&
			e.Sock.Path == rep.UnixPath
	})

	// The child: parent side of the clone, child side with its attributes, exec, exit 3.
	find(t, evs, "clone parent side", func(e raw.Event) bool { return e.Op == raw.OpClone && e.Ret == child })
	cevs, _ := col.events(child)
	cclone := find(t, cevs, "child's clone event", func(e raw.Event) bool { return e.Op == raw.OpClone && e.Ret == 0 })
	if cclone.Proc == nil || cclone.Proc.PPID != pid || cclone.Proc.PCreateTS != procTS || cclone.Proc.Exe != exe {
		t.Errorf("child's clone proc %+v, want ppid %d pcreateTS %d exe %q", cclone.Proc, pid, procTS, exe)
	}
	cexec := find(t, cevs, "child's exec", func(e raw.Event) bool { return e.Op == raw.OpExec && e.Ret == 0 })
	if cexec.Proc == nil || !slices.Equal(cexec.Proc.Args, []string{"-c", "exit 3"}) {
		t.Errorf("child's exec proc %+v", cexec.Proc)
	}
	find(t, cevs, "child's exit 3", func(e raw.Event) bool { return e.Op == raw.OpExit && e.Ret == 3<<8 })
	find(t, evs, "workload's exit 0", func(e raw.Event) bool { return e.Op == raw.OpExit && e.TID == pid && e.Ret == 0 })

	// Events are in kernel order within the process.
	for i := 1; i < len(evs); i++ {
		if evs[i].TS < evs[i-1].TS && evs[i].Op != raw.OpSnapshot && evs[i-1].Op != raw.OpSnapshot {
			t.Errorf("event %d (%s) at %d before event %d (%s) at %d", i, evs[i].Op, evs[i].TS, i-1, evs[i-1].Op, evs[i-1].TS)
			break
		}
	}
	// The producer never captures itself.
	if self, _ := col.events(int64(os.Getpid())); len(self) > 0 {
		t.Errorf("%d events of the producer's own process", len(self))
	}

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	for _, want := range []string{"sfstream_producer_ringbuf_lost_total", "sfstream_producer_queue_dropped_total", "sfstream_producer_events_total"} {
		if !slices.Contains(names, want) {
			t.Errorf("metric %s not registered (have %v)", want, names)
		}
	}
}

// TestSnapshotOIDMatchesLive checks the OID rule on a process that exists before the capture
// starts: its snapshot and its live events share one createTS.
func TestSnapshotOIDMatchesLive(t *testing.T) {
	requireRoot(t)
	cmd := exec.Command("/bin/sh", "-c", "read x; echo done > /dev/null")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := int64(cmd.Process.Pid)
	col := startCapture(t, Config{Exporter: "test-node", FlushInterval: 10 * time.Millisecond}, nil)
	col.waitFor(t, "the snapshot of the old process", func() bool { return col.hasOp(pid, raw.OpSnapshot, nil) })
	stdin.Write([]byte("go\n"))
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	col.waitFor(t, "its exit", func() bool { return col.hasOp(pid, raw.OpExit, nil) })
	evs, createTS := col.events(pid)
	if len(createTS) != 1 {
		t.Fatalf("createTS values %v for one process (events %d)", createTS, len(evs))
	}
	snap := find(t, evs, "snapshot", func(e raw.Event) bool { return e.Op == raw.OpSnapshot && e.TID == pid })
	if snap.Proc == nil || snap.Proc.Exe != "/usr/bin/dash" && snap.Proc.Exe != "/bin/dash" || !slices.Equal(snap.Proc.Args, []string{"-c", "read x; echo done > /dev/null"}) {
		t.Errorf("snapshot proc %+v", snap.Proc)
	}
	find(t, evs, "a live read after the snapshot", func(e raw.Event) bool { return e.Op == raw.OpRead && e.FD == 0 })
}
