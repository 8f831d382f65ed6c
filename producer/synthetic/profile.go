package synthetic

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sfstream/sfstream/internal/raw"
)

// A Profile is the shape of a synthetic workload: what each simulated process does and the
// share of every raw operation that results.
//
// How the mixes were chosen. The reference captures (testdata/reference) are short
// and filtered: 170 to 680 events each, most of them /proc snapshot records. Replayed through
// producer/replay (replay.OpHistogram), each profile's source captures give a histogram of
// raw operations; restricted to the operations the profile models (Ops) and normalised, that
// histogram is the mix the profile must reproduce. The reference set holds no Apache capture
// (the sf-collector mpm-* traces are not in it), so the httpd-like mix comes from the two
// captures that serve and log: the TCP echo server of client-server (accept, request read,
// response write, close) and the alpine shell session (file reads and appending writes). The
// per-process scripts below were then written the way the programs behave (an Apache
// prefork worker, a build/packaging job runner, a health-check daemon spawning curl), with
// their free parameters (chunks per file, writes per response, failed opens, connections per
// process) set so that the expected counts per unit of work give Mix. Mix holds those
// expected shares; reference_test.go checks them against the captures' histograms and
// generator_test.go checks that the generator produces them.
type Profile struct {
	// Name is the short name used on command lines and in reports.
	Name string
	// Summary says in one line what the simulated processes do.
	Summary string
	// Processes is the default number of simulated processes (workers or spawning slots).
	Processes int
	// Ops are the operations the profile models; every generated event but the start-up
	// snapshot has one of them.
	Ops []raw.Op
	// Mix is the expected share of each of Ops among the generated events (snapshots aside);
	// the shares sum to 1.
	Mix map[raw.Op]float64
	// References are the reference captures (paths under testdata/reference) whose
	// operation histograms the mix was derived from.
	References []string
	// MaxMixDistance bounds the total variation distance between Mix and the references'
	// mix that the reference test accepts; MaxOpDistance bounds one operation's difference.
	// Above the capture's own sampling noise only where the profile departs on purpose
	// (documented on the profile).
	MaxMixDistance, MaxOpDistance float64

	newWorker func(g *Generator, slot int) worker
}

// worker is one simulated process slot: step performs one unit of its work (an HTTP request,
// a file task, a step of a short process's life), emitting the unit's events through g.
type worker interface {
	step(g *Generator)
}

// HTTPD is an Apache-like static web server: prefork workers in a container, each accepting
// keep-alive connections (1 to 15 requests), reading the request, opening the static file
// (5% are missing), reading it in 8 KiB chunks while writing the response, closing it and
// appending to the access log; at the end of a connection a last read sees EOF, then
// shutdown and close.
//
// Per request: READ 4.925, WRITE 4.85, OPEN 1, CLOSE 1.075, ACCEPT 0.125, SHUTDOWN 0.125
// (file chunks uniform 1..5, 8 requests per connection on average): 12.1 events.
var HTTPD = &Profile{
	Name:      "httpd",
	Summary:   "Apache-like static server: keep-alive accept/read/write/close, static file reads, access-log writes",
	Processes: 64,
	Ops:       []raw.Op{raw.OpRead, raw.OpWrite, raw.OpOpen, raw.OpClose, raw.OpAccept, raw.OpShutdown},
	Mix: normalise(map[raw.Op]float64{
		raw.OpRead: 4.925, raw.OpWrite: 4.85, raw.OpOpen: 1, raw.OpClose: 1.075,
		raw.OpAccept: 0.125, raw.OpShutdown: 0.125,
	}),
	References:     []string{"client-server/tcp-client-server.scap", "alpine/alpine.scap"},
	MaxMixDistance: 0.08,
	MaxOpDistance:  0.05,
	newWorker:      newHTTPDWorker,
}

// FileHeavy is a job runner working on files: it reads inputs, writes outputs (sometimes to
// a temporary name renamed into place), probes for missing files, removes old outputs,
// creates and removes directories and makes links.
//
// Per 45 tasks (weights): 7.5 reads (OPEN, READ, CLOSE), 16.5 writes (OPEN, 4/3 WRITE,
// CLOSE, a RENAME one time in ten), 7 failed opens, 7 unlinks, 2.3 mkdirs, 2.3 rmdirs,
// 1.2 links, 1.2 symlinks: 100.15 events.
var FileHeavy = &Profile{
	Name:      "files",
	Summary:   "file-heavy job runner: open/read/write/close, failed opens, rename, unlink, mkdir/rmdir, links",
	Processes: 16,
	Ops: []raw.Op{raw.OpOpen, raw.OpClose, raw.OpWrite, raw.OpRead, raw.OpUnlink, raw.OpMkdir,
		raw.OpRmdir, raw.OpRename, raw.OpLink, raw.OpSymlink},
	Mix: normalise(map[raw.Op]float64{
		raw.OpOpen: 31, raw.OpClose: 24, raw.OpWrite: 22, raw.OpRead: 7.5, raw.OpUnlink: 7,
		raw.OpMkdir: 2.3, raw.OpRmdir: 2.3, raw.OpRename: 1.65, raw.OpLink: 1.2, raw.OpSymlink: 1.2,
	}),
	References:     []string{"files/files.scap", "files/filesat.scap", "rename/rename.scap"},
	MaxMixDistance: 0.05,
	MaxOpDistance:  0.03,
	newWorker:      newFileWorker,
}

// ConnHeavy is connection churn by short processes: each slot is a long-lived daemon that
// forks a client (curl-like) which execs, loads its libraries (open, read, mmap, close),
// makes 1 or 2 TCP connections (socket, connect, 3 to 5 writes, 1 to 3 reads, close) and
// exits; then the daemon forks the next.
//
// Per child: CLONE 2 (both sides), EXEC 1, OPEN 2, READ 1+3, MMAP 3, CLOSE 2+1.5, SOCKET 1.5,
// CONNECT 1.5, WRITE 6, EXIT 1: 25.5 events. The captures hold one connection among 23
// data operations; this profile churns on purpose (one connect per 6.7 data operations), so
// SOCKET, CONNECT and CLOSE sit above the captures' shares and its distance bounds are wider.
var ConnHeavy = &Profile{
	Name:      "conns",
	Summary:   "connection churn: short processes fork/exec, load libraries, connect/send/recv/close, exit",
	Processes: 32,
	Ops: []raw.Op{raw.OpClone, raw.OpExec, raw.OpExit, raw.OpOpen, raw.OpMmap, raw.OpClose,
		raw.OpRead, raw.OpWrite, raw.OpSocket, raw.OpConnect, raw.OpAccept},
	Mix: normalise(map[raw.Op]float64{
		raw.OpClone: 2, raw.OpExec: 1, raw.OpExit: 1, raw.OpOpen: 2, raw.OpMmap: 3,
		raw.OpClose: 3.5, raw.OpRead: 4, raw.OpWrite: 6, raw.OpSocket: 1.5, raw.OpConnect: 1.5,
	}),
	References:     []string{"client-server/tcp-client-server.scap", "setuid/setuid.scap"},
	MaxMixDistance: 0.12,
	MaxOpDistance:  0.05,
	newWorker:      newConnWorker,
}

// Profiles lists the profiles in report order.
func Profiles() []*Profile { return []*Profile{HTTPD, FileHeavy, ConnHeavy} }

// ProfileByName returns the profile called name.
func ProfileByName(name string) (*Profile, error) {
	var names []string
	for _, p := range Profiles() {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return nil, fmt.Errorf("unknown load profile %q (want one of %s)", name, strings.Join(names, ", "))
}

// MixOf returns the shares of ops among the counts of h (operations outside ops ignored) and
// the fraction of h's events that ops cover. Snapshot, drop and end records are not
// syscalls and never counted.
func MixOf(h map[raw.Op]int, ops []raw.Op) (mix map[raw.Op]float64, coverage float64) {
	in := map[raw.Op]bool{}
	for _, op := range ops {
		in[op] = true
	}
	var total, covered int
	counts := map[raw.Op]float64{}
	for op, n := range h {
		if op == raw.OpSnapshot || op == raw.OpDrop || op == raw.OpEnd {
			continue
		}
		total += n
		if in[op] {
			covered += n
			counts[op] += float64(n)
		}
	}
	for _, op := range ops {
		counts[op] += 0
	}
	if total == 0 {
		return normalise(counts), 0
	}
	return normalise(counts), float64(covered) / float64(total)
}

// Distance returns the total variation distance between two mixes (half the sum of the
// absolute differences: 0 for equal mixes, 1 for disjoint ones) and the largest single
// difference with its operation.
func Distance(a, b map[raw.Op]float64) (tvd float64, worst raw.Op, worstDiff float64) {
	ops := map[raw.Op]bool{}
	for op := range a {
		ops[op] = true
	}
	for op := range b {
		ops[op] = true
	}
	keys := make([]raw.Op, 0, len(ops))
	for op := range ops {
		keys = append(keys, op)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, op := range keys {
		d := a[op] - b[op]
		if d < 0 {
			d = -d
		}
		tvd += d
		if d > worstDiff {
			worst, worstDiff = op, d
		}
	}
	return tvd / 2, worst, worstDiff
}

func normalise(m map[raw.Op]float64) map[raw.Op]float64 {
	var sum float64
	for _, v := range m {
		sum += v
	}
	out := make(map[raw.Op]float64, len(m))
	for k, v := range m {
		if sum > 0 {
			out[k] = v / sum
		} else {
			out[k] = 0
		}
	}
	return out
}
