package scap

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

// cursor decodes little-endian fields from a byte slice. The first short read sets err and
// makes every later read return zero values, so that decoders can read a whole entry and
// check once.
type cursor struct {
	b   []byte
	off int
	err error
}

func (c *cursor) left() int { return len(c.b) - c.off }

func (c *cursor) take(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || n > c.left() {
		c.err = fmt.Errorf("%w: need %d bytes at +%d, have %d", ErrBadLength, n, c.off, c.left())
		return nil
	}
	s := c.b[c.off : c.off+n]
	c.off += n
	return s
}

func (c *cursor) u8() uint8 {
	if b := c.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (c *cursor) u16() uint16 {
	if b := c.take(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (c *cursor) u32() uint32 {
	if b := c.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (c *cursor) u64() uint64 {
	if b := c.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (c *cursor) i64() int64 { return int64(c.u64()) }

// bytes16 reads a u16 length and that many bytes (the metadata string encoding).
func (c *cursor) bytes16() []byte {
	n := c.u16()
	return c.take(int(n))
}

// str16 reads a u16-length string; a trailing NUL, if a writer left one, is dropped.
func (c *cursor) str16() string { return cString(c.bytes16()) }

// cString returns b as a string without its trailing NUL terminator(s).
func cString(b []byte) string {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return string(b)
}

// SplitNul splits a NUL-separated list (args, env, cgroups) into its elements, as libsinsp
// does: one trailing NUL ends the buffer, and every element before it is NUL-terminated, so
// "a\x00b\x00" gives [a b], "\x00\x00\x00" gives two empty strings and "\x00" none. An
// unterminated last element is kept. Empty input gives nil.
func SplitNul(b []byte) []string {
	if len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return nil
	}
	all := string(b) // one allocation; the elements share it
	out := make([]string, 0, bytes.Count(b, []byte{0})+1)
	for len(all) > 0 {
		i := strings.IndexByte(all, 0)
		if i < 0 {
			return append(out, all)
		}
		out = append(out, all[:i])
		all = all[i+1:]
	}
	return out
}
