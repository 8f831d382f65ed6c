package scap

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"slices"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the reader: it must never panic, must end with io.EOF
// or a *FormatError, and must keep block offsets increasing.
func FuzzReader(f *testing.F) {
	for _, file := range []string{"setuid/setuid.scap", "alpine/alpine.scap", "rename/rename.scap", "client-server/tcp-client-server.scap"} {
		data := readRef(f, file)
		f.Add(data[:2048])
		offs := blockOffsets(data)
		// A run of event blocks from the middle, behind the section header.
		mid := len(offs) - 40
		f.Add(slices.Concat(data[:28], data[offs[mid]:offs[mid+12]]))
	}
	f.Add(capture(
		block(uint32(BlockEvent), eventBody(false, false, nil, 1, 2, SendToE, [][]byte{le64(5), le32(9), {AFInet, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}, nil)),
		block(uint32(BlockEventFlagsV2Large), eventBody(true, true, new(uint32), 1, 2, ContainerJSON2E, [][]byte{cstr("{}")}, nil)),
		block(uint32(BlockProcListV5), threadEntry(5, 3, 3, 1, "c", "e", "", "a\x00", "/", nil)),
		block(uint32(BlockFDList), slices.Concat(le64(3), le64(0), le64(0), []byte{1, 2, 0, 'a', 'b'})),
	))
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write(capture(evV2(1, 2, CloseE, le64(4))))
	_ = zw.Close()
	f.Add(z.Bytes())

	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), WithMaxBlockSize(1<<20))
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("NewReader error %v (%T) is not a *FormatError", err, err)
			}
			return
		}
		last := int64(-1)
		for range 100000 {
			b, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("error %v (%T) is not a *FormatError", err, err)
				}
				return
			}
			if b.BlockOffset() <= last {
				t.Fatalf("block offset %d after %d", b.BlockOffset(), last)
			}
			last = b.BlockOffset()
			if ev, ok := b.(*Event); ok {
				_ = ev.Format()
				for i := range ev.NumParams() {
					_, _ = ev.SockTuple(i)
					_, _ = ev.SockAddr(i)
					_, _ = DecodeFDList(ev.Param(i))
				}
			}
		}
	})
}
