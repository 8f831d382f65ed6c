package scap

import "fmt"

// ProcessList is a process list block: one entry per thread of the captured machine at the
// start of the capture (threads have TID != PID and share their process's fd table).
type ProcessList struct {
	Offset  int64
	Type    BlockType
	Version int // 1..9, the PL_Vn variant
	Threads []Thread
}

// Thread is one process list entry. Fields a variant does not carry are zero; Has reports
// which optional groups were present.
type Thread struct {
	TID, PID, PTID int64
	SID            int64 // session id (V6+)
	VPGID          int64 // process group in its pid namespace (V8+)
	Comm           string
	Exe            string // argv[0] as the process sees it
	ExePath        string // resolved /proc/PID/exe (V7+)
	Args           []string
	Cwd            string
	FDLimit        uint64
	Flags          uint32 // PPM_CL_* thread flags (0x2000 CLONE_THREAD)
	UID, GID       uint32

	VMSizeKB, VMRSSKB, VMSwapKB uint32 // V2+
	PFMajor, PFMinor            uint64 // V2+
	Env                         []string
	VTID, VPID                  int64    // V4+
	Cgroups                     []string // "subsys=path", V4+
	Root                        string   // V5+

	// Optional V9 tail, present only when the entry length leaves room.
	PidNSInitStartTS           uint64
	TTY                        uint32
	LoginUID                   uint32 // 0xFFFFFFFF = unset
	ExeWritable                bool
	CapInheritable             uint64
	CapPermitted, CapEffective uint64
	ExeUpperLayer              bool
	ExeIno                     uint64
	ExeInoCtime, ExeInoMtime   uint64
	ExeFromMemfd               bool
	ExeLowerLayer              bool
	PGID                       int64

	Has ThreadFields
}

// ThreadFields reports optional field groups present in a Thread.
type ThreadFields uint16

const (
	HasVPID     ThreadFields = 1 << iota // VTID, VPID and Cgroups (V4+)
	HasEnv                               // Env (V3+)
	HasTTY                               // PidNSInitStartTS and TTY (V9 tail of libs >= 0.10)
	HasLoginUID                          // LoginUID (V9 tail)
	HasPGID                              // PGID (V9 tail of the newest writers)
)

func (b *ProcessList) BlockOffset() int64 { return b.Offset }
func (*ProcessList) isBlock()             {}

// preTTYTail is the largest tail of a V9 entry written before libs 0.10, which inserted
// pidns_init_start_ts and tty before loginuid: loginuid(4) + exe_writable(1) + 3 caps(24).
const preTTYTail = 29

func parseProcList(body []byte, off int64, typ BlockType, version int) (*ProcessList, error) {
	pl := &ProcessList{Offset: off, Type: typ, Version: version}
	c := cursor{b: body}
	for i := 0; c.left() >= 4; i++ {
		var t Thread
		var err error
		if version == 9 {
			entryLen := int(c.u32())
			if entryLen < 4 || entryLen-4 > c.left() {
				return nil, fmt.Errorf("%w: process entry %d declares %d bytes, %d left", ErrBadLength, i, entryLen, c.left()+4)
			}
			ec := cursor{b: c.take(entryLen - 4)}
			err = decodeThread(&ec, &t, version)
			if err == nil {
				decodeThreadTail(&ec, &t)
			}
		} else {
			err = decodeThread(&c, &t, version)
		}
		if err != nil {
			return nil, fmt.Errorf("process entry %d: %w", i, err)
		}
		pl.Threads = append(pl.Threads, t)
	}
	return pl, nil
}

// decodeThread reads the fixed fields of a thread entry of the given variant.
func decodeThread(c *cursor, t *Thread, v int) error {
	t.TID = c.i64()
	t.PID = c.i64()
	t.PTID = c.i64()
	if v >= 6 {
		t.SID = c.i64()
	}
	if v >= 8 {
		t.VPGID = c.i64()
	}
	t.Comm = c.str16()
	t.Exe = c.str16()
	if v >= 7 {
		t.ExePath = c.str16()
	}
	t.Args = SplitNul(c.bytes16())
	t.Cwd = c.str16()
	t.FDLimit = c.u64()
	t.Flags = c.u32()
	t.UID = c.u32()
	t.GID = c.u32()
	if v >= 2 {
		t.VMSizeKB = c.u32()
		t.VMRSSKB = c.u32()
		t.VMSwapKB = c.u32()
		t.PFMajor = c.u64()
		t.PFMinor = c.u64()
	}
	if v >= 3 {
		t.Env = SplitNul(c.bytes16())
		t.Has |= HasEnv
	}
	if v >= 4 {
		t.VTID = c.i64()
		t.VPID = c.i64()
		t.Cgroups = SplitNul(c.bytes16())
		t.Has |= HasVPID
	}
	if v >= 5 {
		t.Root = c.str16()
	}
	return c.err
}

// decodeThreadTail reads the optional V9 tail: each field only if it still fits, the rest of
// the entry (fields of future writers) is ignored.
func decodeThreadTail(c *cursor, t *Thread) {
	if c.left() > preTTYTail {
		t.PidNSInitStartTS = c.u64()
		t.TTY = c.u32()
		t.Has |= HasTTY
	}
	if c.left() >= 4 {
		t.LoginUID = c.u32()
		t.Has |= HasLoginUID
	}
	if c.left() >= 1 {
		t.ExeWritable = c.u8() != 0
	}
	if c.left() >= 24 {
		t.CapInheritable = c.u64()
		t.CapPermitted = c.u64()
		t.CapEffective = c.u64()
	}
	if c.left() >= 1 {
		t.ExeUpperLayer = c.u8() != 0
	}
	if c.left() >= 24 {
		t.ExeIno = c.u64()
		t.ExeInoCtime = c.u64()
		t.ExeInoMtime = c.u64()
	}
	if c.left() >= 1 {
		t.ExeFromMemfd = c.u8() != 0
	}
	if c.left() >= 1 {
		t.ExeLowerLayer = c.u8() != 0
	}
	if c.left() >= 8 {
		t.PGID = c.i64()
		t.Has |= HasPGID
	}
}
