// Package containers gives the producer what the container runtime knows of a container: its
// name, image, image id, runtime type, privileged flag and pod id, which the cgroup path (the
// only thing the kernel tells, see procfs.ContainerFromCgroupPath) does not carry.
//
// Two APIs are spoken, each over a unix socket:
//   - the Docker Engine API (HTTP): GET /containers/{id}/json;
//   - the Kubernetes CRI (gRPC, k8s.io/cri-api runtime v1): ContainerStatus (verbose false),
//     and Version once for the runtime's name (containerd, cri-o, or another CRI runtime).
//
// Dial tells the API from the socket: a socket that answers GET /_ping with OK speaks Docker's
// API, anything else is taken for CRI. Detect tries the usual sockets (DefaultSockets) when no
// socket is configured.
//
// Cache is how the capture uses a Client without ever waiting for it: Get answers from memory
// at once (a container not yet answered is returned as the cgroup path gives it, which the
// processors write as the reference writes a container without metadata, name "incomplete");
// lookups run on a bounded pool of workers (Run) and their answers come back on a channel that
// the capture's own goroutine applies (Apply), so a Cache needs no lock. Rules:
//   - one lookup per container id at a time, and once per id unless one of these holds;
//   - a container whose entry process (pid 1 in its pid namespace) starts after the cached
//     answer was taken has restarted: it is looked up again;
//   - a cached answer older than TTL (default 10 min) is refreshed by the next Get (renames);
//   - a failed lookup is retried by the first Get after a backoff that doubles from 1 s to
//     5 min; it is counted each time and logged once per container;
//   - the cached answer is served meanwhile, and an answer that changes nothing changes nothing.
//
// Metrics (registered by NewMetrics):
//
//	sfstream_producer_container_lookups_total{result}  runtime lookups by result: ok, not_found, error
//	sfstream_producer_container_cache_entries          containers the cache holds
package containers
