// Package procfs reads the /proc snapshot that lets sfstream know the processes older than the
// producer: processes and threads, their open fds (paths, or socket tuples from the
// /proc/<pid>/net tables by inode), cwd, exe, args, uid/gid and names, tty, vpid and container.
//
// It owns the createTS rule shared with the eBPF path (see Clock): both give the same OID for
// the same process. Parsers of each /proc file are plain functions over strings, tested on
// fixtures; FS ties them to a /proc tree. An FS is not safe for concurrent use.
package procfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/sfstream/sfstream/internal/raw"
)

// Process is one process as /proc shows it.
type Process struct {
	PID        int64
	StartTicks uint64
	CreateTS   int64
	Proc       raw.Proc
	FDs        []raw.FD
	// Threads are the process's other threads (tids other than PID).
	Threads []int64
}

// ErrGone is returned for a process that exited while it was read, or a kernel thread.
var ErrGone = errors.New("process gone")

// FS reads one /proc tree.
type FS struct {
	proc     string
	hostRoot string
	clock    Clock
	hostMnt  string
	accounts map[string]*Accounts // by mount namespace
	sockets  map[string]Sockets   // by network namespace; reset by every Walk
	starts   map[int64]uint64     // pid -> start ticks, during one Walk
}

// Option configures an FS.
type Option func(*FS)

// WithProcRoot reads another /proc tree (tests). Default "/proc".
func WithProcRoot(dir string) Option { return func(f *FS) { f.proc = dir } }

// WithHostRoot sets the root whose /etc names the host's users. Default "/".
func WithHostRoot(dir string) Option { return func(f *FS) { f.hostRoot = dir } }

// New returns an FS that dates processes with clock.
func New(clock Clock, opts ...Option) *FS {
	f := &FS{proc: "/proc", hostRoot: "/", clock: clock, accounts: map[string]*Accounts{}}
	for _, o := range opts {
		o(f)
	}
	f.hostMnt, _ = os.Readlink(filepath.Join(f.proc, "self", "ns", "mnt"))
	return f
}

// Walk calls fn for every user-space process in /proc (kernel threads and processes that exit
// meanwhile are skipped), in pid order. It stops at fn's first error.
func (f *FS) Walk(fn func(*Process) error) error {
	pids, err := f.pids()
	if err != nil {
		return err
	}
	f.sockets = map[string]Sockets{}
	f.starts = map[int64]uint64{}
	defer func() { f.sockets, f.starts = nil, nil }()
	for _, pid := range pids {
		p, err := f.read(pid)
		if errors.Is(err, ErrGone) {
			continue
		}
		if err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

// Process reads one process; it returns ErrGone if there is none (any more) or it is a kernel
// thread.
func (f *FS) Process(pid int64) (*Process, error) {
	f.sockets = map[string]Sockets{}
	f.starts = map[int64]uint64{}
	defer func() { f.sockets, f.starts = nil, nil }()
	return f.read(pid)
}

// CreateTS returns the createTS of pid from its stat file.
func (f *FS) CreateTS(pid int64) (int64, error) {
	st, err := f.stat(pid)
	if err != nil {
		return 0, err
	}
	return f.clock.CreateTSFromTicks(st.StartTicks), nil
}

// AccountsOf returns the user tables that apply to pid: the host's, or its container's.
func (f *FS) AccountsOf(pid int64) *Accounts {
	mnt, err := os.Readlink(f.path(pid, "ns", "mnt"))
	root := f.hostRoot
	if err != nil || mnt == f.hostMnt {
		mnt = "host"
	} else {
		root = f.path(pid, "root")
	}
	if a, ok := f.accounts[mnt]; ok {
		return a
	}
	a, err := LoadAccounts(root)
	if err != nil {
		a = &Accounts{} // unreadable tables leave names empty
	}
	f.accounts[mnt] = a
	return a
}

func (f *FS) pids() ([]int64, error) {
	ents, err := os.ReadDir(f.proc)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var pids []int64
	for _, e := range ents {
		if pid, err := strconv.ParseInt(e.Name(), 10, 64); err == nil && e.IsDir() {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

func (f *FS) path(pid int64, elem ...string) string {
	return filepath.Join(append([]string{f.proc, strconv.FormatInt(pid, 10)}, elem...)...)
}

// gone maps the errors of a vanished process to ErrGone.
func gone(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("%w: %w", ErrGone, err)
	}
	return err
}

func (f *FS) readString(pid int64, elem ...string) (string, error) {
	b, err := os.ReadFile(f.path(pid, elem...))
	if err != nil {
		return "", gone(err)
	}
	return string(b), nil
}

func (f *FS) stat(pid int64) (stat, error) {
	s, err := f.readString(pid, "stat")
	if err != nil {
		return stat{}, fmt.Errorf("read stat of %d: %w", pid, err)
	}
	st, err := parseStat(s)
	if err != nil {
		return stat{}, fmt.Errorf("read stat of %d: %w", pid, err)
	}
	return st, nil
}

func (f *FS) read(pid int64) (*Process, error) {
	st, err := f.stat(pid)
	if err != nil {
		return nil, err
	}
	if st.Flags&pfKThread != 0 {
		return nil, fmt.Errorf("%w: %d is a kernel thread", ErrGone, pid)
	}
	f.starts[pid] = st.StartTicks
	s, err := f.readString(pid, "status")
	if err != nil {
		return nil, fmt.Errorf("read status of %d: %w", pid, err)
	}
	sts, err := parseStatus(s)
	if err != nil {
		return nil, fmt.Errorf("read status of %d: %w", pid, err)
	}
	p := &Process{PID: pid, StartTicks: st.StartTicks, CreateTS: f.clock.CreateTSFromTicks(st.StartTicks)}
	p.Proc = raw.Proc{
		PPID: st.PPID, Comm: st.Comm, TTY: st.TTY, VPID: sts.VPID, UID: sts.UID, GID: sts.GID,
		Args: []string{}, Env: []string{},
	}
	if st.PPID > 0 {
		p.Proc.PCreateTS = f.parentCreateTS(st.PPID)
	}
	// exe, cwd and cmdline are unreadable for some processes (zombies): leave them empty.
	p.Proc.Exe, _ = os.Readlink(f.path(pid, "exe"))
	p.Proc.Cwd, _ = os.Readlink(f.path(pid, "cwd"))
	if b, err := os.ReadFile(f.path(pid, "cmdline")); err == nil {
		if argv := parseCmdline(b); len(argv) > 1 {
			p.Proc.Args = argv[1:]
		}
	}
	if cg, err := f.readString(pid, "cgroup"); err == nil {
		p.Proc.Container = ContainerFromCgroupFile(cg)
	}
	acc := f.AccountsOf(pid)
	p.Proc.UserName, p.Proc.GroupName = acc.User(p.Proc.UID), acc.Group(p.Proc.GID)
	if p.FDs, err = f.fds(pid); err != nil {
		return nil, err
	}
	if p.Threads, err = f.threads(pid); err != nil {
		return nil, err
	}
	return p, nil
}

func (f *FS) parentCreateTS(ppid int64) int64 {
	ticks, ok := f.starts[ppid]
	if !ok {
		st, err := f.stat(ppid)
		if err != nil {
			return 0
		}
		ticks = st.StartTicks
		f.starts[ppid] = ticks
	}
	return f.clock.CreateTSFromTicks(ticks)
}

func (f *FS) threads(pid int64) ([]int64, error) {
	ents, err := os.ReadDir(f.path(pid, "task"))
	if err != nil {
		return nil, fmt.Errorf("list threads of %d: %w", pid, gone(err))
	}
	var tids []int64
	for _, e := range ents {
		if tid, err := strconv.ParseInt(e.Name(), 10, 64); err == nil && tid != pid {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}
