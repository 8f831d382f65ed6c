package procfs

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/sfstream/sfstream/internal/raw"
)

// fakeProc builds a /proc tree with one process (pid 100, child of 1, thread 101) and a kernel
// thread (pid 2), plus a host root with /etc/passwd and /etc/group.
func fakeProc(t *testing.T) (proc, host, dir string) {
	t.Helper()
	base := t.TempDir()
	proc, host, dir = filepath.Join(base, "proc"), filepath.Join(base, "host"), filepath.Join(base, "data")
	write := func(path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, path string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(host, "etc", "passwd"), "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n")
	write(filepath.Join(host, "etc", "group"), "root:x:0:\nstaff:x:50:alice\n")
	write(filepath.Join(dir, "file.txt"), "x")
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}

	p := filepath.Join(proc, "100")
	write(filepath.Join(proc, "1", "stat"), "1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 3 0 0 0 0")
	write(filepath.Join(p, "stat"), "100 (my prog) S 1 100 100 34816 -1 4194304 0 0 0 0 0 0 0 0 20 0 2 0 1733871 0 0 0 0")
	write(filepath.Join(p, "status"), "Name:\tmy prog\nUid:\t1000\t1000\t1000\t1000\nGid:\t50\t50\t50\t50\nNSpid:\t100\t7\n")
	write(filepath.Join(p, "cmdline"), "/usr/bin/prog\x00--flag\x00arg two\x00")
	write(filepath.Join(p, "cgroup"), "0::/system.slice/docker-"+hexID+".scope\n")
	link("/usr/bin/prog", filepath.Join(p, "exe"))
	link("/srv", filepath.Join(p, "cwd"))
	link(filepath.Join(dir, "file.txt"), filepath.Join(p, "fd", "3"))
	link(filepath.Join(dir, "sub"), filepath.Join(p, "fd", "4"))
	link("socket:[5150]", filepath.Join(p, "fd", "5"))
	link("pipe:[77]", filepath.Join(p, "fd", "6"))
	link("anon_inode:[eventfd]", filepath.Join(p, "fd", "7"))
	link("socket:[9999]", filepath.Join(p, "fd", "8")) // netlink: in no table
	link("socket:[21551]", filepath.Join(p, "fd", "9"))
	for _, fd := range []string{"3", "4", "5", "6", "7", "8", "9"} {
		write(filepath.Join(p, "fdinfo", fd), "pos:\t0\nflags:\t02000002\nmnt_id:\t1\n")
	}
	write(filepath.Join(p, "net", "tcp"), "header\n   1: 0100007F:9FCC 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 5150 1 0 20 4 30 10 -1\n")
	write(filepath.Join(p, "net", "unix"), "header\n0000000071d6a16b: 00000002 00000000 00010000 0001 01 21551 /run/app.sock\n")
	write(filepath.Join(p, "task", "100", "stat"), "")
	write(filepath.Join(p, "task", "101", "stat"), "")

	write(filepath.Join(proc, "2", "stat"), "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0 1 0")
	write(filepath.Join(proc, "2", "status"), "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n")
	write(filepath.Join(proc, "stat"), "cpu 1\nbtime 1795634663\n")
	return proc, host, dir
}

func TestWalkFakeProc(t *testing.T) {
	proc, host, dir := fakeProc(t)
	clock := Clock{BootEpoch: 1795634663e9}
	fs := New(clock, WithProcRoot(proc), WithHostRoot(host))
	var got []*Process
	if err := fs.Walk(func(p *Process) error { got = append(got, p); return nil }); err != nil {
		t.Fatal(err)
	}
	var p *Process
	for _, g := range got {
		if g.PID == 2 {
			t.Error("kernel thread 2 was listed")
		}
		if g.PID == 100 {
			p = g
		}
	}
	if p == nil {
		t.Fatalf("pid 100 not listed in %d processes", len(got))
	}
	wantProc := raw.Proc{
		PPID: 1, PCreateTS: clock.CreateTSFromTicks(3), Exe: "/usr/bin/prog", Args: []string{"--flag", "arg two"},
		Comm: "my prog", Cwd: "/srv", Env: []string{}, UID: 1000, GID: 50, UserName: "alice", GroupName: "staff",
		TTY: 34816, VPID: 7, Container: &raw.Container{ID: "347b1411b047", Runtime: RuntimeDocker},
	}
	if !reflect.DeepEqual(p.Proc, wantProc) {
		t.Errorf("proc:\n got %+v\nwant %+v", p.Proc, wantProc)
	}
	if want := clock.CreateTSFromTicks(1733871); p.CreateTS != want {
		t.Errorf("createTS %d, want %d", p.CreateTS, want)
	}
	if !reflect.DeepEqual(p.Threads, []int64{101}) {
		t.Errorf("threads %v, want [101]", p.Threads)
	}
	const flags = 0o2000002
	wantFDs := []raw.FD{
		{FD: 3, Kind: raw.FDFile, Path: filepath.Join(dir, "file.txt"), Flags: flags},
		{FD: 4, Kind: raw.FDDir, Path: filepath.Join(dir, "sub"), Flags: flags},
		{FD: 5, Kind: raw.FDIPv4, Path: "socket:[5150]", Flags: flags, Sock: &raw.Sock{
			Family: raw.AFInet, Proto: raw.ProtoTCP, LAddr: []byte{127, 0, 0, 1}, LPort: 40908, RAddr: []byte{127, 0, 0, 1}, RPort: 8080}},
		{FD: 6, Kind: raw.FDPipe, Path: "pipe:[77]", Flags: flags},
		{FD: 7, Kind: raw.FDOther, Path: "anon_inode:[eventfd]", Flags: flags},
		{FD: 8, Kind: raw.FDOther, Path: "socket:[9999]", Flags: flags},
		{FD: 9, Kind: raw.FDUnix, Path: "socket:[21551]", Flags: flags, Sock: &raw.Sock{
			Family: raw.AFUnix, LAddr: []byte{}, RAddr: []byte{}, Path: "/run/app.sock"}},
	}
	if !reflect.DeepEqual(p.FDs, wantFDs) {
		t.Errorf("fds:\n got %+v\nwant %+v", p.FDs, wantFDs)
	}

	if _, err := fs.Process(4242); !errors.Is(err, ErrGone) {
		t.Errorf("missing pid: err = %v, want ErrGone", err)
	}
	if _, err := fs.Process(2); !errors.Is(err, ErrGone) {
		t.Errorf("kernel thread: err = %v, want ErrGone", err)
	}
}

// TestProcessSelf reads this test process from the real /proc.
func TestProcessSelf(t *testing.T) {
	clock, err := NewClock("/proc")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(t.TempDir(), "open")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := int32(ln.Addr().(*net.TCPAddr).Port)

	fs := New(clock)
	p, err := fs.Process(int64(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	wd, _ := os.Getwd()
	if p.Proc.Exe != exe || p.Proc.Cwd != wd || !slices.Equal(p.Proc.Args, os.Args[1:]) {
		t.Errorf("exe %q cwd %q args %q; want %q %q %q", p.Proc.Exe, p.Proc.Cwd, p.Proc.Args, exe, wd, os.Args[1:])
	}
	if p.Proc.UID != int32(os.Geteuid()) || p.Proc.PPID != int64(os.Getppid()) {
		t.Errorf("uid %d ppid %d", p.Proc.UID, p.Proc.PPID)
	}
	var sawFile, sawListener bool
	for _, fd := range p.FDs {
		switch {
		case fd.Kind == raw.FDFile && fd.Path == f.Name():
			sawFile = true
		case fd.Kind == raw.FDIPv4 && fd.Sock != nil && fd.Sock.LPort == port:
			sawListener = slices.Equal(fd.Sock.LAddr, []byte{127, 0, 0, 1}) && fd.Sock.Proto == raw.ProtoTCP
		}
	}
	if !sawFile || !sawListener {
		t.Errorf("fds %+v: temp file seen %v, listener on %d seen %v", p.FDs, sawFile, port, sawListener)
	}
	if len(p.Threads) == 0 {
		t.Error("a Go test process has threads; none listed")
	}
	ts, err := fs.CreateTS(p.PID)
	if err != nil || ts != p.CreateTS {
		t.Errorf("CreateTS = %d, %v; want %d", ts, err, p.CreateTS)
	}
}
