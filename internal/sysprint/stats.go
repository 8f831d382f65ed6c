package sysprint

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// statsPrinter is sfprint --stats: instead of records, one line per file with its records by
// type and the capture counts its metadata states (the archiver's sfstream.captured,
// sfstream.lost, ...), then a total line when there was more than one file.
type statsPrinter struct {
	w      *bufio.Writer
	files  int
	kinds  [sysflow.NumKinds]int64
	counts raw.Counts
	stated int // files that state counts
}

func newStatsPrinter(w io.Writer) *statsPrinter { return &statsPrinter{w: bufio.NewWriter(w)} }

// The printer methods are unused: printRecords hands whole files to file.
func (s *statsPrinter) beginFile() error      { return nil }
func (s *statsPrinter) write(_ *record) error { return nil }
func (s *statsPrinter) endFile() error        { return nil }

func (s *statsPrinter) close() error {
	if s.files > 1 {
		s.line("TOTAL", s.kinds, s.counts, s.stated > 0)
	}
	return s.w.Flush()
}

// file reads every record of an opened file and prints its line. name is the file in
// messages and in the line.
func (s *statsPrinter) file(ctx context.Context, name string, r *sffile.Reader) error {
	meta := r.Metadata()
	counts, ok, err := raw.ParseCounts(func(k string) (string, bool) {
		v, there := meta[k]
		return string(v), there
	}, false)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	var kinds [sysflow.NumKinds]int64
	for i := 0; ; i++ {
		if i%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, rerr := r.Next()
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return fmt.Errorf("read %s: stopped after %d records: %w", name, r.Records(), rerr)
		}
		if k := rec.Kind(); k >= 0 && k < sysflow.NumKinds {
			kinds[k]++
		}
	}
	s.files++
	for k, n := range kinds {
		s.kinds[k] += n
	}
	if ok {
		s.stated++
		s.counts.Add(counts)
	}
	s.line(name, kinds, counts, ok)
	return s.lineErr()
}

// line writes one file's (or the total's) line:
//
//	NAME records=N H=1 P=3 ... captured=C lost=L kernel=K queue=Q other=O excluded=X coverage=P%
//
// with "captured=- lost=- coverage=-" when no file states counts, and coverage "-" when
// nothing was captured or lost.
func (s *statsPrinter) line(name string, kinds [sysflow.NumKinds]int64, c raw.Counts, stated bool) {
	var b strings.Builder
	var total int64
	for _, n := range kinds {
		total += n
	}
	fmt.Fprintf(&b, "%s records=%d", name, total)
	for k, n := range kinds {
		if n > 0 {
			fmt.Fprintf(&b, " %s=%d", sysflow.Kind(k), n)
		}
	}
	if !stated {
		b.WriteString(" captured=- lost=- coverage=-\n")
	} else {
		fmt.Fprintf(&b, " captured=%d lost=%d kernel=%d queue=%d other=%d excluded=%d coverage=%s\n",
			c.Captured, c.Lost(), c.LostKernel, c.LostQueue, c.LostOther, c.Excluded, coverage(c))
	}
	_, _ = s.w.WriteString(b.String()) // the error stays in the writer: lineErr
}

// lineErr returns the writer's error as an outputError.
func (s *statsPrinter) lineErr() error {
	if _, err := s.w.Write(nil); err != nil {
		return outputError{err}
	}
	return nil
}

// coverage is captured/(captured+lost) as a percentage with two decimals, "-" for 0/0.
func coverage(c raw.Counts) string {
	all := c.Captured + c.Lost()
	if all == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(c.Captured)/float64(all), 'f', 2, 64) + "%"
}
