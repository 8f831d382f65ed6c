package containers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/procfs"
)

// docker is a client of the Docker Engine API on a unix socket.
type docker struct {
	http    *http.Client
	version string
}

// dockerBase is the URL every request goes to; the host part is ignored by the unix dialer.
const dockerBase = "http://docker"

// maxDockerBody bounds what is read of an answer (an inspect is a few KiB).
const maxDockerBody = 4 << 20

func dialDocker(ctx context.Context, path string) (*docker, error) {
	var dialer net.Dialer
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", path)
		},
		MaxIdleConns:          4,
		ResponseHeaderTimeout: probeTimeout,
	}
	d := &docker{http: &http.Client{Transport: tr}}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	body, status, err := d.get(ctx, "/_ping")
	if err != nil {
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("docker ping: %w", err)
	}
	if status != http.StatusOK || strings.TrimSpace(string(body)) != "OK" {
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("docker ping: status %d", status)
	}
	var v struct{ Version string }
	if body, status, err := d.get(ctx, "/version"); err == nil && status == http.StatusOK {
		_ = json.Unmarshal(body, &v) // the version is for logs only
	}
	d.version = v.Version
	return d, nil
}

func (d *docker) get(ctx context.Context, path string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, dockerBase+path, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDockerBody))
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, resp.StatusCode, err
	}
	return body, resp.StatusCode, nil
}

// dockerInspect is the part of GET /containers/{id}/json that SysFlow needs.
type dockerInspect struct {
	Name   string
	Image  string // the image id, sha256:<hex>
	Config struct {
		Image  string // the image as the container was created from it
		Labels map[string]string
	}
	HostConfig struct {
		Privileged bool
	}
}

func (d *docker) Inspect(ctx context.Context, id string) (raw.Container, error) {
	body, status, err := d.get(ctx, "/containers/"+url.PathEscape(id)+"/json")
	switch {
	case err != nil:
		return raw.Container{}, fmt.Errorf("docker inspect %s: %w", id, err)
	case status == http.StatusNotFound:
		return raw.Container{}, fmt.Errorf("docker inspect %s: %w", id, ErrNotFound)
	case status != http.StatusOK:
		return raw.Container{}, fmt.Errorf("docker inspect %s: status %d: %s", id, status, strings.TrimSpace(string(body)))
	}
	var in dockerInspect
	if err := json.Unmarshal(body, &in); err != nil {
		return raw.Container{}, fmt.Errorf("docker inspect %s: %w", id, err)
	}
	return raw.Container{
		ID:         id,
		Name:       strings.TrimPrefix(in.Name, "/"),
		Image:      referenceImage(in.Config.Image),
		ImageID:    imageID(in.Image),
		Runtime:    procfs.RuntimeDocker,
		Privileged: in.HostConfig.Privileged,
		PodID:      in.Config.Labels[podUIDLabel],
	}, nil
}

func (d *docker) API() string { return strings.TrimSpace("docker " + d.version) }

func (d *docker) Close() error {
	d.http.CloseIdleConnections()
	return nil
}
