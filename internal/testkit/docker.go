//go:build docker

package testkit

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/stack"
)

// Docker mode: testcontainers-go starts Kafka (KRaft), a Confluent-API schema registry and an
// S3 server from the images compose.yaml names (or SFSTREAM_DOCKER_*_IMAGE), once for every
// test binary of a run: the containers have fixed names and are reused by name, so the first
// package to need them starts them and every later one finds them running, as deploy/local's
// servers are shared. `make test-integration-docker` removes them at the end (they carry the
// label dockerLabel); so does `deploy/docker/engine.sh down`.
//
// They use the engine's host network: with deploy/docker/engine.sh that is the engine's own
// network namespace, whose loopback the tests must share (the make target runs them with
// `ip netns exec`). Fixed ports, as deploy/local's, on 127.0.0.1 only. testcontainers' reaper
// (Ryuk) stays off (TESTCONTAINERS_RYUK_DISABLED=true): its image cannot be pulled here and
// cleanup is the make target's.

// Environment variables of docker mode: the images to run.
const (
	EnvDockerKafkaImage    = "SFSTREAM_DOCKER_KAFKA_IMAGE"
	EnvDockerRegistryImage = "SFSTREAM_DOCKER_REGISTRY_IMAGE"
	EnvDockerS3Image       = "SFSTREAM_DOCKER_S3_IMAGE"
)

// Defaults: compose.yaml's images (deploy/docker/images.sh builds stand-ins under these names
// on an engine that cannot pull).
const (
	defaultKafkaImage    = "apache/kafka:4.1.1"
	defaultRegistryImage = "confluentinc/cp-schema-registry:8.1.1"
	defaultS3Image       = "quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z"
	dockerLabel          = "org.sfstream.testkit"
	dockerStartTimeout   = 3 * time.Minute
)

// The stack's fixed addresses and credentials in the engine's network.
const (
	dockerKafka     = "127.0.0.1:39092"
	dockerRegistry  = "http://127.0.0.1:38081"
	dockerS3        = "127.0.0.1:39000"
	dockerS3Key     = "sfstream"
	dockerS3Secret  = "sfstream-secret"
	dockerS3Bucket  = "sfstream-test"
	dockerS3Region  = "us-east-1"
	dockerClusterID = "c2ZzdHJlYW0tZG9ja2VyLWs"
)

var docker struct {
	once sync.Once
	err  error
}

// dockerEnv points e at the docker stack, starting it on first use.
func dockerEnv(t testing.TB, e *Env, getenv func(string) string) error {
	if getenv("TESTCONTAINERS_RYUK_DISABLED") != "true" {
		return fmt.Errorf("%s=docker: docker mode needs TESTCONTAINERS_RYUK_DISABLED=true (make test-integration-docker sets it): the reaper's image cannot be pulled", EnvStack)
	}
	docker.once.Do(func() { docker.err = startDocker(getenv) })
	if docker.err != nil {
		return fmt.Errorf("%s=docker: %w", EnvStack, docker.err)
	}
	e.Brokers = []string{dockerKafka}
	e.RegistryURL = dockerRegistry
	e.Archive = stack.ArchiveTarget{Endpoint: dockerS3, Bucket: dockerS3Bucket, AccessKey: dockerS3Key,
		SecretKey: dockerS3Secret, Region: dockerS3Region}
	return nil
}

func startDocker(getenv func(string) string) error {
	image := func(env, def string) string {
		if v := getenv(env); v != "" {
			return v
		}
		return def
	}
	ctx, cancel := context.WithTimeout(context.Background(), dockerStartTimeout)
	defer cancel()
	host := testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) { hc.NetworkMode = "host" })
	label := testcontainers.WithLabels(map[string]string{dockerLabel: "true"})
	kafka := image(EnvDockerKafkaImage, defaultKafkaImage)
	if _, err := testcontainers.Run(ctx, kafka, host, label, testcontainers.WithReuseByName("sfstream-testkit-kafka"),
		testcontainers.WithEnv(map[string]string{
			"CLUSTER_ID":                           dockerClusterID,
			"KAFKA_NODE_ID":                        "1",
			"KAFKA_PROCESS_ROLES":                  "broker,controller",
			"KAFKA_CONTROLLER_QUORUM_VOTERS":       "1@127.0.0.1:39093",
			"KAFKA_CONTROLLER_LISTENER_NAMES":      "CONTROLLER",
			"KAFKA_LISTENERS":                      "PLAINTEXT://127.0.0.1:39092,CONTROLLER://127.0.0.1:39093",
			"KAFKA_ADVERTISED_LISTENERS":           "PLAINTEXT://" + dockerKafka,
			"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
			"KAFKA_INTER_BROKER_LISTENER_NAME":     "PLAINTEXT",
			// As deploy/local's broker: one replica of everything, test-friendly timings.
			"KAFKA_DEFAULT_REPLICATION_FACTOR":                       "1",
			"KAFKA_MIN_INSYNC_REPLICAS":                              "1",
			"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":                 "1",
			"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR":         "1",
			"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":                    "1",
			"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
			"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR":            "1",
			"KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS":                     "4",
			"KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS":             "4",
			"KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS":                 "0",
			"KAFKA_AUTO_CREATE_TOPICS_ENABLE":                        "false",
			"KAFKA_NUM_PARTITIONS":                                   "1",
			"KAFKA_LOG_CLEANER_BACKOFF_MS":                           "1000",
			"KAFKA_HEAP_OPTS":                                        "-Xms256m -Xmx512m",
		})); err != nil {
		return fmt.Errorf("start kafka (%s): %w", kafka, err)
	}
	registry := image(EnvDockerRegistryImage, defaultRegistryImage)
	if _, err := testcontainers.Run(ctx, registry, host, label, testcontainers.WithReuseByName("sfstream-testkit-registry"),
		testcontainers.WithEnv(map[string]string{
			"SCHEMA_REGISTRY_HOST_NAME":                           "127.0.0.1",
			"SCHEMA_REGISTRY_LISTENERS":                           dockerRegistry,
			"SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS":        "PLAINTEXT://" + dockerKafka,
			"SCHEMA_REGISTRY_KAFKASTORE_TOPIC_REPLICATION_FACTOR": "1",
		})); err != nil {
		return fmt.Errorf("start schema registry (%s): %w", registry, err)
	}
	s3 := image(EnvDockerS3Image, defaultS3Image)
	if _, err := testcontainers.Run(ctx, s3, host, label, testcontainers.WithReuseByName("sfstream-testkit-s3"),
		testcontainers.WithEnv(map[string]string{"MINIO_ROOT_USER": dockerS3Key, "MINIO_ROOT_PASSWORD": dockerS3Secret}),
		testcontainers.WithCmd("server", "/data", "--address", dockerS3, "--console-address", "127.0.0.1:39001")); err != nil {
		return fmt.Errorf("start s3 (%s): %w", s3, err)
	}
	return dockerReady(ctx)
}

// dockerReady waits until the broker answers metadata requests, the registry lists subjects
// and the S3 server holds the test bucket (made here, as deploy/local/up.sh does).
func dockerReady(ctx context.Context) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(dockerKafka))
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if err := poll(ctx, "kafka at "+dockerKafka, func(ctx context.Context) error {
		_, err := adm.BrokerMetadata(ctx)
		return err
	}); err != nil {
		return err
	}
	if err := poll(ctx, "schema registry at "+dockerRegistry, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, dockerRegistry+"/subjects", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close() // a probe: the status is the answer
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /subjects: %s", resp.Status)
		}
		return nil
	}); err != nil {
		return err
	}
	mc, err := minio.New(dockerS3, &minio.Options{Creds: credentials.NewStaticV4(dockerS3Key, dockerS3Secret, ""), Region: dockerS3Region})
	if err != nil {
		return fmt.Errorf("s3 client: %w", err)
	}
	return poll(ctx, "s3 at "+dockerS3, func(ctx context.Context) error {
		ok, err := mc.BucketExists(ctx, dockerS3Bucket)
		if err != nil || ok {
			return err
		}
		if err := mc.MakeBucket(ctx, dockerS3Bucket, minio.MakeBucketOptions{Region: dockerS3Region}); err != nil &&
			!strings.Contains(err.Error(), "already") {
			return err
		}
		return nil
	})
}

// poll calls check every 300ms until it succeeds or ctx ends.
func poll(ctx context.Context, what string, check func(context.Context) error) error {
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := check(cctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready within %v: %w", what, dockerStartTimeout, err)
		case <-time.After(300 * time.Millisecond):
		}
	}
}
