// Command sf-archiver archives sysflow.events as hourly SysFlow files in S3 or a directory:
// one instance of the sfstream-archivers consumer group (see archiver/archive).
package main

import (
	"context"
	"fmt"
	"io"

	"github.com/sfstream/sfstream/archiver/archive"
	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/service"
	"github.com/sfstream/sfstream/internal/version"
)

func main() { service.Main("sf-archiver", run) }

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	f := service.NewFlags("sf-archiver", "sf-archiver [flags]: archive sysflow.events as hourly SysFlow files in S3 or a directory (consumer group member; offsets committed once stored)", stderr)
	var o options
	addFlags(f, &o)
	if err := f.Parse(args, getenv); err != nil {
		return err
	}
	if o.s.showVersion {
		fmt.Fprintln(stderr, "sf-archiver", version.Version)
		return nil
	}
	o.common.Finish()
	target, err := o.s.target()
	if err != nil {
		return err
	}
	cfg := o.cfg
	cfg.Kafka, cfg.Target = o.common.Kafka, target
	cfg.PartSize, cfg.StagingMaxBytes = uint64(o.s.partSize), int64(o.s.stagingMax)
	log, err := o.common.Logger()
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	reg := service.NewRegistry("archiver")
	serde, err := codec.New(o.common.Registry(), codec.WithLogger(log), codec.WithMetrics(reg))
	if err != nil {
		return err
	}
	if err := kafka.Prepare(ctx, cfg.Kafka, log); err != nil {
		return err
	}
	arch, err := archive.New(cfg, serde, reg, archive.WithLogger(log),
		archive.WithKafkaOptions(kafka.WithLogger(log), kafka.WithMetrics(reg, "archiver")))
	if err != nil {
		return err
	}
	log.Info("archive target", "target", target.String(), "staging_dir", cfg.StagingDir)
	return service.Serve(ctx, "archiver", o.common.MetricsAddr, reg, log, arch)
}
