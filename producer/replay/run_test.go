package replay

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/replay/scap"
)

func readCapture(t testing.TB, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(refDir, file))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestCorruptCapture: a damaged capture yields everything decoded before the damage, then a
// *scap.FormatError carrying the offset.
func TestCorruptCapture(t *testing.T) {
	data := readCapture(t, "client-server/tcp-client-server.scap")
	full := replay(t, "client-server/tcp-client-server.scap")
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"truncated", data[:len(data)-1000], scap.ErrTruncated},
		{"bad trailer", func() []byte {
			b := bytes.Clone(data)
			b[len(b)-1] ^= 0xff // the last block's trailer
			return b
		}(), scap.ErrBadTrailer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSource(bytes.NewReader(tt.data), WithExporter("tests"))
			if err != nil {
				t.Fatal(err)
			}
			var got []raw.Event
			err = s.Run(context.Background(), func(b raw.Batch) error {
				got = append(got, b.Events...)
				return nil
			})
			var fe *scap.FormatError
			if !errors.As(err, &fe) || fe.Offset <= 0 || fe.Offset >= int64(len(data)) {
				t.Fatalf("err = %v, want a *scap.FormatError with the offset", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if len(got) == 0 || len(got) > len(full.events) {
				t.Fatalf("delivered %d events (full replay: %d)", len(got), len(full.events))
			}
			for i := range got {
				if w := full.events[i]; got[i].Op != w.Op || got[i].TS != w.TS || got[i].TID != w.TID {
					t.Fatalf("event %d: %s@%d, the full replay has %s@%d", i, got[i].Op, got[i].TS, w.Op, w.TS)
				}
			}
			for _, e := range got {
				if e.Op == raw.OpEnd {
					t.Error("END emitted for a capture that did not end cleanly")
				}
			}
		})
	}
	t.Run("not a capture", func(t *testing.T) {
		_, err := NewSource(bytes.NewReader([]byte("GIF89a...")))
		if !errors.Is(err, scap.ErrNotScap) {
			t.Errorf("err = %v, want ErrNotScap", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if _, err := Open(filepath.Join(t.TempDir(), "nope.scap")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestByteFlipsDoNotPanic(t *testing.T) {
	data := readCapture(t, "setuid/setuid.scap")
	for i := 0; i < len(data); i += len(data) / 97 {
		bad := bytes.Clone(data)
		bad[i] ^= 0x5a
		s, err := NewSource(bytes.NewReader(bad))
		if err != nil {
			continue
		}
		err = s.Run(context.Background(), func(b raw.Batch) error { return b.Validate() })
		var fe *scap.FormatError
		if err != nil && !errors.As(err, &fe) {
			t.Errorf("flip at %d: %v", i, err)
		}
	}
}

func TestPace(t *testing.T) {
	var slept time.Duration
	now := time.Unix(0, 0)
	s, err := Open(filepath.Join(refDir, "setuid/setuid.scap"), WithPace(true))
	if err != nil {
		t.Fatal(err)
	}
	s.cfg.now = func() time.Time { return now }
	s.cfg.sleep = func(ctx context.Context, d time.Duration) error {
		slept += d
		now = now.Add(d)
		return nil
	}
	var first, last int64
	err = s.Run(context.Background(), func(b raw.Batch) error {
		for _, e := range b.Events {
			if e.Op == raw.OpSnapshot {
				continue
			}
			if first == 0 {
				first = e.TS
			}
			last = e.TS
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The clock only moves when the replay sleeps: it sleeps through the capture's gaps, up
	// to the end notices, which carry the capture's last timestamp.
	if span := time.Duration(last - first); slept < span-50*time.Millisecond || slept > span {
		t.Errorf("slept %v for a capture spanning %v", slept, span)
	}
}

func TestRunStops(t *testing.T) {
	t.Run("cancelled", func(t *testing.T) {
		s, err := Open(filepath.Join(refDir, "alpine/alpine.scap"), WithPace(true))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		err = s.Run(ctx, func(raw.Batch) error { cancel(); return nil })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("emit fails", func(t *testing.T) {
		s, err := Open(filepath.Join(refDir, "alpine/alpine.scap"))
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("broker down")
		n := 0
		err = s.Run(context.Background(), func(raw.Batch) error { n++; return boom })
		if !errors.Is(err, boom) || n != 1 {
			t.Errorf("err = %v after %d batches", err, n)
		}
		if err := s.Run(context.Background(), func(raw.Batch) error { return nil }); err == nil {
			t.Error("second Run succeeded")
		}
	})
}

func TestDefaultExporter(t *testing.T) {
	s, err := Open(filepath.Join(refDir, "setuid/setuid.scap"))
	if err != nil {
		t.Fatal(err)
	}
	var exporter string
	if err := s.Run(context.Background(), func(b raw.Batch) error { exporter = b.Exporter; return nil }); err != nil {
		t.Fatal(err)
	}
	if exporter != "canaris" { // the capture's machine info hostname
		t.Errorf("exporter %q", exporter)
	}
}

func TestOpHistogram(t *testing.T) {
	h, err := OpHistogram(context.Background(), filepath.Join(refDir, "rename/rename.scap"))
	if err != nil {
		t.Fatal(err)
	}
	if h[raw.OpRename] != 1 || h[raw.OpSnapshot] != 356 || h[raw.OpOpen] != 25 {
		t.Errorf("histogram %v", h)
	}
}
