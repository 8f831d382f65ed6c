// Package synthetic generates synthetic raw syscall batches (schemas/raw.avsc), exactly as a
// producer sends them: one process per batch, events in order, snapshot first. It is the
// load generator's source and the tests' workload.
package synthetic

import (
	"fmt"

	"github.com/sfstream/sfstream/internal/raw"
)

// Simple returns raw batches for n processes: each is snapshotted, opens, writes and closes
// five files (one batch per file), connects a TCP socket and writes to it, then exits. The
// timestamps start at t0 (ns since the epoch) and stay within a second.
func Simple(exporter string, n int, t0 int64) []*raw.Batch {
	var out []*raw.Batch
	for i := 0; i < n; i++ {
		hpid := int64(1000 + i)
		cts := t0 + int64(i)
		b := func(evs ...raw.Event) {
			out = append(out, &raw.Batch{Exporter: exporter, HPID: hpid, CreateTS: cts, Events: evs})
		}
		ev := func(op raw.Op, dt int64, mod func(*raw.Event)) raw.Event {
			e := raw.NewEvent(op, t0+dt*1000+int64(i), hpid)
			if mod != nil {
				mod(&e)
			}
			return e
		}
		b(ev(raw.OpSnapshot, 0, func(e *raw.Event) {
			e.Proc = &raw.Proc{PPID: 1, Exe: "/bin/app", Comm: "app", Cwd: "/", UID: 0, GID: 0, UserName: "root", GroupName: "root"}
		}))
		for j := int64(0); j < 5; j++ {
			b(
				ev(raw.OpOpen, 10+j*10, func(e *raw.Event) { e.Path = fmt.Sprintf("/tmp/f%d", j); e.Flags = 0o101; e.Ret = 3 }),
				ev(raw.OpWrite, 11+j*10, func(e *raw.Event) { e.FD = 3; e.Ret = 100 + j }),
				ev(raw.OpClose, 12+j*10, func(e *raw.Event) { e.FD = 3 }),
			)
		}
		b(ev(raw.OpConnect, 100, func(e *raw.Event) {
			e.FD = 5
			e.Sock = &raw.Sock{Family: raw.AFInet, Proto: raw.ProtoTCP, LAddr: []byte{10, 0, 0, 1}, LPort: 40000 + int32(i%20000), RAddr: []byte{10, 0, 0, 2}, RPort: 80}
		}), ev(raw.OpWrite, 101, func(e *raw.Event) { e.FD = 5; e.Ret = 10 }))
		b(ev(raw.OpExit, 200, nil))
	}
	return out
}
