//go:build linux

package bpf

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
)

// DefaultRingBufferBytes is the ring buffer size used when Config leaves it 0.
const DefaultRingBufferBytes = 16 << 20

// Config says how to load the programs. The zero value is valid.
type Config struct {
	// RingBufferBytes is the size of the kernel ring buffer: a power of two, at least one page.
	// Default DefaultRingBufferBytes.
	RingBufferBytes int
	// SelfTGID is a process never captured. Default: this process.
	SelfTGID uint32
	// ExcludePIDs are host tgids not captured (a local broker, say).
	ExcludePIDs []uint32
	// ExcludeComms are task names (at most 15 bytes) not captured.
	ExcludeComms []string
	// FilterProcesses makes the programs consult the processes given to FilterProcess. Off,
	// FilterProcess still records them but the programs do not look (no cost per syscall).
	FilterProcesses bool
}

// wakeupBytes is how much data waits in the ring before the reader is woken: a 64th of the
// ring. Below it the reader finds records by polling (see ReadInto).
func (c Config) wakeupBytes() int {
	n := c.RingBufferBytes
	if n == 0 {
		n = DefaultRingBufferBytes
	}
	return n / 64
}

// PollInterval is the deadline a waiting reader should use (see ReadInto).
const PollInterval = 10 * time.Millisecond

// Validate reports a configuration that cannot be loaded.
func (c Config) Validate() error {
	if n := c.RingBufferBytes; n != 0 && (n < os.Getpagesize() || n&(n-1) != 0) {
		return fmt.Errorf("ring buffer size %d: not a power of two of at least a page", n)
	}
	for _, comm := range c.ExcludeComms {
		if comm == "" || len(comm) >= commLen {
			return fmt.Errorf("excluded comm %q: want 1 to %d bytes", comm, commLen-1)
		}
	}
	if len(c.ExcludePIDs) > maxExcludedPIDs || len(c.ExcludeComms) > maxExcludedComms {
		return fmt.Errorf("exclusion lists: at most %d pids and %d comms", maxExcludedPIDs, maxExcludedComms)
	}
	return nil
}

const (
	commLen          = 16
	maxExcludedPIDs  = 1024
	maxExcludedComms = 256
)

// Probe is the loaded and attached capture: it owns the programs, maps, links and the ring
// buffer reader. Read may be called from one goroutine while others call the accessors; Close
// interrupts a blocked Read.
type Probe struct {
	objs   captureObjects
	links  []link.Link
	reader *ringbuf.Reader
}

// Open loads the programs, applies cfg, attaches them and opens the ring buffer. Records flow
// from the moment Open returns.
func Open(cfg Config) (*Probe, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("open capture: %w", err)
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("open capture: remove memlock limit: %w", err)
	}
	spec, err := loadCapture()
	if err != nil {
		return nil, fmt.Errorf("open capture: load spec: %w", err)
	}
	size := cfg.RingBufferBytes
	if size == 0 {
		size = DefaultRingBufferBytes
	}
	spec.Maps["events"].MaxEntries = uint32(size)

	p := &Probe{}
	if err := spec.LoadAndAssign(&p.objs, nil); err != nil {
		var verr *ebpf.VerifierError
		if errors.As(err, &verr) {
			return nil, fmt.Errorf("open capture: load objects: %+v", verr)
		}
		return nil, fmt.Errorf("open capture: load objects: %w", err)
	}
	if err := p.configure(cfg); err != nil {
		return nil, errors.Join(fmt.Errorf("open capture: %w", err), p.Close())
	}
	// The reader exists before the programs are attached, so no record is made before
	// somebody can drain it.
	if p.reader, err = ringbuf.NewReader(p.objs.Events); err != nil {
		return nil, errors.Join(fmt.Errorf("open capture: ring buffer reader: %w", err), p.Close())
	}
	attach := []struct {
		name string
		prog *ebpf.Program
	}{
		{"sched_process_exec", p.objs.SfExec},
		{"sched_process_exit", p.objs.SfExit},
		{"sys_exit", p.objs.SfSysExit},
	}
	for _, a := range attach {
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: a.name, Program: a.prog})
		if err != nil {
			return nil, errors.Join(fmt.Errorf("open capture: attach %s: %w", a.name, err), p.Close())
		}
		p.links = append(p.links, l)
	}
	return p, nil
}

func (p *Probe) configure(cfg Config) error {
	settings := captureSfConfig{SelfTgid: cfg.SelfTGID, WakeupBytes: uint32(cfg.wakeupBytes())}
	if settings.SelfTgid == 0 {
		settings.SelfTgid = uint32(os.Getpid())
	}
	for _, pid := range cfg.ExcludePIDs {
		if err := p.objs.ExcludedPids.Put(pid, uint8(1)); err != nil {
			return fmt.Errorf("exclude pid %d: %w", pid, err)
		}
		settings.FilterPids = 1
	}
	for _, comm := range cfg.ExcludeComms {
		if err := p.objs.ExcludedComms.Put(commKey(comm), uint8(1)); err != nil {
			return fmt.Errorf("exclude comm %q: %w", comm, err)
		}
		settings.FilterComms = 1
	}
	if cfg.FilterProcesses {
		settings.FilterTgids = 1
	}
	if err := p.objs.Settings.Put(uint32(0), settings); err != nil {
		return fmt.Errorf("write settings: %w", err)
	}
	return nil
}

func commKey(comm string) captureSfComm {
	var k captureSfComm
	for i := 0; i < len(comm) && i < commLen-1; i++ {
		k.Comm[i] = int8(comm[i])
	}
	return k
}

// ReadInto reads the next record into rec, reusing rec.RawSample's storage when it is large
// enough. It blocks until a record is available or the deadline set with SetDeadline passes
// (then it returns os.ErrDeadlineExceeded); it returns an error wrapping os.ErrClosed after Close
// and ringbuf.ErrFlushed after Flush once the records present at the flush are read.
//
// The kernel wakes a blocked reader only once a 64th of the ring is filled (waking it for every
// record would cost the traced tasks microseconds per syscall), so a reader that waits should
// set a deadline of about PollInterval to see the records of a quiet system promptly.
func (p *Probe) ReadInto(rec *ringbuf.Record) error {
	return p.reader.ReadInto(rec)
}

// SetDeadline bounds how long ReadInto blocks; the zero time removes the bound.
func (p *Probe) SetDeadline(t time.Time) { p.reader.SetDeadline(t) }

// Flush makes a blocked ReadInto return the records present, then ringbuf.ErrFlushed.
func (p *Probe) Flush() error {
	if err := p.reader.Flush(); err != nil {
		return fmt.Errorf("flush ring buffer: %w", err)
	}
	return nil
}

// RingBufferBytes is the size of the kernel ring buffer.
func (p *Probe) RingBufferBytes() int { return p.reader.BufferSize() }

// Lost returns the records the kernel could not reserve since Open, per CPU.
func (p *Probe) Lost() ([]uint64, error) {
	var perCPU []uint64
	if err := p.objs.Lost.Lookup(uint32(0), &perCPU); err != nil {
		return nil, fmt.Errorf("read lost counters: %w", err)
	}
	return perCPU, nil
}

// DrainLostByProcess calls fn for every process that lost records since the last call, with the
// count, and forgets them. The table is best effort (least recently used entries are evicted
// under pressure); Lost is exact.
func (p *Probe) DrainLostByProcess(fn func(tgid uint32, start uint64, n uint64)) error {
	var (
		key  captureSfLostKey
		keys []captureSfLostKey
		n    uint64
	)
	it := p.objs.LostByProc.Iterate()
	for it.Next(&key, &n) {
		keys = append(keys, key)
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("iterate lost by process: %w", err)
	}
	for _, k := range keys {
		// Lookup and delete together so that increments between the two are not lost.
		if err := p.objs.LostByProc.LookupAndDelete(k, &n); err != nil {
			if errors.Is(err, ebpf.ErrKeyNotExist) {
				continue
			}
			return fmt.Errorf("drain lost by process: %w", err)
		}
		fn(k.Tgid, k.Start, n)
	}
	return nil
}

// ExcludePID stops capturing a host tgid from now on.
func (p *Probe) ExcludePID(pid uint32) error {
	if err := p.objs.ExcludedPids.Put(pid, uint8(1)); err != nil {
		return fmt.Errorf("exclude pid %d: %w", pid, err)
	}
	var settings captureSfConfig
	if err := p.objs.Settings.Lookup(uint32(0), &settings); err != nil {
		return fmt.Errorf("exclude pid %d: read settings: %w", pid, err)
	}
	settings.FilterPids = 1
	if err := p.objs.Settings.Put(uint32(0), settings); err != nil {
		return fmt.Errorf("exclude pid %d: write settings: %w", pid, err)
	}
	return nil
}

// FilterProcess stops recording process tgid, whose start is the Start of its records'
// headers, from now on (if Config.FilterProcesses was set): its syscalls and the exits of its
// threads are no longer recorded; its execs and its last exit (FlagGroupDead) still are, so
// that the caller can judge a new image and call UnfilterProcess. A reused tgid is recorded
// again, the start times differing. It fails when the kernel's table (65536 processes) is full.
func (p *Probe) FilterProcess(tgid uint32, start uint64) error {
	if err := p.objs.FilteredTgids.Put(tgid, start); err != nil {
		return fmt.Errorf("filter process %d: %w", tgid, err)
	}
	return nil
}

// UnfilterProcess records process tgid again; a tgid that was not filtered is no error.
func (p *Probe) UnfilterProcess(tgid uint32) error {
	if err := p.objs.FilteredTgids.Delete(tgid); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("unfilter process %d: %w", tgid, err)
	}
	return nil
}

// Close detaches the programs, closes the reader (interrupting ReadInto) and frees the maps.
func (p *Probe) Close() error {
	var errs []error
	for _, l := range p.links {
		if err := l.Close(); err != nil {
			errs = append(errs, fmt.Errorf("detach: %w", err))
		}
	}
	p.links = nil
	if p.reader != nil {
		if err := p.reader.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close ring buffer reader: %w", err))
		}
	}
	if err := p.objs.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close objects: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close capture: %w", err)
	}
	return nil
}
