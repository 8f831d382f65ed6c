package engine

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfstream/sfstream/processors/policy/rules"
)

type metrics struct {
	records prometheus.Counter
	alerts  *prometheus.CounterVec
	bad     prometheus.Counter
	txns    *prometheus.CounterVec
}

func newMetrics() *metrics {
	const ns, sub = "sfstream", "policy"
	return &metrics{
		records: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "records_total", Help: "Records of sysflow.events evaluated."}),
		alerts:  prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "alerts_total", Help: "Alerts produced, by rule priority."}, []string{"priority"}),
		bad:     prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "bad_records_total", Help: "Records of sysflow.events that could not be decoded (skipped)."}),
		txns:    prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "transactions_total", Help: "Transactions by result."}, []string{"result"}),
	}
}

func (m *metrics) register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	for p := rules.PriorityEmergency; p <= rules.PriorityDebug; p++ {
		m.alerts.WithLabelValues(p.String())
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.records, m.alerts, m.bad, m.txns} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
