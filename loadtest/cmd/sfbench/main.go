// Command sfbench is sfstream's load benchmark: synthetic raw load (producer/synthetic) through
// the producer's sink, the processors and the archive's file format, on the embedded stack
// or a real one, measured against the bare baseline of the same run (see loadtest/bench).
//
//	sfbench [flags]  run the benchmark, print the tables, write -results
//	sfbench stack    serve an embedded stack for a driver (internal)
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sfstream/sfstream/internal/service"
	"github.com/sfstream/sfstream/loadtest/bench"
	"github.com/sfstream/sfstream/processors/state"
	"github.com/sfstream/sfstream/producer/synthetic"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sfbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, argv []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(argv) > 1 && argv[1] == "stack" {
		return bench.ServeStack(ctx, os.Stdin, stdout)
	}
	f := service.NewFlags("sfbench", "sfbench [flags]: load benchmark of the processors (generator -> sysflow.raw -> processors -> SysFlow)", stderr)
	var (
		cfg                                    bench.Config
		brokers                                service.ListFlag
		profiles, scaling, stateName, logLevel string
		stackEnv                               string
	)
	f.StringVar(&cfg.Stack, "stack", bench.StackEmbedded, "embedded (kfake and srfake in a child process) or local (real servers: brokers and registry from the flags, the environment or -stack-env)")
	f.Var(&brokers, "kafka-brokers", "Kafka seed brokers of a local stack, comma-separated")
	f.StringVar(&cfg.RegistryURL, "schema-registry-url", "", "schema registry URL of a local stack")
	f.StringVar(&cfg.Kafka.TopicPrefix, "topic-prefix", "", "prefix of the run's topic names (each run adds sfbench-<time>-<run>.)")
	f.StringVar(&stackEnv, "stack-env", defaultStackEnv(getenv), "stack.env of deploy/local/up.sh, read in local mode when the brokers are not given")
	f.StringVar(&profiles, "profiles", bench.ProfileNames(synthetic.Profiles()), "load profiles, comma-separated; the first is also used for scaling and latency")
	f.Int64Var(&cfg.Events, "events", 2_000_000, "raw events per run")
	f.IntVar(&cfg.Processes, "processes", 0, "simulated processes per profile (default: the profile's)")
	f.IntVar(&cfg.BatchSize, "batch-size", synthetic.DefaultBatchSize, "most events per raw batch")
	f.Float64Var(&cfg.Rate, "rate", synthetic.DefaultRate, "event-time rate of the generator, events/s (spaces timestamps, fills batches)")
	f.Func("seed", "generator seed (default 1)", func(s string) error {
		v, err := strconv.ParseUint(s, 10, 64)
		cfg.Seed = v
		return err
	})
	var parts int
	f.IntVar(&parts, "partitions", 6, "partitions of the run's topics")
	f.StringVar(&scaling, "scaling", "1,2,3", "processor instance counts of the scaling run (\"none\": off)")
	f.StringVar(&stateName, "state", "default", "processor SysFlow config: default (sf-processor's) or reference (the reference test suite's)")
	f.Int64Var(&cfg.ScalingEvents, "scaling-events", 0, "raw events per scaling run (default 4 × -events)")
	f.IntVar(&cfg.ScalingWorkers, "scaling-workers", 1, "parallel partitions per instance in the scaling runs (0: one per CPU)")
	f.Int64Var(&cfg.StateEvents, "state-events", 1_000_000, "events of the State-alone phase per profile")
	f.DurationVar(&cfg.PhaseTimeout, "phase-timeout", 60*time.Second, "bound of each processing phase")
	f.DurationVar(&cfg.Latency, "latency", 10*time.Second, "wall time of the paced latency run (negative: off)")
	f.Float64Var(&cfg.LatencyRate, "latency-rate", 0, "events/s of the latency run (default a quarter of the measured processor throughput)")
	f.StringVar(&cfg.CPUProfile, "cpuprofile", "", "directory for CPU profiles of the processor phases (processor-<profile>.pprof)")
	f.StringVar(&cfg.Results, "results", "", "directory to write RESULTS.md and throughput.png into")
	f.StringVar(&logLevel, "log-level", "info", "log level of the progress lines on stderr")
	if err := f.Parse(argv[1:], getenv); err != nil {
		return err
	}
	log, err := service.NewLogger(stderr, "text", logLevel)
	if err != nil {
		return err
	}
	cfg.Kafka.Brokers = brokers
	cfg.Partitions = int32(parts)

	cfg.Command = strings.Join(append([]string{"sfbench"}, argv[1:]...), " ")
	if cfg.Stack == bench.StackLocal && len(brokers) == 0 {
		if err := readStackEnv(stackEnv, &cfg); err != nil {
			return err
		}
	}
	for _, name := range strings.Split(profiles, ",") {
		p, err := synthetic.ProfileByName(strings.TrimSpace(name))
		if err != nil {
			return err
		}
		cfg.Profiles = append(cfg.Profiles, p)
	}
	if cfg.Scaling, err = parseScaling(scaling); err != nil {
		return err
	}
	switch stateName {
	case "default":
		cfg.State = state.DefaultConfig()
	case "reference":
		cfg.State = state.ReferenceTestConfig()
	default:
		return fmt.Errorf("-state %q: want default or reference", stateName)
	}
	if cfg.Self, err = os.Executable(); err != nil {
		return err
	}
	rep, err := bench.Run(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := rep.Markdown(stdout, false); err != nil {
		return err
	}
	if cfg.Results != "" {
		if err := bench.WriteResults(cfg.Results, rep); err != nil {
			return err
		}
		log.Info("results written", "dir", cfg.Results)
	}
	return nil
}

func parseScaling(s string) ([]int, error) {
	if s == "none" || s == "" {
		return bench.ScalingOff, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("-scaling %q: %w", s, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// defaultStackEnv is where deploy/local/up.sh writes stack.env.
func defaultStackEnv(getenv func(string) string) string {
	dir := getenv("SFSTREAM_RUN")
	if dir == "" {
		dir = "/tmp/sfstream-stack"
	}
	return dir + "/stack.env"
}

// readStackEnv takes the brokers and registry of a local stack from its stack.env
// ("export NAME=value" lines).
func readStackEnv(path string, cfg *bench.Config) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("local stack: %w (start it with make stack-up, or give -kafka-brokers and -schema-registry-url)", err)
	}
	defer func() { _ = f.Close() }() // read-only
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export "), "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "SFSTREAM_KAFKA_BROKERS":
			cfg.Kafka.Brokers = strings.Split(v, ",")
		case "SFSTREAM_SCHEMA_REGISTRY_URL":
			if cfg.RegistryURL == "" {
				cfg.RegistryURL = v
			}
		}
	}
	return sc.Err()
}
