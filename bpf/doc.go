// Package bpf owns sfstream's eBPF capture: the C programs (capture.bpf.c and its headers, on
// raw tracepoints sys_exit, sched_process_exec and sched_process_exit), their committed bpf2go
// bindings, and a typed Go API over them.
//
// Open loads and attaches the programs and returns a Probe, which owns the links, the maps and
// the ring buffer reader; Close releases all of them. Records are read with Probe.ReadInto and
// decoded in place with Decode into the generated types (Header, SysEvent, SockEvent, ProcEvent).
// No other package knows a map or program name.
//
// Invariants:
//   - every record starts with a Header whose Kind selects the struct; strings follow the fixed
//     part with their lengths in it;
//   - Header.Ts is CLOCK_BOOTTIME ns; Header.Start is the thread-group leader's start_boottime
//     (ns), the process identity from which user space derives createTS;
//   - Header.Op values are internal/raw's Op numbers;
//   - the kernel never blocks: a record that does not fit is counted (Lost, per CPU, and
//     DrainLostByProcess, per process) and dropped;
//   - the process given as Config.SelfTGID (default: the caller) is never captured.
//
// Regenerate the bindings with `go generate ./bpf` (clang, llvm-strip and libbpf headers
// needed); vmlinux.h is regenerated separately, see gen.go.
package bpf
