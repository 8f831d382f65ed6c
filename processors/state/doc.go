// Package state turns raw syscall batches into SysFlow records, as the reference collector
// does (SEMANTICS.md of the design documents, sections 2 to 6), for one partition of sysflow.raw.
//
// A State owns the processes of its partition: for each process its attributes, cwd, fd
// table, open file flows, network flows and process flow. Apply feeds it one raw batch;
// records come out through an Output: entities (Process, File, Container) keyed by entity key
// and events and flows keyed by their process key. It also counts, per exporter and hour of
// event time, the raw events applied and the events its drop notices announce lost
// (TakeCounts, by where they were lost); ApplyCopy applies a notice batch that another
// partition counts.
//
// Invariants:
//   - Deterministic: the output is a pure function of the input sequence. "Now" is the
//     timestamp of the last event seen, never the wall clock, so a replay after a restore
//     produces the same records (the basis of exactly-once).
//   - Iteration never follows Go map order: flows and processes carry a creation sequence
//     number and are visited in that order.
//   - Every record that references a process or file is emitted after that entity.
//   - Bounded: exited processes are dropped after Config.ExitGrace of event time; beyond
//     Config.MaxProcesses the least recently used process is evicted and counted.
//   - Partition moves do not truncate: only an OpEnd (the capture ended for good) does.
package state
