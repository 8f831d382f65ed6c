package containers

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Lookup results, the values of the result label.
const (
	resultOK       = "ok"
	resultNotFound = "not_found"
	resultError    = "error"
)

// Metrics are the container metadata metrics (listed in the package doc). The zero of a
// *Metrics (nil) counts nothing.
type Metrics struct {
	ok, notFound, failed prometheus.Counter
	entries              prometheus.Gauge
}

// NewMetrics creates the metrics and registers them on reg (none when reg is nil).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	lookups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sfstream_producer_container_lookups_total",
		Help: "Container metadata lookups sent to the container runtime, by result (ok, not_found, error).",
	}, []string{"result"})
	m := &Metrics{
		ok:       lookups.WithLabelValues(resultOK),
		notFound: lookups.WithLabelValues(resultNotFound),
		failed:   lookups.WithLabelValues(resultError),
		entries: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sfstream_producer_container_cache_entries",
			Help: "Containers whose metadata the producer's cache holds (answered or not).",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{lookups, m.entries} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register container metrics: %w", err)
		}
	}
	return m, nil
}

func (m *Metrics) lookup(result string) {
	if m == nil {
		return
	}
	switch result {
	case resultOK:
		m.ok.Inc()
	case resultNotFound:
		m.notFound.Inc()
	default:
		m.failed.Inc()
	}
}

func (m *Metrics) setEntries(n int) {
	if m != nil {
		m.entries.Set(float64(n))
	}
}
