// Package store puts the archive's objects where the archive target says: an S3 bucket
// (minio-go; multipart uploads for objects larger than the part size) or a local directory
// (each object written to a temporary file in its directory, synced, then renamed over the
// name, so readers see whole objects only).
//
// Invariants:
//   - Put replaces the object of the same name: storing an object again after a crash
//     overwrites it, it never duplicates.
//   - A Store does not retry: the caller owns backoff. Errors say which operation on which
//     object failed; Reason classifies them for metrics and IsPermanent tells failures that
//     retrying cannot fix (refused credentials, missing bucket) from outages.
//   - No secret is logged or put in an error or in String.
//
// Metrics: none (the archiver counts uploads and their failures).
package store

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/minio/minio-go/v7"
)

// Store is where objects go.
type Store interface {
	// Put stores the file at path, size bytes long, as object name, replacing any object of
	// that name.
	Put(ctx context.Context, name, path string, size int64) error
	// List returns the names of the objects whose names start with prefix, sorted.
	List(ctx context.Context, prefix string) ([]string, error)
	// Head returns a reader of the first n bytes of object name (fewer if it is shorter).
	Head(ctx context.Context, name string, n int64) (io.ReadCloser, error)
	// Check verifies that the target is usable now: the bucket exists and accepts the
	// credentials, or the directory is writable.
	Check(ctx context.Context) error
	// String describes the target without secrets.
	String() string
	// Close releases the store's idle connections.
	Close() error
}

// Option configures a Store.
type Option func(*config)

type config struct {
	partSize uint64
}

// DefaultPartSize is the S3 multipart part size: objects up to it are uploaded with one PUT.
const DefaultPartSize = 16 << 20

// MinPartSize is the smallest part size S3 accepts.
const MinPartSize = 5 << 20

// WithPartSize sets the S3 multipart part size, at least MinPartSize. Default
// DefaultPartSize (16 MiB).
func WithPartSize(n uint64) Option { return func(c *config) { c.partSize = n } }

// Open returns the Store of target, which must be valid (Target.Validate). It
// does not contact the target; see Store.Check.
func Open(target Target, opts ...Option) (Store, error) {
	cfg := config{partSize: DefaultPartSize}
	for _, o := range opts {
		o(&cfg)
	}
	if err := target.Validate(); err != nil {
		return nil, err
	}
	if target.IsS3() {
		return newS3(target, cfg)
	}
	return newDir(target.Dir)
}

// Reasons of failures, for metrics.
const (
	ReasonNetwork  = "network"   // the target could not be reached
	ReasonAuth     = "auth"      // credentials or permissions refused
	ReasonNoBucket = "no_bucket" // the bucket does not exist
	ReasonServer   = "server"    // the target answered with another error
	ReasonLocal    = "local"     // a local file operation failed
	ReasonCanceled = "canceled"  // the caller gave up
)

// Reason classifies err, an error from a Store, for metrics.
func Reason(err error) string {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return ReasonCanceled
	}
	var resp minio.ErrorResponse
	errors.As(err, &resp)
	switch resp.Code {
	case "":
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "AuthorizationHeaderMalformed", "AllAccessDisabled":
		return ReasonAuth
	case "NoSuchBucket":
		return ReasonNoBucket
	default:
		if resp.StatusCode == 403 {
			return ReasonAuth
		}
		return ReasonServer
	}
	var netErr net.Error
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.As(err, &netErr) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ReasonNetwork
	}
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		return ReasonLocal
	}
	return ReasonServer
}

// IsPermanent reports whether err will not go away by retrying: the credentials or
// permissions were refused, or the bucket does not exist.
func IsPermanent(err error) bool {
	switch Reason(err) {
	case ReasonAuth, ReasonNoBucket:
		return true
	}
	return false
}
