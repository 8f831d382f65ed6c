package bench

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/processors/state"
	"github.com/sfstream/sfstream/producer/synthetic"
)

// Stack modes.
const (
	StackEmbedded = "embedded" // kfake and srfake in a child process of the driver
	StackLocal    = "local"    // real servers (deploy/local), from Config.Kafka and RegistryURL
	// StackInProcess runs the embedded stack inside the driver: the broker's CPU time then
	// counts as the processors'. For tests of the driver only.
	StackInProcess = "in-process"
)

// Config configures a benchmark run. The zero value of every field means its documented
// default; Validate checks the rest.
type Config struct {
	// Stack is StackEmbedded (default) or StackLocal.
	Stack string
	// Kafka is how to reach a real cluster (StackLocal): brokers, TLS, SASL. Its topic prefix
	// is extended per run; its partition count is Partitions.
	Kafka kafka.Config
	// RegistryURL is the schema registry of a real stack (StackLocal).
	RegistryURL string
	// Self is the driver's own executable, started as the embedded stack's server process
	// ("<Self> stack"). Required with StackEmbedded.
	Self string

	// Profiles are the load profiles measured, in order. Default all of synthetic.Profiles().
	Profiles []*synthetic.Profile
	// Events is how many raw events each run produces. Default 2,000,000.
	Events int64
	// Processes overrides each profile's simulated process count. Default: the profile's.
	Processes int
	// BatchSize is the raw batch size of the generator. Default synthetic.DefaultBatchSize.
	BatchSize int
	// Rate is the generator's event-time rate (events/s): it spaces timestamps and sets how
	// full batches get. Default synthetic.DefaultRate.
	Rate float64
	// Seed is the generator seed. Default 1.
	Seed uint64
	// Partitions of the run's topics. Default 6.
	Partitions int32
	// State is the processors' SysFlow configuration. Default state.DefaultConfig(), what
	// sf-processor runs with.
	State state.Config
	// Scaling lists the processor instance counts of the scaling run, on the first profile.
	// Default 1, 2, 3. Empty after defaults (ScalingOff) turns the run off.
	Scaling []int
	// ScalingEvents is how many raw events each scaling run produces: more than Events,
	// because the instances' joins take the first seconds. Default 4 × Events.
	ScalingEvents int64
	// ScalingWorkers is pipeline.Config.Workers of each instance of the scaling runs: 1 (what
	// sfbench passes by default) makes N instances use N cores, so that adding instances is
	// what scales; 0 lets every instance use every core.
	ScalingWorkers int
	// StateEvents is how many events the State-alone phase applies per profile, after a
	// warm-up of a fifth as many. Default 1,000,000.
	StateEvents int64
	// PhaseTimeout bounds each processing phase; a phase that times out reports the rate it
	// reached. Default 60s.
	PhaseTimeout time.Duration
	// Latency is the wall time of the paced end-to-end latency run. Default 10s; negative
	// turns it off.
	Latency time.Duration
	// LatencyRate is the paced rate of the latency run in events/s. Default 0: a quarter of
	// the single processor's measured throughput on the first profile.
	LatencyRate float64
	// CPUProfile, when set, is the directory where a CPU profile of each profile's processor
	// phase is written (processor-<profile>.pprof). Default: no profiling.
	CPUProfile string
	// Results, when set, is the directory where RESULTS.md and throughput.png are written.
	Results string
	// Command is the command line recorded in RESULTS.md.
	Command string
}

// ScalingOff is the Scaling value that turns the scaling run off.
var ScalingOff = []int{}

func (c Config) withDefaults() Config {
	if c.Stack == "" {
		c.Stack = StackEmbedded
	}
	if len(c.Profiles) == 0 {
		c.Profiles = synthetic.Profiles()
	}
	if c.Events == 0 {
		c.Events = 2_000_000
	}
	if c.BatchSize == 0 {
		c.BatchSize = synthetic.DefaultBatchSize
	}
	if c.Rate == 0 {
		c.Rate = synthetic.DefaultRate
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Partitions == 0 {
		c.Partitions = 6
	}
	if c.State == (state.Config{}) {
		c.State = state.DefaultConfig()
	}
	if c.Scaling == nil {
		c.Scaling = []int{1, 2, 3}
	}
	if c.ScalingEvents == 0 {
		c.ScalingEvents = 4 * c.Events
	}
	if c.StateEvents == 0 {
		c.StateEvents = 1_000_000
	}
	if c.PhaseTimeout == 0 {
		c.PhaseTimeout = 60 * time.Second
	}
	if c.Latency == 0 {
		c.Latency = 10 * time.Second
	}
	return c
}

// Validate reports every invalid setting.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	switch c.Stack {
	case StackEmbedded:
		if c.Self == "" {
			errs = append(errs, errors.New("embedded stack: the driver's executable is unknown"))
		}
	case StackInProcess:
	case StackLocal:
		if len(c.Kafka.Brokers) == 0 || c.RegistryURL == "" {
			errs = append(errs, errors.New("local stack: needs Kafka brokers and a schema registry URL (SFSTREAM_KAFKA_BROKERS, SFSTREAM_SCHEMA_REGISTRY_URL, as deploy/local/up.sh writes them to stack.env)"))
		}
	default:
		errs = append(errs, fmt.Errorf("stack %q: want %s or %s", c.Stack, StackEmbedded, StackLocal))
	}
	if c.Events < 10_000 {
		errs = append(errs, fmt.Errorf("events %d: want >= 10000", c.Events))
	}
	if c.Processes < 0 || c.BatchSize < 1 || c.Rate <= 0 || c.Partitions < 1 {
		errs = append(errs, errors.New("processes, batch size, rate and partitions must be positive"))
	}
	for _, n := range c.Scaling {
		if n < 1 || int32(n) > c.Partitions {
			errs = append(errs, fmt.Errorf("scaling: %d instances: want 1..%d (the partitions)", n, c.Partitions))
		}
	}
	if err := c.State.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("bench config: %w", errors.Join(errs...))
	}
	return nil
}

// ProfileNames returns the names of ps, comma-separated.
func ProfileNames(ps []*synthetic.Profile) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return strings.Join(names, ",")
}

// genConfig returns the generator configuration of profile p under c.
func (c Config) genConfig(p *synthetic.Profile) synthetic.Config {
	return synthetic.Config{Profile: p, Processes: c.Processes, Seed: c.Seed, BatchSize: c.BatchSize, Rate: c.Rate}
}

func defaultState() state.Config   { return state.DefaultConfig() }
func referenceState() state.Config { return state.ReferenceTestConfig() }
