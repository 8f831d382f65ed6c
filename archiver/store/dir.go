package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// tmpMarker is in the name of every temporary file; List never returns such names.
const tmpMarker = ".sfstream-tmp-"

// dirStore stores objects as files under a local directory; object names are relative paths.
type dirStore struct {
	root string
}

func newDir(root string) (*dirStore, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("dir store %s: %w", root, err)
	}
	return &dirStore{root: abs}, nil
}

func (d *dirStore) String() string { return "dir " + d.root }

func (d *dirStore) Close() error { return nil }

// file returns the path of object name, refusing names that would leave the root.
func (d *dirStore) file(name string) (string, error) {
	clean := path.Clean("/" + name)
	if clean == "/" || clean[1:] != name {
		return "", fmt.Errorf("object name %q: not a clean relative path", name)
	}
	return filepath.Join(d.root, filepath.FromSlash(name)), nil
}

func (d *dirStore) Put(ctx context.Context, name, src string, size int64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", name, err)
	}
	dst, err := d.file(name)
	if err != nil {
		return fmt.Errorf("put %s: %w", name, err)
	}
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("put %s: %w", name, err)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(dir, "."+filepath.Base(dst)+tmpMarker+hex.EncodeToString(rnd[:]))
	if err := copyFile(tmp, src, size); err != nil {
		return errors.Join(fmt.Errorf("put %s: %w", name, err), removeQuietly(tmp))
	}
	if err := os.Rename(tmp, dst); err != nil {
		return errors.Join(fmt.Errorf("put %s: %w", name, err), removeQuietly(tmp))
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("put %s: %w", name, err)
	}
	// Temporary files of this name left by a writer that died before its rename.
	stale, _ := filepath.Glob(filepath.Join(dir, "."+globEscape(filepath.Base(dst))+tmpMarker+"*"))
	for _, p := range stale {
		_ = os.Remove(p) // best effort: a leftover is ignored by List
	}
	return nil
}

// globEscape escapes the pattern characters of s.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// copyFile writes the first size bytes of src to a new file dst and syncs it.
func copyFile(dst, src string, size int64) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }() // read-only
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	n, err := io.Copy(out, io.LimitReader(in, size))
	if err == nil && n != size {
		err = fmt.Errorf("copy %s: %d bytes, want %d", src, n, size)
	}
	if err == nil {
		err = out.Sync()
	}
	return errors.Join(err, out.Close())
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

func removeQuietly(p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (d *dirStore) List(ctx context.Context, prefix string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	dirName, base := path.Split(prefix)
	dir := d.root
	if dirName != "" {
		p, err := d.file(strings.TrimSuffix(dirName, "/"))
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		dir = p
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, base) || strings.Contains(n, tmpMarker) {
			continue
		}
		names = append(names, dirName+n)
	}
	sort.Strings(names)
	return names, nil
}

func (d *dirStore) Head(ctx context.Context, name string, n int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get %s: %w", name, err)
	}
	p, err := d.file(name)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", name, err)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", name, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, n), f}, nil
}

func (d *dirStore) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("check %s: %w", d, err)
	}
	if err := os.MkdirAll(d.root, 0o755); err != nil {
		return fmt.Errorf("check %s: %w", d, err)
	}
	probe, err := os.CreateTemp(d.root, "."+tmpMarker+"probe-")
	if err != nil {
		return fmt.Errorf("check %s: not writable: %w", d, err)
	}
	return errors.Join(probe.Close(), os.Remove(probe.Name()))
}
