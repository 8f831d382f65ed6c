package procfs

import (
	"strings"

	"github.com/sfstream/sfstream/internal/raw"
)

// Container runtimes, as SysFlow ContainerType indexes (raw.Container.Runtime).
const (
	RuntimeDocker     = 0
	RuntimeCustom     = 5
	RuntimeCRI        = 6
	RuntimeContainerd = 7
	RuntimeCRIO       = 8
)

// shortIDLen is the length of the container ids sfstream reports: docker's short id, as the
// reference collector does.
const shortIDLen = 12

// ContainerFromCgroupPath finds a container id in one cgroup path, for cgroup v1 and v2 and the
// cgroupfs and systemd drivers:
//
//	/docker/<id>                                docker, cgroupfs driver
//	/system.slice/docker-<id>.scope             docker, systemd driver
//	/kubepods/burstable/pod<uid>/<id>           kubernetes, cgroupfs driver (runtime unknown: CRI)
//	/kubepods.slice/.../cri-containerd-<id>.scope  containerd
//	/kubepods.slice/.../crio-<id>.scope         CRI-O (crio-conmon-<id> is not a container)
//	/machine.slice/libpod-<id>.scope            podman (custom)
//
// where <id> is 64 hex digits. It returns nil when the path names no container.
func ContainerFromCgroupPath(path string) *raw.Container {
	parts := strings.Split(path, "/")
	for i := len(parts) - 1; i >= 0; i-- {
		name := strings.TrimSuffix(parts[i], ".scope")
		var parent string
		if i > 0 {
			parent = parts[i-1]
		}
		if c := containerFromName(name, parent, path); c != nil {
			return c
		}
	}
	return nil
}

func containerFromName(name, parent, path string) *raw.Container {
	for _, p := range []struct {
		prefix  string
		runtime int32
	}{
		{"docker-", RuntimeDocker},
		{"cri-containerd-", RuntimeContainerd},
		{"crio-", RuntimeCRIO},
		{"libpod-", RuntimeCustom},
	} {
		if id, ok := strings.CutPrefix(name, p.prefix); ok && isContainerID(id) {
			return &raw.Container{ID: id[:shortIDLen], Runtime: p.runtime}
		}
	}
	if !isContainerID(name) {
		return nil
	}
	runtime := int32(RuntimeCRI)
	switch {
	case parent == "docker":
		runtime = RuntimeDocker
	case strings.Contains(path, "/kubepods"):
		runtime = RuntimeCRI
	case parent != "":
		// containerd's own namespaces (/default/<id>, /moby/<id>) and other managers.
		runtime = RuntimeContainerd
	}
	return &raw.Container{ID: name[:shortIDLen], Runtime: runtime}
}

func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// ContainerFromCgroupFile finds a container id in the content of /proc/<pid>/cgroup
// ("hierarchy-id:controllers:path" lines, v1 and v2). It returns nil when no line names one.
func ContainerFromCgroupFile(content string) *raw.Container {
	for line := range strings.Lines(content) {
		_, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		_, path, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		if c := ContainerFromCgroupPath(path); c != nil {
			return c
		}
	}
	return nil
}
