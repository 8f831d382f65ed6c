package state

import (
	"path"
	"strings"

	"github.com/sfstream/sfstream/internal/raw"
)

// resolve makes a path argument absolute the way the reference does: absolute paths are
// cleaned lexically; relative ones are joined to the directory fd's name or, for AT_FDCWD, to
// the cwd, then cleaned; when that directory is unknown the path is returned verbatim for path
// operations (the reference keeps "./testing_dir") and cleaned for opens (sinsp's fd name
// drops the "./"). (The
// reference also resolves symlinks of existing prefixes on the collector's own filesystem;
// a stream processor has no such filesystem, so it does not.)
func resolve(p *proc, dirfd int32, name string) string { return resolvePath(p, dirfd, name, false) }

// resolveOpen is resolve for the path of an open, which becomes an fd name.
func resolveOpen(p *proc, dirfd int32, name string) string { return resolvePath(p, dirfd, name, true) }

func resolvePath(p *proc, dirfd int32, name string, clean bool) string {
	if name == "" {
		return ""
	}
	if strings.HasPrefix(name, "/") {
		return path.Clean(name)
	}
	base := p.cwd
	if dirfd != raw.AtFDCWD {
		fi, ok := p.fds[dirfd]
		if !ok || fi.path == "" {
			return unresolved(name, clean)
		}
		base = fi.path
	}
	if base == "" {
		return unresolved(name, clean)
	}
	return path.Clean(base + "/" + name)
}

func unresolved(name string, clean bool) string {
	if clean {
		return path.Clean(name)
	}
	return name
}
