package sffile

import (
	"bufio"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"

	"github.com/hamba/avro/v2"

	"github.com/sfstream/sfstream/sysflow"
)

// magic starts every Avro object container file.
var magic = [4]byte{'O', 'b', 'j', 1}

// Limits that keep corrupt input from causing huge allocations.
const (
	maxMetaEntries = 1024
	maxMetaBytes   = 16 << 20
	// MaxBlockBytes bounds one block, compressed or not.
	MaxBlockBytes = 256 << 20
)

// ErrNotSysFlow marks input that is not an Avro container file of a SysFlow schema.
var ErrNotSysFlow = errors.New("not a sysflow file")

// CorruptError reports where and why reading a file stopped.
type CorruptError struct {
	Offset int64 // byte offset in the file where the bad structure starts
	Block  int   // index of the block being read, -1 for the file header
	Err    error
}

func (e *CorruptError) Error() string {
	if e.Block < 0 {
		return fmt.Sprintf("corrupt file header at offset %d: %v", e.Offset, e.Err)
	}
	return fmt.Sprintf("corrupt block %d at offset %d: %v", e.Block, e.Offset, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Reader reads records from a SysFlow file.
type Reader struct {
	br     *bufio.Reader
	off    int64 // bytes consumed from br
	meta   map[string][]byte
	schema string
	codec  string
	sync   [16]byte
	dec    *sysflow.Decoder

	block     int   // index of the current block
	blockOff  int64 // offset of the current block
	remaining int64 // records left in the current block
	data      []byte
	zbuf      bytes.Buffer
	inflater  io.ReadCloser
	ar        *avro.Reader
	err       error
	records   int64
}

// NewReader reads the container header from r and returns a Reader positioned before the
// first record.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{br: bufio.NewReaderSize(r, 64<<10), block: -1}
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	return rd, nil
}

func (r *Reader) corrupt(off int64, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return &CorruptError{Offset: off, Block: r.block, Err: err}
}

func (r *Reader) readHeader() error {
	var m [4]byte
	if _, err := io.ReadFull(r.br, m[:]); err != nil {
		return r.corrupt(0, fmt.Errorf("read magic: %w", err))
	}
	r.off = 4
	if m != magic {
		return &CorruptError{Offset: 0, Block: -1, Err: fmt.Errorf("%w: bad magic %q", ErrNotSysFlow, m[:])}
	}
	meta := map[string][]byte{}
	total := 0
	for {
		start := r.off
		n, err := r.readLong()
		if err != nil {
			return r.corrupt(start, fmt.Errorf("read metadata: %w", err))
		}
		if n == 0 {
			break
		}
		if n < 0 {
			n = -n
			if _, err := r.readLong(); err != nil { // block size in bytes, unused
				return r.corrupt(start, fmt.Errorf("read metadata: %w", err))
			}
		}
		if n > maxMetaEntries || len(meta)+int(n) > maxMetaEntries {
			return r.corrupt(start, fmt.Errorf("metadata has more than %d entries", maxMetaEntries))
		}
		for i := int64(0); i < n; i++ {
			k, err := r.readBytes(maxMetaBytes - total)
			if err != nil {
				return r.corrupt(start, fmt.Errorf("read metadata key: %w", err))
			}
			v, err := r.readBytes(maxMetaBytes - total - len(k))
			if err != nil {
				return r.corrupt(start, fmt.Errorf("read metadata value of %q: %w", k, err))
			}
			total += len(k) + len(v)
			meta[string(k)] = v
		}
	}
	if _, err := io.ReadFull(r.br, r.sync[:]); err != nil {
		return r.corrupt(r.off, fmt.Errorf("read sync marker: %w", err))
	}
	r.off += 16
	r.meta = meta
	r.codec = string(meta["avro.codec"])
	if r.codec == "" {
		r.codec = "null"
	}
	if r.codec != "null" && r.codec != "deflate" {
		return &CorruptError{Offset: 0, Block: -1, Err: fmt.Errorf("unsupported codec %q (want null or deflate)", r.codec)}
	}
	r.schema = string(meta["avro.schema"])
	if r.schema == "" {
		return &CorruptError{Offset: 0, Block: -1, Err: fmt.Errorf("%w: no avro.schema metadata", ErrNotSysFlow)}
	}
	dec, err := sysflow.NewDecoder(r.schema)
	if err != nil {
		return &CorruptError{Offset: 0, Block: -1, Err: fmt.Errorf("%w: %w", ErrNotSysFlow, err)}
	}
	r.dec = dec
	r.ar = sysflow.NewReader(nil)
	return nil
}

// Schema returns the file's writer schema (the avro.schema metadata).
func (r *Reader) Schema() string { return r.schema }

// Codec returns the file's codec name: "null" or "deflate".
func (r *Reader) Codec() string { return r.codec }

// Metadata returns the file's metadata map. It must not be modified.
func (r *Reader) Metadata() map[string][]byte { return r.meta }

// Offset returns the byte offset of the block the last record came from.
func (r *Reader) Offset() int64 { return r.blockOff }

// Records returns how many records have been returned so far.
func (r *Reader) Records() int64 { return r.records }

// Next returns the next record, io.EOF after the last one, or a *CorruptError. After an
// error every later call returns the same error.
func (r *Reader) Next() (sysflow.Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	for r.remaining == 0 {
		if err := r.nextBlock(); err != nil {
			r.err = err
			return nil, err
		}
	}
	rec, err := r.dec.ReadFrom(r.ar)
	if err != nil {
		r.err = r.corrupt(r.blockOff, fmt.Errorf("record %d of block: %w", r.records, err))
		return nil, r.err
	}
	r.remaining--
	r.records++
	if r.remaining == 0 {
		// The block's records must use exactly its bytes; the next call reports it.
		if r.ar.Peek(); r.ar.Error == nil {
			r.err = r.corrupt(r.blockOff, errors.New("block has bytes after its last record"))
		}
	}
	return rec, nil
}

// nextBlock reads the next block; io.EOF at a clean end of file.
func (r *Reader) nextBlock() error {
	r.block++
	r.blockOff = r.off
	if _, err := r.br.Peek(1); err == io.EOF {
		return io.EOF
	}
	count, err := r.readLong()
	if err != nil {
		return r.corrupt(r.blockOff, fmt.Errorf("read block record count: %w", err))
	}
	size, err := r.readLong()
	if err != nil {
		return r.corrupt(r.blockOff, fmt.Errorf("read block size: %w", err))
	}
	if count < 0 || size < 0 || size > MaxBlockBytes || count > size*8+1 {
		return r.corrupt(r.blockOff, fmt.Errorf("impossible block header: %d records in %d bytes", count, size))
	}
	if int64(cap(r.data)) < size {
		r.data = make([]byte, size)
	}
	r.data = r.data[:size]
	if _, err := io.ReadFull(r.br, r.data); err != nil {
		return r.corrupt(r.blockOff, fmt.Errorf("read %d block bytes: %w", size, err))
	}
	r.off += size
	var sync [16]byte
	if _, err := io.ReadFull(r.br, sync[:]); err != nil {
		return r.corrupt(r.off, fmt.Errorf("read block sync marker: %w", err))
	}
	if sync != r.sync {
		return r.corrupt(r.off, errors.New("sync marker mismatch"))
	}
	r.off += 16
	body := r.data
	if r.codec == "deflate" {
		if body, err = r.inflate(r.data); err != nil {
			return r.corrupt(r.blockOff, fmt.Errorf("inflate block: %w", err))
		}
	}
	if err := sysflow.CheckMinLong(body); err != nil {
		return r.corrupt(r.blockOff, fmt.Errorf("block: %w", err))
	}
	r.ar.Reset(body)
	r.ar.Error = nil
	r.remaining = count
	return nil
}

func (r *Reader) inflate(b []byte) ([]byte, error) {
	src := bytes.NewReader(b)
	if r.inflater == nil {
		r.inflater = flate.NewReader(src)
	} else if err := r.inflater.(flate.Resetter).Reset(src, nil); err != nil {
		return nil, err
	}
	r.zbuf.Reset()
	if _, err := io.Copy(&r.zbuf, io.LimitReader(r.inflater, MaxBlockBytes+1)); err != nil {
		return nil, err
	}
	if r.zbuf.Len() > MaxBlockBytes {
		return nil, fmt.Errorf("block inflates to more than %d bytes", MaxBlockBytes)
	}
	return r.zbuf.Bytes(), nil
}

// readLong reads a zig-zag varint long from the header or a block header.
func (r *Reader) readLong() (int64, error) {
	var u uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= 64 {
			return 0, errors.New("varint overflows 64 bits")
		}
		c, err := r.br.ReadByte()
		if err != nil {
			return 0, err
		}
		r.off++
		u |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			break
		}
	}
	return int64(u>>1) ^ -int64(u&1), nil
}

func (r *Reader) readBytes(limit int) ([]byte, error) {
	n, err := r.readLong()
	if err != nil {
		return nil, err
	}
	if n < 0 || n > int64(limit) {
		return nil, fmt.Errorf("impossible length %d", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.br, b); err != nil {
		return nil, err
	}
	r.off += n
	return b, nil
}
