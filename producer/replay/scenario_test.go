package replay

import (
	"fmt"
	"slices"
	"testing"

	"github.com/sfstream/sfstream/internal/raw"
)

// The expectations below come from the reference .sf outputs beside the captures (decoded
// independently) and SEMANTICS.md.

func TestSetuidScenario(t *testing.T) {
	rec := replay(t, "setuid/setuid.scap")
	const parent = 4698
	setuids := rec.find(raw.OpSetuid, nil)
	if len(setuids) != 2 {
		t.Fatalf("setuid events: %d", len(setuids))
	}
	// setuid(500) succeeds, setuid(0) fails with -1 (setuid.sf: args terylt ret 0, root ret -1).
	if s := setuids[0]; s.UID != 500 || s.Path != "terylt" || s.Ret != 0 || s.Proc == nil || s.Proc.UID != 500 || s.Proc.UserName != "terylt" {
		t.Errorf("first setuid %+v proc %+v", s.Event, s.Proc)
	}
	if s := setuids[1]; s.UID != 0 || s.Path != "root" || s.Ret != -1 || s.hpid != parent || s.Proc.UID != 500 {
		t.Errorf("second setuid %+v", s.Event)
	}
	// Children of a host process: createTS is the parent's clone exit ts (setuid.sf OIDs).
	wantChildren := map[int64]int64{4699: 1554906981524564618, 4701: 1554906981531680065, 4703: 1554906981533971850}
	for child, createTS := range wantChildren {
		callers := rec.find(raw.OpClone, func(e keyed) bool { return e.hpid == parent && e.Ret == child })
		if len(callers) != 1 || callers[0].TS != createTS {
			t.Errorf("caller's clone of %d: %+v", child, callers)
		}
		kids := rec.find(raw.OpClone, func(e keyed) bool { return e.hpid == child })
		if len(kids) != 1 {
			t.Fatalf("child %d clone events: %d", child, len(kids))
		}
		k := kids[0]
		if k.createTS != createTS || k.Ret != 0 || k.TID != child || k.Proc == nil || k.Proc.PPID != parent || k.Proc.PCreateTS != 0 {
			t.Errorf("child %d: createTS %d %+v proc %+v", child, k.createTS, k.Event, k.Proc)
		}
		if k.Proc.Exe != "./setuid" || len(k.Proc.Env) != 14 {
			t.Errorf("child %d inherits exe %q and %d env entries", child, k.Proc.Exe, len(k.Proc.Env))
		}
	}
	exits := rec.find(raw.OpExit, nil)
	if len(exits) != 1 || exits[0].hpid != parent || exits[0].TID != parent || exits[0].TS != 1554906981539330285 {
		t.Errorf("exit %+v", exits)
	}
	ends := rec.find(raw.OpEnd, nil)
	if len(ends) != 1 || ends[0].hpid != 0 || ends[0].TS != 1554906986999999999 {
		t.Errorf("end notices %+v", ends)
	}
}

func TestAlpineScenario(t *testing.T) {
	rec := replay(t, "alpine/alpine.scap")
	const shell = 120512
	snaps := rec.find(raw.OpSnapshot, func(e keyed) bool { return e.TID == shell })
	if len(snaps) != 1 {
		t.Fatalf("busybox snapshots: %d", len(snaps))
	}
	p := snaps[0].Proc
	// alpine.sf: Container c010f5a08549 "alpine" image "alpine:latest:latest"; busybox entry
	// (vpid 1), exe /bin/busybox, cwd /, parent containerd-shim 120485.
	if p.Container == nil || p.Container.ID != "c010f5a08549" || p.Container.Name != "alpine" ||
		p.Container.Image != "alpine:latest:latest" || p.Container.Runtime != runtimeDocker {
		t.Errorf("container %+v", p.Container)
	}
	if p.Exe != "/bin/busybox" || p.VPID != 1 || p.Cwd != "/" || p.PPID != 120485 || p.UserName != "root" {
		t.Errorf("busybox proc %+v", p)
	}
	if fds := snaps[0].FDs; len(fds) != 4 || fds[0].Path != "/dev/pts/0" || fds[0].Kind != raw.FDFile || fds[0].Flags != oRDWR {
		t.Errorf("busybox fds %+v", fds)
	}
	// Children of a process inside a pid namespace: createTS is the child's own clone exit.
	// They inherit the shell's fds: the terminal (0-2) and /dev/tty (10, close-on-exec).
	for child, createTS := range map[int64]int64{120839: 1588262426778371797, 120847: 1588262430545592980} {
		kids := rec.find(raw.OpClone, func(e keyed) bool { return e.hpid == child })
		if len(kids) != 1 || kids[0].createTS != createTS || kids[0].TS != createTS || kids[0].Proc.VPID == 0 {
			t.Fatalf("child %d: %+v", child, kids)
		}
		var fds []string
		for _, fd := range kids[0].FDs {
			fds = append(fds, fmt.Sprintf("%d:%s", fd.FD, fd.Path))
		}
		if want := []string{"0:/dev/pts/0", "1:/dev/pts/0", "2:/dev/pts/0", "10:/dev/tty"}; !slices.Equal(fds, want) {
			t.Errorf("child %d inherits fds %q, want %q", child, fds, want)
		}
	}
	execs := rec.find(raw.OpExec, nil)
	if len(execs) != 2 {
		t.Fatalf("execs: %d", len(execs))
	}
	touch := execs[0]
	if touch.hpid != 120839 || touch.Path != "/bin/touch" || touch.Proc.Exe != "/bin/touch" ||
		!slices.Equal(touch.Proc.Args, []string{"test2"}) || touch.Proc.Container.ID != "c010f5a08549" || touch.Proc.PPID != shell {
		t.Errorf("touch exec %+v proc %+v", touch.Event, touch.Proc)
	}
	// echo > /tmp/test: fcntl(1, F_DUPFD_CLOEXEC) = 11, dup2(3, 1), later dup2(11, 1).
	dups := rec.find(raw.OpDup, nil)
	want := [][3]int64{{1, 11, linuxFDupFDCloexec}, {3, 1, 0}, {11, 1, 0}}
	for i, d := range dups {
		if i >= len(want) || int64(d.FD) != want[i][0] || d.Ret != want[i][1] || d.Flags != want[i][2] {
			t.Errorf("dup %d: fd %d ret %d flags %d", i, d.FD, d.Ret, d.Flags)
		}
	}
	// The end notice carries the last event's ts, which is the shutdown endTs of alpine.sf's
	// truncated flows.
	ends := rec.find(raw.OpEnd, nil)
	if len(ends) != 1 || ends[0].hpid != 0 || ends[0].TS != 1588262436999999999 {
		t.Errorf("end notices %+v", ends)
	}
}

func TestClientServerScenario(t *testing.T) {
	rec := replay(t, "client-server/tcp-client-server.scap")
	const server, client = 13823, 13824
	conn := rec.find(raw.OpConnect, nil)
	if len(conn) != 1 || conn[0].hpid != client || conn[0].FD != 3 || conn[0].Ret != 0 ||
		!sockIs(conn[0].Sock, "127.0.0.1", 40556, "127.0.0.1", 8080) {
		t.Errorf("connect %+v sock %+v", conn, conn[0].Sock)
	}
	acc := rec.find(raw.OpAccept, nil)
	if len(acc) != 1 || acc[0].hpid != server || acc[0].Ret != 4 || !sockIs(acc[0].Sock, "127.0.0.1", 8080, "127.0.0.1", 40556) {
		t.Errorf("accept %+v sock %+v", acc, acc[0].Sock)
	}
	socks := rec.find(raw.OpSocket, nil)
	if len(socks) != 2 || socks[0].Mode != raw.AFInet || socks[0].Flags != sockStream || socks[0].Sock.Proto != raw.ProtoTCP || socks[0].Ret != 3 {
		t.Errorf("socket %+v", socks)
	}
	// Both were killed by SIGINT: wait status 2 (tcp-client-server.sf EXIT ret 2).
	for _, e := range rec.find(raw.OpExit, nil) {
		if e.Ret != 2 || e.createTS != 0 {
			t.Errorf("exit %+v", e)
		}
	}
	// The programs appear with a bare execve exit (no clone, no enter); their parents are
	// bash processes from the process list.
	for _, e := range rec.find(raw.OpExec, nil) {
		if e.createTS != 0 || (e.hpid == server && e.Proc.PPID != 7955) || (e.hpid == client && e.Proc.PPID != 7130) {
			t.Errorf("exec %+v proc %+v", e.Event, e.Proc)
		}
	}
	// Reads and writes on the connection keep their fds and byte counts.
	srvWrites := rec.find(raw.OpWrite, func(e keyed) bool { return e.hpid == server && e.FD == 4 })
	if len(srvWrites) != 1 || srvWrites[0].Ret != 80 {
		t.Errorf("server writes on fd 4: %+v", srvWrites)
	}
}

func TestRenameScenario(t *testing.T) {
	rec := replay(t, "rename/rename.scap")
	ren := rec.find(raw.OpRename, nil)
	if len(ren) != 1 {
		t.Fatalf("renames: %d", len(ren))
	}
	r := ren[0]
	if r.Path != "/tmp/test1" || r.Path2 != "/tmp/test2" || r.DirFD != raw.AtFDCWD || r.DirFD2 != raw.AtFDCWD || r.Ret != 0 || r.TS != 1672952362849908988 {
		t.Errorf("rename %+v", r.Event)
	}
	exec := rec.find(raw.OpExec, nil)
	if len(exec) != 1 || exec[0].Proc.Exe != "mv" || !slices.Equal(exec[0].Proc.Args, []string{"/tmp/test1", "/tmp/test2"}) || exec[0].Proc.PPID != 76505 {
		t.Errorf("exec %+v", exec)
	}
	opens := rec.find(raw.OpOpen, func(e keyed) bool { return e.Path == "/etc/ld.so.cache" })
	if len(opens) != 1 || opens[0].Flags != oCLOEXEC || opens[0].Ret != 3 {
		t.Errorf("openat of ld.so.cache %+v", opens)
	}
}

func TestFilesScenario(t *testing.T) {
	type pathOp struct {
		op     raw.Op
		dirfd  int32
		path   string
		dirfd2 int32
		path2  string
	}
	const cwd = raw.AtFDCWD
	tests := []struct {
		file string
		want []pathOp
	}{
		{"files/files.scap", []pathOp{
			{raw.OpMkdir, cwd, "/tmp/testing_dir", cwd, ""},
			{raw.OpMkdir, cwd, "./testing_dir", cwd, ""},
			{raw.OpRmdir, cwd, "/tmp/testing_dir", cwd, ""},
			{raw.OpRmdir, cwd, "./testing_dir", cwd, ""},
			{raw.OpLink, cwd, "/tmp/tested_file.txt", cwd, "./tested_file.txt"},
			{raw.OpSymlink, cwd, "/tmp/tested_file2.txt", cwd, "./tested_file2.txt"},
			{raw.OpRename, cwd, "/tmp/tested_file3.txt", cwd, "/tmp/tested_file4.txt"},
			{raw.OpUnlink, cwd, "/tmp/tested_file.txt", cwd, ""},
			{raw.OpUnlink, cwd, "./tested_file.txt", cwd, ""},
			{raw.OpUnlink, cwd, "./tested_file2.txt", cwd, ""},
			{raw.OpUnlink, cwd, "/tmp/tested_file2.txt", cwd, ""},
			{raw.OpUnlink, cwd, "./tested_file_test.txt", cwd, ""},
			{raw.OpUnlink, cwd, "/tmp/tested_file4.txt", cwd, ""},
		}},
		{"files/filesat.scap", []pathOp{
			{raw.OpMkdir, 3, "/tmp/testing_dir", cwd, ""},
			{raw.OpMkdir, cwd, "./testing_dir", cwd, ""},
			{raw.OpRmdir, cwd, "/tmp/testing_dir", cwd, ""},
			{raw.OpRmdir, cwd, "./testing_dir", cwd, ""},
			{raw.OpLink, 3, "./tested_file.txt", cwd, "./tested_file.txt"},
			{raw.OpSymlink, cwd, "/tmp/tested_file2.txt", cwd, "./tested_file2.txt"},
			{raw.OpRename, 3, "./tested_file3.txt", cwd, "/tmp/tested_file4.txt"},
			{raw.OpUnlink, 3, "./tested_file.txt", cwd, ""},
			{raw.OpUnlink, cwd, "./tested_file.txt", cwd, ""},
			{raw.OpUnlink, cwd, "./tested_file2.txt", cwd, ""},
			{raw.OpUnlink, 3, "/tmp/tested_file2.txt", cwd, ""},
			{raw.OpUnlink, cwd, "./tested_file_test.txt", cwd, ""},
			{raw.OpUnlink, 3, "../tmp/tested_file4.txt", cwd, ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			rec := replay(t, tt.file)
			var got []pathOp
			for _, e := range rec.events {
				switch e.Op {
				case raw.OpMkdir, raw.OpRmdir, raw.OpLink, raw.OpSymlink, raw.OpRename, raw.OpUnlink:
					if e.Ret != 0 {
						t.Errorf("%s %q failed: %d", e.Op, e.Path, e.Ret)
					}
					got = append(got, pathOp{e.Op, e.DirFD, e.Path, e.DirFD2, e.Path2})
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("path operations:\n got %+v\nwant %+v", got, tt.want)
			}
			// The test program's parent, bash 1887, is in the process list with the cwd the
			// reference prints (with a trailing /) for it.
			bash := rec.find(raw.OpSnapshot, func(e keyed) bool { return e.TID == 1887 })
			if len(bash) != 1 || bash[0].Proc.Cwd != "/home/terylt/workspace/sf-collector/tests/files" {
				t.Errorf("bash snapshot %+v", bash)
			}
		})
	}
	t.Run("filesat open relative to a dirfd", func(t *testing.T) {
		rec := replay(t, "files/filesat.scap")
		dir := rec.find(raw.OpOpen, func(e keyed) bool { return e.Path == "/tmp/" })
		rel := rec.find(raw.OpOpen, func(e keyed) bool { return e.Path == "tested_file.txt" })
		if len(dir) != 1 || dir[0].Ret != 3 || dir[0].Flags&oDIRECTORY == 0 {
			t.Errorf("open of /tmp/ %+v", dir)
		}
		if len(rel) != 1 || rel[0].DirFD != 3 || rel[0].Ret != 4 || rel[0].Flags != oWRONLY|oCREAT {
			t.Errorf("openat of tested_file.txt %+v", rel)
		}
	})
}
