// Package archivetest is what the archiver's tests (and sfprint's) share: a synthetic
// workload that spans two hours with process trees, exec and setuid (entity versions),
// containers, file events and stragglers (records that arrive after their hour closed); the
// steps that turn it into sysflow.events on a test stack (produce raw, run a processor); and
// a checker of archived objects that verifies the archive's invariants and returns the events
// it holds.
//
// Metrics: none.
package archivetest

import (
	"fmt"
	"sort"
	"time"

	"github.com/sfstream/sfstream/internal/raw"
)

const ms = int64(time.Millisecond)

// Boundary is the hour boundary the default workload straddles (2023-11-14T23:00:00Z).
const Boundary = int64(1_700_002_800) * int64(time.Second)

// Workload describes synthetic raw input.
type Workload struct {
	// Exporters are the exporter ids; each runs the same process tree.
	Exporters []string
	// Sessions is the number of child processes per exporter, started at regular intervals
	// from Start over Span.
	Sessions int
	// Start and Span place the sessions (ns since the epoch).
	Start, Span int64
	// Stragglers is the number of extra sessions per exporter whose events fall in the first
	// hour but are produced after everything else: late records.
	Stragglers int
}

// Default returns two exporters and 2×120 sessions from 30 minutes before Boundary to 50
// minutes after it, and 3 stragglers per exporter.
func Default() Workload {
	return Workload{
		Exporters:  []string{"node-a", "node-b"},
		Sessions:   120,
		Start:      Boundary - 30*int64(time.Minute),
		Span:       80 * int64(time.Minute),
		Stragglers: 3,
	}
}

// stamped is a batch with the time it is produced at.
type stamped struct {
	b  *raw.Batch
	at int64
	n  int // generation order, to keep a process's batches in order
}

// Batches returns the raw batches in the order a producer sends them: by time, stragglers last.
func (w Workload) Batches() []*raw.Batch {
	var all []stamped
	add := func(at int64, b *raw.Batch) { all = append(all, stamped{b: b, at: at, n: len(all)}) }
	var late []*raw.Batch
	for xi, exp := range w.Exporters {
		initCTS := w.Start - 3600*int64(time.Second) + int64(xi)
		shellCTS := w.Start - 600*int64(time.Second) + int64(xi)
		container := &raw.Container{ID: fmt.Sprintf("c0ffee%06d", xi), Name: "app", Image: "alpine:3.20", ImageID: "sha256:1234", Runtime: 0}
		add(w.Start-10*int64(time.Second), &raw.Batch{Exporter: exp, HPID: 1, CreateTS: initCTS, Events: []raw.Event{
			snapshot(w.Start-10*int64(time.Second), 1, &raw.Proc{PPID: 0, Exe: "/sbin/init", Comm: "init", Cwd: "/", UID: 0, GID: 0, UserName: "root", GroupName: "root", VPID: 1}),
		}})
		add(w.Start-9*int64(time.Second), &raw.Batch{Exporter: exp, HPID: 100, CreateTS: shellCTS, Events: []raw.Event{
			snapshot(w.Start-9*int64(time.Second), 100, &raw.Proc{PPID: 1, PCreateTS: initCTS, Exe: "/bin/bash", Comm: "bash", Cwd: "/root", UID: 0, GID: 0, UserName: "root", GroupName: "root", VPID: 100}),
		}})
		// Halfway, the shell changes user: a MODIFIED version of an ancestor.
		mid := w.Start + w.Span/2 + 7*ms
		su := raw.NewEvent(raw.OpSetuid, mid, 100)
		su.UID, su.Path = 1000, "user"
		su.Proc = &raw.Proc{PPID: 1, PCreateTS: initCTS, Exe: "/bin/bash", Comm: "bash", Cwd: "/root", UID: 1000, GID: 0, UserName: "user", GroupName: "root", VPID: 100}
		add(mid, &raw.Batch{Exporter: exp, HPID: 100, CreateTS: shellCTS, Events: []raw.Event{su}})

		session := func(i int, ts int64, hpid int64, emit func(at int64, b *raw.Batch)) {
			var c *raw.Container
			if i%4 == 0 {
				c = container
			}
			clone := raw.NewEvent(raw.OpClone, ts, 100)
			clone.Ret, clone.Flags = hpid, 0x11
			emit(ts, &raw.Batch{Exporter: exp, HPID: 100, CreateTS: shellCTS, Events: []raw.Event{clone}})
			child := raw.NewEvent(raw.OpClone, ts, hpid)
			child.Ret, child.Flags = 0, 0x11
			child.Proc = &raw.Proc{PPID: 100, PCreateTS: shellCTS, Exe: "/bin/bash", Comm: "bash", Cwd: "/srv", UID: 1000, GID: 1000, UserName: "u", GroupName: "u", VPID: hpid, Container: c}
			exec := raw.NewEvent(raw.OpExec, ts+1*ms, hpid)
			exec.Path = "/usr/bin/worker"
			exec.Proc = &raw.Proc{PPID: 100, PCreateTS: shellCTS, Exe: "/usr/bin/worker", Args: []string{"--job", fmt.Sprint(i)}, Comm: "worker", Cwd: "/srv", UID: 1000, GID: 1000, UserName: "u", GroupName: "u", VPID: hpid, Container: c}
			open := raw.NewEvent(raw.OpOpen, ts+2*ms, hpid)
			open.Path, open.Flags, open.Mode, open.Ret = fmt.Sprintf("/data/f%d", i%5), 0o101, 0o644, 3
			write := raw.NewEvent(raw.OpWrite, ts+3*ms, hpid)
			write.FD, write.Ret = 3, 100+int64(i)
			closeF := raw.NewEvent(raw.OpClose, ts+4*ms, hpid)
			closeF.FD = 3
			emit(ts, &raw.Batch{Exporter: exp, HPID: hpid, CreateTS: ts, Events: []raw.Event{child, exec, open, write, closeF}})
			evs := []raw.Event{}
			if i%3 == 0 {
				mv := raw.NewEvent(raw.OpRename, ts+5*ms, hpid)
				mv.Path, mv.Path2 = fmt.Sprintf("/data/tmp%d", i), fmt.Sprintf("/data/out%d", i)
				evs = append(evs, mv)
			}
			conn := raw.NewEvent(raw.OpConnect, ts+6*ms, hpid)
			conn.FD = 4
			conn.Sock = &raw.Sock{Family: raw.AFInet, Proto: raw.ProtoTCP, LAddr: []byte{10, 0, 0, byte(1 + xi)}, LPort: 40000 + int32(i), RAddr: []byte{10, 0, 1, 1}, RPort: 443}
			send := raw.NewEvent(raw.OpWrite, ts+7*ms, hpid)
			send.FD, send.Ret = 4, 512
			closeS := raw.NewEvent(raw.OpClose, ts+8*ms, hpid)
			closeS.FD = 4
			exit := raw.NewEvent(raw.OpExit, ts+9*ms, hpid)
			evs = append(evs, conn, send, closeS, exit)
			emit(ts+5*ms, &raw.Batch{Exporter: exp, HPID: hpid, CreateTS: ts, Events: evs})
		}
		for i := range w.Sessions {
			ts := w.Start + int64(i)*w.Span/int64(max(w.Sessions, 1)) + int64(xi)*ms/10
			session(i, ts, int64(1000+i), add)
		}
		for j := range w.Stragglers {
			ts := w.Start + 10*int64(time.Minute) + int64(j)*int64(time.Minute) + int64(xi)
			session(w.Sessions+j, ts, int64(50000+j), func(_ int64, b *raw.Batch) { late = append(late, b) })
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].at != all[j].at {
			return all[i].at < all[j].at
		}
		return all[i].n < all[j].n
	})
	out := make([]*raw.Batch, 0, len(all)+len(late))
	for _, s := range all {
		out = append(out, s.b)
	}
	return append(out, late...)
}

func snapshot(ts, hpid int64, p *raw.Proc) raw.Event {
	e := raw.NewEvent(raw.OpSnapshot, ts, hpid)
	e.Proc = p
	return e
}
