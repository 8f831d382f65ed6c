package procfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strconv"

	"github.com/sfstream/sfstream/internal/raw"
)

// fds reads pid's fd table. Entries that vanish while it is read are skipped.
func (f *FS) fds(pid int64) ([]raw.FD, error) {
	ents, err := os.ReadDir(f.path(pid, "fd"))
	if err != nil {
		if os.IsPermission(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("list fds of %d: %w", pid, gone(err))
	}
	nums := make([]int, 0, len(ents))
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	out := make([]raw.FD, 0, len(nums))
	for _, n := range nums {
		name := strconv.Itoa(n)
		target, err := os.Readlink(f.path(pid, "fd", name))
		if err != nil {
			continue // closed meanwhile
		}
		fd := raw.FD{FD: int32(n), Path: target}
		info, err := f.readString(pid, "fdinfo", name)
		if err != nil {
			continue // closed meanwhile
		}
		if fd.Flags, err = parseFDInfoFlags(info); err != nil {
			return nil, fmt.Errorf("read fd %d of %d: %w", n, pid, err)
		}
		kind, ino := classifyLink(target)
		switch kind {
		case linkPath:
			fd.Kind = raw.FDFile
			if st, err := os.Stat(f.path(pid, "fd", name)); err == nil && st.IsDir() {
				fd.Kind = raw.FDDir
			}
		case linkPipe:
			fd.Kind = raw.FDPipe
		case linkAnon:
			fd.Kind = raw.FDOther
		case linkSocket:
			fd.Kind = raw.FDOther
			socks, err := f.socketsOf(pid)
			if err != nil {
				return nil, err
			}
			if s, ok := socks[ino]; ok {
				sock := s
				fd.Sock = &sock
				switch s.Family {
				case raw.AFInet:
					fd.Kind = raw.FDIPv4
				case raw.AFInet6:
					fd.Kind = raw.FDIPv6
				case raw.AFUnix:
					fd.Kind = raw.FDUnix
				}
			}
		default:
			fd.Kind = raw.FDUnknown
		}
		out = append(out, fd)
	}
	return out, nil
}

// socketsOf returns the socket table of pid's network namespace, read once per namespace. A
// table that does not exist (no IPv6, say) is skipped.
func (f *FS) socketsOf(pid int64) (Sockets, error) {
	ns, err := os.Readlink(f.path(pid, "ns", "net"))
	if err != nil {
		ns = "pid:" + strconv.FormatInt(pid, 10)
	}
	if s, ok := f.sockets[ns]; ok {
		return s, nil
	}
	s := Sockets{}
	for _, t := range []struct {
		file          string
		family, proto int32
	}{
		{"tcp", raw.AFInet, raw.ProtoTCP},
		{"tcp6", raw.AFInet6, raw.ProtoTCP},
		{"udp", raw.AFInet, raw.ProtoUDP},
		{"udp6", raw.AFInet6, raw.ProtoUDP},
	} {
		if err := f.parseTable(pid, t.file, func(r io.Reader) error { return s.ParseInet(r, t.family, t.proto) }); err != nil {
			return nil, err
		}
	}
	if err := f.parseTable(pid, "unix", s.ParseUnix); err != nil {
		return nil, err
	}
	f.sockets[ns] = s
	return s, nil
}

func (f *FS) parseTable(pid int64, name string, parse func(io.Reader) error) error {
	r, err := os.Open(f.path(pid, "net", name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read net/%s of %d: %w", name, pid, err)
	}
	defer func() { _ = r.Close() }() // read-only
	if err := parse(r); err != nil {
		return fmt.Errorf("read net/%s of %d: %w", name, pid, err)
	}
	return nil
}
