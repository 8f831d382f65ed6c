package sysflow_test

import (
	"slices"
	"testing"

	"github.com/sfstream/sfstream/sysflow"
)

func TestOpFlagBits(t *testing.T) {
	// sf-apis opflags.py: OP_CLONE = 1<<0 ... OP_RENAME = 1<<20, in this order.
	flags := []sysflow.OpFlags{
		sysflow.OpClone, sysflow.OpExec, sysflow.OpExit, sysflow.OpSetUID, sysflow.OpSetNS,
		sysflow.OpAccept, sysflow.OpConnect, sysflow.OpOpen, sysflow.OpReadRecv, sysflow.OpWriteSend,
		sysflow.OpClose, sysflow.OpTruncate, sysflow.OpShutdown, sysflow.OpMmap, sysflow.OpDigest,
		sysflow.OpMkdir, sysflow.OpRmdir, sysflow.OpLink, sysflow.OpUnlink, sysflow.OpSymlink,
		sysflow.OpRename,
	}
	for i, f := range flags {
		if f != 1<<i {
			t.Errorf("flag %d = %#x, want %#x", i, int32(f), 1<<i)
		}
	}
}

func TestOpFlagsString(t *testing.T) {
	tests := []struct {
		name  string
		flags sysflow.OpFlags
		want  string
	}{
		// Values from the reference files and what sysprint printed for them.
		{"exec", sysflow.OpExec, "EXEC"},
		{"clone", 1, "CLONE"},
		{"exit", 4, "EXIT"},
		{"setuid", 8, "SETUID"},
		{"open close", 1152, "O       C  "},
		{"open write close", 1664, "O  W    C  "},
		{"open read close", 1408, "O   R   C  "},
		{"open mmap close", 9344, "O     M C  "},
		{"open read mmap close", 9600, "O   R M C  "},
		{"close only", 1024, "        C  "},
		{"read truncate", 2304, "    R    T "},
		{"write truncate", 2560, "   W     T "},
		{"accept read write truncate", 2848, " A WR    T "},
		{"connect read write truncate", 2880, "  CWR    T "},
		{"connect close", 1088, "  C     C  "},
		{"setns open close", sysflow.OpSetNS | sysflow.OpOpen | sysflow.OpClose, "O    N  C  "},
		{"shutdown digest", sysflow.OpShutdown | sysflow.OpDigest, "       S  D"},
		{"none", 0, "           "},
		{"mkdir", 32768, "MKDIR"},
		{"rmdir", 65536, "RMDIR"},
		{"link", 131072, "LINK"},
		{"symlink", 524288, "SYMLINK"},
		{"rename", 1048576, "RENAME"},
		{"unlink", 262144, "UNLINK"},
		// Tiers: path ops hide process ops, which hide data ops; names concatenate.
		{"path ops first", sysflow.OpRename | sysflow.OpExec | sysflow.OpOpen, "RENAME"},
		{"link and unlink concatenate", sysflow.OpLink | sysflow.OpUnlink, "LINKUNLINK"},
		{"process ops before data ops", sysflow.OpClone | sysflow.OpExit | sysflow.OpOpen, "CLONEEXIT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.flags.String(); got != tt.want {
				t.Errorf("OpFlags(%d).String() = %q, want %q", tt.flags, got, tt.want)
			}
		})
	}
}

func TestOpFlagsNames(t *testing.T) {
	tests := []struct {
		flags sysflow.OpFlags
		want  []string
	}{
		{sysflow.OpOpen | sysflow.OpReadRecv | sysflow.OpClose, []string{"OPEN", "READ", "CLOSE"}},
		{sysflow.OpAccept | sysflow.OpTruncate, []string{"ACCEPT", "TRUNCATE"}},
		{sysflow.OpSetNS | sysflow.OpOpen | sysflow.OpClose, []string{"SETNS", "OPEN", "CLOSE"}},
		{0, nil},
		{sysflow.OpExec | 1<<25, []string{"EXEC", "0x2000000"}},
	}
	for _, tt := range tests {
		if got := tt.flags.Names(); !slices.Equal(got, tt.want) {
			t.Errorf("OpFlags(%d).Names() = %q, want %q", tt.flags, got, tt.want)
		}
	}
	if !(sysflow.OpOpen | sysflow.OpClose).Has(sysflow.OpClose) || sysflow.OpOpen.Has(sysflow.OpOpen|sysflow.OpClose) {
		t.Error("Has is wrong")
	}
}

func TestOpenFlagsString(t *testing.T) {
	tests := []struct {
		flags sysflow.OpenFlags
		want  string
	}{
		{0, "NONE"},
		{1, "RDONLY"},
		{263, "RDWR|CREAT|TRUNC"}, // fopen "w+" (SEMANTICS.md §3)
		{262, "WRONLY|CREAT|TRUNC"},
		{14, "WRONLY|CREAT|APPEND"},
		{4097, "RDONLY|CLOEXEC"},
		{5121, "RDONLY|DIRECTORY|CLOEXEC"},
		{sysflow.OpenFCreated | sysflow.OpenTmpfile | sysflow.OpenWronly, "WRONLY|TMPFILE|F_CREATED"},
		{sysflow.OpenCreat, "CREAT"},
		{1<<20 | 1, "RDONLY|0x100000"},
	}
	for _, tt := range tests {
		if got := tt.flags.String(); got != tt.want {
			t.Errorf("OpenFlags(%d).String() = %q, want %q", tt.flags, got, tt.want)
		}
	}
}

func TestOpenFlagsFromLinux(t *testing.T) {
	// Linux asm-generic values (x86-64).
	const (
		oRdonly    = 0
		oWronly    = 0o1
		oRdwr      = 0o2
		oCreat     = 0o100
		oExcl      = 0o200
		oNoctty    = 0o400
		oTrunc     = 0o1000
		oAppend    = 0o2000
		oNonblock  = 0o4000
		oDsync     = 0o10000
		oDirect    = 0o40000
		oLargefile = 0o100000
		oDirectory = 0o200000
		oNofollow  = 0o400000
		oCloexec   = 0o2000000
		oSync      = 0o4010000
		oPath      = 0o10000000
		oTmpfile   = 0o20200000
	)
	tests := []struct {
		name  string
		linux int
		want  int32
	}{
		{"fopen r", oRdonly, 1},
		{"fopen w", oWronly | oCreat | oTrunc, 262},
		{"fopen w+", oRdwr | oCreat | oTrunc, 263}, // SEMANTICS.md §3
		{"fopen a", oWronly | oCreat | oAppend, 14},
		{"ld.so", oRdonly | oCloexec, 4097},
		{"opendir", oRdonly | oNonblock | oDirectory | oCloexec, 5185},
		{"invalid access mode reads as rdonly", 3, 1},
		{"excl", oWronly | oCreat | oExcl, 2 | 4 | 32},
		{"dsync sets sync too", oWronly | oDsync, 2 | 16 | 128},
		{"sync", oWronly | oSync, 2 | 16 | 128},
		{"direct largefile", oRdonly | oDirect | oLargefile, 1 | 512 | 2048},
		{"tmpfile", oRdwr | oTmpfile, 3 | 1024 | 8192},
		{"dropped flags", oRdonly | oNoctty | oNofollow | oPath, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sysflow.OpenFlagsFromLinux(tt.linux); got != tt.want {
				t.Errorf("OpenFlagsFromLinux(%#o) = %d (%v), want %d (%v)", tt.linux, got,
					sysflow.OpenFlags(got), tt.want, sysflow.OpenFlags(tt.want))
			}
		})
	}
}

func TestOpenFlagsFromLinuxArch(t *testing.T) {
	tests := []struct {
		name   string
		linux  int
		goarch string
		want   int32
	}{
		{"arm64 opendir", 0o40000 | 0o2000000, "arm64", 1 | 1024 | 4096},
		{"arm64 direct", 0o200000, "arm64", 1 | 512},
		{"arm64 largefile", 0o400000, "arm64", 1 | 2048},
		{"arm64 nofollow dropped", 0o100000, "arm64", 1},
		{"arm largefile", 0o400000, "arm", 1 | 2048},
		{"amd64 opendir", 0o200000 | 0o2000000, "amd64", 1 | 1024 | 4096},
		{"unknown arch is generic", 0o100000, "riscv64", 1 | 2048},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sysflow.OpenFlagsFromLinuxArch(tt.linux, tt.goarch); got != tt.want {
				t.Errorf("OpenFlagsFromLinuxArch(%#o, %s) = %d, want %d", tt.linux, tt.goarch, got, tt.want)
			}
		})
	}
}
