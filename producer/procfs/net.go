package procfs

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sfstream/sfstream/internal/raw"
)

// Sockets maps a socket inode to its tuple, for one network namespace.
type Sockets map[uint64]raw.Sock

// ParseInet adds the sockets of a /proc/net/{tcp,tcp6,udp,udp6} table to s. Addresses there are
// 32-bit words printed in host order (little endian here); raw.Sock wants network order bytes.
func (s Sockets) ParseInet(r io.Reader, family, proto int32) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	first := true
	for sc.Scan() {
		if first { // the header
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		laddr, lport, err := parseInetAddr(f[1])
		if err != nil {
			return fmt.Errorf("parse inet table: local address: %w", err)
		}
		raddr, rport, err := parseInetAddr(f[2])
		if err != nil {
			return fmt.Errorf("parse inet table: remote address: %w", err)
		}
		ino, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			return fmt.Errorf("%w: inet table inode: %w", ErrFormat, err)
		}
		if ino == 0 {
			continue // TIME_WAIT and friends: no fd holds them
		}
		s[ino] = raw.Sock{Family: family, Proto: proto, LAddr: laddr, LPort: lport, RAddr: raddr, RPort: rport}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read inet table: %w", err)
	}
	return nil
}

// parseInetAddr parses "0100007F:1F90" (IPv4) or 32 hex digits and a port (IPv6).
func parseInetAddr(s string) ([]byte, int32, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok || (len(a) != 8 && len(a) != 32) {
		return nil, 0, fmt.Errorf("%w: address %q", ErrFormat, s)
	}
	words, err := hex.DecodeString(a)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: address %q: %w", ErrFormat, s, err)
	}
	addr := make([]byte, len(words))
	for i := 0; i < len(words); i += 4 {
		binary.LittleEndian.PutUint32(addr[i:], binary.BigEndian.Uint32(words[i:]))
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: port %q: %w", ErrFormat, s, err)
	}
	return addr, int32(port), nil
}

// ParseUnix adds the sockets of /proc/net/unix to s ("Num RefCount Protocol Flags Type St Inode
// Path"; abstract names are shown with a leading '@').
func (s Sockets) ParseUnix(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 7 {
			continue
		}
		ino, err := strconv.ParseUint(f[6], 10, 64)
		if err != nil {
			return fmt.Errorf("%w: unix table inode: %w", ErrFormat, err)
		}
		var path string
		if len(f) > 7 {
			path = strings.Join(f[7:], " ")
		}
		s[ino] = raw.Sock{Family: raw.AFUnix, LAddr: []byte{}, RAddr: []byte{}, Path: path}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read unix table: %w", err)
	}
	return nil
}
