package kafka

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/plugin/kprom"
)

// newClientMetrics returns the kprom hook of one client: franz-go's connection, request,
// produce and fetch metrics as sfstream_<subsystem>_*, labelled with the client id so that
// several clients can share reg. The hook unregisters them when the client closes.
func newClientMetrics(reg prometheus.Registerer, subsystem string, log *slog.Logger) *kprom.Metrics {
	return kprom.NewMetrics("sfstream",
		kprom.Registerer(lenientRegisterer{reg: reg, log: log}),
		kprom.Subsystem(subsystem),
		kprom.WithClientLabel(),
		kprom.FetchAndProduceDetail(kprom.ByNode, kprom.ByTopic, kprom.Batches, kprom.Records, kprom.CompressedBytes, kprom.UncompressedBytes),
	)
}

// lenientRegisterer turns kprom's MustRegister into Register: two live clients with the same
// id on one registry lose the second one's metrics (logged) instead of panicking.
type lenientRegisterer struct {
	reg prometheus.Registerer
	log *slog.Logger
}

func (r lenientRegisterer) Register(c prometheus.Collector) error { return r.reg.Register(c) }

func (r lenientRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.reg.Register(c); err != nil {
			r.log.Warn("kafka client metrics not registered", logKeyErr, err)
		}
	}
}

func (r lenientRegisterer) Unregister(c prometheus.Collector) bool { return r.reg.Unregister(c) }
