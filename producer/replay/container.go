package replay

import (
	"encoding/json"
	"strings"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/replay/scap"
)

// SysFlow ContainerType indices (raw.Container.Runtime).
const (
	runtimeDocker     = 0
	runtimeCRI        = 6
	runtimeContainerd = 7
	runtimeCRIO       = 8
)

// containerFromCgroups finds a container id in a thread's cgroups ("subsys=path" entries):
// the first path whose last component, stripped of a runtime prefix and a ".scope" suffix,
// is a 64-hex-digit id, as docker (/docker/<id>, docker-<id>.scope), cri-o (crio-<id>.scope),
// containerd (cri-containerd-<id>.scope) and kubelet (/kubepods/.../<id>) name them. The id is
// the first 12 hex digits, as sinsp shortens it.
func containerFromCgroups(cgroups []string) (id string, runtime int32) {
	for _, cg := range cgroups {
		_, path, ok := strings.Cut(cg, "=")
		if !ok {
			continue
		}
		path = strings.TrimSpace(path)
		last := path[strings.LastIndexByte(path, '/')+1:]
		last = strings.TrimSuffix(last, ".scope")
		rt := int32(-1)
		for _, p := range []struct {
			prefix string
			rt     int32
		}{{"docker-", runtimeDocker}, {"crio-", runtimeCRIO}, {"cri-containerd-", runtimeContainerd}, {"libpod-", runtimeDocker}} {
			if rest, ok := strings.CutPrefix(last, p.prefix); ok {
				last, rt = rest, p.rt
				break
			}
		}
		if !isHexID(last) {
			continue
		}
		if rt < 0 {
			switch {
			case strings.Contains(path, "/docker/"):
				rt = runtimeDocker
			case strings.Contains(path, "kubepods"):
				rt = runtimeCRI
			default:
				rt = runtimeDocker
			}
		}
		return last[:12], rt
	}
	return "", 0
}

func isHexID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// containerJSON is the part of sinsp's container JSON (CONTAINER_JSON events) we use.
type containerJSON struct {
	Container struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		Image      string `json:"image"`
		ImageTag   string `json:"imagetag"`
		ImageID    string `json:"imageid"`
		Type       int32  `json:"type"`
		Privileged bool   `json:"privileged"`
	} `json:"container"`
}

// parseContainerJSON decodes a CONTAINER_JSON(_2)_E event. Image is sinsp's image with its
// tag appended ("name:tag", even when the name already carries one), which is how SysFlow
// writes it.
func parseContainerJSON(ev *scap.Event) (*raw.Container, bool) {
	var cj containerJSON
	if err := json.Unmarshal([]byte(ev.StringNamed("json")), &cj); err != nil || cj.Container.ID == "" {
		return nil, false
	}
	c := cj.Container
	image := c.Image
	if c.ImageTag != "" {
		image += ":" + c.ImageTag
	}
	return &raw.Container{
		ID: c.ID, Name: c.Name, Image: image, ImageID: c.ImageID,
		Runtime: c.Type, Privileged: c.Privileged,
	}, true
}

// users maps (container id, uid/gid) to names, from the user list block (host, "") and the
// USER_ADDED/GROUP_ADDED meta events (any container).
type users struct {
	user  map[string]map[uint32]string
	group map[string]map[uint32]string
}

func newUsers() *users {
	return &users{user: map[string]map[uint32]string{}, group: map[string]map[uint32]string{}}
}

func addName(m map[string]map[uint32]string, container string, id uint32, name string) {
	t := m[container]
	if t == nil {
		t = map[uint32]string{}
		m[container] = t
	}
	t[id] = name
}

func (u *users) load(ul *scap.UserList) {
	for _, x := range ul.Users {
		addName(u.user, "", x.UID, x.Name)
	}
	for _, g := range ul.Groups {
		addName(u.group, "", g.GID, g.Name)
	}
}

func (u *users) event(ev *scap.Event) {
	container := ev.StringNamed("container_id")
	switch ev.Type {
	case scap.UserAddedE:
		if uid, ok := ev.UintNamed("uid"); ok {
			addName(u.user, container, uint32(uid), ev.StringNamed("name"))
		}
	case scap.GroupAddedE:
		if gid, ok := ev.UintNamed("gid"); ok {
			addName(u.group, container, uint32(gid), ev.StringNamed("name"))
		}
	}
}

// names resolves uid and gid in the container's tables as SysFlow prints them: the table's
// name, "root" for 0, "<NA>" when unknown (uid -1 included).
func (u *users) names(container string, uid, gid int32) (user, group string) {
	return nameOr(lookupName(u.user, container, uid)), nameOr(lookupName(u.group, container, gid))
}

// userName is the name of uid as names resolves it.
func (u *users) userName(container string, uid int32) string {
	return nameOr(lookupName(u.user, container, uid))
}

func nameOr(n string) string {
	if n == "" {
		return "<NA>"
	}
	return n
}

// lookupName returns the name of id in the container's table, "root" for 0, else "". Newer
// captures list users whose name the capturer could not read as "<NA>": unknown too.
func lookupName(m map[string]map[uint32]string, container string, id int32) string {
	if id < 0 {
		return ""
	}
	if n, ok := m[container][uint32(id)]; ok && n != "<NA>" {
		return n
	}
	if id == 0 {
		return "root"
	}
	return ""
}
