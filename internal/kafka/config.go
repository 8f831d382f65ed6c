package kafka

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// Defaults of Config fields left at their zero value.
const (
	DefaultClientID          = "sfstream"
	DefaultPartitions        = 6
	DefaultReplicationFactor = -1 // the broker's default.replication.factor
	DefaultRawRetention      = 6 * time.Hour
	DefaultEventsRetention   = 7 * 24 * time.Hour
	DefaultDLQRetention      = 7 * 24 * time.Hour
	DefaultDialTimeout       = 10 * time.Second

	// MinEventsRetention is the shortest retention Validate accepts for sysflow.events: the
	// archiver must be able to replay at least a day.
	MinEventsRetention = 24 * time.Hour
)

// SASL mechanisms.
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// Config is how a component reaches Kafka and how sfstream's topics are named and created.
// The zero value of every field but Brokers means its documented default.
type Config struct {
	// Brokers are the seed brokers, host:port. Required.
	Brokers []string
	// ClientID is the Kafka client id. Two clients sharing one metrics registry need
	// distinct ids. Default "sfstream".
	ClientID string
	// TopicPrefix is prepended verbatim to every topic name, so that several pipelines can
	// share a cluster: "staging." gives "staging.sysflow.raw". Default "".
	TopicPrefix string
	// TLS configures TLS to the brokers. Default: plaintext.
	TLS TLS
	// SASL configures authentication. Default: none.
	SASL SASL
	// DialTimeout bounds one connection attempt. Default 10s.
	DialTimeout time.Duration

	// Partitions is the partition count EnsureTopics gives sysflow.raw, sysflow.events,
	// sysflow.entities and the state changelog (the changelog must match sysflow.raw: one
	// state partition per raw partition). Default 6.
	Partitions int32
	// ReplicationFactor of created topics; -1 means the broker's default. Default -1.
	ReplicationFactor int16
	// RawRetention is how long sysflow.raw keeps records. Default 6h.
	RawRetention time.Duration
	// EventsRetention is how long sysflow.events keeps records, at least 24h. Default 7 days.
	EventsRetention time.Duration
	// DLQRetention is how long sysflow.raw.dlq keeps records. Default 7 days.
	DLQRetention time.Duration
}

// TLS configures TLS to the brokers. TLS is on when Enabled is set or any file is given.
type TLS struct {
	Enabled bool
	// CAFile is a PEM bundle of the CAs to trust. Default: the system pool.
	CAFile string
	// CertFile and KeyFile are the PEM client certificate and key, for mutual TLS; both or
	// neither.
	CertFile, KeyFile string
	// ServerName overrides the name verified in the broker certificate. Default: the host
	// of the address dialled.
	ServerName string
	// InsecureSkipVerify turns off certificate verification (tests only).
	InsecureSkipVerify bool
}

// On reports whether TLS is configured.
func (t TLS) On() bool {
	return t.Enabled || t.CAFile != "" || t.CertFile != "" || t.KeyFile != ""
}

// SASL configures SASL authentication. The password comes from Password or, read when the
// client is built, from the first line of PasswordFile. Secrets are never logged.
type SASL struct {
	// Mechanism is "", PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
	Mechanism    string
	User         string
	Password     string
	PasswordFile string
}

// String hides the password.
func (s SASL) String() string {
	if s.Mechanism == "" {
		return "none"
	}
	return s.Mechanism + " user " + s.User
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = DefaultReplicationFactor
	}
	if c.RawRetention == 0 {
		c.RawRetention = DefaultRawRetention
	}
	if c.EventsRetention == 0 {
		c.EventsRetention = DefaultEventsRetention
	}
	if c.DLQRetention == 0 {
		c.DLQRetention = DefaultDLQRetention
	}
	c.SASL.Mechanism = strings.ToUpper(c.SASL.Mechanism)
	return c
}

// Validate reports every problem with c, joined.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if len(c.Brokers) == 0 {
		bad("no brokers")
	}
	for _, b := range c.Brokers {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			bad("broker %q: want host:port", b)
		}
	}
	if err := validTopicChars(c.TopicPrefix); err != nil {
		bad("topic prefix: %w", err)
	}
	if len(c.TopicPrefix)+len(StateTopic) > 200 {
		bad("topic prefix %q: too long", c.TopicPrefix)
	}
	if c.DialTimeout < 0 {
		bad("dial timeout %v: negative", c.DialTimeout)
	}
	if c.Partitions < 1 {
		bad("partitions %d: want at least 1", c.Partitions)
	}
	if c.ReplicationFactor < -1 {
		bad("replication factor %d: want -1 or at least 1", c.ReplicationFactor)
	}
	if c.RawRetention < time.Minute {
		bad("raw retention %v: want at least 1m", c.RawRetention)
	}
	if c.EventsRetention < MinEventsRetention {
		bad("events retention %v: want at least %v", c.EventsRetention, MinEventsRetention)
	}
	if c.DLQRetention < time.Minute {
		bad("dlq retention %v: want at least 1m", c.DLQRetention)
	}

	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		bad("tls: cert file and key file go together")
	}
	for _, f := range []string{c.TLS.CAFile, c.TLS.CertFile, c.TLS.KeyFile} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			bad("tls: %w", err)
		}
	}

	switch c.SASL.Mechanism {
	case "":
		if c.SASL.User != "" || c.SASL.Password != "" || c.SASL.PasswordFile != "" {
			bad("sasl: credentials given without a mechanism")
		}
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
		if c.SASL.User == "" {
			bad("sasl %s: no user", c.SASL.Mechanism)
		}
		switch {
		case c.SASL.Password != "" && c.SASL.PasswordFile != "":
			bad("sasl: password and password file are exclusive")
		case c.SASL.Password == "" && c.SASL.PasswordFile == "":
			bad("sasl %s: no password", c.SASL.Mechanism)
		case c.SASL.PasswordFile != "":
			if _, err := os.Stat(c.SASL.PasswordFile); err != nil {
				bad("sasl: %w", err)
			}
		}
	default:
		bad("sasl: unknown mechanism %q (want %s, %s or %s)", c.SASL.Mechanism, SASLPlain, SASLScramSHA256, SASLScramSHA512)
	}
	if len(errs) > 0 {
		return fmt.Errorf("kafka config: %w", errors.Join(errs...))
	}
	return nil
}

// validTopicChars reports whether s uses only the characters Kafka allows in topic names.
func validTopicChars(s string) error {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		default:
			return fmt.Errorf("%q has %q: only [a-zA-Z0-9._-] are allowed", s, r)
		}
	}
	return nil
}

// password returns the SASL password, reading PasswordFile if set.
func (s SASL) password() (string, error) {
	if s.PasswordFile == "" {
		return s.Password, nil
	}
	b, err := os.ReadFile(s.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("read sasl password file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimRight(line, "\r"), nil
}
