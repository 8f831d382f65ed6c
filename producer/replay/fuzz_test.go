package replay

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/replay/scap"
)

// FuzzReplay runs arbitrary captures through the whole replay: no panic, every batch valid,
// errors only from the capture.
func FuzzReplay(f *testing.F) {
	f.Add(syscallCaptureSmall())
	for _, file := range []string{"setuid/setuid.scap", "client-server/tcp-client-server.scap", "alpine/alpine.scap"} {
		data := readCapture(f, file)
		// The section header, then a run of blocks from the middle of the event stream.
		offs := []int{}
		for off := 0; off+8 <= len(data); off += int(binary.LittleEndian.Uint32(data[off+4:])) {
			offs = append(offs, off)
		}
		mid := len(offs) - 60
		f.Add(slices.Concat(data[:28], data[offs[mid]:offs[mid+40]]))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := NewSource(bytes.NewReader(data), WithExporter("fuzz"))
		if err != nil {
			return
		}
		err = s.Run(context.Background(), func(b raw.Batch) error { return b.Validate() })
		var fe *scap.FormatError
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("run: %v", err)
		}
	})
}

// syscallCaptureSmall has one of each syscall shape the replay converts.
func syscallCaptureSmall() []byte {
	c := newCapture().procs([4]any{int64(10), int64(10), int64(1), "/"})
	c.ev(1, 10, scap.Clone20X, clone20X(11, 10, 10, 1, 0, 10, 10)...)
	c.ev(2, 11, scap.Clone20X, clone20X(0, 11, 11, 10, 0, 11, 11)...)
	c.ev(3, 11, scap.OpenX, i64(3), str("rel/x"), u32(2), u32(0))
	c.ev(4, 11, scap.ConnectE, i64(3)).ev(5, 11, scap.ConnectX, i64(0), append([]byte{1}, make([]byte, 17)...))
	c.ev(6, 11, scap.FchdirE, i64(3)).ev(7, 11, scap.FchdirX, i64(0))
	c.ev(8, 11, scap.Execve19E, str("/bin/x")).ev(9, 11, scap.Execve19X, i64(0), str("x"), []byte("a\x00"), i64(11), i64(11), i64(10))
	c.ev(10, 11, scap.ProcExit1E, i64(0))
	return c.Bytes()
}
