package consumer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/sfstream/sfstream/internal/sysprint"
	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// FileError reports a file or object that could not be read to its end. The records before
// the damage have been returned.
type FileError struct {
	Name string // the path or s3://bucket/key
	Err  error
}

func (e *FileError) Error() string { return "read " + e.Name + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// fileSource reads a list of SysFlow files in order, each flattened on its own (a file is
// self-contained).
type fileSource struct {
	names  []string
	open   func(ctx context.Context, name string) (io.ReadCloser, error)
	opts   options
	filter *sysprint.Filter
	close  func() error
	label  string // prepended to names in errors and logs: "s3://bucket/" for S3

	cur  io.ReadCloser
	name string
	flat *sysflow.FlatReader
}

func (s *fileSource) Next(ctx context.Context) (*sysflow.Flat, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if s.flat == nil {
			if len(s.names) == 0 {
				return nil, io.EOF
			}
			if err := s.openNext(ctx); err != nil {
				if errors.Is(err, sffile.ErrNotSysFlow) {
					s.opts.log.Warn("not a sysflow file, skipped", logKeyFile, s.label+s.name)
					continue
				}
				return nil, err
			}
		}
		flat, err := s.flat.Next()
		if err != nil {
			cerr := s.closeCurrent()
			if errors.Is(err, io.EOF) {
				if cerr != nil {
					return nil, &FileError{Name: s.label + s.name, Err: cerr}
				}
				continue
			}
			return nil, &FileError{Name: s.label + s.name, Err: errors.Join(err, cerr)}
		}
		if s.filter == nil || s.filter.Match(flat) {
			return flat, nil
		}
	}
}

// openNext opens the next file; ErrNotSysFlow for a file that is not SysFlow.
func (s *fileSource) openNext(ctx context.Context) error {
	s.name, s.names = s.names[0], s.names[1:]
	rc, err := s.open(ctx, s.name)
	if err != nil {
		return &FileError{Name: s.label + s.name, Err: err}
	}
	rd, err := sffile.NewReader(rc)
	if err != nil {
		_ = rc.Close() // read-only
		var ce *sffile.CorruptError
		if errors.Is(err, sffile.ErrNotSysFlow) || (errors.As(err, &ce) && ce.Offset == 0) {
			return sffile.ErrNotSysFlow
		}
		return &FileError{Name: s.label + s.name, Err: err}
	}
	if s.filter != nil {
		if err := s.filter.SetSchema(rd.Schema()); err != nil {
			_ = rc.Close() // read-only
			return &FileError{Name: s.label + s.name, Err: err}
		}
	}
	s.cur = rc
	s.flat = sysflow.NewFlatReader(rd, sysflow.WithResetOnHeader())
	return nil
}

func (s *fileSource) closeCurrent() error {
	s.flat = nil
	if s.cur == nil {
		return nil
	}
	err := s.cur.Close()
	s.cur = nil
	return err
}

func (s *fileSource) Close() error {
	err := s.closeCurrent()
	s.names = nil
	if s.close != nil {
		err = errors.Join(err, s.close())
		s.close = nil
	}
	return err
}

// FromDir returns the records of the SysFlow files under dir (recursively, in lexical order
// of their paths; dir may also be one file). Files that are not SysFlow (Parquet files of an
// archive, notes) are skipped.
func FromDir(dir string, opts ...Option) (Source, error) {
	o, filter, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	var names []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			names = append(names, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	return &fileSource{
		names:  names,
		open:   func(_ context.Context, name string) (io.ReadCloser, error) { return os.Open(name) },
		opts:   o,
		filter: filter,
	}, nil
}

// S3Config says where an archive is.
type S3Config struct {
	// Endpoint is the S3 server, host:port. Required.
	Endpoint string
	// Bucket is the bucket. Required.
	Bucket string
	// Prefix selects the objects whose names start with it. Default: the whole bucket.
	Prefix string
	// AccessKey and SecretKey are the static credentials. Default: anonymous.
	AccessKey, SecretKey string
	// Region is the bucket's region. Default: the server's.
	Region string
	// Secure uses TLS. Default: plain HTTP.
	Secure bool
}

// FromS3 returns the records of the SysFlow objects under cfg.Prefix, in name order. The
// listing is taken when the source is made; objects that are not SysFlow (the archive's
// Parquet files) are skipped.
func FromS3(ctx context.Context, cfg S3Config, opts ...Option) (Source, error) {
	o, filter, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("read s3: endpoint and bucket are required")
	}
	tr, err := minio.DefaultTransport(cfg.Secure)
	if err != nil {
		return nil, fmt.Errorf("read s3: %w", err)
	}
	cl, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:    cfg.Secure,
		Region:    cfg.Region,
		Transport: tr,
	})
	if err != nil {
		return nil, fmt.Errorf("read s3: %w", err)
	}
	where := "s3://" + cfg.Bucket + "/" + cfg.Prefix
	var names []string
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for obj := range cl.ListObjects(lctx, cfg.Bucket, minio.ListObjectsOptions{Prefix: cfg.Prefix, Recursive: true}) {
		if obj.Err != nil {
			tr.CloseIdleConnections()
			return nil, fmt.Errorf("list %s at %s: %w", where, cfg.Endpoint, obj.Err)
		}
		if !strings.HasSuffix(obj.Key, ".parquet") {
			names = append(names, obj.Key)
		}
	}
	sort.Strings(names)
	return &fileSource{
		names: names,
		open: func(ctx context.Context, name string) (io.ReadCloser, error) {
			obj, err := cl.GetObject(ctx, cfg.Bucket, name, minio.GetObjectOptions{})
			if err != nil {
				return nil, err
			}
			// GetObject sends nothing: Stat makes a missing object or an unreachable server
			// an error here rather than a file that "is not SysFlow".
			if _, err := obj.Stat(); err != nil {
				_ = obj.Close() // read-only
				return nil, err
			}
			return obj, nil
		},
		label:  "s3://" + cfg.Bucket + "/",
		opts:   o,
		filter: filter,
		close: func() error {
			tr.CloseIdleConnections()
			return nil
		},
	}, nil
}
