package replay

// Captures carry PPM-encoded flag values (SCAP.md section 6); the raw contract wants the
// Linux values. These tables translate bit by bit; PPM bits with no Linux counterpart
// (PPM_O_F_CREATED, PPM_CL_CHILD_IN_PIDNS, PPM_CL_CLONE_STOPPED) are dropped.

type bitMap struct{ ppm, linux uint64 }

func translate(v uint64, table []bitMap) int64 {
	var out uint64
	for _, m := range table {
		if v&m.ppm == m.ppm {
			out |= m.linux
		}
	}
	return int64(out)
}

// Linux open flags (asm-generic/fcntl.h, octal as in the header).
const (
	oWRONLY    = 0o1
	oRDWR      = 0o2
	oCREAT     = 0o100
	oEXCL      = 0o200
	oTRUNC     = 0o1000
	oAPPEND    = 0o2000
	oNONBLOCK  = 0o4000
	oDSYNC     = 0o10000
	oDIRECT    = 0o40000
	oLARGEFILE = 0o100000
	oDIRECTORY = 0o200000
	oCLOEXEC   = 0o2000000
	oSYNC      = 0o4000000 | oDSYNC
	oTMPFILE   = 0o20000000 | oDIRECTORY
)

// PPM_O_* open flags.
const (
	ppmORDONLY    = 1
	ppmOWRONLY    = 2
	ppmORDWR      = 3
	ppmOCREAT     = 4
	ppmODIRECTORY = 0x400
	ppmOCLOEXEC   = 0x1000
)

var openFlagBits = []bitMap{
	{ppmOCREAT, oCREAT}, {0x8, oAPPEND}, {0x10, oDSYNC}, {0x20, oEXCL}, {0x40, oNONBLOCK},
	{0x80, oSYNC}, {0x100, oTRUNC}, {0x200, oDIRECT}, {ppmODIRECTORY, oDIRECTORY},
	{0x800, oLARGEFILE}, {ppmOCLOEXEC, oCLOEXEC}, {0x2000, oTMPFILE},
}

// linuxOpenFlags converts PPM_O_* to O_*. The access mode is a 2-bit field in both: PPM
// RDONLY 1, WRONLY 2, RDWR 3; Linux RDONLY 0, WRONLY 1, RDWR 2.
func linuxOpenFlags(ppm uint64) int64 {
	out := translate(ppm, openFlagBits)
	switch ppm & ppmORDWR {
	case ppmOWRONLY:
		out |= oWRONLY
	case ppmORDWR:
		out |= oRDWR
	}
	return out
}

// PPM_CL_* clone flags (also setns/unshare nstype) and their Linux CLONE_* values.
const (
	ppmCLFiles        = 0x1
	ppmCLNewPID       = 0x40
	ppmCLParent       = 0x100
	ppmCLThread       = 0x2000
	ppmCLChildInPidNS = 0x20000000
)

var cloneFlagBits = []bitMap{
	{ppmCLFiles, 0x400},       // FILES
	{0x2, 0x200},              // FS
	{0x4, 0x80000000},         // IO
	{0x8, 0x08000000},         // NEWIPC
	{0x10, 0x40000000},        // NEWNET
	{0x20, 0x00020000},        // NEWNS
	{ppmCLNewPID, 0x20000000}, // NEWPID
	{0x80, 0x04000000},        // NEWUTS
	{ppmCLParent, 0x8000},     // PARENT
	{0x200, 0x00100000},       // PARENT_SETTID
	{0x400, 0x2000},           // PTRACE
	{0x800, 0x800},            // SIGHAND
	{0x1000, 0x40000},         // SYSVSEM
	{ppmCLThread, 0x10000},    // THREAD
	{0x4000, 0x00800000},      // UNTRACED
	{0x8000, 0x100},           // VM
	{0x100000, 0x10000000},    // NEWUSER
	{0x800000, 0x00200000},    // CHILD_CLEARTID
	{0x1000000, 0x01000000},   // CHILD_SETTID
	{0x2000000, 0x00080000},   // SETTLS
	{0x8000000, 0x4000},       // VFORK
	{0x10000000, 0x02000000},  // NEWCGROUP
}

func linuxCloneFlags(ppm uint64) int64 { return translate(ppm, cloneFlagBits) }

// PPM_PROT_* and PPM_MAP_* (mmap).
var protBits = []bitMap{
	{0x1, 0x1}, {0x2, 0x2}, {0x4, 0x4}, {0x8, 0x8}, // READ WRITE EXEC SEM
	{0x10, 0x01000000}, {0x20, 0x02000000}, // GROWSDOWN GROWSUP
}

const ppmMapAnonymous = 0x8

var mapBits = []bitMap{
	{0x1, 0x1}, {0x2, 0x2}, {0x4, 0x10}, {ppmMapAnonymous, 0x20}, {0x10, 0x40}, // SHARED PRIVATE FIXED ANONYMOUS 32BIT
	{0x40, 0x4000}, {0x80, 0x8000}, {0x100, 0x10000}, {0x200, 0x100}, // NORESERVE POPULATE NONBLOCK GROWSDOWN
	{0x400, 0x800}, {0x800, 0x1000}, {0x4000, 0x2000}, // DENYWRITE EXECUTABLE LOCKED
}

func linuxProt(ppm uint64) int32     { return int32(translate(ppm, protBits)) }
func linuxMapFlags(ppm uint64) int64 { return translate(ppm, mapBits) }

// PPM_FCNTL_* commands that create fds, and the Linux commands they stand for.
const (
	ppmFcntlDupFD        = 1
	ppmFcntlDupFDCloexec = 26
	linuxFDupFD          = 0
	linuxFDupFDCloexec   = 1030
)

// L4 protocol codes of fd lists (SCAP_L4_*) as IPPROTO numbers.
func ipProto(l4 uint8) int32 {
	switch l4 {
	case 2:
		return 6 // TCP
	case 3:
		return 17 // UDP
	case 4:
		return 1 // ICMP
	case 5:
		return 255 // raw
	}
	return 0
}

// Socket types (low bits of socket(2)'s type argument).
const (
	sockStream = 1
	sockDgram  = 2
)

// protoForSocket is the protocol the kernel picks for socket(domain, type, 0) when the
// caller passed none.
func protoForSocket(domain, typ, proto int64) int32 {
	if proto != 0 {
		return int32(proto)
	}
	if domain != 2 && domain != 10 {
		return 0
	}
	switch typ & 0xf {
	case sockStream:
		return 6
	case sockDgram:
		return 17
	}
	return 0
}
