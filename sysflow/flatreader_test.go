package sysflow_test

import (
	"errors"
	"io"
	"testing"

	"github.com/sfstream/sfstream/sysflow"
)

// sliceReader is a RecordReader over records, ending with err (io.EOF when nil).
type sliceReader struct {
	recs []sysflow.Record
	err  error
}

func (s *sliceReader) Next() (sysflow.Record, error) {
	if len(s.recs) == 0 {
		if s.err != nil {
			return nil, s.err
		}
		return nil, io.EOF
	}
	rec := s.recs[0]
	s.recs = s.recs[1:]
	return rec, nil
}

func TestFlatReader(t *testing.T) {
	fx := newFixture()
	pe := &sysflow.ProcessEvent{ProcOID: fx.child.OID, TS: 300, OpFlags: int32(sysflow.OpExec)}
	ff := &sysflow.FileFlow{ProcOID: fx.child.OID, FileOID: fx.f1.OID, TS: 400}
	recs := append(fx.entities(), pe, ff)
	boom := errors.New("boom")

	tests := []struct {
		name      string
		opts      []sysflow.FlattenOption
		err       error // the source's final error
		wantKinds []sysflow.Kind
	}{
		{"events and flows", nil, nil, []sysflow.Kind{sysflow.KindProcessEvent, sysflow.KindFileFlow}},
		{"with entities", []sysflow.FlattenOption{sysflow.WithEntities()}, nil, []sysflow.Kind{
			sysflow.KindHeader, sysflow.KindPod, sysflow.KindContainer, sysflow.KindProcess, sysflow.KindProcess,
			sysflow.KindFile, sysflow.KindFile, sysflow.KindProcessEvent, sysflow.KindFileFlow}},
		{"source error", nil, boom, []sysflow.Kind{sysflow.KindProcessEvent, sysflow.KindFileFlow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sysflow.NewFlatReader(&sliceReader{recs: recs, err: tt.err}, tt.opts...)
			var kinds []sysflow.Kind
			var last *sysflow.Flat
			for {
				flat, err := r.Next()
				if err != nil {
					want := tt.err
					if want == nil {
						want = io.EOF
					}
					if !errors.Is(err, want) {
						t.Fatalf("Next: %v, want %v", err, want)
					}
					break
				}
				kinds = append(kinds, flat.Kind)
				last = flat
			}
			if len(kinds) != len(tt.wantKinds) {
				t.Fatalf("kinds %v, want %v", kinds, tt.wantKinds)
			}
			for i := range kinds {
				if kinds[i] != tt.wantKinds[i] {
					t.Fatalf("kinds %v, want %v", kinds, tt.wantKinds)
				}
			}
			if last.Rec != ff || last.Process != fx.child || last.Parent != fx.parent || last.File != fx.f1 ||
				last.Container != fx.cont || last.Pod != fx.pod || last.Header != fx.hdr {
				t.Errorf("last flat %+v: not joined with its entities", last)
			}
			if got := r.Flattener().Process(fx.parent.OID); got != fx.parent {
				t.Errorf("Flattener().Process(parent) = %v", got)
			}
		})
	}
}
