// Package bench is sfstream's load benchmark (cmd: loadtest/cmd/sfbench, `make bench`): it
// measures the processors against DESIGN.md's targets on synthetic load (producer/synthetic) and
// writes loadtest/results/RESULTS.md and throughput.png.
//
// For each load profile, in order:
//
//  1. State alone: State.Apply (one State, as one partition) on the profile's batches, no
//     Kafka; events per CPU-second. BenchmarkStateApply is the same as a Go benchmark.
//  2. Producer: the generator through producer/sink (the producer's keys, partitioner,
//     batching and lz4) into a fresh sysflow.raw; raw events/s in, raw bytes.
//  3. Bare baseline: a read_committed consumer of that topic decoding every record with the
//     processors' codec and nothing else; the rate the processors are compared with.
//  4. Processor: one pipeline.Processor over the same records, from joined-and-restored to
//     every offset committed; events/s, its CPU time per million events and per core, an
//     optional CPU profile (-cpuprofile) summarised by stage.
//  5. Output: sysflow.events and sysflow.entities read back; SysFlow bytes, and archive bytes
//     of the same records written as SysFlow files with sysflow/sffile (see archive.go for
//     how sf-archiver plugs in once it exists).
//
// Then the scaling run (1, 2, 3 instances of the first profile on 6 partitions; the window
// opens once the group has settled) and the paced end-to-end latency run (raw record
// timestamp to the SysFlow record read from sysflow.events).
//
// Invariants: every run uses topics of its own prefix (sfbench-<start time>-<run>.), deleted
// afterwards, so processors start from empty changelogs and outputs hold one run's records.
// On the embedded stack the broker and registry run in a child process ("sfbench stack"), so
// the driver's CPU time (getrusage) during a processor phase is the processors' alone and the
// broker's (from /proc/<pid>/stat) is reported beside it. Nothing is estimated or hard-coded:
// a phase that times out reports the rate it reached and says so.
//
// Metrics: none (it reads the processors' and the sink's Prometheus registries).
package bench
