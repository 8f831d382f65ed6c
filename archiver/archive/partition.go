package archive

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sfstream/sfstream/archiver/hourly"
)

// hourKey identifies the objects of one exporter and hour in a partition.
type hourKey struct {
	exporter string
	hour     int64 // seconds since the epoch
}

// offsetRange is the offsets of the records of one stored object.
type offsetRange struct{ first, last int64 }

// hourState is what a partition knows of one exporter's hour.
type hourState struct {
	key     hourKey
	closed  bool          // an object of the hour has been closed: later records are late
	next    int           // variant of the next object
	stored  []offsetRange // objects found stored by a lookup: their records are skipped
	file    *openFile     // the open object, if any
	pending int           // closed objects not stored yet
}

// holds reports whether the record at offset is in an object found stored.
func (h *hourState) holds(offset int64) bool {
	for _, r := range h.stored {
		if offset >= r.first && offset <= r.last {
			return true
		}
	}
	return false
}

// openFile is an object being written.
type openFile struct {
	f        *hourly.File
	hs       *hourState
	closeAt  int64 // the watermark (ns) that closes it
	wmBefore int64 // the partition's watermark before its first record
}

// closedFile is an object waiting to be stored.
type closedFile struct {
	obj      hourly.Object
	hs       *hourState
	wmBefore int64
	inFlight bool // with a worker
}

// partition is the state of one owned partition of sysflow.events. It is guarded by the
// Archiver's mutex.
type partition struct {
	id     int32
	dir    string // staging directory
	ctx    context.Context
	cancel context.CancelFunc

	watermark  int64 // largest record ts seen (ns), continued from the commit metadata
	storedHour int64 // no object of a later hour can be in the store (from the metadata)
	next       int64 // next offset to read, -1 before the first record
	committed  int64 // last committed offset, -1 for none
	lastRecord time.Time
	lag        int64

	hours       map[hourKey]*hourState
	open        []*openFile
	nextCloseAt int64
	queue       []*closedFile // in the order closed; an hour's objects are stored in that order

	storedSinceCommit bool
	lastCommitTry     time.Time
	lookupFailures    int
	blockedUntil      time.Time
}

func newPartition(id int32, stagingDir string) *partition {
	ctx, cancel := context.WithCancel(context.Background())
	return &partition{
		id:          id,
		dir:         filepath.Join(stagingDir, "p"+strconv.FormatInt(int64(id), 10)),
		ctx:         ctx,
		cancel:      cancel,
		next:        -1,
		committed:   -1,
		lastRecord:  time.Now(),
		hours:       map[hourKey]*hourState{},
		nextCloseAt: math.MaxInt64,
	}
}

// commitPoint returns the offset below which every record is stored (or was skipped), and the
// watermark of the records before it.
func (p *partition) commitPoint() (offset, watermark int64) {
	offset, watermark = p.next, p.watermark
	for _, of := range p.open {
		if first := of.f.First(); first >= 0 && first < offset {
			offset, watermark = first, of.wmBefore
		}
	}
	for _, c := range p.queue {
		if c.obj.First < offset {
			offset, watermark = c.obj.First, c.wmBefore
		}
	}
	return offset, watermark
}

// staged returns the bytes the partition holds in its staging directory.
func (p *partition) staged() int64 {
	var n int64
	for _, of := range p.open {
		n += of.f.Staged()
	}
	for _, c := range p.queue {
		n += c.obj.Size
	}
	return n
}

// drop forgets the partition: its staged data goes (Kafka still has the records, uncommitted)
// and its uploads are cancelled. Objects with a worker are removed when the worker is done.
func (p *partition) drop() error {
	p.cancel()
	var errs []error
	for _, of := range p.open {
		errs = append(errs, of.f.Discard())
	}
	p.open = nil
	for _, c := range p.queue {
		if !c.inFlight {
			errs = append(errs, removeFile(c.obj.Path))
		}
	}
	p.queue = nil
	return errors.Join(errs...)
}

// recomputeNextClose sets nextCloseAt to the earliest closeAt of the open objects.
func (p *partition) recomputeNextClose() {
	p.nextCloseAt = math.MaxInt64
	for _, of := range p.open {
		p.nextCloseAt = min(p.nextCloseAt, of.closeAt)
	}
}

// Commit metadata: the watermark before the committed offset and the latest hour with a stored
// object, so that a restarted archiver closes hours at the same records and knows when to
// look for stored objects.
func commitMetadata(watermark, storedHour int64) string {
	return "sfa1 w=" + strconv.FormatInt(watermark, 10) + " h=" + strconv.FormatInt(storedHour, 10)
}

func parseCommitMetadata(s string) (watermark, storedHour int64, ok bool) {
	f := strings.Fields(s)
	if len(f) != 3 || f[0] != "sfa1" {
		return 0, 0, false
	}
	w, okW := strings.CutPrefix(f[1], "w=")
	h, okH := strings.CutPrefix(f[2], "h=")
	var err1, err2 error
	watermark, err1 = strconv.ParseInt(w, 10, 64)
	storedHour, err2 = strconv.ParseInt(h, 10, 64)
	return watermark, storedHour, okW && okH && err1 == nil && err2 == nil
}

// sortedOpen returns the open objects whose closeAt is at most limit, in a deterministic order.
func (p *partition) due(limit int64) []*openFile {
	var out []*openFile
	for _, of := range p.open {
		if of.closeAt <= limit {
			out = append(out, of)
		}
	}
	slices.SortFunc(out, func(a, b *openFile) int {
		switch {
		case a.closeAt != b.closeAt:
			return cmpInt(a.closeAt, b.closeAt)
		case a.hs.key.hour != b.hs.key.hour:
			return cmpInt(a.hs.key.hour, b.hs.key.hour)
		}
		return strings.Compare(a.hs.key.exporter, b.hs.key.exporter)
	})
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove staged object: %w", err)
	}
	return nil
}
