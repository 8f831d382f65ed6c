//go:build linux

package bpf

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"github.com/sfstream/sfstream/internal/raw"
)

// countOf reads records for d and returns how many the process tgid made from boot time since
// on (sys and socket records, and the others), and the Start of its records' headers.
func countOf(t *testing.T, p *Probe, tgid uint32, since uint64, d time.Duration) (syscalls, other int, start uint64) {
	t.Helper()
	var rec ringbuf.Record
	var r Record
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		p.SetDeadline(time.Now().Add(PollInterval))
		err := p.ReadInto(&rec)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := Decode(rec.RawSample, &r); err != nil || r.Header.Tgid != tgid || r.Header.Ts < since {
			continue
		}
		start = r.Header.Start
		if Kind(r.Header.Kind) == KindProc || raw.Op(r.Header.Op) == raw.OpExit {
			other++
		} else {
			syscalls++
		}
	}
	return syscalls, other, start
}

// TestFilterProcess checks that a filtered process's syscalls stay in the kernel, that its
// last exit still comes, and that UnfilterProcess brings its syscalls back. It logs the events
// per second of a busy process that reach the ring buffer's reader either way.
func TestFilterProcess(t *testing.T) {
	requireRoot(t)
	p, err := Open(Config{RingBufferBytes: 8 << 20, FilterProcesses: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// A busy process: two syscalls per byte.
	busy := exec.Command("dd", "if=/dev/zero", "of=/dev/null", "bs=1")
	if err := busy.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = busy.Process.Kill(); _ = busy.Wait() }()
	tgid := uint32(busy.Process.Pid)

	const window = time.Second
	sc0 := syscallsOf(t, tgid)
	before, _, start := countOf(t, p, tgid, 0, window)
	sc1 := syscallsOf(t, tgid)
	if before == 0 || start == 0 {
		t.Fatalf("the busy process made %d records, start %d", before, start)
	}
	if err := p.FilterProcess(tgid, start); err != nil {
		t.Fatal(err)
	}
	sc2 := syscallsOf(t, tgid)
	filtered, _, _ := countOf(t, p, tgid, bootNS(t), window) // not what the ring held from before
	sc3 := syscallsOf(t, tgid)
	if err := p.UnfilterProcess(tgid); err != nil {
		t.Fatal(err)
	}
	after, _, _ := countOf(t, p, tgid, bootNS(t), window)
	t.Logf("events/s of a busy process reaching user space: %d captured, %d filtered in the kernel, %d after unfilter; "+
		"its own syscalls/s: %d captured, %d filtered", before, filtered, after, sc1-sc0, sc3-sc2)
	if filtered != 0 {
		t.Errorf("%d syscall records of a filtered process", filtered)
	}
	if after == 0 {
		t.Error("no records after UnfilterProcess")
	}
	if err := p.UnfilterProcess(tgid); err != nil {
		t.Errorf("unfilter twice: %v", err)
	}

	// A filtered process's last exit still comes.
	if err := p.FilterProcess(tgid, start); err != nil {
		t.Fatal(err)
	}
	if err := busy.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, other, _ := countOf(t, p, tgid, bootNS(t), 300*time.Millisecond); other != 1 {
		t.Errorf("%d exit records of a filtered process, want its last exit only", other)
	}
}

// bootNS is the kernel's boot time clock, the records' Ts.
func bootNS(t *testing.T) uint64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		t.Fatal(err)
	}
	return uint64(ts.Nano())
}

// syscallsOf returns the read and write syscalls process pid made so far (/proc/pid/io).
func syscallsOf(t *testing.T, pid uint32) int {
	b, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/io")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "syscr: "); ok {
			k, _ := strconv.Atoi(v)
			n += k
		} else if v, ok := strings.CutPrefix(l, "syscw: "); ok {
			k, _ := strconv.Atoi(v)
			n += k
		}
	}
	return n
}
