package sysflow

import (
	"strconv"
	"strings"
)

// OpFlags is the set of operations an event or flow records (the opFlags field). The bit
// values are the reference's (sf-apis opflags, sf-collector op_flags.h).
type OpFlags int32

// Operation flags.
const (
	OpClone     OpFlags = 1 << 0
	OpExec      OpFlags = 1 << 1
	OpExit      OpFlags = 1 << 2
	OpSetUID    OpFlags = 1 << 3
	OpSetNS     OpFlags = 1 << 4
	OpAccept    OpFlags = 1 << 5
	OpConnect   OpFlags = 1 << 6
	OpOpen      OpFlags = 1 << 7
	OpReadRecv  OpFlags = 1 << 8
	OpWriteSend OpFlags = 1 << 9
	OpClose     OpFlags = 1 << 10
	OpTruncate  OpFlags = 1 << 11
	OpShutdown  OpFlags = 1 << 12
	OpMmap      OpFlags = 1 << 13
	OpDigest    OpFlags = 1 << 14
	OpMkdir     OpFlags = 1 << 15
	OpRmdir     OpFlags = 1 << 16
	OpLink      OpFlags = 1 << 17
	OpUnlink    OpFlags = 1 << 18
	OpSymlink   OpFlags = 1 << 19
	OpRename    OpFlags = 1 << 20
)

// opNames names every operation flag, in bit order.
var opNames = [...]struct {
	flag OpFlags
	name string
}{
	{OpClone, "CLONE"}, {OpExec, "EXEC"}, {OpExit, "EXIT"}, {OpSetUID, "SETUID"},
	{OpSetNS, "SETNS"}, {OpAccept, "ACCEPT"}, {OpConnect, "CONNECT"}, {OpOpen, "OPEN"},
	{OpReadRecv, "READ"}, {OpWriteSend, "WRITE"}, {OpClose, "CLOSE"}, {OpTruncate, "TRUNCATE"},
	{OpShutdown, "SHUTDOWN"}, {OpMmap, "MMAP"}, {OpDigest, "DIGEST"}, {OpMkdir, "MKDIR"},
	{OpRmdir, "RMDIR"}, {OpLink, "LINK"}, {OpUnlink, "UNLINK"}, {OpSymlink, "SYMLINK"},
	{OpRename, "RENAME"},
}

// sysprint renders flags in three tiers: path operations by name, else process operations by
// name, else one column per data operation.
var (
	fileEventOps = [...]struct {
		flag OpFlags
		name string
	}{{OpMkdir, "MKDIR"}, {OpRmdir, "RMDIR"}, {OpLink, "LINK"}, {OpSymlink, "SYMLINK"}, {OpUnlink, "UNLINK"}, {OpRename, "RENAME"}}
	processOps = [...]struct {
		flag OpFlags
		name string
	}{{OpClone, "CLONE"}, {OpExec, "EXEC"}, {OpExit, "EXIT"}, {OpSetUID, "SETUID"}}
	flowColumns = [...]struct {
		flag   OpFlags
		letter byte
	}{
		{OpOpen, 'O'}, {OpAccept, 'A'}, {OpConnect, 'C'}, {OpWriteSend, 'W'}, {OpReadRecv, 'R'},
		{OpSetNS, 'N'}, {OpMmap, 'M'}, {OpShutdown, 'S'}, {OpClose, 'C'}, {OpTruncate, 'T'},
		{OpDigest, 'D'},
	}
)

// String returns the flags as sysprint prints them (the opflags field):
//   - if any path operation is set, their names concatenated without separator, in the
//     order MKDIR RMDIR LINK SYMLINK UNLINK RENAME (e.g. "UNLINK");
//   - else if any process operation is set, their names concatenated in the order CLONE EXEC
//     EXIT SETUID (e.g. "EXEC");
//   - else 11 fixed columns "OACWRNMSCTD" for OPEN ACCEPT CONNECT WRITE READ SETNS MMAP
//     SHUTDOWN CLOSE TRUNCATE DIGEST, each the letter when set and a space otherwise: an
//     OPEN|READ|CLOSE file flow is "O   R   C  ".
func (f OpFlags) String() string {
	var b strings.Builder
	for _, op := range fileEventOps {
		if f&op.flag != 0 {
			b.WriteString(op.name)
		}
	}
	if b.Len() > 0 {
		return b.String()
	}
	for _, op := range processOps {
		if f&op.flag != 0 {
			b.WriteString(op.name)
		}
	}
	if b.Len() > 0 {
		return b.String()
	}
	var cols [len(flowColumns)]byte
	for i, c := range flowColumns {
		cols[i] = ' '
		if f&c.flag != 0 {
			cols[i] = c.letter
		}
	}
	return string(cols[:])
}

// Names returns the names of the set flags in bit order (READ for READ_RECV, WRITE for
// WRITE_SEND), and the hexadecimal value of any bits that are not SysFlow flags.
func (f OpFlags) Names() []string {
	var names []string
	rest := f
	for _, op := range opNames {
		if f&op.flag != 0 {
			names = append(names, op.name)
			rest &^= op.flag
		}
	}
	if rest != 0 {
		names = append(names, "0x"+strconv.FormatUint(uint64(uint32(rest)), 16))
	}
	return names
}

// Has reports whether every flag of g is set in f.
func (f OpFlags) Has(g OpFlags) bool { return f&g == g }

// OpenFlags are the flags a file was opened with, in the portable PPM encoding of the
// sysdig/Falco drivers (the FileFlow openFlags field), not Linux's O_* values.
type OpenFlags int32

// Open flags (PPM encoding).
const (
	OpenNone      OpenFlags = 0
	OpenRdonly    OpenFlags = 1 << 0
	OpenWronly    OpenFlags = 1 << 1
	OpenRdwr      OpenFlags = OpenRdonly | OpenWronly
	OpenCreat     OpenFlags = 1 << 2
	OpenAppend    OpenFlags = 1 << 3
	OpenDsync     OpenFlags = 1 << 4
	OpenExcl      OpenFlags = 1 << 5
	OpenNonblock  OpenFlags = 1 << 6
	OpenSync      OpenFlags = 1 << 7
	OpenTrunc     OpenFlags = 1 << 8
	OpenDirect    OpenFlags = 1 << 9
	OpenDirectory OpenFlags = 1 << 10
	OpenLargefile OpenFlags = 1 << 11
	OpenCloexec   OpenFlags = 1 << 12
	OpenTmpfile   OpenFlags = 1 << 13
	// OpenFCreated is set by the driver when the open created the file; it has no O_* flag.
	OpenFCreated OpenFlags = 1 << 14
)

// openNames names the open flags after the access mode, in bit order.
var openNames = [...]struct {
	flag OpenFlags
	name string
}{
	{OpenCreat, "CREAT"}, {OpenAppend, "APPEND"}, {OpenDsync, "DSYNC"}, {OpenExcl, "EXCL"},
	{OpenNonblock, "NONBLOCK"}, {OpenSync, "SYNC"}, {OpenTrunc, "TRUNC"}, {OpenDirect, "DIRECT"},
	{OpenDirectory, "DIRECTORY"}, {OpenLargefile, "LARGEFILE"}, {OpenCloexec, "CLOEXEC"},
	{OpenTmpfile, "TMPFILE"}, {OpenFCreated, "F_CREATED"},
}

// String returns the flag names joined with "|", the access mode first, using the names of
// sysprint's open-flag set (RDONLY, WRONLY, RDWR, CREAT, ...): 263 is "RDWR|CREAT|TRUNC", 0 is
// "NONE". sysprint itself prints the number in its file.openflags field.
func (f OpenFlags) String() string {
	if f == OpenNone {
		return "NONE"
	}
	var names []string
	switch f & OpenRdwr {
	case OpenRdonly:
		names = append(names, "RDONLY")
	case OpenWronly:
		names = append(names, "WRONLY")
	case OpenRdwr:
		names = append(names, "RDWR")
	}
	rest := f &^ OpenRdwr
	for _, o := range openNames {
		if f&o.flag != 0 {
			names = append(names, o.name)
			rest &^= o.flag
		}
	}
	if rest != 0 {
		names = append(names, "0x"+strconv.FormatUint(uint64(uint32(rest)), 16))
	}
	return strings.Join(names, "|")
}

// linuxOpenLayout holds the Linux O_* values that differ between architectures.
type linuxOpenLayout struct {
	direct, largefile, directory int
}

// Linux O_* values common to all architectures handled here (asm-generic/fcntl.h).
const (
	linuxAccMode  = 0o3
	linuxWronly   = 0o1
	linuxRdwr     = 0o2
	linuxCreat    = 0o100
	linuxExcl     = 0o200
	linuxTrunc    = 0o1000
	linuxAppend   = 0o2000
	linuxNonblock = 0o4000
	linuxDsync    = 0o10000
	linuxCloexec  = 0o2000000
	linuxSyncBit  = 0o4000000  // __O_SYNC
	linuxTmpBit   = 0o20000000 // __O_TMPFILE
	linuxSync     = linuxSyncBit | linuxDsync
)

var (
	// genericOpen is asm-generic: amd64, 386, riscv64, loong64, s390x.
	genericOpen = linuxOpenLayout{direct: 0o40000, largefile: 0o100000, directory: 0o200000}
	// armOpen is arm and arm64 (arch/arm64/include/uapi/asm/fcntl.h).
	armOpen = linuxOpenLayout{direct: 0o200000, largefile: 0o400000, directory: 0o40000}
)

// OpenFlagsFromLinux converts the flags argument of open(2)/openat(2), as passed on
// x86-64 and other asm-generic architectures, to the PPM encoding, as the reference's driver
// does:
//   - the access mode becomes exactly one of RDONLY, WRONLY or RDWR (an invalid mode 3 reads
//     as RDONLY);
//   - O_SYNC is tested as the kernel macro (__O_SYNC|O_DSYNC), so O_DSYNC alone sets both
//     DSYNC and SYNC;
//   - O_TMPFILE (which includes O_DIRECTORY) sets TMPFILE and DIRECTORY; O_DIRECTORY alone sets
//     only DIRECTORY (the reference files have 5121 = RDONLY|DIRECTORY|CLOEXEC for opendir);
//   - O_NOCTTY, O_NOFOLLOW, O_NOATIME, O_PATH and O_ASYNC have no PPM flag and are dropped.
//
// F_CREATED is not derived from the flags: callers that know the open created the file set it.
func OpenFlagsFromLinux(flags int) int32 {
	return openFlagsFromLinux(flags, genericOpen)
}

// OpenFlagsFromLinuxArch is OpenFlagsFromLinux for flags captured on the architecture goarch
// (a GOARCH name): arm and arm64 place O_DIRECT, O_LARGEFILE and O_DIRECTORY elsewhere; every
// other name uses the asm-generic values.
func OpenFlagsFromLinuxArch(flags int, goarch string) int32 {
	switch goarch {
	case "arm", "arm64":
		return openFlagsFromLinux(flags, armOpen)
	}
	return openFlagsFromLinux(flags, genericOpen)
}

func openFlagsFromLinux(flags int, l linuxOpenLayout) int32 {
	var f OpenFlags
	switch flags & linuxAccMode {
	case linuxWronly:
		f = OpenWronly
	case linuxRdwr:
		f = OpenRdwr
	default:
		f = OpenRdonly
	}
	set := func(linux int, ppm OpenFlags) {
		if flags&linux != 0 {
			f |= ppm
		}
	}
	set(linuxCreat, OpenCreat)
	if flags&linuxTmpBit != 0 {
		f |= OpenTmpfile
	}
	set(linuxAppend, OpenAppend)
	set(linuxDsync, OpenDsync)
	set(linuxExcl, OpenExcl)
	set(linuxNonblock, OpenNonblock)
	set(linuxSync, OpenSync)
	set(linuxTrunc, OpenTrunc)
	set(l.direct, OpenDirect)
	set(l.directory, OpenDirectory)
	set(l.largefile, OpenLargefile)
	set(linuxCloexec, OpenCloexec)
	return int32(f)
}
