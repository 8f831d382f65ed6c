package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// s3Store stores objects in an S3 bucket.
type s3Store struct {
	cl       *minio.Client
	tr       *http.Transport
	bucket   string
	endpoint string
	partSize uint64
}

func newS3(t Target, cfg config) (*s3Store, error) {
	if cfg.partSize < MinPartSize {
		return nil, fmt.Errorf("s3 store: part size %d below the S3 minimum %d", cfg.partSize, MinPartSize)
	}
	hostport, secure, err := t.HostPort()
	if err != nil {
		return nil, fmt.Errorf("s3 store: %w", err)
	}
	var creds *credentials.Credentials
	if t.AccessKey != "" {
		creds = credentials.NewStaticV4(t.AccessKey, t.SecretKey, "")
	} else {
		// No keys given: the environment (AWS_*, MINIO_*) or the instance's IAM role.
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.IAM{},
		})
	}
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("s3 store: %w", err)
	}
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	cl, err := minio.New(hostport, &minio.Options{
		Creds:      creds,
		Secure:     secure,
		Region:     t.RegionOrDefault(),
		Transport:  tr,
		MaxRetries: 1, // the archiver retries with its own backoff
	})
	if err != nil {
		return nil, fmt.Errorf("s3 store %s: %w", hostport, err)
	}
	return &s3Store{cl: cl, tr: tr, bucket: t.Bucket, endpoint: hostport, partSize: cfg.partSize}, nil
}

func (s *s3Store) Close() error {
	s.tr.CloseIdleConnections()
	return nil
}

func (s *s3Store) String() string { return fmt.Sprintf("s3 %s bucket %s", s.endpoint, s.bucket) }

func (s *s3Store) Put(ctx context.Context, name, path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("put %s: %w", name, err)
	}
	defer func() { _ = f.Close() }() // read-only
	_, err = s.cl.PutObject(ctx, s.bucket, name, f, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    s.partSize,
		// Integrity by Content-MD5 of each request rather than a signed (and, over http,
		// chunk-signed) payload: plain bodies work with every S3 server, parts included.
		SendContentMd5:       true,
		DisableContentSha256: true,
	})
	if err != nil {
		return fmt.Errorf("put %s to %s: %w", name, s, err)
	}
	return nil
}

func (s *s3Store) List(ctx context.Context, prefix string) ([]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var names []string
	for obj := range s.cl.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return nil, fmt.Errorf("list %s in %s: %w", prefix, s, obj.Err)
		}
		names = append(names, obj.Key)
	}
	sort.Strings(names)
	return names, nil
}

func (s *s3Store) Head(ctx context.Context, name string, n int64) (io.ReadCloser, error) {
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(0, n-1); err != nil {
		return nil, fmt.Errorf("get %s: %w", name, err)
	}
	obj, err := s.cl.GetObject(ctx, s.bucket, name, opts)
	if err != nil {
		return nil, fmt.Errorf("get %s from %s: %w", name, s, err)
	}
	return obj, nil
}

func (s *s3Store) Check(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The first listed object (or none, or the error) is the answer; cancel stops the rest.
	if obj, ok := <-s.cl.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{MaxKeys: 1}); ok && obj.Err != nil {
		return checkError(s, obj.Err)
	}
	return nil
}

// checkError turns a failed check into an error that says what to fix.
func checkError(s *s3Store, err error) error {
	var resp minio.ErrorResponse
	errors.As(err, &resp)
	switch Reason(err) {
	case ReasonAuth:
		return fmt.Errorf("check %s: credentials refused (%s: %s): check the access key and secret key and the bucket's permissions: %w", s, resp.Code, resp.Message, err)
	case ReasonNoBucket:
		return fmt.Errorf("check %s: the bucket does not exist: %w", s, err)
	}
	return fmt.Errorf("check %s: %w", s, err)
}
