// Package testkit gives every end-to-end test its Kafka brokers, schema registry and S3
// from one switch, the environment variable SFSTREAM_STACK:
//
//	(unset) or embedded  a fresh embedded stack per test (internal/stack: kfake, srfake and
//	                     an in-process S3), closed when the test ends
//	local                the servers of deploy/local (`make stack-up`), read from
//	                     SFSTREAM_KAFKA_BROKERS, SFSTREAM_SCHEMA_REGISTRY_URL and
//	                     SFSTREAM_S3_{ENDPOINT,BUCKET,ACCESS_KEY,SECRET_KEY,REGION,SECURE}
//	                     as written to /tmp/sfstream-stack/stack.env
//	docker               Kafka, a schema registry and S3 as containers that testcontainers-go
//	                     starts once per run from compose.yaml's images (docker.go; tests
//	                     built with -tags docker: make test-integration-docker)
//
// Invariants: each test gets a unique prefix for its topic names, registry subjects (which
// follow topic names), consumer groups, transactional ids and S3 object names, so tests can
// run in parallel on one shared real cluster. Everything a test opens through an Env is
// closed by t.Cleanup. Environment variables are read here because this is the test
// switch; production code reads them only in main.
//
// It also provides fixtures: SysFlowRecords (one record of every SysFlow kind) and RawBatch,
// and clients on the Env: Client, Admin (Kafka), Registry (srclient) and S3 (minio).
//
// Metrics: none.
package testkit

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/stack"
)

// The switch and its values.
const (
	EnvStack     = "SFSTREAM_STACK"
	ModeEmbedded = "embedded"
	ModeLocal    = "local"
	ModeDocker   = "docker"
)

// Environment variables of local mode (deploy/local/up.sh writes them to stack.env).
const (
	EnvKafkaBrokers  = "SFSTREAM_KAFKA_BROKERS"
	EnvRegistryURL   = "SFSTREAM_SCHEMA_REGISTRY_URL"
	EnvS3Endpoint    = "SFSTREAM_S3_ENDPOINT"
	EnvS3Bucket      = "SFSTREAM_S3_BUCKET"
	EnvS3AccessKey   = "SFSTREAM_S3_ACCESS_KEY"
	EnvS3SecretKey   = "SFSTREAM_S3_SECRET_KEY"
	EnvS3Region      = "SFSTREAM_S3_REGION"
	EnvS3Secure      = "SFSTREAM_S3_SECURE"
	embeddedS3Bucket = "sfstream-test"
)

// Env is one test's view of the stack.
type Env struct {
	// Mode is ModeEmbedded, ModeLocal or ModeDocker.
	Mode string
	// Brokers are the seed brokers.
	Brokers []string
	// RegistryURL is the Confluent-API registry base URL.
	RegistryURL string
	// Archive is an S3 target whose Prefix is unique to the test.
	Archive stack.ArchiveTarget
	// Prefix is unique to the test: topic prefix, group, transactional id and object prefix.
	Prefix string
	// Stack is the embedded stack, nil in local and docker mode.
	Stack *stack.Stack
}

// New returns the test's Env for the mode SFSTREAM_STACK selects, or fails the test. opts
// apply to the embedded stack only.
func New(t testing.TB, opts ...stack.Opt) *Env {
	t.Helper()
	e, err := newEnv(t, Mode(), os.Getenv, opts)
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	return e
}

func newEnv(t testing.TB, mode string, getenv func(string) string, opts []stack.Opt) (*Env, error) {
	e := &Env{Mode: mode, Prefix: uniquePrefix(t)}
	switch mode {
	case ModeEmbedded:
		opts = append([]stack.Opt{stack.InProcessS3(0, embeddedS3Bucket)}, opts...)
		s, err := stack.Start(t.Context(), opts...)
		if err != nil {
			return nil, err
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("testkit: %v", err)
			}
		})
		e.Stack, e.Brokers, e.RegistryURL, e.Archive = s, s.Brokers(), s.RegistryURL(), s.Archive()
	case ModeLocal:
		var missing []string
		need := func(name string) string {
			v := getenv(name)
			if v == "" {
				missing = append(missing, name)
			}
			return v
		}
		e.Brokers = strings.Split(need(EnvKafkaBrokers), ",")
		e.RegistryURL = strings.TrimRight(need(EnvRegistryURL), "/")
		e.Archive = stack.ArchiveTarget{
			Endpoint:  need(EnvS3Endpoint),
			Bucket:    need(EnvS3Bucket),
			AccessKey: getenv(EnvS3AccessKey),
			SecretKey: getenv(EnvS3SecretKey),
			Region:    getenv(EnvS3Region),
			Secure:    getenv(EnvS3Secure) == "true",
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("%s=local needs %s: start the stack with deploy/local/up.sh (make stack-up) and load /tmp/sfstream-stack/stack.env", EnvStack, strings.Join(missing, ", "))
		}
	case ModeDocker:
		if err := dockerEnv(t, e, getenv); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%s=%q: want %s, %s or %s", EnvStack, mode, ModeEmbedded, ModeLocal, ModeDocker)
	}
	e.Archive.Prefix = strings.TrimSuffix(e.Prefix, ".")
	return e, nil
}

// Mode returns the mode SFSTREAM_STACK selects.
func Mode() string {
	if m := os.Getenv(EnvStack); m != "" {
		return m
	}
	return ModeEmbedded
}

// uniquePrefix returns "<test name>-<random>." using only topic-name characters.
func uniquePrefix(t testing.TB) string {
	name := []byte(t.Name())
	for i, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			name[i] = '_'
		}
	}
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	var r [4]byte
	_, _ = rand.Read(r[:])
	return string(name) + "-" + hex.EncodeToString(r[:]) + "."
}

// Topic returns name with the test's prefix.
func (e *Env) Topic(name string) string { return e.Prefix + name }

// Kafka returns a kafka.Config for the test: its brokers and topic prefix, and partitions
// small enough for fast tests.
func (e *Env) Kafka() kafka.Config {
	return kafka.Config{Brokers: e.Brokers, ClientID: e.Prefix + "client", TopicPrefix: e.Prefix, Partitions: 3, ReplicationFactor: -1}
}

// Registry returns a registry client for the test's registry.
func (e *Env) Registry() srclient.ISchemaRegistryClient {
	c := srclient.NewSchemaRegistryClient(e.RegistryURL)
	c.SetTimeout(5 * time.Second)
	return c
}

// Client returns a franz-go client on the test's brokers, closed when the test ends.
func (e *Env) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(e.Brokers...)}, opts...)...)
	if err != nil {
		t.Fatalf("testkit: new client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// Admin returns an admin client on the test's brokers, closed when the test ends.
func (e *Env) Admin(t testing.TB) *kadm.Client {
	t.Helper()
	return kadm.NewClient(e.Client(t))
}

// CleanEnv returns the environment without SFSTREAM_* variables: for a test that starts a
// binary and sets its configuration itself, so that the stack.env a local run exports (an S3
// endpoint, say) does not leak into it.
func CleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SFSTREAM_") {
			out = append(out, kv)
		}
	}
	return out
}
