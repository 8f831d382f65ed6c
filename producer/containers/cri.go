package containers

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	criv1 "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/procfs"
)

// cri is a client of a runtime's CRI service (runtime v1) on a unix socket.
type cri struct {
	conn    *grpc.ClientConn
	rt      criv1.RuntimeServiceClient
	runtime int32 // SysFlow ContainerType of every answer
	name    string
}

// maxCRIMessage bounds an answer (a container status is a few KiB).
const maxCRIMessage = 4 << 20

func dialCRI(ctx context.Context, path string) (*cri, error) {
	conn, err := grpc.NewClient("unix://"+path,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxCRIMessage)))
	if err != nil {
		return nil, fmt.Errorf("cri dial: %w", err)
	}
	c := &cri{conn: conn, rt: criv1.NewRuntimeServiceClient(conn)}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	v, err := c.rt.Version(ctx, &criv1.VersionRequest{})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("cri version: %w", err), conn.Close())
	}
	c.runtime = criRuntimeType(v.RuntimeName)
	c.name = "cri " + v.RuntimeName + " " + v.RuntimeVersion
	return c, nil
}

// criRuntimeType maps a CRI runtime name to a SysFlow ContainerType index.
func criRuntimeType(name string) int32 {
	switch name {
	case "containerd":
		return procfs.RuntimeContainerd
	case "cri-o":
		return procfs.RuntimeCRIO
	}
	return procfs.RuntimeCRI
}

func (c *cri) Inspect(ctx context.Context, id string) (raw.Container, error) {
	resp, err := c.rt.ContainerStatus(ctx, &criv1.ContainerStatusRequest{ContainerId: id})
	if status.Code(err) == codes.NotFound {
		return raw.Container{}, fmt.Errorf("cri container status %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return raw.Container{}, fmt.Errorf("cri container status %s: %w", id, err)
	}
	st := resp.GetStatus()
	if st == nil {
		return raw.Container{}, fmt.Errorf("cri container status %s: %w (empty status)", id, ErrNotFound)
	}
	image := st.GetImage().GetImage()
	if image == "" || imageID(image) != image { // an image id, not a name: the ref is better
		image = st.GetImageRef()
	}
	id2 := st.GetImageId()
	if id2 == "" {
		id2 = st.GetImageRef()
	}
	return raw.Container{
		ID:      id,
		Name:    st.GetMetadata().GetName(),
		Image:   referenceImage(image),
		ImageID: imageID(id2),
		Runtime: c.runtime,
		// Privileged is in the verbose info only, whose form each runtime chooses: not asked.
		PodID: st.GetLabels()[podUIDLabel],
	}, nil
}

func (c *cri) API() string { return c.name }

func (c *cri) Close() error { return c.conn.Close() }
