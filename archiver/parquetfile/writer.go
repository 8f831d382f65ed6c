package parquetfile

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// DefaultRowGroupRows is the number of rows of a row group (the last one of a file holds
// the rest): large enough that a scan reads long column chunks, small enough that one row
// group being built stays a few tens of MB.
const DefaultRowGroupRows = 128 << 10

// createdBy is the file's created_by: fixed, so that the bytes do not depend on how the
// binary was built.
const createdBy = "sfstream archiver (parquet-go)"

// batchRows is how many rows are handed to parquet-go at once.
const batchRows = 256

// Option configures a Writer.
type Option func(*config)

type config struct {
	rowGroupRows int64
	level        zstd.Level
}

// WithRowGroupRows sets the rows per row group. Default DefaultRowGroupRows.
func WithRowGroupRows(n int) Option { return func(c *config) { c.rowGroupRows = int64(n) } }

// WithZstdLevel sets the zstd level. Default zstd.SpeedDefault (about zstd's level 3).
func WithZstdLevel(l zstd.Level) Option { return func(c *config) { c.level = l } }

// Stats counts what a Writer wrote.
type Stats struct {
	// Rows is the number of rows; ByKind the rows of each record kind.
	Rows   int64
	ByKind [sysflow.NumKinds]int64
}

// Writer writes a SysFlow stream's events and flows as Parquet rows. Entities (header,
// containers, pods, processes, files) are not rows: they are remembered by a
// sysflow.Flattener and joined into the rows of the records that reference them, as
// sysprint's flat output does. It is not safe for concurrent use.
type Writer struct {
	pw    *parquet.GenericWriter[Row]
	fl    *sysflow.Flattener
	buf   []Row
	n     int
	stats Stats
	err   error

	opFlags   map[int32]string
	openFlags map[int32]string
	ips       map[int32]string
	envs      map[*sysflow.Process]string
}

// NewWriter returns a Writer writing a Parquet file to out. Records are fed with Add, and
// Close writes the footer.
func NewWriter(out io.Writer, opts ...Option) *Writer {
	cfg := config{rowGroupRows: DefaultRowGroupRows, level: zstd.SpeedDefault}
	for _, o := range opts {
		o(&cfg)
	}
	pw := parquet.NewGenericWriter[Row](out,
		parquet.Compression(&zstd.Codec{Level: cfg.level, Concurrency: 1}),
		parquet.MaxRowsPerRowGroup(cfg.rowGroupRows),
		parquet.CreatedBy(createdBy, "1", ""),
	)
	return &Writer{
		pw:        pw,
		fl:        sysflow.NewFlattener(sysflow.WithResetOnHeader()),
		buf:       make([]Row, batchRows),
		opFlags:   map[int32]string{},
		openFlags: map[int32]string{},
		ips:       map[int32]string{},
		envs:      map[*sysflow.Process]string{},
	}
}

// Add takes the next record of the stream: an event or flow becomes a row, an entity is
// remembered for the rows that follow.
func (w *Writer) Add(rec sysflow.Record) error {
	if w.err != nil {
		return w.err
	}
	flat, ok := w.fl.Add(rec)
	if !ok {
		return nil
	}
	if len(w.envs) > 1<<14 {
		clear(w.envs)
	}
	w.fill(&w.buf[w.n], &flat)
	w.n++
	w.stats.Rows++
	w.stats.ByKind[flat.Kind]++
	if w.n == len(w.buf) {
		w.flush()
	}
	return w.err
}

func (w *Writer) flush() {
	if w.n == 0 || w.err != nil {
		return
	}
	if _, err := w.pw.Write(w.buf[:w.n]); err != nil {
		w.err = fmt.Errorf("write parquet rows: %w", err)
	}
	w.n = 0
}

// Stats returns what was written so far.
func (w *Writer) Stats() Stats { return w.stats }

// Close writes the remaining rows, the key-value metadata meta (written in key order) and
// the footer. It does not close the underlying writer.
func (w *Writer) Close(meta map[string]string) error {
	w.flush()
	if w.err != nil {
		return w.err
	}
	for _, k := range slices.Sorted(maps.Keys(meta)) { // SetKeyValueMetadata keeps call order
		w.pw.SetKeyValueMetadata(k, meta[k])
	}
	if err := w.pw.Close(); err != nil {
		w.err = fmt.Errorf("close parquet file: %w", err)
		return w.err
	}
	w.err = errors.New("parquet writer closed")
	return nil
}

// Convert reads the SysFlow file in (sysflow/sffile) and writes its events and flows to out
// as Parquet. The key-value metadata holds every sfstream.* entry of the file's container
// metadata (topic, partition, offsets, records), plus the entries of extra.
func Convert(out io.Writer, in io.Reader, extra map[string]string, opts ...Option) (Stats, error) {
	r, err := sffile.NewReader(in)
	if err != nil {
		return Stats{}, fmt.Errorf("convert to parquet: %w", err)
	}
	w := NewWriter(out, opts...)
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return w.Stats(), fmt.Errorf("convert to parquet: %w", err)
		}
		if err := w.Add(rec); err != nil {
			return w.Stats(), fmt.Errorf("convert to parquet: %w", err)
		}
	}
	meta := map[string]string{}
	for k, v := range r.Metadata() {
		if strings.HasPrefix(k, "sfstream.") {
			meta[k] = string(v)
		}
	}
	for k, v := range extra {
		meta[k] = v
	}
	if err := w.Close(meta); err != nil {
		return w.Stats(), fmt.Errorf("convert to parquet: %w", err)
	}
	return w.Stats(), nil
}
