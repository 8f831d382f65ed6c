// Command sf-producer captures the node's system calls with eBPF (or replays a .scap capture)
// and produces raw records to sysflow.raw, keyed by process.
package main

import (
	"context"
	"fmt"
	"io"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/service"
	"github.com/sfstream/sfstream/internal/version"
	"github.com/sfstream/sfstream/producer/pipeline"
)

func main() { service.Main("sf-producer", run) }

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	f := service.NewFlags("sf-producer", "sf-producer [flags]: capture system calls (eBPF, root) or --replay a .scap, to sysflow.raw", stderr)
	var o options
	addFlags(f, &o)
	if err := f.Parse(args, getenv); err != nil {
		return err
	}
	if o.showVersion {
		fmt.Fprintln(stderr, "sf-producer", version.Version)
		return nil
	}
	o.common.Finish()
	log, err := o.common.Logger()
	if err != nil {
		return err
	}
	reg := service.NewRegistry("producer")
	src, err := newSource(&o, log, reg)
	if err != nil {
		return err
	}
	serde, err := codec.New(o.common.Registry(), codec.WithLogger(log), codec.WithMetrics(reg))
	if err != nil {
		return err
	}
	if err := kafka.Prepare(ctx, o.common.Kafka, log); err != nil {
		return err
	}
	// A replay sends its own end notice; a live capture only when asked to.
	cfg := pipeline.Config{Kafka: o.common.Kafka, Exporter: o.exporter, EndOnShutdown: o.endOnShutdown && o.replayPath == ""}
	prod, err := pipeline.New(cfg, src, serde, pipeline.WithLogger(log), pipeline.WithRegisterer(reg),
		pipeline.WithKafkaOptions(kafka.WithLogger(log), kafka.WithMetrics(reg, "producer")))
	if err != nil {
		return err
	}
	// The server stops with the producer: at the end of a replay too.
	return service.Serve(ctx, "producer", o.common.MetricsAddr, reg, log, prod)
}
