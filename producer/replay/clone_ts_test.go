package replay

import (
	"testing"

	"github.com/sfstream/sfstream/producer/replay/scap"
	"github.com/sfstream/sfstream/sysflow"
)

// The createTS of a process cloned during the capture is libsinsp's m_clone_ts of its main
// thread: the ts of the clone exit that created the child's thread entry. The caller's exit
// creates it when the caller is in the host pid namespace, none of CLONE_CHILD_IN_PIDNS,
// CLONE_NEWPID and CLONE_PARENT is set and the child's own exit has not created it already;
// the child's exit creates it otherwise, or when the entry the caller made is more than 2 s
// (CLONE_STALE_TIME_NS) old. An entry the child's exit created is never replaced by the
// caller's, however late that comes.

const worker = 600

// cloneCapture writes the server forking worker with the two clone exits in the given order
// (each a ts and the flags both sides carry), then an execve of the worker at 9 s.
func cloneCapture(typ scap.EventType, flags uint32, callerTS, childTS uint64, callerVTID int64) []byte {
	c := serverCapture()
	caller := func() {
		res := int64(worker)
		if callerVTID != server.tid {
			res = 7 // the child's id in the caller's pid namespace
		}
		c.ev(callerTS, server.tid, typ, cloneX(res, server.tid, server.pid, server.ptid, flags, 0, 0, callerVTID, callerVTID)...)
	}
	child := func() {
		vtid := int64(worker)
		if callerVTID != server.tid {
			vtid = 7
		}
		c.ev(childTS, worker, typ, cloneX(0, worker, worker, server.tid, flags, 0, 0, vtid, vtid)...)
	}
	if callerTS <= childTS {
		caller()
		child()
	} else {
		child()
		caller()
	}
	c.ev(9e9, worker, scap.Execve19E, str("/bin/true"))
	c.ev(9e9+1, worker, scap.Execve19X, i64(0), str("true"), []byte{}, i64(worker), i64(worker), i64(server.tid))
	return c.Bytes()
}

func wantWorkerCreateTS(t *testing.T, data []byte, want int64) {
	t.Helper()
	recs := sysflowOf(t, data)
	oid := childOID(t, recs, worker)
	if oid.CreateTS != want {
		t.Errorf("worker createTS %d, want %d", oid.CreateTS, want)
	}
	if ex := events(recs, worker, int32(sysflow.OpExec)); len(ex) != 1 || ex[0].ProcOID != oid {
		t.Errorf("the worker's exec %+v does not carry its OID %+v", ex, oid)
	}
	if cl := events(recs, worker, int32(sysflow.OpClone)); len(cl) != 1 || cl[0].Ret != 0 {
		t.Errorf("the worker's own CLONE event: %+v", cl)
	}
}

func TestChildCreateTSIsParentCloneExitWhenParentReturnsFirst(t *testing.T) {
	wantWorkerCreateTS(t, cloneCapture(scap.Clone20X, 0, 1e9, 1e9+200_000, server.tid), 1e9)
}

func TestChildCreateTSIsChildCloneExitWhenChildReturnsFirst(t *testing.T) {
	wantWorkerCreateTS(t, cloneCapture(scap.Clone20X, 0, 1e9+200_000, 1e9, server.tid), 1e9)
}

func TestChildCreateTSIsChildCloneExitWhenCallerIsInPidNamespace(t *testing.T) {
	// A containerised server: the caller's vtid is not its host tid and the driver sets
	// CHILD_IN_PIDNS; the caller's exit does not know the child's host tid.
	wantWorkerCreateTS(t, cloneCapture(scap.Clone20X, ppmCLChildInPidNS, 1e9, 1e9+200_000, 1), 1e9+200_000)
	// An old driver without the flag: the caller's vtid alone decides.
	wantWorkerCreateTS(t, cloneCapture(scap.Clone20X, 0, 1e9, 1e9+200_000, 1), 1e9+200_000)
}

func TestChildCreateTSIsChildCloneExitForNewPidNamespace(t *testing.T) {
	wantWorkerCreateTS(t, cloneCapture(scap.Clone20X, ppmCLNewPID, 1e9, 1e9+200_000, server.tid), 1e9+200_000)
}

func TestChildCreateTSIsChildCloneExitWithCloneParent(t *testing.T) {
	wantWorkerCreateTS(t, cloneCapture(scap.Clone20X, ppmCLParent, 1e9, 1e9+200_000, server.tid), 1e9+200_000)
}

func TestChildCreateTSOfVforkFollowsTheSameOrderRule(t *testing.T) {
	// vfork suspends the caller until the child execs or exits: the child returns first.
	wantWorkerCreateTS(t, cloneCapture(scap.Vfork20X, 0, 1e9+200_000, 1e9, server.tid), 1e9)
	wantWorkerCreateTS(t, cloneCapture(scap.Vfork20X, 0, 1e9, 1e9+200_000, server.tid), 1e9)
}

func TestChildCreateTSIsParentCloneExitUpToTwoSecondsBeforeTheChildReturns(t *testing.T) {
	wantWorkerCreateTS(t, cloneCapture(scap.Clone20X, 0, 1e9, 2e9+900_000_000, server.tid), 1e9)
}

func TestChildCreateTSIsChildCloneExitWhenParentEntryIsStale(t *testing.T) {
	wantWorkerCreateTS(t, cloneCapture(scap.Clone20X, 0, 1e9, 3e9+1, server.tid), 3e9+1)
}

func TestChildCreateTSKeepsChildCloneExitWhenParentReturnsLate(t *testing.T) {
	wantWorkerCreateTS(t, cloneCapture(scap.Clone20X, 0, 5e9, 1e9, server.tid), 1e9)
}

// In a server forking many workers both orders interleave: each worker gets the clock of
// the exit that came first, whatever the other workers did.
func TestChildCreateTSPerWorkerWhenOrdersInterleave(t *testing.T) {
	c := serverCapture()
	type fork struct {
		child           int64
		callerTS, kidTS uint64
	}
	forks := []fork{{601, 1_000_000_000, 1_000_200_000}, {602, 1_000_300_000, 1_000_250_000}, {603, 1_000_500_000, 1_000_400_000}, {604, 1_000_600_000, 1_000_800_000}}
	// Events in ts order, as a capture holds them.
	type ev struct {
		ts     uint64
		caller bool
		child  int64
	}
	var evs []ev
	for _, f := range forks {
		evs = append(evs, ev{f.callerTS, true, f.child}, ev{f.kidTS, false, f.child})
	}
	for i := range evs {
		for j := i + 1; j < len(evs); j++ {
			if evs[j].ts < evs[i].ts {
				evs[i], evs[j] = evs[j], evs[i]
			}
		}
	}
	for _, e := range evs {
		if e.caller {
			c.ev(e.ts, server.tid, scap.Clone20X, cloneX(e.child, server.tid, server.pid, server.ptid, 0, 0, 0, server.tid, server.pid)...)
		} else {
			c.ev(e.ts, e.child, scap.Clone20X, cloneX(0, e.child, e.child, server.tid, 0, 0, 0, e.child, e.child)...)
		}
	}
	recs := sysflowOf(t, c.Bytes())
	for _, f := range forks {
		want := int64(min(f.callerTS, f.kidTS))
		if got := childOID(t, recs, f.child).CreateTS; got != want {
			t.Errorf("worker %d createTS %d, want %d", f.child, got, want)
		}
	}
}
