package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfstream/sfstream/internal/service"
	"github.com/sfstream/sfstream/producer/capture"
	"github.com/sfstream/sfstream/producer/pipeline"
	"github.com/sfstream/sfstream/producer/replay"
)

// options are sf-producer's settings.
type options struct {
	common        service.Common
	exporter      string
	replayPath    string
	pace          bool
	ringBytes     int
	queueEvents   int
	excludePIDs   service.ListFlag
	excludeComms  service.ListFlag
	endOnShutdown bool
	criSocket     string
	filter        string
	containers    bool
	showVersion   bool
}

// criSocketUsage documents --cri-socket (sfstream run has the same flag).
const criSocketUsage = "container runtime socket for container names and images: a docker.sock (Docker API), containerd.sock or crio.sock (CRI); default: the first of " +
	"/var/run/docker.sock, /run/containerd/containerd.sock, /run/crio/crio.sock, /var/run/cri-dockerd.sock that answers"

// filterUsage and containersOnlyUsage document --filter and --containers-only (sfstream run
// has the same flags).
const (
	filterUsage = "capture only the processes this expression matches, in the reference collector's (sysdig's) syntax, " +
		"e.g. 'container.name != sf-collector and container.type != host'; fields container.id, container.name, container.image, container.type, " +
		"proc.name, proc.exe, proc.args, proc.pid, proc.aname, user.name, fd.name; judged per process at its start, exec and container metadata"
	containersOnlyUsage = "capture only processes in a container (the reference's -c)"
)

// addFlags defines sf-producer's flags on f, each bound to o.
func addFlags(f *service.Flags, o *options) {
	host, _ := os.Hostname()
	service.AddCommon(f, &o.common, "producer")
	f.StringVar(&o.exporter, "exporter-id", host, "this node's exporter id (SysFlow header and key prefix)")
	f.StringVar(&o.replayPath, "replay", "", "replay this .scap capture (plain or gzip) instead of capturing live")
	f.BoolVar(&o.pace, "pace", false, "with --replay: pace events by their timestamps (default as fast as possible)")
	f.IntVar(&o.ringBytes, "ringbuf-bytes", 16<<20, "kernel ring buffer size, a power of two")
	f.IntVar(&o.queueEvents, "queue-events", 128<<10, "events queued between ring buffer and Kafka; beyond, events are dropped and counted")
	f.Var(&o.excludePIDs, "exclude-pids", "pids not to capture, comma-separated (the producer itself never is)")
	f.Var(&o.excludeComms, "exclude-comms", "command names not to capture, comma-separated (e.g. a local broker: java)")
	f.StringVar(&o.criSocket, "cri-socket", "", criSocketUsage)
	f.StringVar(&o.filter, "filter", "", filterUsage)
	f.BoolVar(&o.containers, "containers-only", false, containersOnlyUsage)
	f.BoolVar(&o.endOnShutdown, "end-on-shutdown", false, "on shutdown tell processors the capture ended for good (truncates open flows); off for restarts")
	f.BoolVar(&o.showVersion, "version", false, "print the version and exit")
}

// newSource returns the replay of --replay, else the live capture.
func newSource(o *options, log *slog.Logger, reg prometheus.Registerer) (pipeline.Source, error) {
	if o.replayPath != "" {
		if o.filter != "" || o.containers {
			return nil, errors.New("--filter and --containers-only apply to live capture, not to --replay")
		}
		return replay.Open(o.replayPath, replay.WithExporter(o.exporter), replay.WithPace(o.pace))
	}
	pids := make([]uint32, 0, len(o.excludePIDs))
	for _, p := range o.excludePIDs {
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("exclude-pids: %q is not a pid", p)
		}
		pids = append(pids, uint32(n))
	}
	return capture.New(capture.Config{
		Exporter: o.exporter, RingBufferBytes: o.ringBytes, QueueEvents: o.queueEvents,
		ExcludePIDs: pids, ExcludeComms: o.excludeComms, CRISocket: o.criSocket,
		Filter: o.filter, ContainersOnly: o.containers,
	}, capture.WithLogger(log), capture.WithRegisterer(reg))
}
