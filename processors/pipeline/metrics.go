package pipeline

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfstream/sfstream/sysflow"
)

type metrics struct {
	recordsIn  prometheus.Counter
	eventsIn   prometheus.Counter
	recordsOut *prometheus.CounterVec
	// recordsOutByKind are recordsOut's counters, looked up once.
	recordsOutByKind [sysflow.NumKinds]prometheus.Counter
	dlq              *prometheus.CounterVec
	lag              prometheus.Gauge
	processes        prometheus.Gauge
	flows            prometheus.Gauge
	txnSeconds       prometheus.Histogram
	txns             *prometheus.CounterVec
	restoreSecs      prometheus.Histogram
	evicted          prometheus.Counter
	tombstones       prometheus.Counter
	countRecords     prometheus.Counter
	lostEvents       prometheus.Counter
}

func newMetrics() *metrics {
	const ns, sub = "sfstream", "processor"
	m := &metrics{
		recordsIn:  prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "records_in_total", Help: "Raw Kafka records consumed."}),
		eventsIn:   prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "events_in_total", Help: "Raw events applied to state."}),
		recordsOut: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "records_out_total", Help: "SysFlow records produced, by record type."}, []string{"kind"}),
		dlq:        prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "dlq_total", Help: "Raw records sent to the dead-letter topic, by reason."}, []string{"reason"}),
		lag:        prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "lag", Help: "Records behind the high watermark over the owned partitions of sysflow.raw."}),
		processes:  prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "processes", Help: "Processes held in state."}),
		flows:      prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "flows", Help: "Open flows held in state."}),
		txnSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "transaction_seconds", Help: "Transaction latency, begin to commit.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		txns:       prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "transactions_total", Help: "Transactions by result."}, []string{"result"}),
		restoreSecs: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "restore_seconds", Help: "Time to restore the state of the assigned partitions.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12)}),
		evicted:      prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "evicted_total", Help: "Processes evicted by the state cap (lost exits)."}),
		lostEvents:   prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "lost_events_total", Help: "Events lost upstream (or excluded by filters), as the drop notices applied count them."}),
		countRecords: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "count_records_total", Help: "Count records (capture counts of an exporter and hour, no value) produced to sysflow.events."}),
		tombstones:   prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "entity_tombstones_total", Help: "Process entities deleted from sysflow.entities (tombstones), EntityTombstoneAfter after their exit."}),
	}
	for _, k := range sysflow.Kinds() {
		m.recordsOutByKind[k] = m.recordsOut.WithLabelValues(k.String())
	}
	return m
}

func (m *metrics) register(reg prometheus.Registerer) error {
	// Closed label sets are initialised, so the series exist (at 0) from the start.
	for _, r := range []string{"decode", "invalid"} {
		m.dlq.WithLabelValues(r)
	}
	for _, r := range []string{"committed", "aborted", "failed"} {
		m.txns.WithLabelValues(r)
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.recordsIn, m.eventsIn, m.recordsOut, m.dlq, m.lag, m.processes, m.flows, m.txnSeconds, m.txns, m.restoreSecs, m.evicted, m.tombstones, m.countRecords, m.lostEvents} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
