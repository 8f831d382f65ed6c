package entities

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Results of reading one entity record.
const (
	resultOK          = "ok"
	resultTombstone   = "tombstone"
	resultBadKey      = "bad_key"
	resultUndecodable = "undecodable"
)

type metrics struct {
	reg     prometheus.Registerer
	records *prometheus.CounterVec
}

func (m *metrics) register(t *Table) error {
	m.records = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "sfstream", Subsystem: "archiver", Name: "entity_records_total",
		Help: "Records read from sysflow.entities, by result (ok, tombstone, bad_key, undecodable).",
	}, []string{"result"})
	for _, r := range []string{resultOK, resultTombstone, resultBadKey, resultUndecodable} {
		m.records.WithLabelValues(r)
	}
	if m.reg == nil {
		return nil
	}
	entities := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "sfstream", Subsystem: "archiver", Name: "entities",
		Help: "Entities (processes, files, containers, headers) held in the entity table.",
	}, func() float64 { return float64(t.Len()) })
	for _, c := range []prometheus.Collector{m.records, entities} {
		if err := m.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *metrics) count(result string) { m.records.WithLabelValues(result).Inc() }
