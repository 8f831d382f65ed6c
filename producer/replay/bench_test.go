package replay

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/replay/scap"
)

// syscallCapture is a capture made only of syscalls the replay converts: 4 threads of 4
// processes doing open/read/write/close, enter and exit events as old captures have them.
func syscallCapture() []byte {
	c := newCapture()
	ts := uint64(1)
	for i := range 25000 {
		tid := int64(100 + i%4)
		for _, ev := range []func(){
			func() { c.ev(ts, tid, scap.OpenE) },
			func() { c.ev(ts, tid, scap.OpenX, i64(3), str("/var/log/app.log"), u32(0x10a), u32(0o644)) },
			func() { c.ev(ts, tid, scap.ReadE, i64(3), u32(4096)) },
			func() { c.ev(ts, tid, scap.ReadX, i64(4096), make([]byte, 80)) },
			func() { c.ev(ts, tid, scap.WriteE, i64(3), u32(128)) },
			func() { c.ev(ts, tid, scap.WriteX, i64(128), make([]byte, 80)) },
			func() { c.ev(ts, tid, scap.CloseE, i64(3)) },
			func() { c.ev(ts, tid, scap.CloseX, i64(0)) },
		} {
			ev()
			ts += 1000
		}
	}
	return c.Bytes()
}

// BenchmarkReplay replays reference captures from memory into a no-op emit function and
// reports the capture's events read per second and raw events emitted per second.
func BenchmarkReplay(b *testing.B) {
	inputs := map[string][]byte{"syscalls (synthetic)": syscallCapture()}
	for _, file := range []string{"alpine/alpine.scap", "rename/rename.scap", "client-server/tcp-client-server.scap"} {
		inputs[filepath.Base(file)] = readCapture(b, file)
	}
	for name, data := range inputs {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			var read, emitted int
			for b.Loop() {
				s, err := NewSource(bytes.NewReader(data), WithExporter("bench"))
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Run(context.Background(), func(raw.Batch) error { return nil }); err != nil {
					b.Fatal(err)
				}
				read += s.Stats().Events
				emitted += s.Stats().Emitted
			}
			b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(emitted)/b.Elapsed().Seconds(), "raw/s")
		})
	}
}
