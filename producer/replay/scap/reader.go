package scap

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Reader decodes a scap capture block by block. It is not safe for concurrent use.
type Reader struct {
	br       *bufio.Reader
	gz       *gzip.Reader
	off      int64 // offset of the next block
	maxBlock int64
	buf      []byte // bodies of blocks larger than the bufio buffer
	ev       Event  // reused for every event block
	pending  Block  // the first section header, returned by the first Next
	err      error  // sticky
	gzipped  bool
}

// Option configures a Reader.
type Option func(*Reader)

// WithMaxBlockSize caps the size of one block (default 256 MiB). A larger declared length is
// reported as ErrBadLength. Memory use is bounded by the smaller of this cap and the input.
func WithMaxBlockSize(n int64) Option { return func(r *Reader) { r.maxBlock = n } }

const (
	defaultMaxBlock = 256 << 20
	bufSize         = 64 << 10
	blockHeaderLen  = 8
	blockTrailerLen = 4
	minBlockLen     = blockHeaderLen + blockTrailerLen
	growChunk       = 1 << 20
)

// NewReader returns a Reader for r, which may be gzip-compressed. It reads and checks the
// first block, which must be a section header; the first call to Next returns it.
func NewReader(r io.Reader, opts ...Option) (*Reader, error) {
	rd := &Reader{maxBlock: defaultMaxBlock}
	for _, o := range opts {
		o(rd)
	}
	rd.br = bufio.NewReaderSize(r, bufSize)
	if magic, _ := rd.br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(rd.br)
		if err != nil {
			return nil, &FormatError{Offset: 0, Err: fmt.Errorf("open gzip stream: %w", err)}
		}
		rd.gz, rd.gzipped = gz, true
		rd.br = bufio.NewReaderSize(gz, bufSize)
	}
	if hdr, _ := rd.br.Peek(4); len(hdr) == 4 && BlockType(binary.LittleEndian.Uint32(hdr)) != BlockSection {
		return nil, &FormatError{Offset: 0, Err: fmt.Errorf("%w: first block is not a section header", ErrNotScap)}
	}
	b, err := rd.readBlock()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FormatError{Offset: 0, Err: fmt.Errorf("%w: empty input", ErrNotScap)}
		}
		return nil, err
	}
	if _, ok := b.(*SectionHeader); !ok {
		return nil, &FormatError{Offset: 0, Err: fmt.Errorf("%w: first block is not a section header", ErrNotScap)}
	}
	rd.pending = b
	return rd, nil
}

// Compressed reports whether the input was gzip-compressed.
func (r *Reader) Compressed() bool { return r.gzipped }

// Offset returns the offset of the next block in the (decompressed) input: after an error,
// the offset at which the good prefix ends.
func (r *Reader) Offset() int64 { return r.off }

// Next returns the next block: *SectionHeader, *MachineInfo, *InterfaceList, *UserList,
// *ProcessList, *FDList or *Event (reused, see Event). Blocks of unknown types are skipped.
// At a clean end of input it returns io.EOF; any other error is a *FormatError (or wraps the
// underlying reader's error) and every later call returns it again.
func (r *Reader) Next() (Block, error) {
	if r.err != nil {
		return nil, r.err
	}
	if b := r.pending; b != nil {
		r.pending = nil
		return b, nil
	}
	for {
		b, err := r.readBlock()
		if err != nil {
			r.err = err
			return nil, err
		}
		if b != nil {
			return b, nil
		}
	}
}

// readBlock reads one block; it returns (nil, nil) for a skipped unknown block.
func (r *Reader) readBlock() (Block, error) {
	off := r.off
	hdr, err := r.br.Peek(blockHeaderLen)
	if len(hdr) < blockHeaderLen {
		switch {
		case len(hdr) == 0 && errors.Is(err, io.EOF):
			return nil, io.EOF
		case err == nil || errors.Is(err, io.EOF):
			return nil, &FormatError{Offset: off, Err: fmt.Errorf("%w: %d bytes of a block header", ErrTruncated, len(hdr))}
		default:
			return nil, &FormatError{Offset: off, Err: err}
		}
	}
	raw := BlockType(binary.LittleEndian.Uint32(hdr))
	typ := canonicalBlockType(raw)
	total := int64(binary.LittleEndian.Uint32(hdr[4:]))
	if total < minBlockLen || total%4 != 0 || total > r.maxBlock {
		return nil, &FormatError{Offset: off, Type: typ, Err: fmt.Errorf("%w: block length %d", ErrBadLength, total)}
	}
	body, err := r.readN(total)
	if err != nil {
		return nil, &FormatError{Offset: off, Type: typ, Err: err}
	}
	body = body[blockHeaderLen:]
	if tr := int64(binary.LittleEndian.Uint32(body[len(body)-blockTrailerLen:])); tr != total {
		return nil, &FormatError{Offset: off, Type: typ, Err: fmt.Errorf("%w: trailer %d, length %d", ErrBadTrailer, tr, total)}
	}
	body = body[:len(body)-blockTrailerLen]
	r.off += total
	b, err := r.decode(typ, body, off)
	if err != nil {
		r.off = off
		return nil, &FormatError{Offset: off, Type: typ, Err: err}
	}
	return b, nil
}

// readN consumes n bytes (the whole block) and returns them. Blocks that fit the bufio buffer
// are returned in place (valid until the next read); larger ones are read into r.buf in
// chunks, so that a corrupt length cannot allocate more than the input holds.
func (r *Reader) readN(n int64) ([]byte, error) {
	if n <= int64(r.br.Size()) {
		b, err := r.br.Peek(int(n))
		if int64(len(b)) < n {
			if err == nil || errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%w: %d of %d bytes", ErrTruncated, len(b), n)
			}
			return nil, err
		}
		_, _ = r.br.Discard(int(n)) // cannot fail: the bytes are buffered
		return b, nil
	}
	r.buf = r.buf[:0]
	for int64(len(r.buf)) < n {
		chunk := min(n-int64(len(r.buf)), max(int64(len(r.buf)), growChunk))
		start := len(r.buf)
		r.buf = append(r.buf, make([]byte, chunk)...)
		if m, err := io.ReadFull(r.br, r.buf[start:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%w: %d of %d bytes", ErrTruncated, start+m, n)
			}
			return nil, err
		}
	}
	return r.buf, nil
}

func (r *Reader) decode(typ BlockType, body []byte, off int64) (Block, error) {
	switch typ {
	case BlockEventV2, BlockEventFlagsV2, BlockEventV2Large, BlockEventFlagsV2Large, BlockEvent, BlockEventFlags:
		if err := parseEvent(&r.ev, body, off, typ); err != nil {
			return nil, err
		}
		return &r.ev, nil
	case BlockSection:
		return parseSection(body, off)
	case BlockMachineInfo:
		return parseMachineInfo(body, off)
	case BlockProcListV1, BlockProcListV2, BlockProcListV3, BlockProcListV4, BlockProcListV5,
		BlockProcListV6, BlockProcListV7, BlockProcListV8, BlockProcListV9:
		return parseProcList(body, off, typ, procListVersion(typ))
	case BlockFDList, BlockFDListV2:
		return parseFDList(body, off, typ == BlockFDListV2)
	case BlockIfList, BlockIfListV2:
		return parseIfList(body, off, typ == BlockIfListV2)
	case BlockUserList, BlockUserListV2:
		return parseUserList(body, off, typ == BlockUserListV2)
	}
	return nil, nil // unknown block type: skipped
}
