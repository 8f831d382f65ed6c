package containers_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	criv1 "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/containers"
	"github.com/sfstream/sfstream/producer/containers/enginetest"
	"github.com/sfstream/sfstream/producer/procfs"
)

// The CRI client against a real containerd (Debian's 1.6, its CRI plugin on its own socket, in
// a network namespace of its own): a pod sandbox and a container made through CRI from an
// image built by the test's dockerd and imported; Dial tells CRI from containerd's socket,
// the runtime type is containerd's, and the container's name, image (as the reference writes
// it), image id and pod uid come back by the short id.
func TestCRIClientAgainstContainerd(t *testing.T) {
	e := enginetest.Start(t)
	const image = "sfstream-test/busybox:v1"
	full := "docker.io/" + image
	imageID := strings.TrimPrefix(e.Image(image), "sha256:")
	cd := enginetest.StartContainerd(t, full)
	cd.Import(e.Save(image))

	ctx := context.Background()
	conn, err := grpc.NewClient("unix://"+cd.Socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() }) // after the pod's removal below
	rt := criv1.NewRuntimeServiceClient(conn)
	const podUID = "0b7e6a5c-2d1f-4e3a-9c8b-7a6f5e4d3c2b"
	sandbox := &criv1.PodSandboxConfig{
		Metadata: &criv1.PodSandboxMetadata{Name: "sfs-pod", Uid: podUID, Namespace: "default"},
		Linux: &criv1.LinuxPodSandboxConfig{SecurityContext: &criv1.LinuxSandboxSecurityContext{
			NamespaceOptions: &criv1.NamespaceOption{Network: criv1.NamespaceMode_NODE}}},
	}
	sb, err := rt.RunPodSandbox(ctx, &criv1.RunPodSandboxRequest{Config: sandbox})
	if err != nil {
		t.Fatalf("RunPodSandbox: %v", err)
	}
	t.Cleanup(func() {
		if _, err := rt.StopPodSandbox(ctx, &criv1.StopPodSandboxRequest{PodSandboxId: sb.PodSandboxId}); err != nil {
			t.Errorf("StopPodSandbox: %v", err)
		}
		if _, err := rt.RemovePodSandbox(ctx, &criv1.RemovePodSandboxRequest{PodSandboxId: sb.PodSandboxId}); err != nil {
			t.Errorf("RemovePodSandbox: %v", err)
		}
	})
	created, err := rt.CreateContainer(ctx, &criv1.CreateContainerRequest{
		PodSandboxId:  sb.PodSandboxId,
		SandboxConfig: sandbox,
		Config: &criv1.ContainerConfig{
			Metadata: &criv1.ContainerMetadata{Name: "app"},
			Image:    &criv1.ImageSpec{Image: full},
			Command:  []string{"/bin/sleep", "3600"},
			Labels:   map[string]string{"io.kubernetes.pod.uid": podUID, "io.kubernetes.container.name": "app"},
		},
	})
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}

	c, err := containers.Dial(ctx, cd.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !strings.HasPrefix(c.API(), "cri containerd ") {
		t.Errorf("API() = %q, want cri containerd <version>", c.API())
	}
	id := created.ContainerId[:12]
	got, err := c.Inspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := raw.Container{ID: id, Name: "app", Image: full + ":v1", ImageID: imageID, Runtime: procfs.RuntimeContainerd, PodID: podUID}
	if got != want {
		t.Errorf("Inspect(%s) =\n %+v\nwant\n %+v", id, got, want)
	}
}
