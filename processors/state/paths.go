package state

import (
	"path"
	"strings"

	"github.com/sfstream/sfstream/internal/raw"
)

// resolve makes a path argument absolute the way the reference does: absolute paths are
// cleaned lexically; relative ones are joined to the directory fd's name or, for AT_FDCWD, to
// the cwd, then cleaned; when that directory is unknown the path is returned verbatim. (The
// reference also resolves symlinks of existing prefixes on the collector's own filesystem;
// a stream processor has no such filesystem, so it does not.)
func resolve(p *proc, dirfd int32, name string) string {
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
			return name
		}
		base = fi.path
	}
	if base == "" {
		return name
	}
	return path.Clean(base + "/" + name)
}
