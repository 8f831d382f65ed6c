package testkit

import (
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3 returns a minio client for the test's S3 endpoint (Archive.Endpoint). Objects of the
// test belong under Archive.Prefix in Archive.Bucket.
func (e *Env) S3(t testing.TB) *minio.Client {
	t.Helper()
	host, secure, err := e.Archive.HostPort()
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	mc, err := minio.New(host, &minio.Options{
		Creds:  credentials.NewStaticV4(e.Archive.AccessKey, e.Archive.SecretKey, ""),
		Secure: secure,
		Region: e.Archive.RegionOrDefault(),
	})
	if err != nil {
		t.Fatalf("testkit: s3 client: %v", err)
	}
	return mc
}
