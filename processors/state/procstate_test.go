package state

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/sysflow"
)

// realisticProc returns a process as the state holds it under connection-heavy load: a
// containerised server with arguments and environment, 5 fds, 3 file flows, 2 network flows
// and a process flow.
func realisticProc() *proc {
	const t0 = int64(1_735_689_600_123_456_789)
	oid := sysflow.OID{CreateTS: t0, HPID: 48213}
	cid := "4f1c2a9e7b3d"
	p := &proc{
		key: procKey{exporter: "node-17.prod.example.com", oid: oid},
		seq: 90_211,
		entity: sysflow.Process{
			State: sysflow.StateReup, OID: oid, POID: &sysflow.OID{CreateTS: t0 - 3_600_000_000_000, HPID: 1},
			TS: t0, Exe: "/usr/local/bin/gunicorn",
			ExeArgs: "--workers 4 --bind 0.0.0.0:8080 --access-logfile - app.wsgi:application",
			UID:     1000, UserName: "app", GID: 1000, GroupName: "app", ContainerID: &cid, Entry: true,
			Cwd: "/srv/app/", Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "PYTHONUNBUFFERED=1"},
		},
		touched:   true,
		container: &raw.Container{ID: cid, Name: "web-7d9f8", Image: "registry.example.com/web:1.42.0", ImageID: "sha256:9b2e51c3", Runtime: 6},
		cwd:       "/srv/app",
		fds:       map[int32]*fdInfo{},
		files:     map[fileKey]*fileFlow{},
		nets:      map[netKey]*netFlow{},
		exitTS:    0,
		lastSeen:  t0 + 42_000_000_000,
	}
	ip := func(s string) int32 { return sysflow.IPv4ToInt(netip.MustParseAddr(s)) }
	paths := []string{"/srv/app/static/index.html", "/var/log/app/access.log", "/etc/ssl/certs/ca-certificates.crt"}
	for i, path := range paths {
		fd := int32(5 + i)
		p.fds[fd] = &fdInfo{kind: raw.FDFile, path: path, openFlags: 0o2 | 0o100}
		k := fileKey{path: path, container: cid, tid: 48213 + int64(i), fd: fd}
		ts := t0 + int64(i+1)*1_000_000_007
		p.files[k] = &fileFlow{
			rec: sysflow.FileFlow{ProcOID: oid, TS: ts, TID: k.tid, OpFlags: opOpen | opReadRecv | opWriteSend,
				OpenFlags: 0o2 | 0o100, FileOID: sha1.Sum([]byte(cid + path)), FD: fd,
				NumRRecvOps: 12, NumWSendOps: 3, NumRRecvBytes: 49_152, NumWSendBytes: 1_337},
			seq: 90_300 + uint64(i), exportTime: ts / 1e9, lastUpdate: ts/1e9 + 3, path: path, kind: raw.FDFile,
		}
	}
	tups := []tuple{
		{ip("10.1.2.3"), 51_234, ip("10.1.9.40"), 8080},
		{ip("10.1.2.3"), 40_112, ip("10.200.0.17"), 5432},
	}
	for i, tup := range tups {
		fd := int32(8 + i)
		p.fds[fd] = &fdInfo{kind: raw.FDIPv4, tuple: tup, proto: 6}
		k := netKey{tid: 48213, tup: tup, fd: fd}
		ts := t0 + int64(i+5)*1_000_000_007
		p.nets[k] = &netFlow{
			rec: sysflow.NetworkFlow{ProcOID: oid, TS: ts, TID: k.tid, OpFlags: opAccept | opReadRecv | opWriteSend,
				SIP: tup.sip, SPort: tup.sport, DIP: tup.dip, DPort: tup.dport, Proto: 6, FD: fd,
				NumRRecvOps: 40, NumWSendOps: 38, NumRRecvBytes: 81_920, NumWSendBytes: 1_048_576},
			seq: 90_400 + uint64(i), exportTime: ts / 1e9, lastUpdate: ts/1e9 + 1,
		}
	}
	p.pflow = &procFlow{
		rec:        sysflow.ProcessFlow{ProcOID: oid, TS: t0 + 500, NumThreadsCloned: 4, OpFlags: opClone, EndTS: 0, NumThreadsExited: 1},
		exportTime: t0 / 1e9, lastUpdate: t0/1e9 + 40,
	}
	return p
}

func BenchmarkEncodeProc(b *testing.B) {
	p := realisticProc()
	v, err := encodeProc(p)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeProc(p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(v)), "bytes")
}

func BenchmarkDecodeProc(b *testing.B) {
	v, err := encodeProc(realisticProc())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeProc(v); err != nil {
			b.Fatal(err)
		}
	}
}

// notCheckpointed lists, as type.field, the fields a checkpoint deliberately leaves out: the
// filler leaves them zero and a decoded process has them zero. A new field belongs here only
// if a restored process can do without it.
var notCheckpointed = map[string]bool{
	"proc.kkey":  true, // a cache of key.kafkaKey(), rebuilt on first use
	"proc.expID": true, // a cache of the exporter's id in the State's marks
}

func skipField(t reflect.Type, i int) bool { return notCheckpointed[t.Name()+"."+t.Field(i).Name] }

// filler sets every field reachable from a value to a non-zero value, through unexported
// fields, pointers, slices, maps and arrays, so that a field the codec forgets comes back
// zero and fails the comparison. With extreme set, integers alternate between their type's
// minimum and maximum and strings are long, with bytes that are not UTF-8.
type filler struct {
	t       testing.TB
	n       uint64
	extreme bool
}

// settable returns v, addressable, as a value that can be set even when it was reached
// through unexported fields.
func settable(v reflect.Value) reflect.Value {
	if v.CanSet() {
		return v
	}
	return reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
}

func (f *filler) fill(v reflect.Value, path string) {
	v = settable(v)
	f.n++
	odd := f.n%2 == 1
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := v.Type().Bits()
		switch {
		case f.extreme && odd:
			v.SetInt(math.MaxInt64 >> (64 - bits))
		case f.extreme:
			v.SetInt(math.MinInt64 >> (64 - bits))
		default:
			v.SetInt(int64(f.n%(1<<(bits-2)) + 1))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		bits := v.Type().Bits()
		if f.extreme && odd {
			v.SetUint(math.MaxUint64 >> (64 - bits))
		} else {
			v.SetUint(f.n%(1<<(bits-1)) + 1)
		}
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(f.n) + 0.5)
	case reflect.String:
		s := fmt.Sprintf("%s#%d", path, f.n)
		if f.extreme {
			s = strings.Repeat(s+"\xff\x00é", 10)
		}
		v.SetString(s)
	case reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		f.fill(e.Elem(), path)
		v.Set(e)
	case reflect.Array:
		for i := range v.Len() {
			f.fill(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range s.Len() {
			f.fill(s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := range 2 {
			k := reflect.New(v.Type().Key()).Elem()
			f.fill(k, fmt.Sprintf("%s.key%d", path, i))
			e := reflect.New(v.Type().Elem()).Elem()
			f.fill(e, fmt.Sprintf("%s[%d]", path, i))
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if !skipField(v.Type(), i) {
				f.fill(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	default:
		f.t.Fatalf("filler: %s: kind %s not supported; teach the filler and the codec", path, v.Kind())
	}
}

// zeroLeaves lists the paths of the zero-valued leaves under v.
func zeroLeaves(v reflect.Value, path string) []string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return []string{path}
		}
		return zeroLeaves(v.Elem(), path)
	case reflect.Struct:
		var out []string
		for i := range v.NumField() {
			if skipField(v.Type(), i) {
				continue
			}
			out = append(out, zeroLeaves(v.Field(i), path+"."+v.Type().Field(i).Name)...)
		}
		return out
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			return []string{path}
		}
		var out []string
		if v.Kind() == reflect.Map {
			for it := v.MapRange(); it.Next(); {
				out = append(out, zeroLeaves(it.Key(), path+".key")...)
				out = append(out, zeroLeaves(it.Value(), path+"[]")...)
			}
			return out
		}
		for i := range v.Len() {
			out = append(out, zeroLeaves(v.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	case reflect.Array:
		var out []string
		for i := range v.Len() {
			out = append(out, zeroLeaves(v.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	default:
		if v.IsZero() {
			return []string{path}
		}
		return nil
	}
}

// firstDiff names the first place where a and b differ, for a readable failure.
func firstDiff(a, b reflect.Value, path string) string {
	if a.Kind() != b.Kind() {
		return path + ": kinds differ"
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Sprintf("%s: nil %v vs %v", path, a.IsNil(), b.IsNil())
			}
			return ""
		}
		return firstDiff(a.Elem(), b.Elem(), path)
	case reflect.Struct:
		for i := range a.NumField() {
			if d := firstDiff(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); d != "" {
				return d
			}
		}
		return ""
	case reflect.Slice, reflect.Array:
		if a.Kind() == reflect.Slice && a.IsNil() != b.IsNil() {
			return fmt.Sprintf("%s: nil %v vs %v", path, a.IsNil(), b.IsNil())
		}
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: length %d vs %d", path, a.Len(), b.Len())
		}
		for i := range a.Len() {
			if d := firstDiff(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Map:
		if a.IsNil() != b.IsNil() {
			return fmt.Sprintf("%s: nil %v vs %v", path, a.IsNil(), b.IsNil())
		}
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: length %d vs %d", path, a.Len(), b.Len())
		}
		for it := a.MapRange(); it.Next(); {
			bv := b.MapIndex(it.Key())
			if !bv.IsValid() {
				return fmt.Sprintf("%s: key %+v missing", path, it.Key())
			}
			if d := firstDiff(it.Value(), bv, fmt.Sprintf("%s[%+v]", path, it.Key())); d != "" {
				return d
			}
		}
		return ""
	default:
		if !a.Equal(b) {
			return fmt.Sprintf("%s: %v vs %v", path, a, b)
		}
		return ""
	}
}

// roundTrip encodes p, decodes it, checks the result against want and returns the bytes.
func roundTrip(t *testing.T, p, want *proc) []byte {
	t.Helper()
	v, err := encodeProc(p)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	got, err := decodeProc(v)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip changed the process: %s", firstDiff(reflect.ValueOf(want), reflect.ValueOf(got), "proc"))
	}
	if again, _ := encodeProc(got); !bytes.Equal(again, v) {
		t.Fatalf("re-encoding the decoded process gives other bytes")
	}
	return v
}

func filledProc(t testing.TB, extreme bool) *proc {
	t.Helper()
	p := &proc{}
	(&filler{t: t, extreme: extreme}).fill(reflect.ValueOf(p).Elem(), "proc")
	if z := zeroLeaves(reflect.ValueOf(p), "proc"); len(z) > 0 {
		t.Fatalf("filler left zero fields: %v", z)
	}
	return p
}

// Every field of every struct a proc holds survives a round trip: the filler sets them all,
// so a field added without codec support comes back zero and fails here.
func TestProcCodecRoundTripEveryField(t *testing.T) {
	for _, extreme := range []bool{false, true} {
		t.Run(fmt.Sprintf("extreme=%v", extreme), func(t *testing.T) {
			p := filledProc(t, extreme)
			roundTrip(t, p, p)
		})
	}
}

// mixedProc is realisticProc with some of the values that usually repeat others differing.
func mixedProc() *proc {
	p := realisticProc()
	p.entity.OID.HPID++
	p.entity.State = "SOMETHING_ELSE"
	p.entity.TTY = true
	p.uncertain = true
	p.exitTS = p.lastSeen + 1
	p.pflow.rec.ProcOID = sysflow.OID{}
	for k, f := range p.files {
		if k.fd == 5 {
			f.path = "/elsewhere"
		}
		if k.fd == 6 {
			f.rec.ProcOID.CreateTS = -1
			f.rec.TID = 7
		}
	}
	for k, f := range p.nets {
		if k.fd == 8 {
			f.rec.SPort = 1
		} else {
			f.rec.FD = -1
		}
	}
	p.container.Privileged = true
	p.fds[-1] = &fdInfo{kind: raw.FDUnknown}
	return p
}

func TestProcCodecRoundTrip(t *testing.T) {
	for name, mk := range map[string]func() *proc{"realistic": realisticProc, "mixed": mixedProc} {
		t.Run(name, func(t *testing.T) {
			for _, st := range []sysflow.ObjectState{"", sysflow.StateCreated, sysflow.StateModified, sysflow.StateReup, "x"} {
				p := mk()
				p.entity.State = st
				roundTrip(t, p, p)
			}
		})
	}
}

// Absent optional parts stay absent; Env and the maps come back empty, never nil, as a state
// creates them.
func TestProcCodecRoundTripEmpty(t *testing.T) {
	empty := func(p *proc) *proc {
		q := *p
		if q.entity.Env == nil {
			q.entity.Env = []string{}
		}
		if q.fds == nil {
			q.fds = map[int32]*fdInfo{}
		}
		if q.files == nil {
			q.files = map[fileKey]*fileFlow{}
		}
		if q.nets == nil {
			q.nets = map[netKey]*netFlow{}
		}
		return &q
	}
	t.Run("zero", func(t *testing.T) {
		roundTrip(t, &proc{}, empty(&proc{}))
	})
	t.Run("no optional parts", func(t *testing.T) {
		p := realisticProc()
		p.container, p.entity.POID, p.entity.ContainerID, p.pflow, p.entity.Env = nil, nil, nil, nil, nil
		p.fds, p.files, p.nets = map[int32]*fdInfo{}, map[fileKey]*fileFlow{}, map[netKey]*netFlow{}
		roundTrip(t, p, empty(p))
	})
	t.Run("nil maps", func(t *testing.T) {
		p := realisticProc()
		p.fds, p.files, p.nets, p.entity.Env = nil, nil, nil, []string{}
		roundTrip(t, p, empty(p))
	})
	t.Run("empty strings and zero flows", func(t *testing.T) {
		// The smallest fd, file flow and network flow: checks the decoder's lower bounds on
		// item sizes are not above what the encoder writes.
		cid := ""
		p := &proc{
			entity:    sysflow.Process{POID: &sysflow.OID{}, ContainerID: &cid, Env: []string{"", ""}},
			container: &raw.Container{},
			fds:       map[int32]*fdInfo{0: {}},
			files:     map[fileKey]*fileFlow{{}: {}},
			nets:      map[netKey]*netFlow{{}: {}},
			pflow:     &procFlow{},
		}
		roundTrip(t, p, p)
	})
}

// cloneProcReordered copies p into maps filled in reverse order of their keys' encodings.
func cloneProcReordered(p *proc) *proc {
	q := *p
	q.fds = map[int32]*fdInfo{}
	fds := make([]int32, 0, len(p.fds))
	for fd := range p.fds {
		fds = append(fds, fd)
	}
	slices.Sort(fds)
	for _, fd := range slices.Backward(fds) {
		q.fds[fd] = p.fds[fd]
	}
	q.files = map[fileKey]*fileFlow{}
	fks := sortedFiles(p)
	for _, k := range slices.Backward(fks) {
		q.files[k] = p.files[k]
	}
	q.nets = map[netKey]*netFlow{}
	nks := sortedNets(p)
	for _, k := range slices.Backward(nks) {
		q.nets[k] = p.nets[k]
	}
	return &q
}

// The bytes of a process do not depend on map order, even when flows share a seq.
func TestProcCodecDeterministic(t *testing.T) {
	p := realisticProc()
	for i := range 40 {
		fd := int32(100 + i)
		p.fds[fd] = &fdInfo{kind: raw.FDFile, path: fmt.Sprint("/f", i)}
		p.files[fileKey{path: fmt.Sprint("/f", i), tid: int64(i % 3), fd: fd}] = &fileFlow{seq: uint64(i / 4), path: fmt.Sprint("/f", i)}
		p.nets[netKey{tid: int64(i % 3), tup: tuple{sport: int32(i)}, fd: fd}] = &netFlow{seq: uint64(i / 4)}
	}
	want := roundTrip(t, p, p)
	for range 20 {
		for _, q := range []*proc{p, cloneProcReordered(p)} {
			got, _ := encodeProc(q)
			if !bytes.Equal(got, want) {
				t.Fatalf("bytes differ between two encodings of the same process")
			}
		}
	}
	// appendProc appends the same bytes.
	prefix := []byte("prefix")
	if got := appendProc(prefix, p); !bytes.Equal(got[:len(prefix)], prefix) || !bytes.Equal(got[len(prefix):], want) {
		t.Fatalf("appendProc writes other bytes than encodeProc")
	}
}

// Decoded strings are copies: overwriting the input does not change the process.
func TestProcCodecDoesNotAliasInput(t *testing.T) {
	p := filledProc(t, false)
	v, _ := encodeProc(p)
	got, err := decodeProc(v)
	if err != nil {
		t.Fatal(err)
	}
	for i := range v {
		v[i] = 'X'
	}
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("decoded process changed with its input: %s", firstDiff(reflect.ValueOf(p), reflect.ValueOf(got), "proc"))
	}
}

func validEncodings(t testing.TB) [][]byte {
	var out [][]byte
	for _, p := range []*proc{realisticProc(), mixedProc(), {}, filledProc(t, false), filledProc(t, true)} {
		v, err := encodeProc(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("decode succeeded")
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "decode process checkpoint: ") || !strings.Contains(msg, " at byte ") {
		t.Fatalf("error %q does not say it is a checkpoint decode error and where", msg)
	}
}

// Every proper prefix of a valid encoding is an error, not a panic nor a process.
func TestDecodeProcTruncated(t *testing.T) {
	for _, v := range validEncodings(t) {
		for i := range len(v) {
			_, err := decodeProc(slices.Clone(v[:i]))
			checkDecodeError(t, err)
		}
	}
}

func TestDecodeProcCorrupt(t *testing.T) {
	enc := func(p *proc) []byte { v, _ := encodeProc(p); return v }
	zero := enc(&proc{})
	prefix := zero[:len(zero)-3] // everything before the fd, file flow and network flow counts
	uv := func(x uint64) []byte { return binary.AppendUvarint(nil, x) }
	sv := func(x int64) []byte { return binary.AppendVarint(nil, x) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	oneFile := enc(&proc{files: map[fileKey]*fileFlow{{}: {}}})
	fileBytes := oneFile[len(prefix)+2 : len(oneFile)-1]
	oneNet := enc(&proc{nets: map[netKey]*netFlow{{}: {}}})
	netBytes := oneNet[len(prefix)+3:]
	fdBytes := func(fd int32) []byte { return cat(sv(int64(fd)), make([]byte, 8)) }
	withContainer := enc(&proc{container: &raw.Container{}})

	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "truncated input at byte 0 (reading version)"},
		{"version", "\x02", "unknown format version 2 at byte 0"},
		{"unknown flags", string(cat([]byte{1}, uv(1<<20))), "unknown flags 0x100000 at byte 1"},
		{"pflow oid without pflow", string(cat([]byte{1}, uv(pfPFlowOID))), "pflow procOID flag without a pflow at byte 1"},
		{"huge string", string(cat([]byte{1, 0}, uv(1<<62))), "length 4611686018427387904 exceeds the 0 bytes left at byte 2 (reading exporter)"},
		{"varint overflow", string(cat([]byte{1, 0}, bytes.Repeat([]byte{0xff}, 11))), "varint overflows 64 bits at byte 2 (reading exporter)"},
		{"int32 range", string(cat([]byte{1, 0, 0, 0, 0, 0, stEmpty, 0, 0, 0}, sv(1<<40))), "value 1099511627776 out of int32 range at byte 10 (reading entity uid)"},
		{"state code", string(cat([]byte{1, 0, 0, 0, 0, 0, 9})), "unknown state code 9 at byte 6"},
		{"bad bool", string(cat(withContainer[:len(withContainer)-7], []byte{2}, withContainer[len(withContainer)-6:])), "bad boolean 2"},
		{"huge fd count", string(cat(prefix, uv(1<<40))), "exceeds"},
		{"fd order", string(cat(prefix, uv(2), fdBytes(4), fdBytes(3), uv(0), uv(0))), "fd 3 not above the previous one"},
		{"duplicate fd", string(cat(prefix, uv(2), fdBytes(4), fdBytes(4), uv(0), uv(0))), "fd 4 not above the previous one"},
		{"duplicate file flow", string(cat(prefix, uv(0), uv(2), fileBytes, fileBytes, uv(0))), "duplicate flow key"},
		{"duplicate network flow", string(cat(prefix, uv(0), uv(0), uv(2), netBytes, netBytes)), "duplicate flow key"},
		{"file flow flags", string(cat(prefix, uv(0), uv(1), uv(1<<5), fileBytes[1:], uv(0))), "unknown flags 0x20"},
		{"trailing", string(cat(zero, []byte{0})), fmt.Sprintf("1 trailing bytes at byte %d", len(zero))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeProc([]byte(tc.in))
			checkDecodeError(t, err)
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
	// The pieces cut out above are what the test thinks they are.
	for _, v := range [][]byte{cat(prefix, uv(1), fdBytes(4), uv(1), fileBytes, uv(1), netBytes), zero, oneFile, oneNet, withContainer} {
		if _, err := decodeProc(v); err != nil {
			t.Fatalf("valid input: %v", err)
		}
	}
}

func FuzzDecodeProc(f *testing.F) {
	for _, v := range validEncodings(f) {
		f.Add(v)
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := slices.Clone(data)
		p, err := decodeProc(in)
		if err != nil {
			checkDecodeError(t, err)
			return
		}
		v1, _ := encodeProc(p)
		for i := range in {
			in[i] ^= 0xff
		}
		if v, _ := encodeProc(p); !bytes.Equal(v, v1) {
			t.Fatal("the decoded process changed with its input")
		}
		q, err := decodeProc(v1)
		if err != nil {
			t.Fatalf("decoding a re-encoded process: %v", err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("decode, encode, decode changed the process: %s", firstDiff(reflect.ValueOf(p), reflect.ValueOf(q), "proc"))
		}
		if v2, _ := encodeProc(q); !bytes.Equal(v1, v2) {
			t.Fatal("encode, decode, encode changed the bytes")
		}
	})
}
