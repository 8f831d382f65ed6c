package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"github.com/twmb/franz-go/plugin/kslog"
)

// Log keys.
const (
	logKeyBrokers    = "brokers"
	logKeyAttempt    = "attempt"
	logKeyErr        = "err"
	logKeyTopic      = "topic"
	logKeyPartitions = "partitions"
	logKeyWant       = "want"
)

// Option configures a client built by NewClient or Dial.
type Option func(*options)

type options struct {
	log       *slog.Logger
	reg       prometheus.Registerer
	subsystem string
	kgo       []kgo.Opt
	first     time.Duration
	largest   time.Duration
}

// WithLogger routes franz-go's logs (through kslog) and this package's to l. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithMetrics registers the client's kprom metrics on reg as sfstream_<subsystem>_*, with a
// client_id label. Default: no metrics.
func WithMetrics(reg prometheus.Registerer, subsystem string) Option {
	return func(o *options) { o.reg, o.subsystem = reg, subsystem }
}

// WithKgoOpts adds franz-go options (consumer group, transactional id, ...) after the ones
// derived from Config, so they take precedence.
func WithKgoOpts(opts ...kgo.Opt) Option { return func(o *options) { o.kgo = append(o.kgo, opts...) } }

// WithBackoff sets the first and largest delay between Dial's connection attempts. Default:
// 100ms doubling up to 5s, with jitter.
func WithBackoff(first, largest time.Duration) Option {
	return func(o *options) { o.first, o.largest = first, max(first, largest) }
}

func newOptions(opts []Option) options {
	o := options{log: slog.New(slog.DiscardHandler), first: 100 * time.Millisecond, largest: 5 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if o.first <= 0 {
		o.first = 100 * time.Millisecond
	}
	return o
}

// NewClient validates cfg and builds a franz-go client from it. It does not connect; see Dial.
func NewClient(cfg Config, opts ...Option) (*kgo.Client, error) {
	cl, _, err := newClient(cfg, newOptions(opts))
	return cl, err
}

func newClient(cfg Config, o options) (*kgo.Client, Config, error) {
	if err := cfg.Validate(); err != nil {
		return nil, cfg, fmt.Errorf("new kafka client: %w", err)
	}
	cfg = cfg.withDefaults()
	kopts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID(cfg.ClientID),
		kgo.DialTimeout(cfg.DialTimeout),
		kgo.WithLogger(kslog.New(o.log)),
	}
	if cfg.TLS.On() {
		tc, err := cfg.TLS.config()
		if err != nil {
			return nil, cfg, fmt.Errorf("new kafka client: %w", err)
		}
		kopts = append(kopts, kgo.DialTLSConfig(tc))
	}
	if cfg.SASL.Mechanism != "" {
		m, err := cfg.SASL.mechanism()
		if err != nil {
			return nil, cfg, fmt.Errorf("new kafka client: %w", err)
		}
		kopts = append(kopts, kgo.SASL(m))
	}
	if o.reg != nil {
		kopts = append(kopts, kgo.WithHooks(newClientMetrics(o.reg, o.subsystem, o.log)))
	}
	cl, err := kgo.NewClient(append(kopts, o.kgo...)...)
	if err != nil {
		return nil, cfg, fmt.Errorf("new kafka client: %w", err)
	}
	return cl, cfg, nil
}

// Dial builds a client and waits until a broker answers, retrying with backoff until ctx ends.
// Authentication and certificate failures are not retried. On error no client is left open.
func Dial(ctx context.Context, cfg Config, opts ...Option) (*kgo.Client, error) {
	o := newOptions(opts)
	cl, cfg, err := newClient(cfg, o)
	if err != nil {
		return nil, err
	}
	brokers := strings.Join(cfg.Brokers, ",")
	delay := o.first
	for attempt := 1; ; attempt++ {
		pctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout+time.Second)
		err = cl.Ping(pctx)
		cancel()
		if err == nil {
			if attempt > 1 {
				o.log.Info("kafka reachable", logKeyBrokers, brokers, logKeyAttempt, attempt)
			}
			return cl, nil
		}
		if permanent(err) {
			cl.Close()
			return nil, fmt.Errorf("dial kafka %s: %w", brokers, err)
		}
		o.log.Warn("kafka unreachable, retrying", logKeyBrokers, brokers, logKeyAttempt, attempt, logKeyErr, err)
		t := time.NewTimer(delay/2 + rand.N(delay/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			cl.Close()
			return nil, fmt.Errorf("dial kafka %s: no broker reachable after %d attempts: %w (last error: %w)", brokers, attempt, context.Cause(ctx), err)
		case <-t.C:
		}
		delay = min(2*delay, o.largest)
	}
}

// permanent reports whether a connection error will not go away by retrying.
func permanent(err error) bool {
	var (
		unknownCA *x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
	)
	return errors.Is(err, kerr.SaslAuthenticationFailed) || errors.Is(err, kerr.UnsupportedSaslMechanism) ||
		errors.Is(err, kerr.IllegalSaslState) || errors.As(err, &unknownCA) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &verify)
}

func (t TLS) config() (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, //nolint:gosec // opt-in, for tests
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read tls ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("read tls ca file %s: no PEM certificate", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load tls client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func (s SASL) mechanism() (sasl.Mechanism, error) {
	pass, err := s.password()
	if err != nil {
		return nil, err
	}
	switch s.Mechanism {
	case SASLPlain:
		return plain.Auth{User: s.User, Pass: pass}.AsMechanism(), nil
	case SASLScramSHA256:
		return scram.Auth{User: s.User, Pass: pass}.AsSha256Mechanism(), nil
	case SASLScramSHA512:
		return scram.Auth{User: s.User, Pass: pass}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("sasl: unknown mechanism %q", s.Mechanism)
}
