package replay

import (
	"crypto/sha1"
	"testing"

	"github.com/sfstream/sfstream/producer/replay/scap"
	"github.com/sfstream/sfstream/sysflow"
)

// A process known only from the capture's process list is written the first time one of its
// events leads to a record, REUP, with that event's ts and the list entry's attributes:
// exe = the exepath, or the exe field (argv[0]) when the exepath is empty or "<NA>"; exeArgs
// = the args joined with single spaces. A process the capture never describes is sinsp's
// stand-in: exe "<NA>", uid and gid -1.

func TestProcessListProcessExeIsExepathElseArgv0AndArgsAreJoined(t *testing.T) {
	runc := plEntry{tid: 700, pid: 700, ptid: 1, comm: "runc:[2:INIT]", exe: "docker-runc", exepath: "/usr/bin/docker-runc",
		args: "init\x00--debug\x00", cwd: "/"}
	noPath := plEntry{tid: 701, pid: 701, ptid: 1, comm: "shim", exe: "containerd-shim", exepath: "<NA>", args: "-namespace\x00moby\x00", cwd: "/"}
	c := newCapture().procList(plEntry{tid: 1, pid: 1, comm: "init", exe: "/sbin/init", exepath: "/sbin/init", cwd: "/"}, runc, noPath)
	c.ev(1e9, 700, scap.OpenX, i64(3), str("/proc/self/fd"), u32(ppmORDONLY|ppmODIRECTORY), u32(0))
	c.ev(2e9, 701, scap.OpenX, i64(3), str("/run/x"), u32(ppmORDONLY), u32(0))
	recs := sysflowOf(t, c.Bytes())
	for _, tt := range []struct {
		pid       int64
		ts        int64
		exe, args string
	}{{700, 1e9, "/usr/bin/docker-runc", "init --debug"}, {701, 2e9, "containerd-shim", "-namespace moby"}} {
		ps := processes(recs, tt.pid)
		if len(ps) == 0 {
			t.Fatalf("no process %d", tt.pid)
		}
		for _, p := range ps {
			if p.Exe != tt.exe || p.ExeArgs != tt.args {
				t.Errorf("process %d exe %q args %q, want %q %q", tt.pid, p.Exe, p.ExeArgs, tt.exe, tt.args)
			}
		}
		// The version the reference writes: REUP at the first event with a record.
		if last := ps[len(ps)-1]; last.State != sysflow.StateReup || last.TS != tt.ts || last.OID.CreateTS != 0 {
			t.Errorf("process %d first written %+v, want REUP at %d", tt.pid, last, tt.ts)
		}
	}
}

func TestProcessNeverDescribedIsSinspStandIn(t *testing.T) {
	c := newCapture().procList(plEntry{tid: 1, pid: 1, comm: "init", exe: "/sbin/init", exepath: "/sbin/init", cwd: "/"})
	c.ev(1e9, 900, scap.OpenX, i64(3), str("/etc/hosts"), u32(ppmORDONLY), u32(0))
	ps := processes(sysflowOf(t, c.Bytes()), 900)
	if len(ps) == 0 {
		t.Fatal("no process 900")
	}
	if p := ps[len(ps)-1]; p.Exe != "<NA>" || p.ExeArgs != "" || p.UID != -1 || p.GID != -1 || p.POID != nil {
		t.Errorf("process %+v", p)
	}
}

// sinsp names a pipe made during the capture "" (only the capture's fd table, read from
// /proc, names pipes "pipe:[ino]"): its FileFlows reference the nameless File, FOID SHA-1
// of the container id alone, one entity for every such pipe of a container.
func TestPipeMadeDuringCaptureIsTheNamelessFile(t *testing.T) {
	c := serverCapture().fdList(server.tid, fdEntry{fd: 9, typ: scap.FDFifo, name: "pipe:[77]"})
	c.ev(1e9, server.tid, scap.PipeX, i64(0), i64(3), i64(4), i64(1234))
	c.ev(1e9+10, server.tid, scap.PipeX, i64(0), i64(5), i64(6), i64(1235))
	rw(c, 1e9+20, server.tid, true, 4, 3)
	rw(c, 1e9+30, server.tid, true, 6, 3)
	rw(c, 1e9+40, server.tid, true, 9, 3)
	recs := sysflowOf(t, c.Bytes())
	files := recordsOf[*sysflow.File](recs)
	nameless := sysflow.FOID(sha1.Sum(nil))
	if len(files) != 2 || files[0].Path != "" || files[0].OID != nameless || files[0].ResType != 'p' || files[1].Path != "pipe:[77]" {
		t.Fatalf("files %+v, want the nameless pipe and pipe:[77]", files)
	}
	ffs := recordsOf[*sysflow.FileFlow](recs)
	if len(ffs) != 3 || ffs[0].FileOID != nameless || ffs[1].FileOID != nameless || ffs[0].FD != 4 || ffs[1].FD != 6 {
		t.Errorf("file flows %+v", ffs)
	}
}
