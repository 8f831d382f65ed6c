package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riferrei/srclient"
	"golang.org/x/sync/errgroup"

	"github.com/sfstream/sfstream/archiver/archive"
	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/service"
	"github.com/sfstream/sfstream/internal/stack"
	"github.com/sfstream/sfstream/processors/pipeline"
	"github.com/sfstream/sfstream/processors/policy/engine"
	"github.com/sfstream/sfstream/processors/policy/rules"
	"github.com/sfstream/sfstream/processors/state"
	producer "github.com/sfstream/sfstream/producer/pipeline"
)

type runOptions struct {
	dataDir      string
	kafkaPort    int
	registryPort int
	metricsAddr  string
	exporter     string
	replay       string
	synthetic    bool
	rate         float64
	every        time.Duration
	duration     time.Duration
	partitions   int
	logFormat    string
	logLevel     string
	s3           stack.ArchiveTarget
	s3SecretFile string
	drainTimeout time.Duration
	refConfig    bool
	parquet      bool   // --parquet: the archiver also writes Parquet files
	delaySpec    string // --debug-delay-partition N:DURATION
	delayPart    int32
	delayBy      time.Duration
	criSocket    string           // --cri-socket: the container runtime's socket (capture.Config.CRISocket)
	filter       string           // --filter: which processes are captured (capture.Config.Filter)
	containers   bool             // --containers-only (capture.Config.ContainersOnly)
	ringBytes    int              // --ringbuf-bytes (capture.Config.RingBufferBytes)
	rules        service.ListFlag // --rules: rule files of the policy engine (none: no policy engine)
}

// parseDelay parses --debug-delay-partition: "N:DURATION", or "" for none.
func (o *runOptions) parseDelay() error {
	if o.delaySpec == "" {
		return nil
	}
	ps, ds, ok := strings.Cut(o.delaySpec, ":")
	p, perr := strconv.ParseInt(ps, 10, 32)
	d, derr := time.ParseDuration(ds)
	if !ok || perr != nil || derr != nil || p < 0 || int(p) >= o.partitions || d <= 0 {
		return fmt.Errorf("debug delay partition %q: want N:DURATION with 0 <= N < %d partitions, e.g. 1:500ms", o.delaySpec, o.partitions)
	}
	o.delayPart, o.delayBy = int32(p), d
	return nil
}

func runFlags(f *service.Flags, o *runOptions) {
	host, _ := os.Hostname()
	f.StringVar(&o.dataDir, "data-dir", "data", "where the embedded Kafka, registry, staging and archive live")
	f.IntVar(&o.kafkaPort, "kafka-port", stack.DefaultKafkaPort, "loopback port of the embedded Kafka (0: any)")
	f.IntVar(&o.registryPort, "registry-port", stack.DefaultRegistryPort, "loopback port of the embedded schema registry (0: any)")
	f.StringVar(&o.metricsAddr, "metrics-addr", "127.0.0.1:9090", "address of /metrics, /healthz, /readyz (empty: off)")
	f.StringVar(&o.exporter, "exporter-id", host, "this node's exporter id")
	f.StringVar(&o.replay, "replay", "", "replay this .scap capture instead of capturing live")
	f.StringVar(&o.criSocket, "cri-socket", "", "container runtime socket for container names and images: a docker.sock (Docker API), containerd.sock or crio.sock (CRI); default: the first of the usual sockets that answers")
	f.StringVar(&o.filter, "filter", "", "capture only the processes this expression matches, in the reference collector's (sysdig's) syntax, e.g. 'container.name != sf-collector and container.type != host' (as sf-producer --filter)")
	f.BoolVar(&o.containers, "containers-only", false, "capture only processes in a container (the reference's -c)")
	f.IntVar(&o.ringBytes, "ringbuf-bytes", 0, "kernel ring buffer size of the live capture, a power of two (0: sf-producer's default, 16 MiB)")
	f.BoolVar(&o.synthetic, "synthetic", false, "run the synthetic load generator instead of capturing live")
	f.Float64Var(&o.rate, "rate", 2000, "events per second of the synthetic generator")
	f.DurationVar(&o.every, "progress", 5*time.Second, "progress line interval")
	f.DurationVar(&o.duration, "duration", 0, "stop after this long (0: until Ctrl-C, or the end of a replay)")
	f.IntVar(&o.partitions, "partitions", 3, "partitions of the topics created in the embedded Kafka")
	f.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&o.s3.Endpoint, "s3-endpoint", "", "archive to this S3 endpoint (host:port) instead of <data-dir>/archive")
	f.StringVar(&o.s3.Bucket, "s3-bucket", "sfstream", "S3 bucket of the archive")
	f.StringVar(&o.s3.Prefix, "s3-prefix", "", "object name prefix in the bucket")
	f.StringVar(&o.s3.Region, "s3-region", "", "S3 region (default us-east-1)")
	f.StringVar(&o.s3.AccessKey, "s3-access-key", "", "S3 access key")
	f.StringVar(&o.s3.SecretKey, "s3-secret-key", "", "S3 secret key (prefer the environment or -s3-secret-key-file)")
	f.StringVar(&o.s3SecretFile, "s3-secret-key-file", "", "file whose first line is the S3 secret key")
	f.BoolVar(&o.s3.Secure, "s3-secure", true, "use TLS to S3")
	f.DurationVar(&o.drainTimeout, "drain-timeout", time.Minute, "at shutdown, how long to wait for the processor and archiver to finish what was captured")
	f.StringVar(&o.delaySpec, "debug-delay-partition", "", "testing aid: hold the raw records of partition N back by DURATION (N:DURATION, e.g. 1:500ms), so that it lags the others as on a busy node")
	f.BoolVar(&o.parquet, "parquet", true, "also archive each hourly object as a Parquet file of flattened events and flows (<archive>/parquet/exporter=<id>/date=<YYYY-MM-DD>/hour=<HH>/)")
	f.Var(&o.rules, "rules", "run the policy engine with these rule files (comma-separated; \"default\" is the embedded default set), alerts to sysflow.alerts (default: no policy engine)")
	f.BoolVar(&o.refConfig, "reference-config", false, "build SysFlow with the reference collector's test settings (no process flows, all files, all reads)")
}

func runCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := service.NewFlags("sfstream run", "sfstream run [flags]: the whole pipeline in one process, state under --data-dir", stderr)
	var o runOptions
	runFlags(f, &o)
	if err := f.Parse(args, getenv); err != nil {
		return err
	}
	if err := o.parseDelay(); err != nil {
		return err
	}
	log, err := service.NewLogger(stderr, o.logFormat, o.logLevel)
	if err != nil {
		return err
	}
	if o.s3SecretFile != "" {
		b, err := os.ReadFile(o.s3SecretFile)
		if err != nil {
			return fmt.Errorf("s3 secret key file: %w", err)
		}
		o.s3.SecretKey = strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	}
	dataDir, err := filepath.Abs(o.dataDir)
	if err != nil {
		return err
	}
	return runPipeline(ctx, o, dataDir, log, stdout)
}

func runPipeline(ctx context.Context, o runOptions, dataDir string, log *slog.Logger, stdout io.Writer) error {
	sopts := []stack.Opt{stack.DataDir(dataDir), stack.KafkaPort(o.kafkaPort), stack.RegistryPort(o.registryPort), stack.Logger(log.With("component", "stack"))}
	if o.s3.Endpoint != "" {
		sopts = append(sopts, stack.Archive(o.s3))
	}
	st, err := stack.Start(ctx, sopts...)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("stopping the embedded stack", "err", err)
		}
	}()
	kcfg := kafka.Config{Brokers: st.Brokers(), Partitions: int32(o.partitions)}
	if err := kafka.Prepare(ctx, kcfg, log); err != nil {
		return err
	}
	reg := service.NewRegistry("sfstream")
	serde, err := codec.New(srclient.CreateSchemaRegistryClient(st.RegistryURL()), codec.WithLogger(log), codec.WithMetrics(reg))
	if err != nil {
		return err
	}
	stCfg := state.DefaultConfig()
	if o.refConfig {
		stCfg = state.ReferenceTestConfig()
	}
	pcfg := kcfg
	pcfg.ClientID = "sfstream-processor"
	proc, err := pipeline.New(pipeline.Config{Kafka: pcfg, TransactionalID: "sfstream-run-processor", State: stCfg},
		serde, reg, pipeline.WithLogger(log.With("component", "processor")), pipeline.WithKafkaOptions(kafka.WithMetrics(reg, "processor")))
	if err != nil {
		return err
	}
	acfg := kcfg
	acfg.ClientID = "sfstream-archiver"
	arch, err := archive.New(archive.Config{
		Kafka: acfg, Target: st.Archive(), StagingDir: filepath.Join(dataDir, "staging"),
		Grace: time.Minute, IdleTimeout: 30 * time.Second, Parquet: o.parquet,
	}, serde, reg, archive.WithLogger(log.With("component", "archiver")), archive.WithKafkaOptions(kafka.WithMetrics(reg, "archiver")))
	if err != nil {
		return err
	}
	pol, err := newPolicy(o, kcfg, serde, reg, log)
	if err != nil {
		return err
	}
	src, label, err := pickSource(o, log.With("component", "producer"), reg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sfstream: source: %s\n", label)
	fmt.Fprintf(stdout, "sfstream: kafka %s, registry %s, archive %s\n", strings.Join(st.Brokers(), ","), st.RegistryURL(), st.Archive())
	pcl := kcfg
	pcl.ClientID = "sfstream-producer"
	// The capture ends for good when sfstream run stops: open flows are truncated (a replay
	// sends its own end notice).
	prod, err := producer.New(producer.Config{Kafka: pcl, Exporter: o.exporter, EndOnShutdown: o.replay == "",
		FlushTimeout: o.drainTimeout, DelayPartition: o.delayPart, DelayBy: o.delayBy}, src, serde,
		producer.WithLogger(log.With("component", "producer")), producer.WithRegisterer(reg),
		producer.WithKafkaOptions(kafka.WithMetrics(reg, "producer")))
	if err != nil {
		return err
	}
	if o.delayBy > 0 {
		fmt.Fprintf(stdout, "sfstream: raw partition %d held back by %v (--debug-delay-partition)\n", o.delayPart, o.delayBy)
	}

	// Processor, archiver and the metrics server run until the producer has stopped and what
	// it sent has been processed and archived.
	bg, bgctx := errgroup.WithContext(context.Background())
	procCtx, stopProc := context.WithCancel(bgctx)
	archCtx, stopArch := context.WithCancel(bgctx)
	defer stopProc()
	defer stopArch()
	bg.Go(func() error { return proc.Run(procCtx) })
	bg.Go(func() error { return arch.Run(archCtx) })
	polCtx, stopPol := context.WithCancel(bgctx)
	defer stopPol()
	if pol != nil {
		bg.Go(func() error { return pol.Run(polCtx) })
	}
	if o.metricsAddr != "" {
		srv := &service.Server{Addr: o.metricsAddr, Reg: reg, Log: log, Ready: func() bool { return proc.Ready() && arch.Ready() && (pol == nil || pol.Ready()) }}
		if err := srv.Listen(); err != nil {
			return err
		}
		bg.Go(func() error { return srv.Run(archCtx) })
	}
	prog := &progress{reg: reg, out: stdout, start: time.Now()}
	ticker := time.NewTicker(o.every)
	defer ticker.Stop()
	go func() {
		for {
			select {
			case <-ticker.C:
				fmt.Fprintln(stdout, prog.line())
			case <-archCtx.Done():
				return
			}
		}
	}()

	// The producer runs until Ctrl-C, --duration, or the end of a replay.
	pctx := ctx
	if o.duration > 0 {
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	prodErr := make(chan error, 1)
	go func() { prodErr <- prod.Run(pctx) }()
	var runErr error
	select {
	case err := <-prodErr:
		if err != nil {
			runErr = fmt.Errorf("producer: %w", err)
		}
		fmt.Fprintln(stdout, "sfstream: stopping: flushing open flows and hours")
	case <-bgctx.Done(): // the processor or archiver failed
		pdctx, cancel := context.WithTimeout(context.Background(), o.drainTimeout)
		if err := prod.Drain(pdctx); err != nil {
			runErr = err
		}
		cancel()
		runErr = errors.Join(runErr, <-prodErr)
	}
	// The drain timeout counts from the end of the capture.
	dctx, cancel := context.WithTimeout(context.Background(), o.drainTimeout)
	defer cancel()
	if err := proc.Drain(dctx); err != nil {
		log.Warn("processor did not finish the captured records", "err", err)
	}
	stopProc()
	if pol != nil {
		if err := pol.Drain(dctx); err != nil {
			log.Warn("policy engine did not evaluate every record", "err", err)
		}
		stopPol()
	}
	if err := arch.Drain(dctx); err != nil {
		log.Warn("archiver did not store every hour", "err", err)
	}
	stopArch()
	if err := bg.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		runErr = errors.Join(runErr, err)
	}
	fmt.Fprintln(stdout, prog.line())
	fmt.Fprintf(stdout, "sfstream: stopped; archive in %s\n", st.Archive())
	return runErr
}

// newPolicy returns the policy engine of --rules, or nil without it.
func newPolicy(o runOptions, kcfg kafka.Config, serde *codec.Serde, reg *prometheus.Registry, log *slog.Logger) (*engine.Engine, error) {
	if len(o.rules) == 0 {
		return nil, nil
	}
	var files []rules.File
	for _, p := range o.rules {
		if p == "default" {
			files = append(files, rules.DefaultFile())
			continue
		}
		f, err := rules.ReadFiles(p)
		if err != nil {
			return nil, err
		}
		files = append(files, f...)
	}
	pcfg := kcfg
	pcfg.ClientID = "sfstream-policy"
	return engine.New(engine.Config{Kafka: pcfg, Rules: files, TransactionalID: "sfstream-run-policy"}, serde, reg,
		engine.WithLogger(log.With("component", "policy")), engine.WithKafkaOptions(kafka.WithMetrics(reg, "policy")))
}
