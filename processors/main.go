// Command sf-processor builds SysFlow from raw syscall records: one instance of the
// sfstream-processors consumer group (see processors/pipeline).
package main

import (
	"context"
	"fmt"
	"io"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/service"
	"github.com/sfstream/sfstream/internal/version"
	"github.com/sfstream/sfstream/processors/pipeline"
)

func main() { service.Main("sf-processor", run) }

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	f := service.NewFlags("sf-processor", "sf-processor [flags]: build SysFlow from sysflow.raw (consumer group member, exactly-once)", stderr)
	var o options
	addFlags(f, &o)
	if err := f.Parse(args, getenv); err != nil {
		return err
	}
	if o.showVersion {
		fmt.Fprintln(stderr, "sf-processor", version.Version)
		return nil
	}
	o.common.Finish()
	cfg := o.cfg
	cfg.Kafka, cfg.State = o.common.Kafka, o.state
	log, err := o.common.Logger()
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	reg := service.NewRegistry("processor")
	serde, err := codec.New(o.common.Registry(), codec.WithLogger(log), codec.WithMetrics(reg))
	if err != nil {
		return err
	}
	// Topics are created when missing, once a broker answers.
	if err := kafka.Prepare(ctx, cfg.Kafka, log); err != nil {
		return err
	}
	proc, err := pipeline.New(cfg, serde, reg, pipeline.WithLogger(log),
		pipeline.WithKafkaOptions(kafka.WithLogger(log), kafka.WithMetrics(reg, "processor")))
	if err != nil {
		return err
	}
	return service.Serve(ctx, "processor", o.common.MetricsAddr, reg, log, proc)
}
