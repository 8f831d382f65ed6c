package procfs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Accounts maps uids and gids to names, from one root's /etc/passwd and /etc/group (the host's,
// or a container's through /proc/<pid>/root).
type Accounts struct {
	users  map[int32]string
	groups map[int32]string
}

// User returns uid's name, or "" when unknown.
func (a *Accounts) User(uid int32) string {
	if a == nil {
		return ""
	}
	return a.users[uid]
}

// Group returns gid's name, or "" when unknown.
func (a *Accounts) Group(gid int32) string {
	if a == nil {
		return ""
	}
	return a.groups[gid]
}

// LoadAccounts reads root/etc/passwd and root/etc/group. A missing file gives an empty table,
// not an error (minimal container images often have neither).
func LoadAccounts(root string) (*Accounts, error) {
	a := &Accounts{}
	var err error
	if a.users, err = loadIDFile(filepath.Join(root, "etc", "passwd")); err != nil {
		return nil, err
	}
	if a.groups, err = loadIDFile(filepath.Join(root, "etc", "group")); err != nil {
		return nil, err
	}
	return a, nil
}

func loadIDFile(path string) (map[int32]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[int32]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load accounts: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only
	m, err := ParseIDFile(f)
	if err != nil {
		return nil, fmt.Errorf("load accounts %s: %w", path, err)
	}
	return m, nil
}

// ParseIDFile parses passwd or group content ("name:x:id:..." lines; the id is the third
// field in both). Comments, blank and malformed lines are skipped; the first name of an id wins.
func ParseIDFile(r io.Reader) (map[int32]string, error) {
	m := map[int32]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.SplitN(line, ":", 4)
		if len(f) < 3 || f[0] == "" {
			continue
		}
		id, err := strconv.ParseInt(f[2], 10, 32)
		if err != nil {
			continue
		}
		if _, ok := m[int32(id)]; !ok {
			m[int32(id)] = f[0]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read id file: %w", err)
	}
	return m, nil
}
