package replay

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sfstream/sfstream/internal/raw"
)

const refDir = "../../testdata/reference"

// recorded is the output of one replay: batches in emission order and the events flattened.
type recorded struct {
	batches []raw.Batch
	events  []keyed
	stats   Stats
}

type keyed struct {
	hpid, createTS int64
	raw.Event
}

func replay(t testing.TB, file string, opts ...Option) recorded {
	t.Helper()
	s, err := Open(filepath.Join(refDir, file), append([]Option{WithExporter("tests")}, opts...)...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	var rec recorded
	err = s.Run(context.Background(), func(b raw.Batch) error {
		rec.batches = append(rec.batches, b)
		for _, e := range b.Events {
			rec.events = append(rec.events, keyed{b.HPID, b.CreateTS, e})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	rec.stats = s.Stats()
	return rec
}

func (r recorded) histogram() map[raw.Op]int {
	h := map[raw.Op]int{}
	for _, e := range r.events {
		h[e.Op]++
	}
	return h
}

func (r recorded) find(op raw.Op, match func(keyed) bool) []keyed {
	var out []keyed
	for _, e := range r.events {
		if e.Op == op && (match == nil || match(e)) {
			out = append(out, e)
		}
	}
	return out
}

func formatOps(h map[raw.Op]int) string {
	ops := make([]raw.Op, 0, len(h))
	for op := range h {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	var sb strings.Builder
	for _, op := range ops {
		fmt.Fprintf(&sb, " %s=%d", op, h[op])
	}
	return sb.String()
}

// TestReferenceCaptures replays every reference capture and checks the invariants of the
// output and the operation counts. The counts of syscall ops equal the exits in the capture
// (SCAP.md 8.1/appendix, and scap's own histogram test), minus what the raw contract drops:
// anonymous mmaps, fcntl commands other than F_DUPFD*, and reads/writes whose fd is unknown.
func TestReferenceCaptures(t *testing.T) {
	tests := []struct {
		file      string
		snapshots int
		ops       map[raw.Op]int
	}{
		{"alpine/alpine.scap", 503, map[raw.Op]int{raw.OpClone: 4, raw.OpExec: 2, raw.OpExit: 2, raw.OpOpen: 10,
			raw.OpClose: 11, raw.OpRead: 78, raw.OpWrite: 65, raw.OpDup: 3}},
		{"client-server/tcp-client-server.scap", 131, map[raw.Op]int{raw.OpExec: 2, raw.OpExit: 2, raw.OpSocket: 2,
			raw.OpConnect: 1, raw.OpAccept: 1, raw.OpOpen: 4, raw.OpClose: 4, raw.OpRead: 9, raw.OpWrite: 14}},
		{"files/files.scap", 201, map[raw.Op]int{raw.OpExec: 1, raw.OpExit: 1, raw.OpMkdir: 2, raw.OpRmdir: 2,
			raw.OpLink: 1, raw.OpSymlink: 1, raw.OpRename: 1, raw.OpUnlink: 6, raw.OpOpen: 14, raw.OpClose: 6,
			raw.OpRead: 1, raw.OpWrite: 19}},
		{"files/filesat.scap", 201, map[raw.Op]int{raw.OpExec: 1, raw.OpExit: 1, raw.OpMkdir: 2, raw.OpRmdir: 2,
			raw.OpLink: 1, raw.OpSymlink: 1, raw.OpRename: 1, raw.OpUnlink: 6, raw.OpOpen: 15, raw.OpClose: 7,
			raw.OpRead: 1, raw.OpWrite: 19}},
		{"rename/rename.scap", 356, map[raw.Op]int{raw.OpExec: 1, raw.OpExit: 1, raw.OpRename: 1, raw.OpOpen: 25,
			raw.OpClose: 28, raw.OpRead: 11}},
		{"setuid/setuid.scap", 201, map[raw.Op]int{raw.OpClone: 6, raw.OpExec: 1, raw.OpExit: 1, raw.OpSetuid: 2,
			raw.OpOpen: 2, raw.OpClose: 2, raw.OpRead: 1, raw.OpWrite: 1}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			rec := replay(t, tt.file)
			h := rec.histogram()
			t.Logf("raw ops:%s", formatOps(h))
			t.Logf("stats: %+v", rec.stats)
			if h[raw.OpEnd] != 1 {
				t.Errorf("end notices = %d, want 1", h[raw.OpEnd])
			}
			if h[raw.OpSnapshot] != tt.snapshots {
				t.Errorf("snapshots = %d, want one per process list entry (%d)", h[raw.OpSnapshot], tt.snapshots)
			}
			for op, want := range tt.ops {
				if h[op] != want {
					t.Errorf("%s events = %d, want %d", op, h[op], want)
				}
			}
			checkInvariants(t, rec, DefaultBatchSize)
		})
	}
}

// checkInvariants checks what every replay must satisfy: valid batches of one process (or
// notices), snapshots first, the end notice last and alone.
func checkInvariants(t *testing.T, rec recorded, batchSize int) {
	t.Helper()
	live := false
	for i, b := range rec.batches {
		if err := b.Validate(); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		if b.Exporter != "tests" || len(b.Events) == 0 || len(b.Events) > batchSize {
			t.Fatalf("batch %d: exporter %q, %d events", i, b.Exporter, len(b.Events))
		}
		if i > 0 {
			prev := rec.batches[i-1]
			if prev.HPID == b.HPID && prev.CreateTS == b.CreateTS && len(prev.Events) < batchSize {
				t.Fatalf("batch %d continues batch %d's process although that one was not full", i, i-1)
			}
		}
		if last := i == len(rec.batches)-1; last != b.Notices() {
			t.Fatalf("batch %d: notices %v, last batch %v", i, b.Notices(), last)
		}
		for _, e := range b.Events {
			switch {
			case e.Op == raw.OpSnapshot && live:
				t.Fatalf("snapshot after live events: %+v", e)
			case e.Op == raw.OpSnapshot:
				if e.Proc == nil || (e.TID != b.HPID && e.FDs != nil) {
					t.Fatalf("snapshot without proc, or a thread's with fds: %+v", e)
				}
			case e.Op == raw.OpEnd:
				if b.HPID != 0 || len(b.Events) != 1 || e.TS <= 0 {
					t.Fatalf("end notice %+v in batch of hpid %d with %d events", e, b.HPID, len(b.Events))
				}
			default:
				live = true
				if e.TS <= 0 || b.HPID <= 0 {
					t.Fatalf("live event without ts or process: %+v", e)
				}
			}
		}
	}
}

func TestBatchingKeepsOrder(t *testing.T) {
	one := replay(t, "alpine/alpine.scap", WithBatchSize(1))
	many := replay(t, "alpine/alpine.scap", WithBatchSize(3))
	if len(one.events) != len(many.events) || len(one.batches) != len(one.events) {
		t.Fatalf("events %d vs %d, batches of one: %d", len(one.events), len(many.events), len(one.batches))
	}
	for i := range one.events {
		a, b := one.events[i], many.events[i]
		if a.hpid != b.hpid || a.Op != b.Op || a.TS != b.TS || a.TID != b.TID || a.Ret != b.Ret {
			t.Fatalf("event %d differs: %+v vs %+v", i, a, b)
		}
	}
	checkInvariants(t, many, 3)
}

func TestMarshalRoundTrip(t *testing.T) {
	rec := replay(t, "client-server/tcp-client-server.scap")
	for i, b := range rec.batches {
		data, err := raw.Marshal(&b)
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		var back raw.Batch
		if err := raw.Unmarshal(data, &back); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		if back.HPID != b.HPID || len(back.Events) != len(b.Events) {
			t.Fatalf("batch %d: round trip changed it", i)
		}
	}
}

func addr(s string) []byte { return netip.MustParseAddr(s).AsSlice() }

func sockIs(s *raw.Sock, laddr string, lport int32, raddr string, rport int32) bool {
	return s != nil && s.Family == raw.AFInet && s.Proto == raw.ProtoTCP && slices.Equal(s.LAddr, addr(laddr)) &&
		s.LPort == lport && slices.Equal(s.RAddr, addr(raddr)) && s.RPort == rport
}
