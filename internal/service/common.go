package service

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/riferrei/srclient"

	"github.com/sfstream/sfstream/internal/kafka"
)

// Common are the settings every service has: Kafka, the schema registry, logging, metrics.
type Common struct {
	Kafka                          kafka.Config
	RegistryURL                    string
	RegistryUser, RegistryPassword string
	LogFormat                      string
	LogLevel                       string
	MetricsAddr                    string

	brokers    ListFlag
	partitions *int
}

// AddCommon registers the common flags on f, with their defaults.
func AddCommon(f *Flags, c *Common, component string) {
	c.brokers = ListFlag{"127.0.0.1:9092"}
	f.Var(&c.brokers, "kafka-brokers", "Kafka seed brokers, comma-separated")
	f.StringVar(&c.Kafka.ClientID, "kafka-client-id", "sfstream-"+component, "Kafka client id")
	f.StringVar(&c.Kafka.TopicPrefix, "topic-prefix", "", "prefix of every topic name, to share a cluster between pipelines (default empty)")
	f.StringVar(&c.Kafka.TLS.CAFile, "kafka-tls-ca-file", "", "PEM CA bundle for Kafka TLS, turns TLS on (default none)")
	f.StringVar(&c.Kafka.TLS.CertFile, "kafka-tls-cert-file", "", "PEM client certificate for Kafka mutual TLS (default none)")
	f.StringVar(&c.Kafka.TLS.KeyFile, "kafka-tls-key-file", "", "PEM client key for Kafka mutual TLS (default none)")
	f.BoolVar(&c.Kafka.TLS.Enabled, "kafka-tls", false, "use TLS to the brokers with the system CAs (default false)")
	f.StringVar(&c.Kafka.SASL.Mechanism, "kafka-sasl-mechanism", "", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (default none)")
	f.StringVar(&c.Kafka.SASL.User, "kafka-sasl-user", "", "SASL user (default none)")
	f.StringVar(&c.Kafka.SASL.Password, "kafka-sasl-password", "", "SASL password; prefer the environment or -kafka-sasl-password-file (default none)")
	f.StringVar(&c.Kafka.SASL.PasswordFile, "kafka-sasl-password-file", "", "file whose first line is the SASL password (default none)")
	var parts int
	f.IntVar(&parts, "partitions", int(kafka.DefaultPartitions), "partitions of the topics created when missing")
	f.Func("kafka-dial-timeout", "timeout of one broker connection attempt (default 10s)", func(s string) error {
		d, err := time.ParseDuration(s)
		c.Kafka.DialTimeout = d
		return err
	})
	f.StringVar(&c.RegistryURL, "schema-registry-url", "http://127.0.0.1:8081", "Confluent-API schema registry URL")
	f.StringVar(&c.RegistryUser, "schema-registry-user", "", "schema registry basic-auth user (default none)")
	f.StringVar(&c.RegistryPassword, "schema-registry-password", "", "schema registry basic-auth password (default none)")
	f.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&c.MetricsAddr, "metrics-addr", ":9090", "address of /metrics, /healthz and /readyz (empty: off)")
	c.partitions = &parts
}

// Finish copies list flags into the config after parsing.
func (c *Common) Finish() {
	c.Kafka.Brokers = append([]string(nil), c.brokers...)
	if c.partitions != nil {
		c.Kafka.Partitions = int32(*c.partitions)
	}
}

// Registry returns a schema registry client for RegistryURL.
func (c *Common) Registry() srclient.ISchemaRegistryClient {
	cl := srclient.CreateSchemaRegistryClient(strings.TrimRight(c.RegistryURL, "/"))
	if c.RegistryUser != "" {
		cl.SetCredentials(c.RegistryUser, c.RegistryPassword)
	}
	cl.SetTimeout(10 * time.Second)
	return cl
}

// NewLogger returns a slog logger writing format ("text" or "json") at level to w.
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

// Logger returns the logger the common flags ask for, on stderr.
func (c *Common) Logger() (*slog.Logger, error) { return NewLogger(os.Stderr, c.LogFormat, c.LogLevel) }
