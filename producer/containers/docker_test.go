package containers_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/containers"
	"github.com/sfstream/sfstream/producer/containers/enginetest"
)

// The Docker client against a real dockerd (Debian's docker.io in a network namespace of its
// own): Dial tells Docker's API from the socket, Inspect by the cgroup path's short id gives
// the name, the image as the reference writes it, the image id, privileged and the pod id
// label; an unknown id is ErrNotFound; Detect finds the socket among missing ones.
func TestDockerClientAgainstARealEngine(t *testing.T) {
	e := enginetest.Start(t)
	const image = "sfstream-test/busybox:v1"
	imageID := strings.TrimPrefix(e.Image(image), "sha256:")
	web := e.Run("--name", "sfs-web", image)
	// Created, not started: this machine's runc may not grant a privileged container its
	// capabilities; inspect answers the same for a created container.
	priv := e.Docker("create", "--network", "none", "--name", "sfs-priv", "--privileged", "--label", "io.kubernetes.pod.uid=pod-1234", image)

	ctx := context.Background()
	c, err := containers.Dial(ctx, e.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !strings.HasPrefix(c.API(), "docker ") {
		t.Errorf("API() = %q, want docker <version>", c.API())
	}
	for _, tt := range []struct {
		name string
		id   string
		want raw.Container
	}{
		{"plain", web[:12], raw.Container{ID: web[:12], Name: "sfs-web", Image: image + ":v1", ImageID: imageID}},
		{"privileged in a pod", priv[:12], raw.Container{ID: priv[:12], Name: "sfs-priv", Image: image + ":v1", ImageID: imageID,
			Privileged: true, PodID: "pod-1234"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Inspect(ctx, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Inspect(%s) =\n %+v\nwant\n %+v", tt.id, got, tt.want)
			}
		})
	}
	if _, err := c.Inspect(ctx, "0000000000ff"); !errors.Is(err, containers.ErrNotFound) {
		t.Errorf("Inspect of an unknown id: %v, want ErrNotFound", err)
	}

	d, path, err := containers.Detect(ctx, []string{"/nonexistent/docker.sock", e.Socket})
	if err != nil || d == nil || path != e.Socket {
		t.Fatalf("Detect = %v, %q, %v; want the engine's socket", d, path, err)
	}
	d.Close()
}

// BenchmarkDockerInspect is one uncached lookup against the real engine: the cost the cache
// (BenchmarkCacheGet) saves on every clone and exec in a container after the first.
func BenchmarkDockerInspect(b *testing.B) {
	e := enginetest.Start(b)
	const image = "sfstream-test/busybox:v1"
	e.Image(image)
	id := e.Docker("create", "--network", "none", "--name", "sfs-bench", image)[:12]
	ctx := context.Background()
	c, err := containers.Dial(ctx, e.Socket)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Inspect(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}
