package procfs

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// TickNs is the length of a /proc clock tick (USER_HZ is 100 on every Linux architecture
// sfstream ships) in ns.
const TickNs = 10_000_000

// Clock turns the kernel's boot-based times into ns since the epoch. One Clock is made at start
// and used for every event of a node, so all events share one clock.
//
// Process identity rule (createTS, the second half of the OID):
//
//	createTS = BootEpoch + floor(start_boottime / TickNs) * TickNs
//
// where start_boottime is the thread-group leader's start time in ns since boot. eBPF reads it
// in ns and /proc/<pid>/stat gives it in ticks (starttime = floor(start_boottime / TickNs)), so
// both paths give the same createTS for the same process. BootEpoch comes from /proc/stat's
// btime (whole seconds): unlike a measured offset it does not jitter, so a producer that
// restarts keeps every OID. createTS may therefore lie up to 1 s before the real start.
//
// Event timestamps use Offset instead, the precise realtime − boottime difference measured once
// when the Clock is made.
type Clock struct {
	// BootEpoch is the boot time in ns since the epoch, whole seconds (btime).
	BootEpoch int64
	// Offset is CLOCK_REALTIME − CLOCK_BOOTTIME in ns.
	Offset int64
}

// NewClock reads btime from procRoot/stat and measures the realtime − boottime offset.
func NewClock(procRoot string) (Clock, error) {
	f, err := os.Open(filepath.Join(procRoot, "stat"))
	if err != nil {
		return Clock{}, fmt.Errorf("read boot time: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only
	btime, err := parseBtime(f)
	if err != nil {
		return Clock{}, fmt.Errorf("read boot time: %w", err)
	}
	off, err := measureOffset()
	if err != nil {
		return Clock{}, fmt.Errorf("measure clock offset: %w", err)
	}
	return Clock{BootEpoch: btime * 1e9, Offset: off}, nil
}

func parseBtime(f io.Reader) (int64, error) {
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "btime "); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no btime line")
}

// measureOffset samples realtime, boottime, realtime a few times and keeps the tightest pair.
func measureOffset() (int64, error) {
	best, bestWidth := int64(0), int64(-1)
	for range 8 {
		var r1, b, r2 unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_REALTIME, &r1); err != nil {
			return 0, err
		}
		if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &b); err != nil {
			return 0, err
		}
		if err := unix.ClockGettime(unix.CLOCK_REALTIME, &r2); err != nil {
			return 0, err
		}
		width := r2.Nano() - r1.Nano()
		if bestWidth < 0 || width < bestWidth {
			bestWidth = width
			best = r1.Nano() + width/2 - b.Nano()
		}
	}
	return best, nil
}

// EventTS converts a CLOCK_BOOTTIME ns value to ns since the epoch.
func (c Clock) EventTS(bootNs uint64) int64 { return c.Offset + int64(bootNs) }

// CreateTS returns the createTS of a process whose leader started startBootNs ns after boot.
func (c Clock) CreateTS(startBootNs uint64) int64 {
	return c.BootEpoch + int64(startBootNs/TickNs)*TickNs
}

// CreateTSFromTicks returns the createTS of a process whose /proc starttime is ticks.
func (c Clock) CreateTSFromTicks(ticks uint64) int64 {
	return c.BootEpoch + int64(ticks)*TickNs
}
