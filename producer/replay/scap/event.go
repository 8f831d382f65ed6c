package scap

import (
	"encoding/binary"
	"fmt"
)

// EventFlagStateOnly is the EVF flag of events kept only to maintain state (for example by a
// filtering dumper): consumers should update their tables but not report the event.
const EventFlagStateOnly = 1

// Event is one event block. The reader reuses it: it and its parameter slices are valid
// until the next call to Next.
type Event struct {
	Offset int64     // byte offset of the block
	Block  BlockType // EV, EVF, EV_V2, EVF_V2, EV_V2_LARGE or EVF_V2_LARGE
	CPU    uint16
	Flags  uint32 // EVF flags (EventFlagStateOnly); 0 for EV blocks
	TS     uint64 // ns since the epoch; 0 for some synthetic meta events
	TID    int64  // host thread id; 0 or -1 for meta events
	Type   EventType

	params [][]byte
	own    []byte // backing store of a copy made by CopyTo
}

// CopyTo makes dst a deep copy of e that stays valid after the reader moves on. It reuses
// dst's storage, so keeping one Event per purpose makes copies allocation-free.
func (e *Event) CopyTo(dst *Event) {
	own, params := dst.own[:0], dst.params[:0]
	for _, p := range e.params {
		own = append(own, p...)
	}
	pos := 0
	for _, p := range e.params {
		params = append(params, own[pos:pos+len(p):pos+len(p)])
		pos += len(p)
	}
	*dst = *e
	dst.own, dst.params = own, params
}

func (e *Event) BlockOffset() int64 { return e.Offset }
func (*Event) isBlock()             {}

// NumParams is the number of parameters the event carries.
func (e *Event) NumParams() int { return len(e.params) }

// Param returns parameter i's raw bytes, or nil when the event has no parameter i. A present
// parameter may be empty (length 0 = absent or empty value).
func (e *Event) Param(i int) []byte {
	if i < 0 || i >= len(e.params) {
		return nil
	}
	return e.params[i]
}

// Info is the event type's table entry, nil for types this package does not describe.
func (e *Event) Info() *EventInfo { return e.Type.Info() }

// Index returns the index of the named parameter of this event's type if the event carries
// it, else -1.
func (e *Event) Index(name string) int {
	i := e.Type.Info().ParamIndex(name)
	if i >= len(e.params) {
		return -1
	}
	return i
}

// Has reports whether parameter i is present and non-empty.
func (e *Event) Has(i int) bool { return len(e.Param(i)) > 0 }

func (e *Event) paramType(i int) ParamType {
	if ei := e.Type.Info(); ei != nil && i >= 0 && i < len(ei.Params) {
		return ei.Params[i].Type
	}
	return PTNone
}

// Int decodes parameter i as an integer of 1, 2, 4 or 8 bytes, sign-extended when the
// parameter's type is signed (ERRNO, FD, PID, INTn, ...). ok is false when the parameter is
// absent or has another length.
func (e *Event) Int(i int) (v int64, ok bool) {
	b := e.Param(i)
	signed := e.paramType(i).Signed()
	switch len(b) {
	case 1:
		if signed {
			return int64(int8(b[0])), true
		}
		return int64(b[0]), true
	case 2:
		u := binary.LittleEndian.Uint16(b)
		if signed {
			return int64(int16(u)), true
		}
		return int64(u), true
	case 4:
		u := binary.LittleEndian.Uint32(b)
		if signed {
			return int64(int32(u)), true
		}
		return int64(u), true
	case 8:
		return int64(binary.LittleEndian.Uint64(b)), true
	}
	return 0, false
}

// Uint decodes parameter i as an unsigned integer of 1, 2, 4 or 8 bytes.
func (e *Event) Uint(i int) (v uint64, ok bool) {
	b := e.Param(i)
	switch len(b) {
	case 1:
		return uint64(b[0]), true
	case 2:
		return uint64(binary.LittleEndian.Uint16(b)), true
	case 4:
		return uint64(binary.LittleEndian.Uint32(b)), true
	case 8:
		return binary.LittleEndian.Uint64(b), true
	}
	return 0, false
}

// String decodes parameter i as a NUL-terminated string (CHARBUF, FSPATH, FSRELPATH); the
// terminator is dropped. It allocates.
func (e *Event) String(i int) string { return cString(e.Param(i)) }

// IntNamed, UintNamed and StringNamed look the parameter up by name.
func (e *Event) IntNamed(name string) (int64, bool)   { return e.Int(e.Index(name)) }
func (e *Event) UintNamed(name string) (uint64, bool) { return e.Uint(e.Index(name)) }
func (e *Event) StringNamed(name string) string       { return e.String(e.Index(name)) }

// Header lengths of the two event header versions.
const (
	eventHeaderV1 = 22
	eventHeaderV2 = 26
)

// parseEvent splits an event block body into e. It reuses e.params.
func parseEvent(e *Event, body []byte, off int64, bt BlockType) error {
	e.Offset, e.Block, e.Flags = off, bt, 0
	e.params = e.params[:0]
	v2 := bt != BlockEvent && bt != BlockEventFlags
	withFlags := bt == BlockEventFlags || bt == BlockEventFlagsV2 || bt == BlockEventFlagsV2Large
	c := cursor{b: body}
	e.CPU = c.u16()
	if withFlags {
		e.Flags = c.u32()
	}
	start := c.off
	hl := eventHeaderV1
	if v2 {
		hl = eventHeaderV2
	}
	e.TS = c.u64()
	e.TID = c.i64()
	evLen := int64(c.u32())
	e.Type = EventType(c.u16())
	var nparams int64 = -1
	if v2 {
		nparams = int64(c.u32())
	}
	if c.err != nil {
		return fmt.Errorf("event header: %w", c.err)
	}
	if evLen < int64(hl) || int64(start)+evLen > int64(len(body)) {
		return fmt.Errorf("%w: event length %d, block holds %d", ErrBadLength, evLen, len(body)-start)
	}
	if e.Type >= MaxEventType {
		return fmt.Errorf("%w: %d", ErrUnknownEvent, e.Type)
	}
	// Bound the event by its own length: pcapng options may follow it in the block.
	data := body[start : start+int(evLen)]
	lens := data[hl:]
	if v2 {
		return e.splitParams(data, lens, nparams, largePayload(e.Type), e.Type == ContainerJSONE)
	}
	return e.splitV1(data, lens)
}

// splitParams reads nparams lengths of 2 (or 4 when large) bytes and slices the values that
// follow, requiring them to fill the event exactly. retryLarge allows the 32-bit width when
// the 16-bit one does not add up (a short-lived libs build wrote CONTAINER_JSON_E that way).
func (e *Event) splitParams(data, lens []byte, nparams int64, large, retryLarge bool) error {
	width := int64(2)
	if large {
		width = 4
	}
	err := e.slice(data, lens, nparams, width)
	if err != nil && retryLarge && !large {
		if e.slice(data, lens, nparams, 4) == nil {
			return nil
		}
	}
	return err
}

func (e *Event) slice(data, lens []byte, nparams, width int64) error {
	e.params = e.params[:0]
	if nparams < 0 || nparams*width > int64(len(lens)) {
		return fmt.Errorf("%w: %d parameters of %d-byte lengths in a %d-byte event", ErrBadLength, nparams, width, len(data))
	}
	pos := nparams * width // offset of the first value within lens
	for i := range nparams {
		var n int64
		if width == 2 {
			n = int64(binary.LittleEndian.Uint16(lens[i*2:]))
		} else {
			n = int64(binary.LittleEndian.Uint32(lens[i*4:]))
		}
		if pos+n > int64(len(lens)) {
			return fmt.Errorf("%w: parameter %d of %s (%d bytes) overruns the event", ErrBadLength, i, e.Type, n)
		}
		e.params = append(e.params, lens[pos:pos+n:pos+n])
		pos += n
	}
	if pos != int64(len(lens)) {
		return fmt.Errorf("%w: %s parameters fill %d of %d bytes", ErrBadLength, e.Type, pos, len(lens))
	}
	return nil
}

// splitV1 infers the parameter count of a v1 event (no nparams field): from the table's
// maximum N down to 0, the first n whose lengths add up to the event length.
func (e *Event) splitV1(data, lens []byte) error {
	ei := e.Type.Info()
	if ei == nil {
		return fmt.Errorf("%w: %d in a v1 event block", ErrUnknownEvent, e.Type)
	}
	if e.Type == NotificationE || e.Type == InfraEventE {
		// An old writer overstated these events' length by 3 bytes.
		if len(lens) >= 3 {
			lens = lens[:len(lens)-3]
		}
	}
	width := 2
	if ei.Large {
		width = 4
	}
	maxN := min(len(ei.Params), len(lens)/width)
	for n := maxN; n >= 0; n-- {
		sum := n * width
		for i := range n {
			if width == 2 {
				sum += int(binary.LittleEndian.Uint16(lens[i*2:]))
			} else {
				sum += int(binary.LittleEndian.Uint32(lens[i*4:]))
			}
		}
		if sum == len(lens) {
			return e.slice(data, lens, int64(n), int64(width))
		}
	}
	return fmt.Errorf("%w: no parameter count of %s fits its %d-byte event", ErrBadLength, e.Type, len(data))
}
