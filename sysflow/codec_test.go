package sysflow_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/sfstream/sfstream/schemas"
	"github.com/sfstream/sfstream/sysflow"
)

func TestSchemaBranchesMatchKinds(t *testing.T) {
	s := sysflow.Schema()
	if got := s.(interface{ FullName() string }).FullName(); got != "sysflow.SysFlow" {
		t.Fatalf("top-level record %q", got)
	}
	for _, k := range sysflow.Kinds() {
		if sysflow.New(k) == nil || sysflow.New(k).Kind() != k {
			t.Errorf("New(%s) does not return a %s record", k, k)
		}
		if got, ok := sysflow.KindByFullName(k.FullName()); !ok || got != k {
			t.Errorf("KindByFullName(%q) = %v, %v", k.FullName(), got, ok)
		}
	}
}

func TestRoundTripEveryKind(t *testing.T) {
	enc := sysflow.NewEncoder()
	for _, rec := range samples() {
		t.Run(rec.Kind().String(), func(t *testing.T) {
			b, err := enc.Append(nil, rec)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if b[0] != byte(rec.Kind())*2 {
				t.Errorf("union index byte %d, want %d", b[0], rec.Kind()*2)
			}
			got, err := sysflow.Unmarshal(b)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, rec) {
				t.Errorf("round trip mismatch:\n got %+v\nwant %+v", got, rec)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	good, err := sysflow.Marshal(samples()[2])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"index out of range", []byte{0x30}},
		{"negative index", []byte{0x01}},
		{"truncated", good[:len(good)/2]},
		{"trailing bytes", append(append([]byte(nil), good...), 0)},
		{"huge string length", []byte{0x04, 0x00, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff, 0x0f}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := sysflow.Unmarshal(tt.data); err == nil {
				t.Fatal("decode succeeded, want an error")
			}
		})
	}
}

func TestEncodeRejectsBadEnum(t *testing.T) {
	_, err := sysflow.Marshal(&sysflow.File{State: "BOGUS"})
	if err == nil {
		t.Fatal("encoding an unknown enum symbol succeeded")
	}
	var nilRec sysflow.Record
	if _, err := sysflow.Marshal(nilRec); err == nil {
		t.Fatal("encoding nil succeeded")
	}
}

// An older writer schema (no cwd/env, no ip/filename, fewer union branches) resolves: missing
// fields take zero defaults and branches map by name.
func TestDecoderResolvesOlderWriter(t *testing.T) {
	const old = `{"type":"record","name":"SysFlow","namespace":"sysflow","fields":[{"name":"rec","type":[
	 {"type":"record","name":"SFHeader","namespace":"sysflow.entity","fields":[{"name":"version","type":"long"},{"name":"exporter","type":"string"}]},
	 {"type":"record","name":"Unrelated","namespace":"x","fields":[{"name":"a","type":"int"}]},
	 {"type":"record","name":"File","namespace":"sysflow.entity","fields":[
	   {"name":"state","type":{"type":"enum","name":"SFObjectState","namespace":"sysflow.type","symbols":["CREATED","MODIFIED","REUP"]}},
	   {"name":"oid","type":{"type":"fixed","name":"FOID","namespace":"sysflow.type","size":20}},
	   {"name":"ts","type":"long"},{"name":"restype","type":"int"},{"name":"path","type":"string"},
	   {"name":"containerId","type":["null","string"]},{"name":"extra","type":"string"}]}]}]}`
	dec, err := sysflow.NewDecoder(old)
	if err != nil {
		t.Fatalf("new decoder: %v", err)
	}
	// Header: index 0, version 1000, exporter "n".
	rec, err := dec.Decode([]byte{0x00, 0xd0, 0x0f, 0x02, 'n'})
	if err != nil {
		t.Fatalf("decode header: %v", err)
	}
	want := &sysflow.Header{Version: 1000, Exporter: "n", IP: "NA"}
	if !reflect.DeepEqual(rec, want) {
		t.Errorf("header = %+v, want %+v", rec, want)
	}
	// File: index 2; state REUP(2), 20 oid bytes, ts 1, restype 'f', path "/x", null, extra "zz".
	b := []byte{0x04, 0x04}
	b = append(b, make([]byte, 20)...)
	b = append(b, 0x02, 0xcc, 0x01, 0x04, '/', 'x', 0x00, 0x04, 'z', 'z')
	rec, err = dec.Decode(b)
	if err != nil {
		t.Fatalf("decode file: %v", err)
	}
	if f, ok := rec.(*sysflow.File); !ok || f.Path != "/x" || f.State != sysflow.StateReup || f.TS != 1 || f.ResType != 'f' {
		t.Errorf("file = %+v", rec)
	}
	if _, err := dec.Decode([]byte{0x02, 0x02}); !errors.Is(err, sysflow.ErrUnknownKind) {
		t.Errorf("unknown branch: err = %v, want ErrUnknownKind", err)
	}
}

func TestSchemaTextIsReferenceCompatible(t *testing.T) {
	c := schemas.Compact(schemas.SysFlow())
	if len(c) != 6162 {
		t.Errorf("compact schema is %d bytes; the reference collector's is 6162", len(c))
	}
}

func FuzzDecode(f *testing.F) {
	for _, rec := range samples() {
		b, err := sysflow.Marshal(rec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := sysflow.Unmarshal(data)
		if err != nil {
			return
		}
		// What decodes must re-encode to the same bytes.
		b, err := sysflow.Marshal(rec)
		if err != nil {
			t.Fatalf("re-encode decoded %s: %v", rec.Kind(), err)
		}
		back, err := sysflow.Unmarshal(b)
		if err != nil || !reflect.DeepEqual(back, rec) {
			t.Fatalf("re-decode mismatch: %v", err)
		}
	})
}

func BenchmarkEncodeFileFlow(b *testing.B) {
	rec := samples()[6]
	enc := sysflow.NewEncoder()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = enc.Append(buf[:0], rec); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeFileFlow(b *testing.B) {
	data, err := sysflow.Marshal(samples()[6])
	if err != nil {
		b.Fatal(err)
	}
	dec, err := sysflow.NewDecoder("")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := dec.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// hamba/avro mis-decodes an array block count of -2^63 without an error; Decode refuses any
// datum holding that varint instead.
func TestDecodeRefusesMinLongBlockCount(t *testing.T) {
	d, err := sysflow.NewDecoder("")
	if err != nil {
		t.Fatal(err)
	}
	// A ProcessEvent (branch 4) whose args array is a block of -2^63 items, then one of "a".
	b := []byte{8, 2, 2, 2, 2, 2}
	b = append(b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 2)
	b = append(b, 2, 2, 'a', 0, 0)
	if rec, err := d.Decode(b); !errors.Is(err, sysflow.ErrMinLong) {
		t.Fatalf("Decode = %+v, %v; want ErrMinLong", rec, err)
	}
}
