package capture

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfstream/sfstream/internal/raw"
)

// maxOp bounds the op codes counted per op (raw.Op values are below it).
const maxOp = 64

// metrics are the capture's Prometheus metrics (listed in the package doc).
type metrics struct {
	ringLost     prometheus.Counter
	queueDropped prometheus.Counter
	decodeErrors prometheus.Counter
	// filteredProcs and filteredEvents count what the filter excluded.
	filteredProcs  prometheus.Counter
	filteredEvents prometheus.Counter
	events         [maxOp]prometheus.Counter
	// pending counts events per op between publishes, so the hot path does no atomics;
	// pendingFiltered the filtered events.
	pending         [maxOp]uint64
	pendingFiltered uint64
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		ringLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sfstream_producer_ringbuf_lost_total",
			Help: "Kernel records lost because the ring buffer was full (reserve failures, all CPUs).",
		}),
		queueDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sfstream_producer_queue_dropped_total",
			Help: "Kernel records drained from the ring buffer but dropped because the bounded queue was full.",
		}),
		decodeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sfstream_producer_decode_errors_total",
			Help: "Kernel records that could not be decoded and were skipped.",
		}),
		filteredProcs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sfstream_producer_filtered_processes_total",
			Help: "Processes the filter (--filter, --containers-only) excluded, counted each time one is.",
		}),
		filteredEvents: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sfstream_producer_filtered_events_total",
			Help: "Events of excluded processes dropped in user space (those kept in the kernel are not counted).",
		}),
	}
	events := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sfstream_producer_events_total",
		Help: "Raw events produced, by operation.",
	}, []string{"op"})
	for op := raw.Op(0); op < maxOp; op++ {
		if op.Known() {
			m.events[op] = events.WithLabelValues(op.String())
		}
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.ringLost, m.queueDropped, m.decodeErrors, m.filteredProcs, m.filteredEvents, events} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register capture metrics: %w", err)
		}
	}
	return m, nil
}

// count notes one event of op; publish makes the counts visible.
func (m *metrics) count(op raw.Op) {
	if op >= 0 && op < maxOp {
		m.pending[op]++
	}
}

func (m *metrics) publish() {
	for op, n := range m.pending {
		if n > 0 && m.events[op] != nil {
			m.events[op].Add(float64(n))
		}
		m.pending[op] = 0
	}
	if m.pendingFiltered > 0 {
		m.filteredEvents.Add(float64(m.pendingFiltered))
		m.pendingFiltered = 0
	}
}
