package containers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/sfstream/sfstream/internal/raw"
)

// Client asks one container runtime about its containers. Its methods may be called from
// several goroutines at once.
type Client interface {
	// Inspect returns the metadata of the container whose id is id or starts with id (the
	// cgroup path's short id): ID is id as given, Runtime a SysFlow ContainerType index.
	// It returns an error wrapping ErrNotFound when the runtime has no such container.
	Inspect(ctx context.Context, id string) (raw.Container, error)
	// API says which API and runtime answer, for logs: "docker 20.10.24", "cri containerd 1.6.20".
	API() string
	// Close releases the connection.
	Close() error
}

// ErrNotFound is wrapped by Inspect's error when the runtime does not know the container.
var ErrNotFound = errors.New("container not found")

// DefaultSockets are the sockets Detect tries, in order: Docker, containerd, CRI-O,
// cri-dockerd.
var DefaultSockets = []string{
	"/var/run/docker.sock",
	"/run/containerd/containerd.sock",
	"/run/crio/crio.sock",
	"/var/run/cri-dockerd.sock",
}

// probeTimeout bounds the calls that tell the API of a socket.
const probeTimeout = 3 * time.Second

// Dial connects to the runtime on the unix socket at path: Docker's API when the socket
// answers GET /_ping, else CRI over gRPC (which must answer Version).
func Dial(ctx context.Context, path string) (Client, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("container runtime socket: %w", err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return nil, fmt.Errorf("container runtime socket %s: not a socket", path)
	}
	if d, err := dialDocker(ctx, path); err == nil {
		return d, nil
	}
	c, err := dialCRI(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("container runtime socket %s: neither Docker's API (GET /_ping) nor CRI: %w", path, err)
	}
	return c, nil
}

// Detect dials the first of sockets that exists and answers. It returns a nil Client and no
// error when none exists; a socket that exists but does not answer is an error only when no
// other one does.
func Detect(ctx context.Context, sockets []string) (Client, string, error) {
	var errs []error
	for _, p := range sockets {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		c, err := Dial(ctx, p)
		if err == nil {
			return c, p, nil
		}
		errs = append(errs, err)
	}
	return nil, "", errors.Join(errs...)
}

// Open returns the client the capture uses: for a configured socket, a client that dials it
// at the first lookup and again after each failure to (a runtime restarted, or started after
// the producer, is picked up); with none configured, the first of DefaultSockets that answers
// now, or nil (no lookups) when none does. What it decided is logged once.
func Open(ctx context.Context, socket string, log *slog.Logger) Client {
	if socket != "" {
		c := &redial{path: socket, log: log}
		if err := c.dial(ctx); err != nil {
			log.Warn("container runtime not reachable yet: containers are written as incomplete until it answers",
				keySocket, socket, keyError, err)
		}
		return c
	}
	c, path, err := Detect(ctx, DefaultSockets)
	switch {
	case c != nil:
		log.Info("container metadata from the runtime", keySocket, path, keyAPI, c.API())
	case err != nil:
		log.Warn("no container runtime answered: containers are written as incomplete", keyError, err)
	default:
		log.Info("no container runtime socket found (set --cri-socket): containers are written as incomplete",
			keySocket, strings.Join(DefaultSockets, ","))
	}
	return c
}

// Log keys.
const (
	keySocket    = "socket"
	keyAPI       = "api"
	keyError     = "error"
	keyContainer = "container"
	keyName      = "name"
	keyImage     = "image"
)

// redial is a Client on a configured socket that (re)dials when it has no connection.
type redial struct {
	path string
	log  *slog.Logger

	mu sync.Mutex
	c  Client
}

func (r *redial) dial(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c != nil {
		return nil
	}
	c, err := Dial(ctx, r.path)
	if err != nil {
		return err
	}
	r.c = c
	r.log.Info("container metadata from the runtime", keySocket, r.path, keyAPI, c.API())
	return nil
}

func (r *redial) client() Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.c
}

func (r *redial) Inspect(ctx context.Context, id string) (raw.Container, error) {
	if err := r.dial(ctx); err != nil {
		return raw.Container{}, err
	}
	c := r.client()
	info, err := c.Inspect(ctx, id)
	if err != nil && !errors.Is(err, ErrNotFound) {
		// The runtime may have gone away: dial again next time.
		r.mu.Lock()
		if r.c == c {
			r.c = nil
			_ = c.Close() // dropped: a close error of a connection given up on changes nothing
		}
		r.mu.Unlock()
	}
	return info, err
}

func (r *redial) API() string {
	if c := r.client(); c != nil {
		return c.API()
	}
	return "unreachable " + r.path
}

func (r *redial) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.c == nil {
		return nil
	}
	err := r.c.Close()
	r.c = nil
	return err
}

// referenceImage is the image as the reference collector writes it: the runtime's image name,
// ":" and the tag parsed from it ("latest" when it names neither a tag nor a digest), so
// "busybox" gives "busybox:latest" and "alpine:3" gives "alpine:3:3" (SEMANTICS §5).
func referenceImage(img string) string {
	if img == "" {
		return ""
	}
	name, digest, _ := strings.Cut(img, "@")
	tag := ""
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		tag = name[i+1:]
	} else if digest == "" {
		tag = "latest"
	}
	return img + ":" + tag
}

// imageID is the hex digest of an image id or reference ("sha256:<hex>",
// "repo@sha256:<hex>"), or s itself when it holds no digest.
func imageID(s string) string {
	if i := strings.LastIndex(s, "sha256:"); i >= 0 {
		return s[i+len("sha256:"):]
	}
	return s
}

// podUIDLabel is the label kubelet puts on every container of a pod.
const podUIDLabel = "io.kubernetes.pod.uid"
