package consumer_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/sysflow/consumer"
)

func TestFromS3(t *testing.T) {
	env := testkit.New(t)
	mc := env.S3(t)
	target := env.Archive
	put := func(name string, data []byte) {
		t.Helper()
		_, err := mc.PutObject(t.Context(), target.Bucket, target.Prefix+"/"+name, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range referenceFiles {
		data, err := os.ReadFile(filepath.Join(referenceDir, name))
		if err != nil {
			t.Fatal(err)
		}
		put(name, data)
	}
	put("files/x.2026010100.p0.parquet", []byte("PAR1 not sysflow PAR1"))
	put("notes.txt", []byte("not sysflow"))
	host, secure, err := target.HostPort()
	if err != nil {
		t.Fatal(err)
	}
	cfg := consumer.S3Config{
		Endpoint: host, Bucket: target.Bucket, Prefix: target.Prefix + "/",
		AccessKey: target.AccessKey, SecretKey: target.SecretKey, Region: target.RegionOrDefault(), Secure: secure,
	}
	t.Run("prefix", func(t *testing.T) {
		src, err := consumer.FromS3(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		equalLists(t, drain(t, src), allReferenceSummaries(t))
	})
	t.Run("filter", func(t *testing.T) {
		src, err := consumer.FromS3(t.Context(), cfg, consumer.WithFilter("type = PE and proc.exe = /bin/touch"))
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		if got := drain(t, src); len(got) != 2 {
			t.Fatalf("%d records match, want 2: %q", len(got), got)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		bad := cfg
		bad.Endpoint = "127.0.0.1:1"
		if _, err := consumer.FromS3(t.Context(), bad); err == nil {
			t.Fatal("FromS3 of an unreachable server succeeded")
		}
	})
}
