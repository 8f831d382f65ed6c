// Command sf-processor builds SysFlow from raw syscall records: one instance of the
// sfstream-processors consumer group (see processors/pipeline).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/service"
	"github.com/sfstream/sfstream/internal/version"
	"github.com/sfstream/sfstream/processors/pipeline"
	"github.com/sfstream/sfstream/processors/state"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sf-processor:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	f := service.NewFlags("sf-processor", "sf-processor [flags]: build SysFlow from sysflow.raw (consumer group member, exactly-once)", stderr)
	var (
		common  service.Common
		cfg     pipeline.Config
		st      = state.DefaultConfig()
		showVer bool
	)
	service.AddCommon(f, &common, "processor")
	f.StringVar(&cfg.Group, "group", pipeline.DefaultGroup, "consumer group of the processors")
	f.StringVar(&cfg.TransactionalID, "transactional-id", "", "transactional id, stable per instance and unique (default sfstream-processor-<hostname>)")
	f.StringVar(&cfg.InstanceID, "instance-id", "", "static group member id (StatefulSets): a restart keeps the partitions (default dynamic membership)")
	f.DurationVar(&cfg.SessionTimeout, "session-timeout", 10*time.Second, "group session timeout: how long a dead instance keeps its partitions")
	f.IntVar(&cfg.MaxPollRecords, "max-poll-records", 5000, "raw records per transaction at most")
	f.IntVar(&cfg.Workers, "workers", 0, "partitions applied in parallel within a transaction (default the number of CPUs)")
	f.BoolVar(&st.ProcFlow, "proc-flow", st.ProcFlow, "aggregate thread clones and exits into ProcessFlows")
	f.BoolVar(&st.FileOnly, "file-only", st.FileOnly, "keep FileFlows of regular files only (drop dirs, pipes, unix sockets)")
	f.IntVar(&st.ReadMode, "file-read-mode", st.ReadMode, "read-only FileFlows: 0 keep, 1 drop, 2 drop under /proc /dev /sys /lib /usr/lib")
	f.DurationVar(&st.ExportInterval, "flow-export-interval", st.ExportInterval, "re-export long-running flows this often")
	f.DurationVar(&st.ExpireInterval, "flow-expire-interval", st.ExpireInterval, "drop flows idle this long")
	f.IntVar(&st.MaxProcesses, "max-processes", st.MaxProcesses, "processes kept per partition at most (LRU eviction beyond)")
	f.DurationVar(&st.EntityTombstoneAfter, "entity-tombstone-after", st.EntityTombstoneAfter, "delete an exited process's entity from sysflow.entities this long (event time) after its exit (0: never)")
	f.BoolVar(&showVer, "version", false, "print the version and exit")
	if err := f.Parse(args, getenv); err != nil {
		return err
	}
	if showVer {
		fmt.Fprintln(stderr, "sf-processor", version.Version)
		return nil
	}
	common.Finish()
	cfg.Kafka, cfg.State = common.Kafka, st
	log, err := common.Logger()
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	reg := service.NewRegistry("processor")
	serde, err := codec.New(common.Registry(), codec.WithLogger(log), codec.WithMetrics(reg))
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
	g, ctx := errgroup.WithContext(ctx)
	if common.MetricsAddr != "" {
		srv := &service.Server{Addr: common.MetricsAddr, Reg: reg, Ready: proc.Ready, Log: log}
		if err := srv.Listen(); err != nil {
			return err
		}
		g.Go(func() error { return srv.Run(ctx) })
	}
	g.Go(func() error {
		start := time.Now()
		err := proc.Run(ctx)
		log.Info("processor stopped", "uptime", time.Since(start).Round(time.Second), "err", err)
		return err
	})
	return g.Wait()
}
