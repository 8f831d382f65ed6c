// Command sf-producer captures the node's system calls with eBPF (or replays a .scap capture)
// and produces raw records to sysflow.raw, keyed by process.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/service"
	"github.com/sfstream/sfstream/internal/version"
	"github.com/sfstream/sfstream/producer/capture"
	"github.com/sfstream/sfstream/producer/pipeline"
	"github.com/sfstream/sfstream/producer/replay"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sf-producer:", err)
		os.Exit(1)
	}
}

type options struct {
	exporter      string
	replayPath    string
	pace          bool
	ringBytes     int
	queueEvents   int
	excludePIDs   service.ListFlag
	excludeComms  service.ListFlag
	endOnShutdown bool
	criSocket     string
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	f := service.NewFlags("sf-producer", "sf-producer [flags]: capture system calls (eBPF, root) or --replay a .scap, to sysflow.raw", stderr)
	var (
		common  service.Common
		o       options
		showVer bool
	)
	host, _ := os.Hostname()
	service.AddCommon(f, &common, "producer")
	f.StringVar(&o.exporter, "exporter-id", host, "this node's exporter id (SysFlow header and key prefix)")
	f.StringVar(&o.replayPath, "replay", "", "replay this .scap capture (plain or gzip) instead of capturing live")
	f.BoolVar(&o.pace, "pace", false, "with --replay: pace events by their timestamps (default as fast as possible)")
	f.IntVar(&o.ringBytes, "ringbuf-bytes", 16<<20, "kernel ring buffer size, a power of two")
	f.IntVar(&o.queueEvents, "queue-events", 128<<10, "events queued between ring buffer and Kafka; beyond, events are dropped and counted")
	f.Var(&o.excludePIDs, "exclude-pids", "pids not to capture, comma-separated (the producer itself never is)")
	f.Var(&o.excludeComms, "exclude-comms", "command names not to capture, comma-separated (e.g. a local broker: java)")
	f.StringVar(&o.criSocket, "cri-socket", "", criSocketUsage)
	f.BoolVar(&o.endOnShutdown, "end-on-shutdown", false, "on shutdown tell processors the capture ended for good (truncates open flows); off for restarts")
	f.BoolVar(&showVer, "version", false, "print the version and exit")
	if err := f.Parse(args, getenv); err != nil {
		return err
	}
	if showVer {
		fmt.Fprintln(stderr, "sf-producer", version.Version)
		return nil
	}
	common.Finish()
	log, err := common.Logger()
	if err != nil {
		return err
	}
	reg := service.NewRegistry("producer")
	src, err := newSource(o, log, reg)
	if err != nil {
		return err
	}
	serde, err := codec.New(common.Registry(), codec.WithLogger(log), codec.WithMetrics(reg))
	if err != nil {
		return err
	}
	if err := kafka.Prepare(ctx, common.Kafka, log); err != nil {
		return err
	}
	prod, err := pipeline.New(pipeline.Config{Kafka: common.Kafka, Exporter: o.exporter, EndOnShutdown: o.endOnShutdown && o.replayPath == ""},
		src, serde, pipeline.WithLogger(log), pipeline.WithRegisterer(reg), pipeline.WithKafkaOptions(kafka.WithLogger(log), kafka.WithMetrics(reg, "producer")))
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	if common.MetricsAddr != "" {
		srv := &service.Server{Addr: common.MetricsAddr, Reg: reg, Log: log, Ready: prod.Ready}
		if err := srv.Listen(); err != nil {
			return err
		}
		g.Go(func() error { return srv.Run(gctx) })
	}
	g.Go(func() error {
		if err := prod.Run(gctx); err != nil {
			return err
		}
		if o.replayPath != "" && ctx.Err() == nil {
			log.Info("replay finished", "capture", o.replayPath)
			return errReplayDone // stops the metrics server
		}
		return nil
	})
	err = g.Wait()
	if errors.Is(err, errReplayDone) {
		return nil
	}
	return err
}

var errReplayDone = errors.New("replay done")

// criSocketUsage documents --cri-socket (sfstream run has the same flag).
const criSocketUsage = "container runtime socket for container names and images: a docker.sock (Docker API), containerd.sock or crio.sock (CRI); default: the first of " +
	"/var/run/docker.sock, /run/containerd/containerd.sock, /run/crio/crio.sock, /var/run/cri-dockerd.sock that answers"

func newSource(o options, log *slog.Logger, reg prometheus.Registerer) (pipeline.Source, error) {
	if o.replayPath != "" {
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
	}, capture.WithLogger(log), capture.WithRegisterer(reg))
}
