package scap

import (
	"errors"
	"fmt"
)

// Sentinel causes wrapped by FormatError. Match them with errors.Is.
var (
	// ErrNotScap means the input does not start with a section header block.
	ErrNotScap = errors.New("not a scap capture")
	// ErrVersion means a section header declares a major version other than 1 or an
	// unsupported byte order.
	ErrVersion = errors.New("unsupported scap version")
	// ErrTruncated means the input ended inside a block.
	ErrTruncated = errors.New("truncated block")
	// ErrBadTrailer means a block's trailing length does not repeat its leading length.
	ErrBadTrailer = errors.New("block trailer does not match block length")
	// ErrBadLength means a length field is impossible: a block shorter than its framing or
	// not a multiple of 4, an event or entry longer than its container, parameter lengths
	// that do not add up to the event length.
	ErrBadLength = errors.New("impossible length")
	// ErrUnknownEvent means an event type the reader cannot split: a type code beyond any
	// event table, or (in v1 blocks, which carry no parameter count) a type missing from
	// this package's table.
	ErrUnknownEvent = errors.New("unknown event type")
	// ErrMalformed means a metadata entry whose content cannot be decoded (for example an
	// unknown fd type in an fd list without per-entry lengths).
	ErrMalformed = errors.New("malformed block content")
)

// FormatError reports a block that could not be read. Offset is the byte offset of the block
// in the (decompressed) input; Type is its block type, 0 when the header itself was not read.
type FormatError struct {
	Offset int64
	Type   BlockType
	Err    error
}

func (e *FormatError) Error() string {
	if e.Type == 0 {
		return fmt.Sprintf("read block at offset %d: %v", e.Offset, e.Err)
	}
	return fmt.Sprintf("read block at offset %d (%s): %v", e.Offset, e.Type, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }
