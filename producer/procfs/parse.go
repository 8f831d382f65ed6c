package procfs

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrFormat marks /proc content that does not parse.
var ErrFormat = errors.New("unexpected /proc format")

// pfKThread is PF_KTHREAD in the stat flags field.
const pfKThread = 0x00200000

// stat is what sfstream needs of /proc/<pid>/stat.
type stat struct {
	Comm       string
	PPID       int64
	TTY        int32
	Flags      uint64
	StartTicks uint64
}

// parseStat parses /proc/<pid>/stat. The comm may hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStat(s string) (stat, error) {
	open := strings.IndexByte(s, '(')
	closing := strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return stat{}, fmt.Errorf("%w: stat: no comm", ErrFormat)
	}
	// After the comm: state(0) ppid(1) pgrp(2) session(3) tty_nr(4) tpgid(5) flags(6) ...
	// starttime(19).
	f := strings.Fields(s[closing+1:])
	if len(f) < 20 {
		return stat{}, fmt.Errorf("%w: stat: %d fields after comm", ErrFormat, len(f))
	}
	var st stat
	var err error
	st.Comm = s[open+1 : closing]
	if st.PPID, err = strconv.ParseInt(f[1], 10, 64); err != nil {
		return stat{}, fmt.Errorf("%w: stat ppid: %w", ErrFormat, err)
	}
	tty, err := strconv.ParseInt(f[4], 10, 32)
	if err != nil {
		return stat{}, fmt.Errorf("%w: stat tty_nr: %w", ErrFormat, err)
	}
	st.TTY = int32(tty)
	if st.Flags, err = strconv.ParseUint(f[6], 10, 64); err != nil {
		return stat{}, fmt.Errorf("%w: stat flags: %w", ErrFormat, err)
	}
	if st.StartTicks, err = strconv.ParseUint(f[19], 10, 64); err != nil {
		return stat{}, fmt.Errorf("%w: stat starttime: %w", ErrFormat, err)
	}
	return st, nil
}

// status is what sfstream needs of /proc/<pid>/status.
type status struct {
	UID, GID int32 // effective ids, as the kernel side reports them
	VPID     int64 // the last NSpid entry: the pid in the innermost namespace
}

func parseStatus(s string) (status, error) {
	st := status{UID: -1, GID: -1}
	seen := 0
	for line := range strings.Lines(s) {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		switch key {
		case "Uid", "Gid":
			if len(f) < 2 {
				return status{}, fmt.Errorf("%w: status %s: %q", ErrFormat, key, val)
			}
			v, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return status{}, fmt.Errorf("%w: status %s: %w", ErrFormat, key, err)
			}
			if key == "Uid" {
				st.UID = int32(v)
			} else {
				st.GID = int32(v)
			}
			seen++
		case "NSpid":
			if len(f) == 0 {
				continue
			}
			v, err := strconv.ParseInt(f[len(f)-1], 10, 64)
			if err != nil {
				return status{}, fmt.Errorf("%w: status NSpid: %w", ErrFormat, err)
			}
			st.VPID = v
		}
	}
	if seen < 2 {
		return status{}, fmt.Errorf("%w: status: no Uid or Gid", ErrFormat)
	}
	return st, nil
}

// parseCmdline splits /proc/<pid>/cmdline (NUL-terminated argv) into argv.
func parseCmdline(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	b = bytes.TrimSuffix(b, []byte{0})
	parts := bytes.Split(b, []byte{0})
	argv := make([]string, len(parts))
	for i, p := range parts {
		argv[i] = string(p)
	}
	return argv
}

// parseFDInfoFlags returns the open flags (octal "flags:" line) of /proc/<pid>/fdinfo/<fd>.
func parseFDInfoFlags(s string) (int64, error) {
	for line := range strings.Lines(s) {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			f, err := strconv.ParseInt(strings.TrimSpace(v), 8, 64)
			if err != nil {
				return 0, fmt.Errorf("%w: fdinfo flags: %w", ErrFormat, err)
			}
			return f, nil
		}
	}
	return 0, fmt.Errorf("%w: fdinfo: no flags", ErrFormat)
}

// linkKind is what an fd's /proc link target says it is.
type linkKind int

const (
	linkPath   linkKind = iota // an absolute path: a file or a directory
	linkSocket                 // socket:[inode]
	linkPipe                   // pipe:[inode]
	linkAnon                   // anon_inode:..., an eventfd, epoll, timerfd, ...
	linkOther                  // anything else (a deleted memfd, a namespace, ...)
)

// classifyLink reads an fd link target such as "/etc/passwd", "socket:[123]", "pipe:[45]" or
// "anon_inode:[eventfd]". inode is set for sockets and pipes.
func classifyLink(target string) (kind linkKind, inode uint64) {
	if strings.HasPrefix(target, "/") {
		return linkPath, 0
	}
	if strings.HasPrefix(target, "anon_inode:") {
		return linkAnon, 0
	}
	for _, p := range []struct {
		prefix string
		kind   linkKind
	}{{"socket:[", linkSocket}, {"pipe:[", linkPipe}} {
		if rest, ok := strings.CutPrefix(target, p.prefix); ok {
			ino, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64)
			if err != nil {
				return linkOther, 0
			}
			return p.kind, ino
		}
	}
	return linkOther, 0
}
