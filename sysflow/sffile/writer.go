package sffile

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/sfstream/sfstream/schemas"
	"github.com/sfstream/sfstream/sysflow"
)

// DefaultBlockSize is the uncompressed bytes per block, as the reference writer's sync interval.
const DefaultBlockSize = 80000

// Codec names.
const (
	CodecDeflate = "deflate"
	CodecNull    = "null"
)

// Option configures a Writer.
type Option func(*writerConfig)

type writerConfig struct {
	blockSize int
	codec     string
	level     int
	sync      *[16]byte
}

// WithBlockSize sets the uncompressed bytes after which a block is written. Default
// DefaultBlockSize (80000).
func WithBlockSize(n int) Option { return func(c *writerConfig) { c.blockSize = n } }

// WithCodec sets the block codec, CodecDeflate (default) or CodecNull.
func WithCodec(name string) Option { return func(c *writerConfig) { c.codec = name } }

// WithCompressionLevel sets the deflate level (flate.BestSpeed..flate.BestCompression).
// Default flate.DefaultCompression.
func WithCompressionLevel(level int) Option { return func(c *writerConfig) { c.level = level } }

// WithSyncMarker sets the 16-byte sync marker. Default: random. A fixed marker makes the
// output a pure function of the records, so a replay rewrites identical bytes.
func WithSyncMarker(m [16]byte) Option { return func(c *writerConfig) { c.sync = &m } }

// Writer writes a SysFlow v5 file. It is not safe for concurrent use.
type Writer struct {
	w       io.Writer
	cfg     writerConfig
	sync    [16]byte
	enc     *sysflow.Encoder
	buf     []byte // uncompressed records of the open block
	count   int64  // records in buf
	zbuf    bytes.Buffer
	zw      *flate.Writer
	written int64
	records int64
	err     error
	closed  bool
}

// NewWriter writes the container header and hdr, the file's first record, to w.
func NewWriter(w io.Writer, hdr *sysflow.Header, opts ...Option) (*Writer, error) {
	cfg := writerConfig{blockSize: DefaultBlockSize, codec: CodecDeflate, level: flate.DefaultCompression}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.blockSize <= 0 {
		return nil, fmt.Errorf("new sysflow writer: block size %d must be positive", cfg.blockSize)
	}
	if cfg.codec != CodecDeflate && cfg.codec != CodecNull {
		return nil, fmt.Errorf("new sysflow writer: unsupported codec %q", cfg.codec)
	}
	if hdr == nil {
		return nil, errors.New("new sysflow writer: a header record is required")
	}
	wr := &Writer{w: w, cfg: cfg, enc: sysflow.NewEncoder()}
	if cfg.sync != nil {
		wr.sync = *cfg.sync
	} else if _, err := rand.Read(wr.sync[:]); err != nil {
		return nil, fmt.Errorf("new sysflow writer: sync marker: %w", err)
	}
	if cfg.codec == CodecDeflate {
		zw, err := flate.NewWriter(&wr.zbuf, cfg.level)
		if err != nil {
			return nil, fmt.Errorf("new sysflow writer: %w", err)
		}
		wr.zw = zw
	}
	h := append([]byte(nil), magic[:]...)
	h = sysflow.AppendLong(h, 2)
	h = appendString(h, "avro.codec")
	h = appendString(h, cfg.codec)
	h = appendString(h, "avro.schema")
	h = appendString(h, schemas.Compact(schemas.SysFlow()))
	h = sysflow.AppendLong(h, 0)
	h = append(h, wr.sync[:]...)
	if err := wr.write(h); err != nil {
		return nil, err
	}
	if err := wr.Write(hdr); err != nil {
		return nil, err
	}
	return wr, nil
}

func appendString(b []byte, s string) []byte {
	b = sysflow.AppendLong(b, int64(len(s)))
	return append(b, s...)
}

func (w *Writer) write(b []byte) error {
	n, err := w.w.Write(b)
	w.written += int64(n)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("write sysflow file: %w", err)
	}
	return w.err
}

// Write appends rec to the open block, writing the block out once it reaches the block size.
func (w *Writer) Write(rec sysflow.Record) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("write sysflow record: writer is closed")
	}
	buf, err := w.enc.Append(w.buf, rec)
	if err != nil {
		return err // the record is rejected; the writer stays usable
	}
	w.buf = buf
	w.count++
	w.records++
	if len(w.buf) >= w.cfg.blockSize {
		return w.Flush()
	}
	return nil
}

// Flush writes the open block, if any, to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if w.count == 0 {
		return nil
	}
	body := w.buf
	if w.zw != nil {
		w.zbuf.Reset()
		w.zw.Reset(&w.zbuf)
		if _, err := w.zw.Write(w.buf); err != nil {
			w.err = fmt.Errorf("deflate block: %w", err)
			return w.err
		}
		if err := w.zw.Close(); err != nil {
			w.err = fmt.Errorf("deflate block: %w", err)
			return w.err
		}
		body = w.zbuf.Bytes()
	}
	h := make([]byte, 0, 20+len(body)+16)
	h = sysflow.AppendLong(h, w.count)
	h = sysflow.AppendLong(h, int64(len(body)))
	h = append(h, body...)
	h = append(h, w.sync[:]...)
	if err := w.write(h); err != nil {
		return err
	}
	w.buf = w.buf[:0]
	w.count = 0
	return nil
}

// Records returns the number of records written, the header included.
func (w *Writer) Records() int64 { return w.records }

// BytesWritten returns the bytes written to the underlying writer so far.
func (w *Writer) BytesWritten() int64 { return w.written }

// Buffered returns the uncompressed bytes of the open block.
func (w *Writer) Buffered() int { return len(w.buf) }

// Close flushes the open block. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	err := w.Flush()
	w.closed = true
	return err
}
