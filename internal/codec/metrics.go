package codec

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Label values of the package's metrics (closed sets).
const (
	opRegister = "register"
	opFetch    = "fetch"

	resultOK       = "ok"
	resultNotFound = "not_found"
	resultError    = "error"

	reasonShort        = "short"
	reasonBadMagic     = "bad_magic"
	reasonUnknownID    = "unknown_id"
	reasonIncompatible = "incompatible"
	reasonMalformed    = "malformed"
	reasonRegistry     = "registry"
)

type metrics struct {
	requests      *prometheus.CounterVec
	decodeErrors  *prometheus.CounterVec
	writerSchemas prometheus.Gauge
}

func newMetrics() *metrics {
	return &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "sfstream", Subsystem: "codec", Name: "registry_requests_total",
			Help: "Schema registry requests by operation and result.",
		}, []string{"op", "result"}),
		decodeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "sfstream", Subsystem: "codec", Name: "decode_errors_total",
			Help: "Record values that failed to decode, by reason.",
		}, []string{"reason"}),
		writerSchemas: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "sfstream", Subsystem: "codec", Name: "writer_schemas",
			Help: "Writer schema ids with a cached decoder.",
		}),
	}
}

// register registers the collectors on reg. A collector already registered there by another
// Serde is shared rather than being an error.
func (m *metrics) register(reg prometheus.Registerer) error {
	var errs []error
	m.requests = registerOrReuse(reg, m.requests, &errs)
	m.decodeErrors = registerOrReuse(reg, m.decodeErrors, &errs)
	m.writerSchemas = registerOrReuse(reg, m.writerSchemas, &errs)
	return errors.Join(errs...)
}

func registerOrReuse[C prometheus.Collector](reg prometheus.Registerer, c C, errs *[]error) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	*errs = append(*errs, err)
	return c
}

func (m *metrics) request(op, result string) { m.requests.WithLabelValues(op, result).Inc() }

func (m *metrics) decodeError(err error) {
	reason := reasonRegistry
	var unknown *UnknownIDError
	switch {
	case errors.Is(err, ErrShortRecord):
		reason = reasonShort
	case errors.Is(err, ErrBadMagic):
		reason = reasonBadMagic
	case errors.As(err, &unknown):
		reason = reasonUnknownID
	case errors.Is(err, ErrIncompatible):
		reason = reasonIncompatible
	case IsBadRecord(err):
		reason = reasonMalformed
	}
	m.decodeErrors.WithLabelValues(reason).Inc()
}
