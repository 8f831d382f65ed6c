//go:build linux

package capture

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/sys/unix"

	"github.com/sfstream/sfstream/bpf"
	"github.com/sfstream/sfstream/internal/raw"
)

// startSpin starts a child that makes n write(2) calls to /dev/null, one record each.
func startSpin(b *testing.B, n int) *exec.Cmd { return startHelper(b, "spin", n) }

func startHelper(b *testing.B, mode string, n int) *exec.Cmd {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperEnv+"_N="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	return cmd
}

// waitCount waits until count reaches n or stops moving for a while, and returns the time of
// the last change.
func waitCount(count *atomic.Uint64, n uint64, last *atomic.Int64) {
	prev, still := count.Load(), 0
	for prev < n && still < 20 {
		time.Sleep(10 * time.Millisecond)
		if cur := count.Load(); cur != prev {
			prev, still = cur, 0
		} else {
			still++
		}
	}
}

// cpuTime is this process's user+system CPU time: the producer's side of the work (the load
// runs in a child).
func cpuTime(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report writes the figures: events/s of the run (bounded by the load, a single thread), loss,
// and events per second of producer CPU (the capacity of one producer core).
func report(b *testing.B, start time.Time, lastNs int64, got uint64, ringLost, dropped uint64, cpu time.Duration) {
	elapsed := time.Duration(lastNs - start.UnixNano())
	n := uint64(b.N)
	b.ReportMetric(float64(got)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(got)/cpu.Seconds(), "events/cpu-s")
	b.ReportMetric(100*float64(n-min(got, n))/float64(n), "loss%")
	b.ReportMetric(float64(ringLost), "ringbuf-lost")
	b.ReportMetric(float64(dropped), "queue-dropped")
}

// BenchmarkSpinBare is the baseline: the same syscall loop with nothing attached.
func BenchmarkSpinBare(b *testing.B) {
	start := time.Now()
	cmd := startSpin(b, b.N)
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "syscalls/s")
}

// BenchmarkUncapturedSyscall is the cost the sys_exit hook adds to a syscall it does not record
// (getppid): compare the attached and bare sub-benchmarks' ns/op.
func BenchmarkUncapturedSyscall(b *testing.B) {
	run := func(b *testing.B) {
		cmd := startHelper(b, "spin-uncaptured", b.N)
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("bare", run)
	b.Run("attached", func(b *testing.B) {
		requireRoot(b)
		probe, err := bpf.Open(bpf.Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer probe.Close()
		run(b)
	})
}

// BenchmarkDrain measures the drainer alone: ring buffer to queue, with a consumer that only
// counts the load's records. One record per write(2); events/s is records drained per second
// of the load's run, loss% the share of its records that never reached the queue's consumer.
func BenchmarkDrain(b *testing.B) {
	requireRoot(b)
	probe, err := bpf.Open(bpf.Config{})
	if err != nil {
		b.Fatal(err)
	}
	q := newQueue(128 << 10)
	drained := make(chan error, 1)
	go func() { drained <- (&drainer{probe: probe, q: q}).run() }()

	var (
		target atomic.Uint32
		count  atomic.Uint64
		last   atomic.Int64
	)
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for {
			select {
			case c := <-q.full:
				pid := target.Load()
				var n uint64
				for i := range c.records() {
					if h, err := bpf.HeaderOf(c.record(i)); err == nil && h.Tgid == pid {
						n++
					}
				}
				q.recycle(c)
				if n > 0 {
					count.Add(n)
					last.Store(time.Now().UnixNano())
				}
			case <-q.done:
				return
			}
		}
	}()

	b.ResetTimer()
	cpu0 := cpuTime(b)
	start := time.Now()
	cmd := startSpin(b, b.N)
	target.Store(uint32(cmd.Process.Pid))
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
	waitCount(&count, uint64(b.N), &last)
	cpu := cpuTime(b) - cpu0
	b.StopTimer()

	perCPU, err := probe.Lost()
	if err != nil {
		b.Fatal(err)
	}
	var lost uint64
	for _, n := range perCPU {
		lost += n
	}
	if err := probe.Close(); err != nil {
		b.Fatal(err)
	}
	if err := <-drained; err != nil {
		b.Fatal(err)
	}
	<-consumed
	report(b, start, last.Load(), count.Load(), lost, q.dropped.Load(), cpu)
}

// BenchmarkPipeline measures the whole capture: drain, decode, convert, batch and emit.
func BenchmarkPipeline(b *testing.B) {
	requireRoot(b)
	c, err := New(Config{Exporter: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	var (
		target        atomic.Int64
		count, events atomic.Uint64
		last          atomic.Int64
		ready         = make(chan struct{})
		once          atomic.Bool
	)
	emit := func(bt raw.Batch) error {
		if once.CompareAndSwap(false, true) {
			close(ready) // the first batch is the snapshot's: attached
		}
		events.Add(uint64(len(bt.Events)))
		if bt.HPID == target.Load() {
			var n uint64
			for _, e := range bt.Events {
				if e.Op == raw.OpWrite {
					n++
				}
			}
			count.Add(n)
			last.Store(time.Now().UnixNano())
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, emit) }()
	<-ready

	b.ResetTimer()
	cpu0 := cpuTime(b)
	start := time.Now()
	cmd := startSpin(b, b.N)
	target.Store(int64(cmd.Process.Pid))
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
	waitCount(&count, uint64(b.N), &last)
	cpu := cpuTime(b) - cpu0
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	report(b, start, last.Load(), count.Load(), counterValue(b, c.metrics.ringLost), counterValue(b, c.metrics.queueDropped), cpu)
}

func counterValue(b *testing.B, c prometheus.Counter) uint64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		b.Fatal(err)
	}
	return uint64(m.GetCounter().GetValue())
}

// BenchmarkFilteredSpin is the cost of a process the filter excludes: the spin load (one
// write(2) record per op) runs under a capture whose --filter excludes it, with the decision
// in the kernel (filtered_tgids: its records never reach the ring buffer) or, for comparison,
// in user space only (every record drained, decoded and dropped). It reports the load's
// syscalls/s, the producer's CPU per excluded syscall and the records dropped in user space.
func BenchmarkFilteredSpin(b *testing.B) {
	for _, mode := range []string{"kernel", "userspace"} {
		b.Run(mode, func(b *testing.B) {
			requireRoot(b)
			c, err := New(Config{Exporter: "bench", Filter: "proc.name != capture.test"})
			if err != nil {
				b.Fatal(err)
			}
			c.userSpaceFilterOnly = mode == "userspace"
			ready := make(chan struct{})
			var once atomic.Bool
			emit := func(raw.Batch) error {
				if once.CompareAndSwap(false, true) {
					close(ready)
				}
				return nil
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx, emit) }()
			<-ready

			b.ResetTimer()
			cpu0 := cpuTime(b)
			start := time.Now()
			cmd := startSpin(b, b.N)
			if err := cmd.Wait(); err != nil {
				b.Fatal(err)
			}
			wall := time.Since(start)
			time.Sleep(300 * time.Millisecond) // let the capture catch up with the ring
			cpu := cpuTime(b) - cpu0
			b.StopTimer()
			cancel()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/wall.Seconds(), "syscalls/s")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "producer-ns/syscall")
			b.ReportMetric(float64(counterValue(b, c.metrics.filteredEvents)), "dropped-in-userspace")
			b.ReportMetric(float64(counterValue(b, c.metrics.ringLost)), "ringbuf-lost")
		})
	}
}
