package scap

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// BenchmarkReader decodes a whole reference capture per iteration, splitting every event.
func BenchmarkReader(b *testing.B) {
	data := readRef(b, "alpine/alpine.scap")
	b.SetBytes(int64(len(data)))
	events := 0
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for {
			blk, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if _, ok := blk.(*Event); ok {
				events++
			}
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
