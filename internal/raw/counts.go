package raw

import (
	"fmt"
	"strconv"
)

// Where a drop notice's events were lost: the Flags of an OpDrop event. Producers that do not
// say (flags 0) count as DropUnspecified; every kind but DropFilter is a loss.
const (
	DropUnspecified = 0 // lost somewhere upstream
	DropKernel      = 1 // the kernel's ring buffer was full
	DropQueue       = 2 // the producer's bounded queue was full
	DropFilter      = 3 // excluded on purpose by a capture filter: not a loss
)

// Counts are what one exporter captured and lost in one hour, as one partition of the
// processors saw it: raw events applied (notices and snapshots are not events) and the events
// its drop notices announce, by where they were lost. The processors send them to
// sysflow.events as count records (CountHeaders); the archiver sums the ones of each object
// into its metadata.
type Counts struct {
	Hour       int64 // Unix seconds of the hour's start
	Captured   int64 // raw events
	LostKernel int64 // DropKernel
	LostQueue  int64 // DropQueue
	LostOther  int64 // DropUnspecified (and kinds this build does not know)
	Excluded   int64 // DropFilter
}

// Lost returns the events lost, wherever they were.
func (c Counts) Lost() int64 { return c.LostKernel + c.LostQueue + c.LostOther }

// IsZero reports whether c counts nothing.
func (c Counts) IsZero() bool {
	return c.Captured == 0 && c.Lost() == 0 && c.Excluded == 0
}

// Add adds o's counts to c's (the hour stays c's).
func (c *Counts) Add(o Counts) {
	c.Captured += o.Captured
	c.LostKernel += o.LostKernel
	c.LostQueue += o.LostQueue
	c.LostOther += o.LostOther
	c.Excluded += o.Excluded
}

// AddDrop counts n events of a drop notice whose flags are flags.
func (c *Counts) AddDrop(flags, n int64) {
	switch flags {
	case DropKernel:
		c.LostKernel += n
	case DropQueue:
		c.LostQueue += n
	case DropFilter:
		c.Excluded += n
	default:
		c.LostOther += n
	}
}

// Names of the Kafka headers of a count record (a sysflow.events record with no value) and of
// the container metadata keys the archiver writes from them. A count record is recognised by
// CountHour.
const (
	CountHour       = "sfstream.hour"
	CountCaptured   = "sfstream.captured"
	CountLost       = "sfstream.lost"
	CountLostKernel = "sfstream.lost.kernel"
	CountLostQueue  = "sfstream.lost.queue"
	CountLostOther  = "sfstream.lost.other"
	CountExcluded   = "sfstream.excluded"
)

// Pairs returns c as header (or metadata) names and decimal values, hour first when withHour.
func (c Counts) Pairs(withHour bool) [][2]string {
	p := make([][2]string, 0, 7)
	if withHour {
		p = append(p, [2]string{CountHour, strconv.FormatInt(c.Hour, 10)})
	}
	return append(p,
		[2]string{CountCaptured, strconv.FormatInt(c.Captured, 10)},
		[2]string{CountLost, strconv.FormatInt(c.Lost(), 10)},
		[2]string{CountLostKernel, strconv.FormatInt(c.LostKernel, 10)},
		[2]string{CountLostQueue, strconv.FormatInt(c.LostQueue, 10)},
		[2]string{CountLostOther, strconv.FormatInt(c.LostOther, 10)},
		[2]string{CountExcluded, strconv.FormatInt(c.Excluded, 10)},
	)
}

// ParseCounts reads counts from headers or metadata through get, which returns a name's value
// and whether it is there. ok is false when there is no CountHour (withHour) or no
// CountCaptured (not a count record, or an object written before counts). A name that is
// there must hold a decimal integer; sfstream.lost is derived, not read.
func ParseCounts(get func(name string) (string, bool), withHour bool) (c Counts, ok bool, err error) {
	if _, there := get(CountCaptured); !there {
		return Counts{}, false, nil
	}
	if _, there := get(CountHour); withHour && !there {
		return Counts{}, false, nil
	}
	fields := []struct {
		name string
		v    *int64
	}{
		{CountCaptured, &c.Captured}, {CountLostKernel, &c.LostKernel}, {CountLostQueue, &c.LostQueue},
		{CountLostOther, &c.LostOther}, {CountExcluded, &c.Excluded},
	}
	if withHour {
		fields = append(fields, struct {
			name string
			v    *int64
		}{CountHour, &c.Hour})
	}
	for _, f := range fields {
		s, there := get(f.name)
		if !there {
			continue
		}
		n, perr := strconv.ParseInt(s, 10, 64)
		if perr != nil {
			return Counts{}, false, fmt.Errorf("parse counts: %s: %w", f.name, perr)
		}
		*f.v = n
	}
	return c, true, nil
}
