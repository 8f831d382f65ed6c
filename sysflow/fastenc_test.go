package sysflow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/hamba/avro/v2"
)

// fastKinds are the kinds appendFast encodes by hand.
var fastKinds = []Kind{KindProcess, KindFile, KindProcessEvent, KindNetworkFlow, KindFileFlow, KindFileEvent, KindProcessFlow}

// entropy feeds fillRandom: from a PRNG, or from fuzz input (zeros once it runs out, which
// steers every choice below to its first, smallest option).
type entropy struct {
	rng  *rand.Rand
	data []byte
}

func (e *entropy) byte() byte {
	if e.rng != nil {
		return byte(e.rng.Uint32())
	}
	if len(e.data) == 0 {
		return 0
	}
	b := e.data[0]
	e.data = e.data[1:]
	return b
}

func (e *entropy) uint64() uint64 {
	if e.rng != nil {
		return e.rng.Uint64()
	}
	var buf [8]byte
	n := copy(buf[:], e.data)
	e.data = e.data[n:]
	return binary.LittleEndian.Uint64(buf[:])
}

// intn returns a number in [0,n).
func (e *entropy) intn(n int) int {
	return int(e.uint64() % uint64(n))
}

var objectStateType = reflect.TypeFor[ObjectState]()

// fillRandom sets v, and everything it points to, to arbitrary values: extremes and varint
// boundaries of numbers, nil and non-nil pointers, nil, empty and multi-block arrays, empty,
// long, non-ASCII and invalid UTF-8 strings. Unless validEnums, an ObjectState is sometimes
// not a symbol of the enum. It panics on a type it does not know, so that a new field of a
// new type fails the tests until it is handled here and in fastenc.go.
func fillRandom(v reflect.Value, e *entropy, validEnums bool) {
	if v.Type() == objectStateType {
		syms := []ObjectState{StateCreated, StateModified, StateReup}
		i := e.intn(len(syms) + 2)
		switch {
		case i < len(syms) || validEnums:
			v.SetString(string(syms[i%len(syms)]))
		case i == len(syms):
			v.SetString("")
		default:
			v.SetString("created") // wrong case
		}
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(e.byte()&1 == 1)
	case reflect.Int32, reflect.Int64:
		v.SetInt(randomInt(e, v.Type().Bits()))
	case reflect.String:
		v.SetString(randomString(e))
	case reflect.Array:
		if v.Type().Elem().Kind() != reflect.Uint8 {
			panic(fmt.Sprintf("fillRandom: unsupported array type %s", v.Type()))
		}
		for i := range v.Len() {
			v.Index(i).SetUint(uint64(e.byte()))
		}
	case reflect.Slice:
		lens := []int{-1, 0, 1, 2, 3, 7, 99, 100, 101, 200, 201, 250}
		n := lens[e.intn(len(lens))]
		if n < 0 {
			v.SetZero()
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			fillRandom(v.Index(i), e, validEnums)
		}
	case reflect.Pointer:
		if e.byte()&1 == 0 {
			v.SetZero()
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fillRandom(v.Elem(), e, validEnums)
	case reflect.Struct:
		for i := range v.NumField() {
			fillRandom(v.Field(i), e, validEnums)
		}
	default:
		panic(fmt.Sprintf("fillRandom: unsupported type %s", v.Type()))
	}
}

// randomInt returns a signed integer of the given width.
func randomInt(e *entropy, bits int) int64 {
	lo, hi := int64(-1)<<(bits-1), int64(1)<<(bits-1)-1
	switch e.intn(6) {
	case 0:
		return 0
	case 1: // one-byte varints and their neighbours
		return int64(e.intn(132)) - 66
	case 2:
		return []int64{lo, hi, lo + 1, hi - 1, -1, 1}[e.intn(6)]
	case 3: // around every varint length boundary
		k := e.intn(bits - 1)
		x := int64(1)<<k + int64(e.intn(3)) - 1
		if e.byte()&1 == 1 {
			x = -x
		}
		return x
	default:
		u := e.uint64() >> (64 - bits)
		return int64(u<<(64-bits)) >> (64 - bits) // sign-extend the low bits
	}
}

var nonASCII = []rune("äöüßéèñçøåæ€£¥©®™µ—…αβγδλπσωабвгдж中文字日本語한국어🚀🙂👍\u200b\u00a0\ufeff\U0010ffff")

func randomString(e *entropy) string {
	var n int
	switch e.intn(6) {
	case 0:
		return ""
	case 1: // short ASCII
		b := make([]byte, e.intn(20)+1)
		for i := range b {
			b[i] = ' ' + e.byte()%95
		}
		return string(b)
	case 2: // non-ASCII UTF-8
		r := make([]rune, e.intn(40)+1)
		for i := range r {
			r[i] = nonASCII[e.intn(len(nonASCII))]
		}
		return string(r)
	case 3: // arbitrary bytes, mostly invalid UTF-8, around the one-byte length boundary
		n = 60 + e.intn(10)*10
	case 4: // long: multi-byte lengths
		n = 127 + e.intn(4000)
	default:
		n = e.intn(64)
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = e.byte()
	}
	return string(b)
}

// fillNonZero sets every field reachable from v to a value that is not its zero value, and
// fails on a type it does not know.
func fillNonZero(t *testing.T, v reflect.Value, seed *int64) {
	t.Helper()
	*seed++
	if v.Type() == objectStateType {
		v.SetString(string(StateModified))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int32, reflect.Int64:
		v.SetInt(-*seed * 1000003)
	case reflect.String:
		v.SetString(fmt.Sprintf("value-%d-é", *seed))
	case reflect.Array:
		for i := range v.Len() {
			v.Index(i).SetUint(uint64(*seed) + uint64(i))
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 3, 3))
		for i := range 3 {
			fillNonZero(t, v.Index(i), seed)
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillNonZero(t, v.Elem(), seed)
	case reflect.Struct:
		for i := range v.NumField() {
			fillNonZero(t, v.Field(i), seed)
		}
	default:
		t.Fatalf("fillNonZero: unsupported type %s", v.Type())
	}
}

// withEmptySlices returns a shallow copy of rec with nil slice fields made empty: the decoder
// returns an empty slice for an empty array, and the encoders write nil and empty alike.
func withEmptySlices(rec Record) Record {
	v := reflect.ValueOf(rec).Elem()
	cp := reflect.New(v.Type())
	cp.Elem().Set(v)
	for i := range cp.Elem().NumField() {
		if f := cp.Elem().Field(i); f.Kind() == reflect.Slice && f.IsNil() {
			f.Set(reflect.MakeSlice(f.Type(), 0, 0))
		}
	}
	return cp.Interface().(Record)
}

// checkFastMatchesHamba encodes rec with appendFast, Append and appendHamba and fails unless
// they agree: the same bytes, or (for a value hamba rejects) appendFast declining without
// touching dst and Append returning hamba's error. It returns whether rec encoded.
func checkFastMatchesHamba(t testing.TB, enc *Encoder, rec Record, roundTrip bool) bool {
	t.Helper()
	// dst has a prefix to keep and spare capacity filled with a sentinel that a declined
	// encoding must not overwrite.
	const prefix, spare = "prefix", 64
	newDst := func() []byte {
		b := make([]byte, len(prefix), len(prefix)+spare)
		copy(b, prefix)
		full := b[:cap(b)]
		for i := len(b); i < cap(b); i++ {
			full[i] = 0xa5
		}
		return b
	}
	untouched := func(b []byte) bool {
		if string(b) != prefix {
			return false
		}
		for _, c := range b[len(b):cap(b)] {
			if c != 0xa5 {
				return false
			}
		}
		return true
	}

	want, herr := enc.appendHamba(newDst(), rec)
	fastDst := newDst()
	fast, ok := appendFast(fastDst, rec)
	got, aerr := enc.Append(newDst(), rec)

	if herr != nil {
		if ok {
			t.Fatalf("%T: hamba fails (%v) but appendFast encoded % x", rec, herr, fast)
		}
		if !untouched(fast) || !untouched(fastDst) {
			t.Fatalf("%T: appendFast declined but changed dst", rec)
		}
		if aerr == nil || aerr.Error() != herr.Error() {
			t.Fatalf("%T: Append error %v, hamba's %v", rec, aerr, herr)
		}
		if !untouched(got) {
			t.Fatalf("%T: Append failed but changed dst", rec)
		}
		return false
	}
	if !ok {
		t.Fatalf("%T: appendFast declined a value hamba encodes: %+v", rec, rec)
	}
	if !bytes.Equal(fast, want) {
		t.Fatalf("%T: fast encoding differs from hamba's\nfast  % x\nhamba % x\nvalue %+v", rec, fast, want, rec)
	}
	if aerr != nil || !bytes.Equal(got, want) {
		t.Fatalf("%T: Append = % x, %v; want hamba's % x", rec, got, aerr, want)
	}
	if roundTrip && CheckMinLong(fast[len(prefix):]) != nil {
		// A long of exactly -2^63 is refused by the decoders (CheckMinLong): no round trip.
		if _, err := Unmarshal(fast[len(prefix):]); !errors.Is(err, ErrMinLong) {
			t.Fatalf("%T: decoding a value holding -2^63: %v, want ErrMinLong", rec, err)
		}
		roundTrip = false
	}
	if roundTrip {
		back, err := Unmarshal(fast[len(prefix):])
		if err != nil {
			t.Fatalf("%T: decode fast encoding: %v", rec, err)
		}
		if w := withEmptySlices(rec); !reflect.DeepEqual(back, w) {
			t.Fatalf("%T: round trip mismatch:\n got %+v\nwant %+v", rec, back, w)
		}
	}
	return true
}

func TestFastEncodeMatchesHambaRandom(t *testing.T) {
	iters := 3000
	if testing.Short() {
		iters = 300
	}
	enc := NewEncoder()
	for _, k := range fastKinds {
		t.Run(k.String(), func(t *testing.T) {
			e := &entropy{rng: rand.New(rand.NewPCG(uint64(k), 0x5f3759df))}
			encoded := 0
			for range iters {
				rec := New(k)
				fillRandom(reflect.ValueOf(rec).Elem(), e, false)
				if checkFastMatchesHamba(t, enc, rec, true) {
					encoded++
				}
			}
			if encoded < iters/2 {
				t.Errorf("only %d of %d random values encoded", encoded, iters)
			}
		})
	}
}

func TestFastEncodeEdgeCases(t *testing.T) {
	enc := NewEncoder()
	oid := OID{CreateTS: math.MinInt64, HPID: math.MaxInt64}
	foid := FOID{0: 0xff, 19: 0x80}
	empty, long := "", string(bytes.Repeat([]byte("é"), 300))
	strs := func(n int) []string {
		ss := make([]string, n)
		for i := range ss {
			ss[i] = fmt.Sprint(i)
		}
		return ss
	}
	recs := []Record{
		&FileFlow{}, &NetworkFlow{}, &ProcessFlow{}, &FileEvent{}, &ProcessEvent{}, &File{State: StateCreated}, &Process{State: StateReup},
		&FileFlow{ProcOID: oid, TS: math.MaxInt64, TID: math.MinInt64, OpFlags: math.MinInt32, OpenFlags: math.MaxInt32, EndTS: -1, FileOID: foid, FD: -1,
			NumRRecvOps: 63, NumWSendOps: 64, NumRRecvBytes: -64, NumWSendBytes: -65},
		&NetworkFlow{ProcOID: oid, SIP: -1, SPort: 65535, DIP: math.MinInt32, DPort: math.MaxInt32, Proto: 6, NumWSendBytes: math.MaxInt64},
		&ProcessFlow{ProcOID: oid, TS: math.MinInt64, NumThreadsCloned: math.MaxInt64, OpFlags: math.MinInt32},
		&FileEvent{ProcOID: oid, FileOID: foid, NewFileOID: &foid, Ret: math.MinInt32},
		&FileEvent{NewFileOID: &FOID{}},
		&ProcessEvent{Args: []string{}}, &ProcessEvent{Args: []string{""}}, &ProcessEvent{Args: []string{long, empty, "x"}},
		&File{State: StateModified, OID: foid, ContainerID: &empty, Path: long},
		&Process{State: StateCreated, POID: &oid, ContainerID: &long, Env: []string{}, Exe: "/bin/ünïcode"},
		&Process{State: StateCreated, POID: &OID{}, ContainerID: &empty},
		// Values hamba rejects: appendFast must decline them, Append must fail as before.
		(*FileFlow)(nil), (*NetworkFlow)(nil), (*ProcessFlow)(nil), (*FileEvent)(nil), (*ProcessEvent)(nil), (*Process)(nil), (*File)(nil),
		&File{}, &Process{}, &File{State: "BOGUS"}, &Process{State: "reup"},
	}
	for _, n := range []int{1, 99, 100, 101, 199, 200, 201, 1000} {
		recs = append(recs, &ProcessEvent{Args: strs(n)}, &Process{State: StateReup, Env: strs(n)})
	}
	// Block sizes that need a one- and a two-byte varint, and a 100-item block of 127 bytes.
	recs = append(recs, &ProcessEvent{Args: []string{string(make([]byte, 62))}}, &ProcessEvent{Args: []string{string(make([]byte, 63))}})
	for _, rec := range recs {
		checkFastMatchesHamba(t, enc, rec, true)
	}
	if _, err := enc.Append(nil, nil); err == nil {
		t.Error("Append(nil record) succeeded")
	}
}

// Kinds without a hand-written encoder still go through hamba unchanged.
func TestAppendOtherKindsUseHamba(t *testing.T) {
	enc := NewEncoder()
	pod := "pod"
	recs := []Record{
		&Header{Version: 5, Exporter: "x", IP: "NA", Filename: "f"},
		&Container{ID: "c", Type: CTCRIO, PodID: &pod},
		&Container{Type: "BOGUS"},
		&NetworkEvent{ProcOID: OID{1, 2}, Ret: -1},
		&Pod{Name: "p", HostIP: []int64{1}, Labels: map[string]string{"a": "b"}, Services: []Service{{Name: "s", PortList: []Port{{Port: 80}}}}},
		&K8sEvent{Component: "K8S_PODS", Action: "K8S_COMPONENT_ADDED"},
		&K8sEvent{},
	}
	for _, rec := range recs {
		if _, ok := appendFast(nil, rec); ok {
			t.Fatalf("appendFast encoded a %T", rec)
		}
		want, herr := enc.appendHamba([]byte("p"), rec)
		got, err := enc.Append([]byte("p"), rec)
		if fmt.Sprint(herr) != fmt.Sprint(err) || !bytes.Equal(got, want) {
			t.Errorf("%T: Append = % x, %v; appendHamba = % x, %v", rec, got, err, want, herr)
		}
	}
}

// The reflection guard: every field of a hand-encoded type is in the schema and written by
// the hand-written encoder. A field added to the struct (and the schema) without a line in
// fastenc.go fails here, as does a field missing from the schema.
func TestFastEncoderCoversEveryField(t *testing.T) {
	enc := NewEncoder()
	checkRecord := func(t *testing.T, rs *avro.RecordSchema, typ reflect.Type) {
		t.Helper()
		if len(rs.Fields()) != typ.NumField() {
			t.Fatalf("%s has %d fields, schema %s has %d", typ, typ.NumField(), rs.FullName(), len(rs.Fields()))
		}
		// hamba matches fields by tag, not position: with the counts equal, every schema field
		// having a struct field makes the two sets the same.
		for _, f := range rs.Fields() {
			if _, ok := fieldByTag(typ, f.Name()); !ok {
				t.Errorf("%s has no field tagged %q (schema %s)", typ, f.Name(), rs.FullName())
			}
		}
	}
	for _, k := range fastKinds {
		t.Run(k.String(), func(t *testing.T) {
			rs := v5Branches[k].(*avro.RecordSchema)
			typ := reflect.TypeOf(New(k)).Elem()
			checkRecord(t, rs, typ)
			for _, f := range rs.Fields() {
				s := f.Type()
				if ref, ok := s.(*avro.RefSchema); ok {
					s = ref.Schema()
				}
				if r, ok := s.(*avro.RecordSchema); ok {
					if sf, ok := fieldByTag(typ, f.Name()); ok {
						checkRecord(t, r, sf.Type)
					}
				}
			}
			rec := New(k)
			var seed int64
			v := reflect.ValueOf(rec).Elem()
			fillNonZero(t, v, &seed)
			for i := range v.NumField() {
				if v.Field(i).IsZero() {
					t.Fatalf("field %s left zero", typ.Field(i).Name)
				}
			}
			checkFastMatchesHamba(t, enc, rec, true)
			if _, ok := appendFast(nil, rec); !ok {
				t.Fatalf("appendFast does not encode %s", k)
			}
		})
	}
}

func fieldByTag(typ reflect.Type, tag string) (reflect.StructField, bool) {
	for i := range typ.NumField() {
		if f := typ.Field(i); f.Tag.Get("avro") == tag {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func TestFastEncodeDoesNotAllocate(t *testing.T) {
	dst := make([]byte, 0, 64<<10)
	for _, rec := range benchRecords() {
		allocs := testing.AllocsPerRun(100, func() {
			if _, ok := appendFast(dst[:0], rec); !ok {
				t.Fatalf("appendFast declined %T", rec)
			}
		})
		if allocs != 0 {
			t.Errorf("%T: %v allocations per call", rec, allocs)
		}
	}
}

func FuzzFastEncode(f *testing.F) {
	for i := range fastKinds {
		f.Add(uint8(i), []byte{})
		f.Add(uint8(i), bytes.Repeat([]byte{0xff}, 64))
		f.Add(uint8(i), []byte("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x80\x7f\x3f\x40"))
	}
	enc := NewEncoder()
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		k := fastKinds[int(kind)%len(fastKinds)]
		rec := New(k)
		fillRandom(reflect.ValueOf(rec).Elem(), &entropy{data: data}, false)
		checkFastMatchesHamba(t, enc, rec, true)
	})
}

// benchRecords returns one typical record of every hand-encoded kind.
func benchRecords() []Record {
	oid := OID{CreateTS: 1700000000123456789, HPID: 4242}
	parent := OID{CreateTS: 1690000000000000000, HPID: 1}
	foid := FOID{0x8d, 0x57, 0xb8, 0xc6, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	cid := "347b1411b047"
	return []Record{
		&FileFlow{ProcOID: oid, TS: 1700000000500000000, TID: 4242, OpFlags: 1<<7 | 1<<8 | 1<<10, OpenFlags: 263, EndTS: 1700000000600000000, FileOID: foid, FD: 7,
			NumRRecvOps: 12, NumWSendOps: 2, NumRRecvBytes: 49152, NumWSendBytes: 4},
		&NetworkFlow{ProcOID: oid, TS: 1700000000500000000, TID: 4242, OpFlags: 1<<6 | 1<<8, EndTS: 1700000000600000000, SIP: 16777343, SPort: 40556, DIP: 16777343, DPort: 8080,
			Proto: 6, FD: 3, NumRRecvOps: 4, NumWSendOps: 5, NumRRecvBytes: 600, NumWSendBytes: 700},
		&ProcessFlow{ProcOID: oid, TS: 1700000000500000000, NumThreadsCloned: 3, OpFlags: 1, EndTS: 1700000000600000000, NumThreadsExited: 2, NumCloneErrors: 1},
		&FileEvent{ProcOID: oid, TS: 1700000000500000000, TID: 4242, OpFlags: 1 << 20, FileOID: foid, NewFileOID: &foid},
		&ProcessEvent{ProcOID: oid, TS: 1700000000500000000, TID: 4243, OpFlags: 1, Args: []string{"-s", "http://example.com/x"}},
		&Process{State: StateCreated, OID: oid, POID: &parent, TS: 1700000000200000000, Exe: "/usr/bin/curl", ExeArgs: "-s http://example.com/x", UID: 1000, UserName: "alice",
			GID: 100, GroupName: "users", TTY: true, ContainerID: &cid, Cwd: "/home/alice/", Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/home/alice", "LANG=C.UTF-8"}},
		&File{State: StateCreated, OID: foid, TS: 1700000000300000000, ResType: 'f', Path: "/etc/ld.so.cache", ContainerID: &cid},
	}
}

func benchAppend(b *testing.B, k Kind) {
	var rec Record
	for _, r := range benchRecords() {
		if r.Kind() == k {
			rec = r
		}
	}
	enc := NewEncoder()
	for _, bm := range []struct {
		name string
		fn   func([]byte, Record) ([]byte, error)
	}{{"hamba", enc.appendHamba}, {"fast", enc.Append}} {
		b.Run(bm.name, func(b *testing.B) {
			buf := make([]byte, 0, 1024)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = bm.fn(buf[:0], rec); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func BenchmarkAppendFileFlow(b *testing.B)     { benchAppend(b, KindFileFlow) }
func BenchmarkAppendNetworkFlow(b *testing.B)  { benchAppend(b, KindNetworkFlow) }
func BenchmarkAppendProcessFlow(b *testing.B)  { benchAppend(b, KindProcessFlow) }
func BenchmarkAppendFileEvent(b *testing.B)    { benchAppend(b, KindFileEvent) }
func BenchmarkAppendProcessEvent(b *testing.B) { benchAppend(b, KindProcessEvent) }
func BenchmarkAppendProcess(b *testing.B)      { benchAppend(b, KindProcess) }
func BenchmarkAppendFile(b *testing.B)         { benchAppend(b, KindFile) }
