package store

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// DefaultS3Region is the region used when Target.Region is empty.
const DefaultS3Region = "us-east-1"

// Target is where the archiver stores SysFlow files: a local directory, or an S3 bucket
// when Endpoint is set. It is configuration only; the archiver does the writing.
type Target struct {
	// Dir is the local directory, used when Endpoint is empty.
	Dir string
	// Endpoint is the S3 API address: host:port, or a URL (http:// or https://, which then
	// decides Secure).
	Endpoint string
	// Bucket is the S3 bucket; required with Endpoint.
	Bucket string
	// Prefix is prepended to every object name (DESIGN.md: <prefix>/<exporter>/...).
	Prefix string
	// Region is the S3 region. Default "us-east-1".
	Region string
	// AccessKey and SecretKey are the S3 credentials. The secret is never printed.
	AccessKey, SecretKey string
	// Secure selects https for a host:port Endpoint.
	Secure bool
}

// IsS3 reports whether the target is an S3 bucket rather than a local directory.
func (a Target) IsS3() bool { return a.Endpoint != "" }

// HostPort returns the endpoint's host:port and whether to use TLS, as minio-go's New wants.
func (a Target) HostPort() (hostport string, secure bool, err error) {
	if !strings.Contains(a.Endpoint, "://") {
		if _, _, err := net.SplitHostPort(a.Endpoint); err != nil {
			return "", false, fmt.Errorf("s3 endpoint %q: %w", a.Endpoint, err)
		}
		return a.Endpoint, a.Secure, nil
	}
	u, err := url.Parse(a.Endpoint)
	if err != nil {
		return "", false, fmt.Errorf("s3 endpoint: %w", err)
	}
	switch u.Scheme {
	case "http":
		return u.Host, false, nil
	case "https":
		return u.Host, true, nil
	}
	return "", false, fmt.Errorf("s3 endpoint %q: scheme must be http or https", a.Endpoint)
}

// RegionOrDefault returns Region, or DefaultS3Region when it is empty.
func (a Target) RegionOrDefault() string {
	if a.Region == "" {
		return DefaultS3Region
	}
	return a.Region
}

// Validate reports what is missing or contradictory.
func (a Target) Validate() error {
	var errs []error
	switch {
	case a.Endpoint == "" && a.Dir == "":
		errs = append(errs, errors.New("neither a directory nor an s3 endpoint"))
	case a.Endpoint != "" && a.Dir != "":
		errs = append(errs, errors.New("both a directory and an s3 endpoint"))
	case a.Endpoint != "":
		if _, _, err := a.HostPort(); err != nil {
			errs = append(errs, err)
		}
		if a.Bucket == "" {
			errs = append(errs, errors.New("s3: no bucket"))
		}
		if (a.AccessKey == "") != (a.SecretKey == "") {
			errs = append(errs, errors.New("s3: access key and secret key go together"))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("archive target: %w", errors.Join(errs...))
	}
	return nil
}

// String describes the target without its secret.
func (a Target) String() string {
	if !a.IsS3() {
		return "dir " + a.Dir
	}
	return fmt.Sprintf("s3 %s bucket %s prefix %q", a.Endpoint, a.Bucket, a.Prefix)
}
