package testkit

import (
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/sfstream/sfstream/internal/kafka"
)

func TestModes(t *testing.T) {
	env := map[string]string{
		EnvKafkaBrokers: "127.0.0.1:39092,127.0.0.1:39093",
		EnvRegistryURL:  "http://127.0.0.1:38081/",
		EnvS3Endpoint:   "127.0.0.1:39000",
		EnvS3Bucket:     "sfstream-test",
		EnvS3AccessKey:  "sfstream",
		EnvS3SecretKey:  "sfstream-secret",
		EnvS3Secure:     "false",
	}
	getenv := func(k string) string { return env[k] }

	t.Run("local", func(t *testing.T) {
		e, err := newEnv(t, ModeLocal, getenv, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Brokers) != 2 || e.RegistryURL != "http://127.0.0.1:38081" || e.Archive.Bucket != "sfstream-test" || e.Stack != nil {
			t.Errorf("env %+v", e)
		}
		if err := e.Archive.Validate(); err != nil {
			t.Error(err)
		}
	})
	t.Run("local without the stack", func(t *testing.T) {
		_, err := newEnv(t, ModeLocal, func(string) string { return "" }, nil)
		if err == nil || !strings.Contains(err.Error(), EnvKafkaBrokers) || !strings.Contains(err.Error(), "up.sh") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("docker", func(t *testing.T) {
		_, err := newEnv(t, ModeDocker, getenv, nil)
		if err == nil || !strings.Contains(err.Error(), "docker mode") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		if _, err := newEnv(t, "k8s", getenv, nil); err == nil {
			t.Fatal("unknown mode accepted")
		}
	})
}

func TestPrefixesAreUniqueAndValid(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		p := uniquePrefix(t)
		if seen[p] {
			t.Fatalf("prefix %s repeated", p)
		}
		seen[p] = true
		if err := (kafka.Config{Brokers: []string{"h:1"}, TopicPrefix: p}).Validate(); err != nil {
			t.Fatalf("prefix %s: %v", p, err)
		}
	}
	t.Run("a/b c", func(t *testing.T) {
		if p := uniquePrefix(t); !strings.HasPrefix(p, "TestPrefixesAreUniqueAndValid_a_b_c-") {
			t.Errorf("prefix %s", p)
		}
	})
}

func TestEmbedded(t *testing.T) {
	e := New(t)
	if Mode() == ModeEmbedded && (e.Stack == nil || !e.Archive.IsS3()) {
		t.Fatalf("embedded env %+v", e)
	}
	cfg := e.Kafka()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cfg.Topics().Raw, e.Prefix) || e.Topic("x") != e.Prefix+"x" {
		t.Errorf("topics not prefixed: %s", cfg.Topics().Raw)
	}
	if _, err := e.Registry().GetSubjects(); err != nil {
		t.Errorf("registry: %v", err)
	}
	if err := e.Client(t).Ping(t.Context()); err != nil {
		t.Errorf("kafka: %v", err)
	}
	mc := e.S3(t)
	key := e.Archive.Prefix + "/probe"
	if _, err := mc.PutObject(t.Context(), e.Archive.Bucket, key, strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("s3 put: %v", err)
	}
	if err := mc.RemoveObject(t.Context(), e.Archive.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		t.Errorf("s3 remove: %v", err)
	}
}
