package sffile_test

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

func strp(s string) *string { return &s }

// records returns a header followed by one populated record of every other kind.
func records() []sysflow.Record {
	oid := sysflow.OID{CreateTS: 1700000000123456789, HPID: 4242}
	poid := sysflow.OID{CreateTS: 1690000000000000000, HPID: 1}
	foid := sysflow.FOID{1, 2, 3, 19: 4}
	return []sysflow.Record{
		&sysflow.Header{Version: 5, Exporter: "node-1", IP: "10.0.0.7", Filename: "x.sf"},
		&sysflow.Container{ID: "347b1411b047", Name: "web", Image: "alpine:latest", ImageID: "sha256:abc", Type: sysflow.CTCRIO, PodID: strp("p")},
		&sysflow.Process{State: sysflow.StateModified, OID: oid, POID: &poid, TS: 5, Exe: "/bin/sh", ExeArgs: "-c  x", UID: -1, UserName: "<NA>", GID: 0, GroupName: "root", ContainerID: strp("347b1411b047"), Cwd: "/", Env: []string{"A=1"}},
		&sysflow.File{State: sysflow.StateCreated, OID: foid, TS: 6, ResType: 'd', Path: "/tmp/d", ContainerID: nil},
		&sysflow.ProcessEvent{ProcOID: oid, TS: 7, TID: 4243, OpFlags: 2, Args: []string{}, Ret: 0},
		&sysflow.NetworkFlow{ProcOID: oid, TS: 8, TID: 4242, OpFlags: 64, EndTS: 9, SIP: 16777343, SPort: 40556, DIP: 16777343, DPort: 8080, Proto: 6, FD: 3, NumRRecvOps: 1, NumWSendOps: 1, NumRRecvBytes: 5, NumWSendBytes: 5},
		&sysflow.FileFlow{ProcOID: oid, TS: 10, TID: 4242, OpFlags: 128, OpenFlags: 263, EndTS: 11, FileOID: foid, FD: 4, NumWSendOps: 1, NumWSendBytes: 12},
		&sysflow.FileEvent{ProcOID: oid, TS: 12, TID: 4242, OpFlags: 1 << 16, FileOID: foid, Ret: -2},
		&sysflow.NetworkEvent{ProcOID: oid, TS: 13, TID: 4242, OpFlags: 32, Proto: 17},
		&sysflow.ProcessFlow{ProcOID: oid, TS: 14, NumThreadsCloned: 2, OpFlags: 1, EndTS: 15, NumThreadsExited: 2},
		&sysflow.Pod{TS: 16, ID: "u", Name: "n", NodeName: "node", HostIP: []int64{1}, InternalIP: []int64{2}, Namespace: "ns", Labels: map[string]string{"a": "b"}, Selectors: map[string]string{}, Services: []sysflow.Service{}},
		&sysflow.K8sEvent{Component: "K8S_NODES", Action: "K8S_COMPONENT_DELETED", TS: 17, Message: "m"},
	}
}

func writeFile(t testing.TB, recs []sysflow.Record, opts ...sffile.Option) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := sffile.NewWriter(&buf, recs[0].(*sysflow.Header), opts...)
	if err != nil {
		t.Fatalf("new writer: %v", err)
	}
	for _, r := range recs[1:] {
		if err := w.Write(r); err != nil {
			t.Fatalf("write %s: %v", r.Kind(), err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	return buf.Bytes()
}

func readBytes(data []byte) ([]sysflow.Record, error) {
	r, err := sffile.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var out []sysflow.Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

func TestRoundTrip(t *testing.T) {
	many := records()
	for i := 0; i < 2000; i++ {
		many = append(many, records()[1:]...)
	}
	tests := []struct {
		name string
		recs []sysflow.Record
		opts []sffile.Option
	}{
		{"every kind, deflate", records(), nil},
		{"every kind, null codec", records(), []sffile.Option{sffile.WithCodec(sffile.CodecNull)}},
		{"many blocks", many, []sffile.Option{sffile.WithBlockSize(4096)}},
		{"one record per block", records(), []sffile.Option{sffile.WithBlockSize(1)}},
		{"header only", records()[:1], nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := writeFile(t, tt.recs, tt.opts...)
			got, err := readBytes(data)
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			if len(got) != len(tt.recs) {
				t.Fatalf("read %d records, wrote %d", len(got), len(tt.recs))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], tt.recs[i]) {
					t.Fatalf("record %d (%s) differs:\n got %+v\nwant %+v", i, tt.recs[i].Kind(), got[i], tt.recs[i])
				}
			}
		})
	}
}

func TestWriterOptions(t *testing.T) {
	hdr := &sysflow.Header{Version: 5}
	if _, err := sffile.NewWriter(io.Discard, nil); err == nil {
		t.Error("writer without header accepted")
	}
	if _, err := sffile.NewWriter(io.Discard, hdr, sffile.WithCodec("snappy")); err == nil {
		t.Error("unsupported codec accepted")
	}
	if _, err := sffile.NewWriter(io.Discard, hdr, sffile.WithBlockSize(0)); err == nil {
		t.Error("zero block size accepted")
	}
	sync := [16]byte{1, 2, 3}
	a := writeFile(t, records(), sffile.WithSyncMarker(sync))
	b := writeFile(t, records(), sffile.WithSyncMarker(sync))
	if !bytes.Equal(a, b) {
		t.Error("same records and sync marker gave different bytes")
	}
	// A record the schema rejects leaves the writer usable.
	var buf bytes.Buffer
	w, err := sffile.NewWriter(&buf, hdr)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&sysflow.File{State: "NOPE"}); err == nil {
		t.Error("bad enum accepted")
	}
	if err := w.Write(records()[3]); err != nil {
		t.Errorf("write after rejected record: %v", err)
	}
}

// Cutting a file anywhere gives the records before the cut and a CorruptError, never a panic
// and never a silent short read.
func TestTruncatedFiles(t *testing.T) {
	recs := records()
	for i := 0; i < 20; i++ {
		recs = append(recs, records()[1:]...)
	}
	data := writeFile(t, recs, sffile.WithBlockSize(1000))
	// Every offset of the header and first blocks, then a sample of the rest.
	next := func(cut int) int {
		if cut < 1500 {
			return cut + 1
		}
		return cut + 7
	}
	for cut := 0; cut < len(data); cut = next(cut) {
		got, err := readBytes(data[:cut])
		var ce *sffile.CorruptError
		if !errors.As(err, &ce) {
			// The only clean cuts are exactly at a block boundary.
			if err != nil {
				t.Fatalf("cut at %d: error %v is not a CorruptError", cut, err)
			}
			if len(got) >= len(recs) {
				t.Fatalf("cut at %d: read all %d records", cut, len(got))
			}
			continue
		}
		if ce.Offset < 0 || ce.Offset > int64(cut) {
			t.Fatalf("cut at %d: error offset %d out of range", cut, ce.Offset)
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], recs[i]) {
				t.Fatalf("cut at %d: record %d differs", cut, i)
			}
		}
	}
}

func TestCorruptFiles(t *testing.T) {
	data := writeFile(t, records(), sffile.WithCodec(sffile.CodecNull))
	flip := func(i int) []byte {
		d := append([]byte(nil), data...)
		d[i] ^= 0xff
		return d
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"bad magic", flip(0)},
		{"empty", nil},
		{"not avro", []byte("hello world, this is not a sysflow file")},
		{"bad sync at end", flip(len(data) - 1)},
		{"garbage block", append(append([]byte(nil), data...), 0x7f, 0x7f, 0x7f)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readBytes(tt.data)
			var ce *sffile.CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a CorruptError", err)
			}
			t.Log(err)
		})
	}
}

func FuzzReader(f *testing.F) {
	f.Add(writeFile(f, records()))
	f.Add(writeFile(f, records(), sffile.WithCodec(sffile.CodecNull)))
	f.Add(writeFile(f, records(), sffile.WithBlockSize(1), sffile.WithCodec(sffile.CodecNull)))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := sffile.NewReader(bytes.NewReader(data))
		if err != nil {
			var ce *sffile.CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("header error %v is not a CorruptError", err)
			}
			return
		}
		for i := 0; i < 1<<16; i++ {
			if _, err := r.Next(); err != nil {
				var ce *sffile.CorruptError
				if !errors.Is(err, io.EOF) && !errors.As(err, &ce) {
					t.Fatalf("error %v is neither EOF nor a CorruptError", err)
				}
				return
			}
		}
	})
}

func BenchmarkReadFile(b *testing.B) {
	recs := records()[:1]
	for i := 0; i < 10000; i++ {
		recs = append(recs, records()[6]) // typical FileFlow
	}
	data := writeFile(b, recs)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		got, err := readBytes(data)
		if err != nil || len(got) != len(recs) {
			b.Fatalf("read %d records: %v", len(got), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}

func BenchmarkWriteFile(b *testing.B) {
	hdr := records()[0].(*sysflow.Header)
	ff := records()[6]
	b.ReportAllocs()
	for b.Loop() {
		w, err := sffile.NewWriter(io.Discard, hdr)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < 10000; i++ {
			if err := w.Write(ff); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10000), "ns/record")
}

// A block holding the varint -2^63 (which hamba/avro takes for a valid array block count) is
// corrupt, with the block's offset, before any record of it is decoded.
func TestBlockWithMinLongIsCorrupt(t *testing.T) {
	pe := &sysflow.ProcessEvent{ProcOID: sysflow.OID{CreateTS: 1, HPID: 1}, TS: 1, TID: 1, OpFlags: 1, Args: []string{"a"}}
	hdr := &sysflow.Header{Version: 5, Exporter: "n"}
	data := writeFile(t, []sysflow.Record{hdr, pe}, sffile.WithCodec(sffile.CodecNull), sffile.WithBlockSize(1))
	datum, err := sysflow.NewEncoder().Append(nil, pe)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, datum)
	if i < 2 || data[i-2] != 2 || int(data[i-1]) != 2*len(datum) {
		t.Fatalf("the ProcessEvent is not alone in a block of its own")
	}
	bad := []byte{8, 2, 2, 2, 2, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 2, 2, 2, 'a', 0, 0}
	corrupt := append(append(append([]byte(nil), data[:i-1]...), byte(2*len(bad))), bad...)
	corrupt = append(corrupt, data[i+len(datum):]...)
	_, err = readBytes(corrupt)
	var ce *sffile.CorruptError
	if !errors.As(err, &ce) || !errors.Is(err, sysflow.ErrMinLong) {
		t.Fatalf("err = %v, want a CorruptError wrapping ErrMinLong", err)
	}
}
