package kafka_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sfstream/sfstream/internal/kafka"
)

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := kafka.Config{Brokers: []string{"127.0.0.1:9092"}}
	tests := []struct {
		name    string
		mod     func(*kafka.Config)
		wantErr string // "" means valid
	}{
		{"defaults", func(*kafka.Config) {}, ""},
		{"no brokers", func(c *kafka.Config) { c.Brokers = nil }, "no brokers"},
		{"broker without port", func(c *kafka.Config) { c.Brokers = []string{"localhost"} }, "want host:port"},
		{"prefix", func(c *kafka.Config) { c.TopicPrefix = "team-a." }, ""},
		{"bad prefix", func(c *kafka.Config) { c.TopicPrefix = "a/b" }, "topic prefix"},
		{"partitions", func(c *kafka.Config) { c.Partitions = -2 }, "partitions"},
		{"replication", func(c *kafka.Config) { c.ReplicationFactor = -3 }, "replication factor"},
		{"events retention under a day", func(c *kafka.Config) { c.EventsRetention = time.Hour }, "events retention"},
		{"raw retention", func(c *kafka.Config) { c.RawRetention = time.Second }, "raw retention"},
		{"cert without key", func(c *kafka.Config) { c.TLS.CertFile = pwFile }, "cert file and key file"},
		{"missing ca", func(c *kafka.Config) { c.TLS.CAFile = filepath.Join(dir, "nope") }, "no such file"},
		{"sasl plain", func(c *kafka.Config) { c.SASL = kafka.SASL{Mechanism: "plain", User: "u", Password: "p"} }, ""},
		{"sasl scram file", func(c *kafka.Config) {
			c.SASL = kafka.SASL{Mechanism: kafka.SASLScramSHA512, User: "u", PasswordFile: pwFile}
		}, ""},
		{"sasl both passwords", func(c *kafka.Config) {
			c.SASL = kafka.SASL{Mechanism: kafka.SASLScramSHA256, User: "u", Password: "p", PasswordFile: pwFile}
		}, "exclusive"},
		{"sasl no password", func(c *kafka.Config) { c.SASL = kafka.SASL{Mechanism: kafka.SASLPlain, User: "u"} }, "no password"},
		{"sasl no user", func(c *kafka.Config) { c.SASL = kafka.SASL{Mechanism: kafka.SASLPlain, Password: "p"} }, "no user"},
		{"sasl unknown", func(c *kafka.Config) { c.SASL = kafka.SASL{Mechanism: "GSSAPI", User: "u", Password: "p"} }, "unknown mechanism"},
		{"credentials without mechanism", func(c *kafka.Config) { c.SASL.User = "u" }, "without a mechanism"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestTopicSpecs(t *testing.T) {
	c := kafka.Config{Brokers: []string{"b:1"}, TopicPrefix: "p.", Partitions: 4}
	want := map[string]struct {
		parts   int32
		cleanup string
		ret     string
	}{
		"p.sysflow.raw":               {4, "delete", "21600000"},
		"p.sysflow.entities":          {4, "compact", ""},
		"p.sysflow.events":            {4, "delete", "604800000"},
		"p.sysflow.raw.dlq":           {1, "delete", "604800000"},
		"p.sfstream.processors.state": {4, "compact", ""},
		"p.sysflow.alerts":            {4, "delete", "604800000"},
	}
	specs := c.TopicSpecs()
	if len(specs) != len(want) {
		t.Fatalf("%d specs, want %d", len(specs), len(want))
	}
	for _, s := range specs {
		w, ok := want[s.Name]
		if !ok {
			t.Errorf("unexpected topic %s", s.Name)
			continue
		}
		if s.Partitions != w.parts || s.Configs["cleanup.policy"] != w.cleanup || s.Configs["retention.ms"] != w.ret || s.ReplicationFactor != -1 {
			t.Errorf("%s: %+v, want %+v", s.Name, s, w)
		}
	}
	if got := c.Topics().All(); len(got) != 6 || got[0] != "p.sysflow.raw" {
		t.Errorf("topics %v", got)
	}
	if s := (kafka.SASL{Mechanism: "PLAIN", User: "u", Password: "secret"}).String(); strings.Contains(s, "secret") {
		t.Errorf("SASL.String leaks the password: %s", s)
	}
}
