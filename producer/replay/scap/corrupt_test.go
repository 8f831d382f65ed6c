package scap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
)

// blockOffsets walks the framing of a well-formed capture: the offset of every block, and
// len(data) last.
func blockOffsets(data []byte) []int {
	var offs []int
	for off := 0; off+8 <= len(data); {
		offs = append(offs, off)
		off += int(binary.LittleEndian.Uint32(data[off+4:]))
	}
	return append(offs, len(data))
}

// drain reads data to the end and returns fingerprints of the events delivered (with their
// block offsets) and the final error (nil for a clean EOF).
func drain(data []byte) (offsets []int64, events []uint64, err error) {
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	for {
		b, err := r.Next()
		if errors.Is(err, io.EOF) {
			return offsets, events, nil
		}
		if err != nil {
			if _, again := r.Next(); again != err {
				return offsets, events, errors.New("error is not sticky")
			}
			return offsets, events, err
		}
		if ev, ok := b.(*Event); ok {
			offsets = append(offsets, ev.Offset)
			events = append(events, fingerprint(ev))
		}
	}
}

func TestMalformed(t *testing.T) {
	shb := shbBlock(1, 2, nil)
	good := evV2(1, 2, CloseE, le64(4))
	withTrailer := func(b []byte, v uint32) []byte {
		b = slices.Clone(b)
		binary.LittleEndian.PutUint32(b[len(b)-4:], v)
		return b
	}
	withLen := func(b []byte, v uint32) []byte {
		b = slices.Clone(b)
		binary.LittleEndian.PutUint32(b[4:], v)
		return b
	}
	// patch overwrites bytes of an event block at an offset within the event header.
	patch := func(b []byte, at int, v []byte) []byte {
		b = slices.Clone(b)
		copy(b[8+2+at:], v)
		return b
	}
	n := len(shb)
	tests := []struct {
		name       string
		data       []byte
		want       error
		wantOffset int64
		wantEvents int
	}{
		{"empty input", nil, ErrNotScap, 0, 0},
		{"not a capture", []byte("hello, world, this is text"), ErrNotScap, 0, 0},
		{"bad byte-order magic", func() []byte { b := slices.Clone(shb); b[8] = 0; return b }(), ErrVersion, 0, 0},
		{"major version 2", func() []byte { b := slices.Clone(shb); b[12] = 2; return b }(), ErrVersion, 0, 0},
		{"truncated block header", append(slices.Clone(shb), 0x16, 2, 0), ErrTruncated, int64(n), 0},
		{"truncated block body", slices.Concat(shb, good[:len(good)-5]), ErrTruncated, int64(n), 0},
		{"bad trailer", slices.Concat(shb, good, withTrailer(good, 12)), ErrBadTrailer, int64(n + len(good)), 1},
		{"length below framing", slices.Concat(shb, withLen(good, 8)), ErrBadLength, int64(n), 0},
		{"length not a multiple of 4", slices.Concat(shb, withLen(good, 42)), ErrBadLength, int64(n), 0},
		{"length beyond any block", slices.Concat(shb, withLen(good, 0xFFFFFFF0)), ErrBadLength, int64(n), 0},
		{"length beyond the input", slices.Concat(shb, good, withLen(good, 64<<20)), ErrTruncated, int64(n + len(good)), 1},
		{"event longer than its block", slices.Concat(shb, patch(good, 16, le32(500))), ErrBadLength, int64(n), 0},
		{"event shorter than its header", slices.Concat(shb, patch(good, 16, le32(10))), ErrBadLength, int64(n), 0},
		{"parameter lengths overrun", slices.Concat(shb, patch(good, 26, []byte{200, 0})), ErrBadLength, int64(n), 0},
		{"parameter lengths fall short", slices.Concat(shb, patch(good, 26, []byte{4, 0})), ErrBadLength, int64(n), 0},
		{"huge parameter count", slices.Concat(shb, patch(good, 22, le32(0xFFFFFFFF))), ErrBadLength, int64(n), 0},
		{"event type beyond any table", slices.Concat(shb, good, patch(good, 20, []byte{0xff, 0xff})), ErrUnknownEvent, int64(n + len(good)), 1},
		{"v1 event of unknown type", slices.Concat(shb, block(uint32(BlockEvent), eventBody(false, false, nil, 1, 2, 999, [][]byte{{1}}, nil))), ErrUnknownEvent, int64(n), 0},
		{"v1 event no count fits", slices.Concat(shb, block(uint32(BlockEvent), func() []byte {
			b := eventBody(false, false, nil, 1, 2, CloseE, [][]byte{le64(4)}, nil)
			binary.LittleEndian.PutUint32(b[2+16:], uint32(len(b)-2+1))
			return append(b, 9) // one byte more than any parameter count explains
		}())), ErrBadLength, int64(n), 0},
		{"process entry overruns", slices.Concat(shb, block(uint32(BlockProcListV9), le32(1000))), ErrBadLength, int64(n), 0},
		{"process entry truncated", slices.Concat(shb, block(uint32(BlockProcListV1), threadEntry(1, 1, 1, 0, "c", "e", "", "", "/", nil)[:30])), ErrBadLength, int64(n), 0},
		{"gzip header only", []byte{0x1f, 0x8b, 8}, nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, events, err := drain(tt.data)
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v (%T), want a *FormatError", err, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if fe.Offset != tt.wantOffset {
				t.Errorf("offset = %d, want %d", fe.Offset, tt.wantOffset)
			}
			if len(events) != tt.wantEvents {
				t.Errorf("delivered %d events before the error, want %d", len(events), tt.wantEvents)
			}
		})
	}
}

// TestTruncatedCaptures cuts real captures at many offsets: each cut must deliver exactly
// the events of the blocks before it, then a clean EOF (cut at a block boundary) or
// ErrTruncated at the offset of the cut block.
func TestTruncatedCaptures(t *testing.T) {
	files := []string{"setuid/setuid.scap", "client-server/tcp-client-server.scap", "rename/rename.scap"}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			data := readRef(t, f)
			offs := blockOffsets(data)
			evOffsets, events, err := drain(data)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, uint64(len(data))))
			cuts := []int{0, 1, 7, 8, 27, 28, 29, len(data) - 1}
			for range 30 {
				i := rng.IntN(len(offs) - 1)
				cuts = append(cuts, offs[i], offs[i]+1, offs[i]+8, offs[i]+(offs[i+1]-offs[i])/2, offs[i+1]-1)
			}
			cuts = append(cuts, offs[len(offs)/2:len(offs)/2+20]...)
			for _, cut := range cuts {
				if cut < 0 || cut > len(data) {
					continue
				}
				gotOffs, got, err := drain(data[:cut])
				// Blocks wholly before the cut are delivered.
				want := 0
				for want < len(evOffsets) && blockEnd(offs, evOffsets[want]) <= cut {
					want++
				}
				if len(got) != want || !slices.Equal(got, events[:len(got)]) || !slices.Equal(gotOffs, evOffsets[:len(got)]) {
					t.Fatalf("cut %d: delivered %d events, want the first %d", cut, len(got), want)
				}
				i, exact := slices.BinarySearch(offs, cut)
				switch {
				case exact && cut > 0 && err == nil:
				case exact && cut > 0:
					t.Fatalf("cut %d at a block boundary: err = %v, want EOF", cut, err)
				default:
					var fe *FormatError
					if !errors.As(err, &fe) || !(errors.Is(err, ErrTruncated) || errors.Is(err, ErrNotScap)) {
						t.Fatalf("cut %d: err = %v, want a truncation error", cut, err)
					}
					if start := offs[max(i-1, 0)]; fe.Offset != int64(start) && cut >= 28 {
						t.Fatalf("cut %d: error offset %d, want %d", cut, fe.Offset, start)
					}
				}
			}
		})
	}
}

// fingerprint hashes everything the reader decoded from an event.
func fingerprint(ev *Event) uint64 {
	h := fnv.New64a()
	var b []byte
	b = binary.LittleEndian.AppendUint64(b, ev.TS)
	b = binary.LittleEndian.AppendUint64(b, uint64(ev.TID))
	b = binary.LittleEndian.AppendUint32(b, uint32(ev.Type)<<16|uint32(ev.CPU))
	b = binary.LittleEndian.AppendUint32(b, ev.Flags)
	for i := range ev.NumParams() {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(ev.Param(i))))
		b = append(b, ev.Param(i)...)
	}
	h.Write(b)
	return h.Sum64()
}

func blockEnd(offs []int, start int64) int {
	i, _ := slices.BinarySearch(offs, int(start))
	return offs[i+1]
}

// TestByteFlips corrupts single bytes: the reader must not panic, must report a
// *FormatError if anything, and must deliver unchanged every event of the blocks before the
// corrupted one.
func TestByteFlips(t *testing.T) {
	data := readRef(t, "setuid/setuid.scap")
	offs := blockOffsets(data)
	evOffsets, events, err := drain(data)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for range 300 {
		pos := rng.IntN(len(data))
		bad := slices.Clone(data)
		bad[pos] ^= byte(1 + rng.IntN(255))
		gotOffs, got, err := drain(bad)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("flip at %d: err = %v (%T), want a *FormatError", pos, err, err)
			}
		}
		i, exact := slices.BinarySearch(offs, pos)
		if !exact {
			i--
		}
		for k := range got {
			if gotOffs[k] >= int64(offs[i]) {
				break
			}
			if got[k] != events[k] || gotOffs[k] != evOffsets[k] {
				t.Fatalf("flip at %d: event %d before the corrupted block changed", pos, k)
			}
		}
	}
}

func TestMaxBlockSize(t *testing.T) {
	data := capture(evV2(1, 2, CloseE, le64(4)))
	r, err := NewReader(bytes.NewReader(data), WithMaxBlockSize(32)) // the 28-byte header fits
	if err != nil {
		t.Fatal(err)
	}
	next(t, r)
	if _, err := r.Next(); !errors.Is(err, ErrBadLength) {
		t.Errorf("err = %v, want ErrBadLength", err)
	}
}
