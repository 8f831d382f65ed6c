package replay

import (
	"testing"

	"github.com/sfstream/sfstream/producer/replay/scap"
	"github.com/sfstream/sfstream/sysflow"
)

// uid, gid and their names are sinsp's current credentials of the process: setuid/setresuid
// (the effective uid, from the enter event) and setgid/setresgid (the effective gid) change
// them when they succeed; a clone child takes the credentials its clone exit carries (the
// caller's at that moment, not the process list's); an exec keeps them unless its exit
// reports new ones. Names come from the capture's user and group tables.

func credsCapture() *capBuilder {
	app := plEntry{tid: 500, pid: 500, ptid: 1, comm: "sudo", exe: "sudo", exepath: "/usr/bin/sudo", args: "id\x00", cwd: "/", uid: 0, gid: 0}
	return newCapture().userList(map[uint32]string{0: "root", 1000: "app"}, map[uint32]string{0: "root", 1000: "staff"}).
		procList(plEntry{tid: 1, pid: 1, comm: "init", exe: "/sbin/init", exepath: "/sbin/init", cwd: "/"}, app)
}

func TestSetresgidChangesTheGroupOfLaterProcessRecords(t *testing.T) {
	c := credsCapture()
	c.ev(1e9, 500, scap.SetresgidE, u32(0xFFFFFFFF), u32(1000), u32(0xFFFFFFFF)).ev(1e9+1, 500, scap.SetresgidX, i64(0))
	c.ev(1e9+10, 500, scap.OpenX, i64(3), str("/etc/passwd"), u32(ppmORDONLY), u32(0))
	recs := sysflowOf(t, c.Bytes())
	ps := processes(recs, 500)
	last := ps[len(ps)-1]
	if last.State != sysflow.StateReup || last.TS != 1e9+10 || last.GID != 1000 || last.GroupName != "staff" || last.UID != 0 || last.UserName != "root" {
		t.Errorf("process at its first record %+v, want gid 1000 staff", last)
	}
}

func TestFailedSetgidKeepsTheGroup(t *testing.T) {
	c := credsCapture()
	c.ev(1e9, 500, scap.SetgidE, u32(1000)).ev(1e9+1, 500, scap.SetgidX, i64(-1))
	c.ev(1e9+10, 500, scap.OpenX, i64(3), str("/etc/passwd"), u32(ppmORDONLY), u32(0))
	ps := processes(sysflowOf(t, c.Bytes()), 500)
	if last := ps[len(ps)-1]; last.GID != 0 || last.GroupName != "root" {
		t.Errorf("process %+v, want gid 0", last)
	}
}

func TestCloneChildInheritsCredentialsAfterSetuid(t *testing.T) {
	c := credsCapture()
	c.ev(1e9, 500, scap.SetgidE, u32(1000)).ev(1e9+1, 500, scap.SetgidX, i64(0))
	c.ev(1e9+2, 500, scap.SetresuidE, u32(1000), u32(1000), u32(1000)).ev(1e9+3, 500, scap.SetresuidX, i64(0))
	// The caller returns first (its exit creates the child, with the uid/gid it carries),
	// then the child; a second child returns before its caller.
	c.ev(2e9, 500, scap.Clone20X, cloneX(600, 500, 500, 1, 0, 1000, 1000, 500, 500)...)
	c.ev(2e9+100, 600, scap.Clone20X, cloneX(0, 600, 600, 500, 0, 1000, 1000, 600, 600)...)
	c.ev(3e9, 601, scap.Clone20X, cloneX(0, 601, 601, 500, 0, 1000, 1000, 601, 601)...)
	c.ev(3e9+100, 500, scap.Clone20X, cloneX(601, 500, 500, 1, 0, 1000, 1000, 500, 500)...)
	// The first child execs: an exec exit without a uid keeps the process's.
	c.ev(4e9, 600, scap.Execve19E, str("/usr/bin/id")).ev(4e9+1, 600, scap.Execve19X, i64(0), str("id"), []byte{}, i64(600), i64(600), i64(500))
	recs := sysflowOf(t, c.Bytes())

	ps := processes(recs, 500)
	// First met through the setresuid: REUP (SEMANTICS §3 SETUID).
	if last := ps[len(ps)-1]; last.State != sysflow.StateReup || last.UID != 1000 || last.UserName != "app" || last.GID != 1000 || last.GroupName != "staff" {
		t.Errorf("sudo after setresuid %+v", last)
	}
	for _, child := range []int64{600, 601} {
		ps := processes(recs, child)
		if len(ps) == 0 {
			t.Fatalf("no process %d", child)
		}
		for _, p := range ps {
			if p.UID != 1000 || p.UserName != "app" || p.GID != 1000 || p.GroupName != "staff" {
				t.Errorf("child %+v, want the caller's current uid/gid 1000 app/staff", p)
			}
		}
	}
	if ps := processes(recs, 600); ps[len(ps)-1].State != sysflow.StateModified || ps[len(ps)-1].Exe != "/usr/bin/id" {
		t.Errorf("child after exec %+v", ps[len(ps)-1])
	}
}
