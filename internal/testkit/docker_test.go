//go:build docker

package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestDockerStackStarts starts (or finds) the docker stack and uses each of its servers once:
// a topic and a record through Kafka, the registry's subject list, the S3 bucket.
func TestDockerStackStarts(t *testing.T) {
	if Mode() != ModeDocker {
		t.Skipf("%s is %q, not docker", EnvStack, Mode())
	}
	e := New(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	topic := e.Topic("probe")
	if _, err := e.Admin(t).CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		t.Fatalf("create topic: %v", err)
	}
	cl := e.Client(t, kgo.ConsumeTopics(topic))
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("probe")}).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	fs := cl.PollFetches(ctx)
	if err := fs.Err0(); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if n := fs.NumRecords(); n != 1 {
		t.Fatalf("fetched %d records, want 1", n)
	}
	if _, err := e.Registry().GetSubjects(); err != nil {
		t.Fatalf("registry: %v", err)
	}
	ok, err := e.S3(t).BucketExists(ctx, e.Archive.Bucket)
	if err != nil || !ok {
		t.Fatalf("bucket %s: exists %v, err %v", e.Archive.Bucket, ok, err)
	}
}
