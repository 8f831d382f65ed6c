package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/sfstream/sfstream/internal/raw"
)

// MagicByte is the first byte of every value in the registry wire format.
const MagicByte byte = 0

// HeaderSize is the length of the wire-format header: the magic byte and the schema id.
const HeaderSize = 5

// Errors a caller can branch on. All of them mean the record itself is bad.
var (
	// ErrShortRecord marks a value shorter than the 5-byte header.
	ErrShortRecord = errors.New("record shorter than the wire-format header")
	// ErrBadMagic marks a value whose first byte is not MagicByte.
	ErrBadMagic = errors.New("bad magic byte")
	// ErrIncompatible marks a writer schema that cannot be read as ours: another record
	// type, another schema format, or an evolution that breaks resolution.
	ErrIncompatible = errors.New("writer schema incompatible")
	// ErrMalformed marks an Avro body that does not decode with its writer schema.
	ErrMalformed = errors.New("malformed avro body")
)

// UnknownIDError is returned when the registry does not know a record's schema id.
type UnknownIDError struct {
	ID int
}

func (e *UnknownIDError) Error() string { return fmt.Sprintf("unknown schema id %d", e.ID) }

// IsBadRecord reports whether err means that the record is bad and will never decode (send it
// to a dead-letter topic), as opposed to a transient failure such as an unreachable registry.
func IsBadRecord(err error) bool {
	var unknown *UnknownIDError
	return errors.Is(err, ErrShortRecord) || errors.Is(err, ErrBadMagic) ||
		errors.Is(err, ErrIncompatible) || errors.Is(err, ErrMalformed) ||
		errors.Is(err, raw.ErrInvalid) || errors.As(err, &unknown)
}

// Subject returns the registry subject of a topic's values (topic-name strategy).
func Subject(topic string) string { return topic + "-value" }

// AppendHeader appends the wire-format header for schema id to dst.
func AppendHeader(dst []byte, id int) []byte {
	dst = append(dst, MagicByte)
	return binary.BigEndian.AppendUint32(dst, uint32(id))
}

// ParseHeader splits a wire-format value into its schema id and Avro body.
func ParseHeader(b []byte) (id int, body []byte, err error) {
	if len(b) < HeaderSize {
		return 0, nil, fmt.Errorf("parse header: %w: %d bytes", ErrShortRecord, len(b))
	}
	if b[0] != MagicByte {
		return 0, nil, fmt.Errorf("parse header: %w: 0x%02x", ErrBadMagic, b[0])
	}
	u := binary.BigEndian.Uint32(b[1:HeaderSize])
	if u > math.MaxInt32 {
		// Registries assign positive 32-bit ids; a larger one cannot exist.
		return 0, nil, fmt.Errorf("parse header: %w", &UnknownIDError{ID: int(u)})
	}
	return int(u), b[HeaderSize:], nil
}
