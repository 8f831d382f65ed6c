package capture

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cilium/ebpf/ringbuf"

	"github.com/sfstream/sfstream/bpf"
)

// chunkBytes is the record storage of one chunk; the largest record is about 8.5 KiB.
const chunkBytes = 64 << 10

// chunk is a run of ring buffer records, stored back to back at 8-byte aligned offsets so they
// can be decoded in place.
type chunk struct {
	buf  []byte
	offs []uint32
	lens []uint32
}

func newChunk() *chunk {
	return &chunk{
		buf:  make([]byte, 0, chunkBytes),
		offs: make([]uint32, 0, ChunkRecords),
		lens: make([]uint32, 0, ChunkRecords),
	}
}

func (c *chunk) reset() {
	c.buf, c.offs, c.lens = c.buf[:0], c.offs[:0], c.lens[:0]
}

func (c *chunk) records() int { return len(c.offs) }

func (c *chunk) full() bool { return len(c.offs) == ChunkRecords || cap(c.buf)-len(c.buf) < 512 }

// record returns record i.
func (c *chunk) record(i int) []byte {
	off := c.offs[i]
	return c.buf[off : off+c.lens[i]]
}

// tail is the free storage the next record is read into.
func (c *chunk) tail() []byte { return c.buf[len(c.buf):cap(c.buf)] }

// commit keeps b as the next record if the reader wrote it into tail (whose capacity was
// tailCap); it reports false if the reader had to allocate because b did not fit.
func (c *chunk) commit(b []byte, tail []byte, tailCap int) bool {
	if len(b) == 0 || len(b) > tailCap || unsafe.SliceData(b) != unsafe.SliceData(tail) {
		return false
	}
	c.add(len(b))
	return true
}

// appendCopy stores a copy of b; the chunk must be empty (any record fits in an empty chunk).
func (c *chunk) appendCopy(b []byte) {
	n := copy(c.tail(), b)
	c.add(n)
}

func (c *chunk) add(n int) {
	c.offs = append(c.offs, uint32(len(c.buf)))
	c.lens = append(c.lens, uint32(n))
	aligned := (n + 7) &^ 7
	if len(c.buf)+aligned > cap(c.buf) {
		aligned = cap(c.buf) - len(c.buf)
	}
	c.buf = c.buf[:len(c.buf)+aligned]
}

// lostKey names a process whose records were lost: its tgid and leader start time.
type lostKey struct {
	tgid  uint32
	start uint64
}

// queue is the bounded hand-over between the drainer and the converter.
type queue struct {
	full chan *chunk
	free chan *chunk

	dropped atomic.Uint64 // records dropped because full was full
	mu      sync.Mutex
	byProc  map[lostKey]uint64 // the same drops by process, until taken
	done    chan struct{}      // closed when the drainer has stopped
}

func newQueue(events int) *queue {
	n := (events + ChunkRecords - 1) / ChunkRecords
	n = max(n, 2)
	return &queue{
		full:   make(chan *chunk, n),
		free:   make(chan *chunk, n+2),
		byProc: map[lostKey]uint64{},
		done:   make(chan struct{}),
	}
}

func (q *queue) get() *chunk {
	select {
	case c := <-q.free:
		return c
	default:
		return newChunk()
	}
}

func (q *queue) recycle(c *chunk) {
	c.reset()
	select {
	case q.free <- c:
	default: // enough spares: let it go
	}
}

// push hands c to the converter, or drops its records if the queue is full. It never blocks.
func (q *queue) push(c *chunk) {
	select {
	case q.full <- c:
	default:
		q.drop(c)
	}
}

func (q *queue) drop(c *chunk) {
	n := c.records()
	q.mu.Lock()
	for i := range n {
		if h, err := bpf.HeaderOf(c.record(i)); err == nil {
			q.byProc[lostKey{tgid: h.Tgid, start: h.Start}]++
		}
	}
	q.mu.Unlock()
	q.dropped.Add(uint64(n))
	q.recycle(c)
}

// takeDrops returns the drops by process since the last call.
func (q *queue) takeDrops() map[lostKey]uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.byProc) == 0 {
		return nil
	}
	m := q.byProc
	q.byProc = map[lostKey]uint64{}
	return m
}

// maxHold is how long the drainer keeps a partly filled chunk while it is caught up with the
// kernel. Handing over every time it catches up would, at high rates, fill the queue with
// chunks of a few records each; holding makes chunks large and the hand-over rate at most
// 1/maxHold below full chunks.
const maxHold = time.Millisecond

// drainer moves records from the ring buffer to the queue on its own goroutine.
type drainer struct {
	probe *bpf.Probe
	q     *queue
}

// run drains until the probe is closed (then it returns nil) or reading fails.
func (d *drainer) run() error {
	defer close(d.q.done)
	var (
		rec      ringbuf.Record
		cur      = d.q.get()
		started  time.Time // when cur got its first record
		caughtUp = true    // the ring was empty after the last record
	)
	handOver := func() {
		d.q.push(cur)
		cur = d.q.get()
	}
	for {
		if caughtUp {
			// The next read may wait: bound it, so a quiet system's records are not held.
			d.probe.SetDeadline(time.Now().Add(bpf.PollInterval))
		}
		tail := cur.tail()
		tailCap := cap(tail)
		rec.RawSample = tail
		err := d.probe.ReadInto(&rec)
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, ringbuf.ErrFlushed):
			if cur.records() > 0 {
				handOver()
			}
			caughtUp = true
			continue
		case errors.Is(err, os.ErrClosed):
			return nil
		default:
			return fmt.Errorf("drain ring buffer: %w", err)
		}
		if !cur.commit(rec.RawSample, tail, tailCap) {
			if cur.records() > 0 {
				handOver()
			}
			cur.appendCopy(rec.RawSample)
		}
		if cur.records() == 1 {
			started = time.Now()
		}
		caughtUp = rec.Remaining == 0
		if cur.full() || caughtUp && time.Since(started) >= maxHold {
			handOver()
		}
	}
}
