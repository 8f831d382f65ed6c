//go:build linux

package bpf

import (
	"bytes"
	"errors"
	"fmt"
	"unsafe"
)

// The record types, generated from events.h.
type (
	// Header starts every record.
	Header = captureSfHeader
	// SysEvent is a syscall's numbers; its strings follow it.
	SysEvent = captureSfSysEvent
	// SockEvent is socket, connect or accept with the socket's tuple.
	SockEvent = captureSfSockEvent
	// Sock is a socket's family, protocol and addresses.
	Sock = captureSfSock
	// ProcEvent is a process's attributes on exec and on the child side of clone.
	ProcEvent = captureSfProcEvent
)

// Kind says which struct a record is (Header.Kind).
type Kind uint16

// Record kinds.
const (
	KindSys  = Kind(captureSfKindSF_KIND_SYS)
	KindSock = Kind(captureSfKindSF_KIND_SOCK)
	KindProc = Kind(captureSfKindSF_KIND_PROC)
)

// Header flags (Header.Flags).
const (
	FlagGroupDead = uint16(captureSfHeaderFlagSF_F_GROUP_DEAD)
	FlagThread    = uint16(captureSfHeaderFlagSF_F_THREAD)
	FlagTruncated = uint16(captureSfHeaderFlagSF_F_TRUNCATED)
)

// Syscall numbers the Go side needs to tell variants of one op apart (Header.Nr).
const (
	NrSocketpair = uint16(captureSfNrSF_NR_SOCKETPAIR)
	NrCreat      = uint16(captureSfNrSF_NR_CREAT)
)

// ErrShort is returned for a record shorter than its kind says.
var ErrShort = errors.New("short record")

// Record is one ring buffer record decoded in place: the pointers and slices alias the bytes
// passed to Decode and are valid only as long as those bytes are.
type Record struct {
	Header *Header
	Sys    *SysEvent  // KindSys and KindSock
	Sock   *Sock      // KindSock
	Proc   *ProcEvent // KindProc

	// KindSys strings.
	Path, Path2 []byte
	// KindProc strings; Args is argv, NUL-separated.
	Filename, Exe, Args, Cwd, Cgroup []byte
}

var (
	headerSize = int(unsafe.Sizeof(Header{}))
	sysSize    = int(unsafe.Sizeof(SysEvent{}))
	sockSize   = int(unsafe.Sizeof(SockEvent{}))
	procSize   = int(unsafe.Sizeof(ProcEvent{}))
)

// HeaderOf returns the header of record b, in place.
func HeaderOf(b []byte) (*Header, error) {
	if len(b) < headerSize {
		return nil, fmt.Errorf("decode record header: %w: %d bytes", ErrShort, len(b))
	}
	return (*Header)(unsafe.Pointer(&b[0])), nil
}

// Decode decodes b into r. b must be 8-byte aligned (as ring buffer records are).
func Decode(b []byte, r *Record) error {
	*r = Record{}
	if len(b) < headerSize {
		return fmt.Errorf("decode record: %w: %d bytes", ErrShort, len(b))
	}
	r.Header = (*Header)(unsafe.Pointer(&b[0]))
	switch Kind(r.Header.Kind) {
	case KindSys:
		if len(b) < sysSize {
			return fmt.Errorf("decode sys record: %w: %d bytes", ErrShort, len(b))
		}
		r.Sys = (*SysEvent)(unsafe.Pointer(&b[0]))
		rest := b[sysSize:]
		var ok bool
		if r.Path, rest, ok = cut(rest, r.Sys.PathLen); !ok {
			return fmt.Errorf("decode sys record: path: %w", ErrShort)
		}
		if r.Path2, _, ok = cut(rest, r.Sys.Path2Len); !ok {
			return fmt.Errorf("decode sys record: path2: %w", ErrShort)
		}
	case KindSock:
		if len(b) < sockSize {
			return fmt.Errorf("decode sock record: %w: %d bytes", ErrShort, len(b))
		}
		e := (*SockEvent)(unsafe.Pointer(&b[0]))
		r.Sys, r.Sock = &e.Sys, &e.Sock
	case KindProc:
		if len(b) < procSize {
			return fmt.Errorf("decode proc record: %w: %d bytes", ErrShort, len(b))
		}
		r.Proc = (*ProcEvent)(unsafe.Pointer(&b[0]))
		rest := b[procSize:]
		for _, f := range []struct {
			dst *[]byte
			n   uint16
		}{
			{&r.Filename, r.Proc.FilenameLen},
			{&r.Exe, r.Proc.ExeLen},
			{&r.Args, r.Proc.ArgsLen},
			{&r.Cwd, r.Proc.CwdLen},
			{&r.Cgroup, r.Proc.CgroupLen},
		} {
			var ok bool
			if *f.dst, rest, ok = cut(rest, f.n); !ok {
				return fmt.Errorf("decode proc record: strings: %w", ErrShort)
			}
		}
	default:
		return fmt.Errorf("decode record: unknown kind %d", r.Header.Kind)
	}
	return nil
}

// cut takes n bytes off b and returns them without their terminating NUL.
func cut(b []byte, n uint16) (s, rest []byte, ok bool) {
	if int(n) > len(b) {
		return nil, b, false
	}
	s = b[:n]
	if len(s) > 0 && s[len(s)-1] == 0 {
		s = s[:len(s)-1]
	}
	return s, b[n:], true
}

// SockPath returns the AF_UNIX path of s; an abstract name is returned with a leading '@', as
// /proc/net/unix shows it.
func SockPath(s *Sock) string {
	n := int(s.PathLen)
	if n > len(s.Path) {
		n = len(s.Path)
	}
	b := make([]byte, 0, n)
	for i := 0; i < n; i++ {
		b = append(b, byte(s.Path[i]))
	}
	if len(b) > 0 && b[0] == 0 {
		b[0] = '@'
		return string(bytes.TrimRight(b, "\x00"))
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// Comm returns a task name without its padding.
func Comm(c *[16]int8) string {
	var b [16]byte
	n := 0
	for ; n < len(c) && c[n] != 0; n++ {
		b[n] = byte(c[n])
	}
	return string(b[:n])
}

// SplitArgs splits a NUL-separated argv (without its final NUL) into its strings.
func SplitArgs(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	parts := bytes.Split(b, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}
