package sysflow

import "slices"

// Hand-written Avro binary encoders for the high-volume record kinds. They write exactly the
// bytes hamba/avro writes for the same value through v5Branches (the differential tests and
// FuzzFastEncode in fastenc_test.go hold them to that), without reflection and without
// allocating beyond growing dst:
//
//   - int and long: zigzag varint; boolean: one byte; string: long length, then the bytes;
//   - fixed (FOID): the 20 raw bytes; enum (SFObjectState): the symbol index as an int;
//   - ["null", T] from a Go pointer: union index 0 for nil, else 1 then T;
//   - array of string: hamba's block form, which is NOT the single positive-count block one
//     might expect: every run of up to hambaBlockLength items is a block written as the
//     negated item count and then the block's size in bytes, followed by the items; a 0 count
//     ends the array, so an empty or nil array is the single byte 0.
//
// The field order is the order of schemas/sysflow.avsc, not of the Go structs (they agree
// today). A field added to one of these types needs a line here as well; the reflection guard
// in fastenc_test.go fails until it has one.

// hambaBlockLength is the number of items hamba/avro puts in one array block: its default,
// which api (codec.go) keeps by not setting avro.Config.BlockLength.
const hambaBlockLength = 100

// Upper bounds of encoded sizes, used to grow dst once per record.
const (
	maxLongLen  = 10             // a zigzag varint of 64 bits
	maxIntLen   = 5              // a zigzag varint of 32 bits
	maxOIDLen   = 2 * maxLongLen // sysflow.type.OID
	foidLen     = len(FOID{})    // sysflow.type.FOID
	maxHeadLen  = 1 + maxOIDLen  // union index (< 64: one byte), then procOID
	maxCountLen = 4 * maxLongLen // the four counters of file and network flows
	maxBlockHd  = 2 + maxLongLen // an array block header: count -1..-100, then size
	maxFixedFF  = maxHeadLen + 3*maxLongLen + 3*maxIntLen + foidLen + maxCountLen
	maxFixedNF  = maxHeadLen + 3*maxLongLen + 7*maxIntLen + maxCountLen
	maxFixedPF  = maxHeadLen + 5*maxLongLen + maxIntLen
	maxFixedFE  = maxHeadLen + 2*maxLongLen + 2*maxIntLen + foidLen + 1 + foidLen
)

// appendFast appends the sysflow.SysFlow encoding of rec (union index, then the record) if rec
// is a non-nil pointer to one of the hand-encoded types holding a value the encoder accepts.
// Otherwise it returns dst unchanged (not even written beyond its length) and false, and the
// caller encodes rec with hamba/avro, which reports whatever is wrong with it.
func appendFast(dst []byte, rec Record) ([]byte, bool) {
	switch r := rec.(type) {
	case *FileFlow:
		if r == nil {
			return dst, false
		}
		return appendFileFlow(dst, r), true
	case *NetworkFlow:
		if r == nil {
			return dst, false
		}
		return appendNetworkFlow(dst, r), true
	case *ProcessFlow:
		if r == nil {
			return dst, false
		}
		return appendProcessFlow(dst, r), true
	case *FileEvent:
		if r == nil {
			return dst, false
		}
		return appendFileEvent(dst, r), true
	case *ProcessEvent:
		if r == nil {
			return dst, false
		}
		return appendProcessEvent(dst, r), true
	case *Process:
		if r == nil {
			return dst, false
		}
		st, ok := stateIndex(r.State)
		if !ok {
			return dst, false
		}
		return appendProcess(dst, r, st), true
	case *File:
		if r == nil {
			return dst, false
		}
		st, ok := stateIndex(r.State)
		if !ok {
			return dst, false
		}
		return appendFile(dst, r, st), true
	}
	return dst, false
}

// stateIndex returns the index of s among the symbols of sysflow.type.SFObjectState.
func stateIndex(s ObjectState) (byte, bool) {
	switch s {
	case StateCreated:
		return 0, true
	case StateModified:
		return 1, true
	case StateReup:
		return 2, true
	}
	return 0, false
}

func appendFileFlow(b []byte, r *FileFlow) []byte {
	b = slices.Grow(b, maxFixedFF)
	b = appendKindOID(b, KindFileFlow, &r.ProcOID)
	b = AppendLong(b, r.TS)
	b = AppendLong(b, r.TID)
	b = appendInt(b, r.OpFlags)
	b = appendInt(b, r.OpenFlags)
	b = AppendLong(b, r.EndTS)
	b = append(b, r.FileOID[:]...)
	b = appendInt(b, r.FD)
	b = AppendLong(b, r.NumRRecvOps)
	b = AppendLong(b, r.NumWSendOps)
	b = AppendLong(b, r.NumRRecvBytes)
	return AppendLong(b, r.NumWSendBytes)
}

func appendNetworkFlow(b []byte, r *NetworkFlow) []byte {
	b = slices.Grow(b, maxFixedNF)
	b = appendKindOID(b, KindNetworkFlow, &r.ProcOID)
	b = AppendLong(b, r.TS)
	b = AppendLong(b, r.TID)
	b = appendInt(b, r.OpFlags)
	b = AppendLong(b, r.EndTS)
	b = appendInt(b, r.SIP)
	b = appendInt(b, r.SPort)
	b = appendInt(b, r.DIP)
	b = appendInt(b, r.DPort)
	b = appendInt(b, r.Proto)
	b = appendInt(b, r.FD)
	b = AppendLong(b, r.NumRRecvOps)
	b = AppendLong(b, r.NumWSendOps)
	b = AppendLong(b, r.NumRRecvBytes)
	return AppendLong(b, r.NumWSendBytes)
}

func appendProcessFlow(b []byte, r *ProcessFlow) []byte {
	b = slices.Grow(b, maxFixedPF)
	b = appendKindOID(b, KindProcessFlow, &r.ProcOID)
	b = AppendLong(b, r.TS)
	b = AppendLong(b, r.NumThreadsCloned)
	b = appendInt(b, r.OpFlags)
	b = AppendLong(b, r.EndTS)
	b = AppendLong(b, r.NumThreadsExited)
	return AppendLong(b, r.NumCloneErrors)
}

func appendFileEvent(b []byte, r *FileEvent) []byte {
	b = slices.Grow(b, maxFixedFE)
	b = appendKindOID(b, KindFileEvent, &r.ProcOID)
	b = AppendLong(b, r.TS)
	b = AppendLong(b, r.TID)
	b = appendInt(b, r.OpFlags)
	b = append(b, r.FileOID[:]...)
	b = appendInt(b, r.Ret)
	if r.NewFileOID == nil {
		return append(b, 0)
	}
	b = append(b, 2) // union index 1, zigzag
	return append(b, r.NewFileOID[:]...)
}

func appendProcessEvent(b []byte, r *ProcessEvent) []byte {
	b = slices.Grow(b, maxHeadLen+2*maxLongLen+2*maxIntLen+stringsBound(r.Args))
	b = appendKindOID(b, KindProcessEvent, &r.ProcOID)
	b = AppendLong(b, r.TS)
	b = AppendLong(b, r.TID)
	b = appendInt(b, r.OpFlags)
	b = appendStrings(b, r.Args)
	return appendInt(b, r.Ret)
}

func appendProcess(b []byte, r *Process, state byte) []byte {
	// index, state, oid, poid, ts, uid and gid, tty and entry, containerId, 6 string lengths
	n := 2 + maxOIDLen + 1 + maxOIDLen + maxLongLen + 2*maxIntLen + 2 + 1 + 6*maxLongLen +
		len(r.Exe) + len(r.ExeArgs) + len(r.UserName) + len(r.GroupName) + len(r.Cwd) +
		stringsBound(r.Env)
	if r.ContainerID != nil {
		n += len(*r.ContainerID)
	}
	b = slices.Grow(b, n)
	b = append(b, byte(KindProcess)<<1, state<<1)
	b = appendOID(b, &r.OID)
	if r.POID == nil {
		b = append(b, 0)
	} else {
		b = append(b, 2)
		b = appendOID(b, r.POID)
	}
	b = AppendLong(b, r.TS)
	b = appendString(b, r.Exe)
	b = appendString(b, r.ExeArgs)
	b = appendInt(b, r.UID)
	b = appendString(b, r.UserName)
	b = appendInt(b, r.GID)
	b = appendString(b, r.GroupName)
	b = appendBool(b, r.TTY)
	b = appendOptString(b, r.ContainerID)
	b = appendBool(b, r.Entry)
	b = appendString(b, r.Cwd)
	return appendStrings(b, r.Env)
}

func appendFile(b []byte, r *File, state byte) []byte {
	// index, state, oid, ts, restype, path, containerId (union index and length)
	n := 2 + foidLen + maxLongLen + maxIntLen + maxLongLen + len(r.Path) + 1 + maxLongLen
	if r.ContainerID != nil {
		n += len(*r.ContainerID)
	}
	b = slices.Grow(b, n)
	b = append(b, byte(KindFile)<<1, state<<1)
	b = append(b, r.OID[:]...)
	b = AppendLong(b, r.TS)
	b = appendInt(b, r.ResType)
	b = appendString(b, r.Path)
	return appendOptString(b, r.ContainerID)
}

// appendKindOID appends the union index of k (all kinds are < 64: one byte) and then o.
func appendKindOID(b []byte, k Kind, o *OID) []byte {
	b = append(b, byte(k)<<1)
	return appendOID(b, o)
}

func appendOID(b []byte, o *OID) []byte {
	b = AppendLong(b, o.CreateTS)
	return AppendLong(b, o.HPID)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendInt appends an Avro int. The zigzag varint of an int32 equals that of its
// sign-extended int64, so it shares appendLong's loop.
func appendInt(b []byte, v int32) []byte {
	return AppendLong(b, int64(v))
}

// AppendLong appends an Avro long (or int): zigzag, then 7 bits a byte, low bits first.
func AppendLong(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

// longLen is the length of appendLong's encoding of v.
func longLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

func appendString(b []byte, s string) []byte {
	b = AppendLong(b, int64(len(s)))
	return append(b, s...)
}

// appendOptString appends a ["null","string"] union.
func appendOptString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, 0)
	}
	b = append(b, 2)
	return appendString(b, *s)
}

// appendStrings appends an array of strings in hamba's block form (see the top of the file).
func appendStrings(b []byte, ss []string) []byte {
	for len(ss) > 0 {
		blk := ss[:min(len(ss), hambaBlockLength)]
		ss = ss[len(blk):]
		size := 0
		for _, s := range blk {
			size += longLen(int64(len(s))) + len(s)
		}
		b = AppendLong(b, -int64(len(blk)))
		b = AppendLong(b, int64(size))
		for _, s := range blk {
			b = appendString(b, s)
		}
	}
	return append(b, 0)
}

// stringsBound bounds the length of appendStrings(nil, ss).
func stringsBound(ss []string) int {
	n := 1 + (len(ss)+hambaBlockLength-1)/hambaBlockLength*maxBlockHd
	for _, s := range ss {
		n += maxLongLen + len(s)
	}
	return n
}
