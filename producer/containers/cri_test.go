package containers_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	criv1 "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/containers"
	"github.com/sfstream/sfstream/producer/procfs"
)

// criServer is a CRI runtime service on the real generated gRPC API that knows a few
// containers and, like containerd, finds one by a unique prefix of its id.
type criServer struct {
	criv1.UnimplementedRuntimeServiceServer
	runtime    string
	containers map[string]*criv1.ContainerStatus // by full id
}

func (s *criServer) Version(context.Context, *criv1.VersionRequest) (*criv1.VersionResponse, error) {
	return &criv1.VersionResponse{Version: "0.1.0", RuntimeName: s.runtime, RuntimeVersion: "9.9", RuntimeApiVersion: "v1"}, nil
}

func (s *criServer) ContainerStatus(_ context.Context, req *criv1.ContainerStatusRequest) (*criv1.ContainerStatusResponse, error) {
	if req.Verbose {
		return nil, status.Error(codes.InvalidArgument, "the client asks for verbose info")
	}
	var found *criv1.ContainerStatus
	for id, c := range s.containers {
		if strings.HasPrefix(id, req.ContainerId) {
			if found != nil {
				return nil, status.Errorf(codes.InvalidArgument, "ambiguous id %s", req.ContainerId)
			}
			found = c
		}
	}
	if found == nil {
		return nil, status.Errorf(codes.NotFound, "container %q not found", req.ContainerId)
	}
	return &criv1.ContainerStatusResponse{Status: found}, nil
}

// serveCRI serves srv on a unix socket in a temporary directory and returns its path.
func serveCRI(t *testing.T, srv criv1.RuntimeServiceServer) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cri") // short: a socket path has at most 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "cri.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	criv1.RegisterRuntimeServiceServer(g, srv)
	go g.Serve(ln)
	t.Cleanup(g.Stop)
	return path
}

const (
	criID1   = "4f1c2a9be0d34c58a1f2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708"
	criID2   = "4f1c2a9be0d4ffffa1f2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708"
	criImage = "3c2b1a0f9e8d7c6b5a4938271605f4e3d2c1b0a9f8e7d6c5b4a3928170615f4e"
)

func criContainers() map[string]*criv1.ContainerStatus {
	return map[string]*criv1.ContainerStatus{
		criID1: {
			Id:       criID1,
			Metadata: &criv1.ContainerMetadata{Name: "nginx", Attempt: 1},
			Image:    &criv1.ImageSpec{Image: "docker.io/library/nginx:1.27"},
			ImageRef: "docker.io/library/nginx@sha256:" + strings.Repeat("ab", 32),
			ImageId:  "sha256:" + criImage,
			Labels:   map[string]string{"io.kubernetes.pod.uid": "7d1e0c2a-1111-4c2b-9a57-2f6f7b1c0e11", "io.kubernetes.container.name": "nginx"},
		},
		criID2: { // an image named by its id, no image_id: the ref gives both
			Id:       criID2,
			Metadata: &criv1.ContainerMetadata{Name: "batch"},
			Image:    &criv1.ImageSpec{Image: "sha256:" + criImage},
			ImageRef: "registry.local:5000/jobs/batch@sha256:" + criImage,
		},
	}
}

// The CRI client against a CRI server on the real gRPC API (k8s.io/cri-api runtime v1) on a
// unix socket: Dial tells CRI from the socket (it does not answer Docker's /_ping), the
// runtime type comes from Version, and ContainerStatus gives name, image, image id and the
// pod uid label.
func TestCRIClient(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		runtime string
		want    int32
	}{
		{"containerd", procfs.RuntimeContainerd},
		{"cri-o", procfs.RuntimeCRIO},
		{"cri-dockerd", procfs.RuntimeCRI},
	} {
		t.Run(tt.runtime, func(t *testing.T) {
			path := serveCRI(t, &criServer{runtime: tt.runtime, containers: criContainers()})
			c, err := containers.Dial(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if want := "cri " + tt.runtime + " 9.9"; c.API() != want {
				t.Errorf("API() = %q, want %q", c.API(), want)
			}
			for _, want := range []raw.Container{
				{ID: criID1[:12], Name: "nginx", Image: "docker.io/library/nginx:1.27:1.27", ImageID: criImage, Runtime: tt.want,
					PodID: "7d1e0c2a-1111-4c2b-9a57-2f6f7b1c0e11"},
				{ID: criID2[:16], Name: "batch", Image: "registry.local:5000/jobs/batch@sha256:" + criImage + ":", ImageID: criImage, Runtime: tt.want},
			} {
				got, err := c.Inspect(ctx, want.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("Inspect(%s) =\n %+v\nwant\n %+v", want.ID, got, want)
				}
			}
			if _, err := c.Inspect(ctx, "000000000000"); !errors.Is(err, containers.ErrNotFound) {
				t.Errorf("Inspect of an unknown id: %v, want ErrNotFound", err)
			}
			if _, err := c.Inspect(ctx, criID1[:11]); errors.Is(err, containers.ErrNotFound) || err == nil {
				t.Errorf("Inspect of an ambiguous id: %v, want an error other than ErrNotFound", err)
			}
		})
	}
}

// Dial refuses what is not a runtime socket, and names the socket.
func TestDialRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	mute, err := os.MkdirTemp("", "mute")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(mute)
	ln, err := net.Listen("unix", filepath.Join(mute, "s.sock")) // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, tt := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "none.sock"), "no such file"},
		{"not a socket", file, "not a socket"},
		{"neither API", ln.Addr().String(), "neither Docker's API"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := containers.Dial(ctx, tt.path)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Dial(%s): %v, want it to say %q", tt.path, err, tt.want)
			}
		})
	}
	c, path, err := containers.Detect(ctx, []string{filepath.Join(dir, "none.sock")})
	if c != nil || path != "" || err != nil {
		t.Errorf("Detect with no socket = %v, %q, %v; want nothing and no error", c, path, err)
	}
}
