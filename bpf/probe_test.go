//go:build linux

package bpf

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/sfstream/sfstream/internal/raw"
)

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("loading eBPF programs needs root: run the BPF tests as root (CI does)")
	}
}

// TestEnumsMatchContracts checks the C enums against the Go contracts they encode.
func TestEnumsMatchContracts(t *testing.T) {
	ops := map[captureSfOp]raw.Op{
		captureSfOpSF_OP_CLONE: raw.OpClone, captureSfOpSF_OP_EXEC: raw.OpExec, captureSfOpSF_OP_EXIT: raw.OpExit,
		captureSfOpSF_OP_SETUID: raw.OpSetuid, captureSfOpSF_OP_SETNS: raw.OpSetns, captureSfOpSF_OP_OPEN: raw.OpOpen,
		captureSfOpSF_OP_CLOSE: raw.OpClose, captureSfOpSF_OP_DUP: raw.OpDup, captureSfOpSF_OP_PIPE: raw.OpPipe,
		captureSfOpSF_OP_SOCKET: raw.OpSocket, captureSfOpSF_OP_CONNECT: raw.OpConnect, captureSfOpSF_OP_ACCEPT: raw.OpAccept,
		captureSfOpSF_OP_READ: raw.OpRead, captureSfOpSF_OP_WRITE: raw.OpWrite, captureSfOpSF_OP_SHUTDOWN: raw.OpShutdown,
		captureSfOpSF_OP_MMAP: raw.OpMmap, captureSfOpSF_OP_CHDIR: raw.OpChdir, captureSfOpSF_OP_MKDIR: raw.OpMkdir,
		captureSfOpSF_OP_RMDIR: raw.OpRmdir, captureSfOpSF_OP_UNLINK: raw.OpUnlink, captureSfOpSF_OP_LINK: raw.OpLink,
		captureSfOpSF_OP_SYMLINK: raw.OpSymlink, captureSfOpSF_OP_RENAME: raw.OpRename,
	}
	for k, r := range ops {
		if int32(k) != int32(r) {
			t.Errorf("kernel op %d is raw %s (%d)", k, r, r)
		}
	}
	nrs := map[captureSfNr]int{
		captureSfNrSF_NR_READ: unix.SYS_READ, captureSfNrSF_NR_WRITE: unix.SYS_WRITE, captureSfNrSF_NR_OPEN: unix.SYS_OPEN,
		captureSfNrSF_NR_CLOSE: unix.SYS_CLOSE, captureSfNrSF_NR_MMAP: unix.SYS_MMAP, captureSfNrSF_NR_PREAD64: unix.SYS_PREAD64,
		captureSfNrSF_NR_PWRITE64: unix.SYS_PWRITE64, captureSfNrSF_NR_READV: unix.SYS_READV, captureSfNrSF_NR_WRITEV: unix.SYS_WRITEV,
		captureSfNrSF_NR_PIPE: unix.SYS_PIPE, captureSfNrSF_NR_DUP: unix.SYS_DUP, captureSfNrSF_NR_DUP2: unix.SYS_DUP2,
		captureSfNrSF_NR_SOCKET: unix.SYS_SOCKET, captureSfNrSF_NR_CONNECT: unix.SYS_CONNECT, captureSfNrSF_NR_ACCEPT: unix.SYS_ACCEPT,
		captureSfNrSF_NR_SENDTO: unix.SYS_SENDTO, captureSfNrSF_NR_RECVFROM: unix.SYS_RECVFROM, captureSfNrSF_NR_SENDMSG: unix.SYS_SENDMSG,
		captureSfNrSF_NR_RECVMSG: unix.SYS_RECVMSG, captureSfNrSF_NR_SHUTDOWN: unix.SYS_SHUTDOWN, captureSfNrSF_NR_SOCKETPAIR: unix.SYS_SOCKETPAIR,
		captureSfNrSF_NR_CLONE: unix.SYS_CLONE, captureSfNrSF_NR_FORK: unix.SYS_FORK, captureSfNrSF_NR_VFORK: unix.SYS_VFORK,
		captureSfNrSF_NR_EXECVE: unix.SYS_EXECVE, captureSfNrSF_NR_FCNTL: unix.SYS_FCNTL, captureSfNrSF_NR_CHDIR: unix.SYS_CHDIR,
		captureSfNrSF_NR_FCHDIR: unix.SYS_FCHDIR, captureSfNrSF_NR_RENAME: unix.SYS_RENAME, captureSfNrSF_NR_MKDIR: unix.SYS_MKDIR,
		captureSfNrSF_NR_RMDIR: unix.SYS_RMDIR, captureSfNrSF_NR_CREAT: unix.SYS_CREAT, captureSfNrSF_NR_LINK: unix.SYS_LINK,
		captureSfNrSF_NR_UNLINK: unix.SYS_UNLINK, captureSfNrSF_NR_SYMLINK: unix.SYS_SYMLINK, captureSfNrSF_NR_SETUID: unix.SYS_SETUID,
		captureSfNrSF_NR_SETRESUID: unix.SYS_SETRESUID, captureSfNrSF_NR_OPENAT: unix.SYS_OPENAT, captureSfNrSF_NR_MKDIRAT: unix.SYS_MKDIRAT,
		captureSfNrSF_NR_UNLINKAT: unix.SYS_UNLINKAT, captureSfNrSF_NR_RENAMEAT: unix.SYS_RENAMEAT, captureSfNrSF_NR_LINKAT: unix.SYS_LINKAT,
		captureSfNrSF_NR_SYMLINKAT: unix.SYS_SYMLINKAT, captureSfNrSF_NR_ACCEPT4: unix.SYS_ACCEPT4, captureSfNrSF_NR_DUP3: unix.SYS_DUP3,
		captureSfNrSF_NR_PIPE2: unix.SYS_PIPE2, captureSfNrSF_NR_PREADV: unix.SYS_PREADV, captureSfNrSF_NR_PWRITEV: unix.SYS_PWRITEV,
		captureSfNrSF_NR_RECVMMSG: unix.SYS_RECVMMSG, captureSfNrSF_NR_SENDMMSG: unix.SYS_SENDMMSG, captureSfNrSF_NR_SETNS: unix.SYS_SETNS,
		captureSfNrSF_NR_RENAMEAT2: unix.SYS_RENAMEAT2, captureSfNrSF_NR_EXECVEAT: unix.SYS_EXECVEAT, captureSfNrSF_NR_PREADV2: unix.SYS_PREADV2,
		captureSfNrSF_NR_PWRITEV2: unix.SYS_PWRITEV2, captureSfNrSF_NR_CLONE3: unix.SYS_CLONE3, captureSfNrSF_NR_OPENAT2: unix.SYS_OPENAT2,
	}
	for k, want := range nrs {
		if int(k) != want {
			t.Errorf("kernel syscall number %d, golang.org/x/sys/unix says %d", k, want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	var r Record
	if err := Decode(make([]byte, 4), &r); !errors.Is(err, ErrShort) {
		t.Errorf("short header: %v", err)
	}
	b := make([]byte, sysSize)
	h, _ := HeaderOf(b)
	h.Kind = uint16(KindSys)
	e := (*SysEvent)(unsafePointer(b))
	e.PathLen = 10 // more than the record holds
	if err := Decode(b, &r); !errors.Is(err, ErrShort) {
		t.Errorf("path past the end: %v", err)
	}
	h.Kind = 99
	if err := Decode(b, &r); err == nil {
		t.Error("unknown kind decoded")
	}
}

func TestStrings(t *testing.T) {
	var s Sock
	copy8 := func(v string) {
		for i := range s.Path {
			s.Path[i] = 0
		}
		for i := 0; i < len(v); i++ {
			s.Path[i] = int8(v[i])
		}
		s.PathLen = uint16(len(v))
	}
	copy8("/run/x.sock\x00")
	if got := SockPath(&s); got != "/run/x.sock" {
		t.Errorf("path %q", got)
	}
	copy8("\x00abstract")
	if got := SockPath(&s); got != "@abstract" {
		t.Errorf("abstract %q", got)
	}
	if got := SplitArgs([]byte("a\x00\x00b")); len(got) != 3 || got[1] != "" {
		t.Errorf("args %q", got)
	}
	c := [16]int8{'s', 'h'}
	if Comm(&c) != "sh" {
		t.Errorf("comm %q", Comm(&c))
	}
}

// runExit runs the sched_process_exit program once in this thread's context (BPF_PROG_TEST_RUN)
// and reports whether it made a record. The task pointer is NULL, so the program reads zeros
// from it; the filters work on the current task, which is this thread.
func runExit(t *testing.T, p *Probe) bool {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := uint32(unix.Gettid())
	if _, err := p.objs.SfExit.Run(&ebpf.RunOptions{Context: []uint64{0, 0}}); err != nil {
		t.Fatalf("run sched_process_exit: %v", err)
	}
	var rec ringbuf.Record
	for {
		p.SetDeadline(time.Now().Add(50 * time.Millisecond))
		err := p.ReadInto(&rec)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		var r Record
		if err := Decode(rec.RawSample, &r); err != nil {
			t.Fatal(err)
		}
		if r.Header.Tid == tid && r.Header.Op == uint16(raw.OpExit) {
			return true
		}
		if rec.Remaining == 0 {
			// Caught up: a record made by the run, which returned before we started reading,
			// would have been read by now.
			return false
		}
	}
}

// TestFilter runs the programs directly (BPF_PROG_TEST_RUN) to check the exclusion logic.
func TestFilter(t *testing.T) {
	requireRoot(t)
	comm, err := os.ReadFile("/proc/thread-self/comm")
	if err != nil {
		t.Fatal(err)
	}
	self := uint32(os.Getpid())
	tests := []struct {
		name string
		cfg  Config
		want bool
	}{
		{"captured when another process is the producer", Config{SelfTGID: 1}, true},
		{"the producer itself is skipped", Config{SelfTGID: self}, false},
		{"an excluded pid is skipped", Config{SelfTGID: 1, ExcludePIDs: []uint32{self}}, false},
		{"an excluded comm is skipped", Config{SelfTGID: 1, ExcludeComms: []string{string(comm[:len(comm)-1])}}, false},
		{"other exclusions do not match", Config{SelfTGID: 1, ExcludePIDs: []uint32{1}, ExcludeComms: []string{"nope"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.RingBufferBytes = 1 << 16
			p, err := Open(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if got := runExit(t, p); got != tt.want {
				t.Errorf("record made: %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("ExcludePID at run time", func(t *testing.T) {
		p, err := Open(Config{SelfTGID: 1, RingBufferBytes: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if err := p.ExcludePID(self); err != nil {
			t.Fatal(err)
		}
		if runExit(t, p) {
			t.Error("record made for a pid excluded at run time")
		}
	})
}

// TestLostCounted fills a tiny ring buffer without reading it and checks that the losses are
// counted, in total and by process.
func TestLostCounted(t *testing.T) {
	requireRoot(t)
	p, err := Open(Config{SelfTGID: 1, RingBufferBytes: os.Getpagesize()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const runs = 200 // 200 × 72-byte records do not fit in one page
	for range runs {
		if _, err := p.objs.SfExit.Run(&ebpf.RunOptions{Context: []uint64{0, 0}}); err != nil {
			t.Fatal(err)
		}
	}
	perCPU, err := p.Lost()
	if err != nil {
		t.Fatal(err)
	}
	var lost uint64
	for _, n := range perCPU {
		lost += n
	}
	var byProc uint64
	if err := p.DrainLostByProcess(func(tgid uint32, start, n uint64) {
		if tgid == uint32(os.Getpid()) { // start is 0: the task pointer given is NULL
			byProc += n
		}
	}); err != nil {
		t.Fatal(err)
	}
	// Other processes' records (and this one's real syscalls) are lost too: the programs are attached.
	if byProc == 0 || lost < byProc {
		t.Errorf("lost %d in all, %d of this process's %d attributed to it", lost, byProc, runs)
	}
}

// TestOpenAndRead attaches the programs and sees a real process exec and exit.
func TestOpenAndRead(t *testing.T) {
	requireRoot(t)
	p, err := Open(Config{RingBufferBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cmd := exec.Command("/bin/sh", "-c", "cat /etc/hostname >/dev/null")
	cmd.Dir = "/tmp"
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := uint32(cmd.Process.Pid)
	var (
		rec            ringbuf.Record
		r              Record
		exec, exitSeen bool
	)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !exitSeen {
		p.SetDeadline(time.Now().Add(100 * time.Millisecond))
		if err := p.ReadInto(&rec); err != nil {
			continue
		}
		if err := Decode(rec.RawSample, &r); err != nil {
			t.Fatal(err)
		}
		if r.Header.Tgid != pid {
			continue
		}
		switch raw.Op(r.Header.Op) {
		case raw.OpExec:
			exec = true
			args := SplitArgs(r.Args)
			if string(r.Exe) != "/usr/bin/dash" && string(r.Exe) != "/bin/dash" || len(args) != 3 || args[2] != "cat /etc/hostname >/dev/null" ||
				string(r.Cwd) != "/tmp" || string(r.Filename) != "/bin/sh" || r.Proc.Ppid != uint32(os.Getpid()) {
				t.Errorf("exec: exe %q filename %q args %q cwd %q ppid %d", r.Exe, r.Filename, args, r.Cwd, r.Proc.Ppid)
			}
		case raw.OpExit:
			exitSeen = r.Header.Flags&FlagGroupDead != 0
		}
	}
	if !exec || !exitSeen {
		t.Fatalf("exec seen %v, group exit seen %v", exec, exitSeen)
	}
}
