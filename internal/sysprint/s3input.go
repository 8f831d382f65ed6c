package sysprint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/sfstream/sfstream/sysflow/sffile"
)

// printRemote prints an s3:// or kafka:// path.
func printRemote(ctx context.Context, cfg Config, path string, p printer, stderr io.Writer) error {
	if strings.HasPrefix(strings.ToLower(path), schemeS3) {
		return printS3(ctx, cfg, path, p, stderr)
	}
	return printKafka(ctx, cfg, path, p, stderr)
}

// objectHourRE finds the hour in an archive object name (<exporter>.<YYYYMMDDHH>.p<N>.sf and
// its late variants).
var objectHourRE = regexp.MustCompile(`\.(\d{10})\.p\d+\.(?:late\.(?:\d+\.)?)?sf$`)

// objectHour returns the UTC hour of an archive object name.
func objectHour(name string) (time.Time, bool) {
	m := objectHourRE.FindStringSubmatch(name)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse("2006010215", m[1])
	return t, err == nil
}

// printS3 prints the objects under s3://bucket/prefix in name order; with -from or -to, only
// the archive objects of those hours. Objects that are not SysFlow are skipped with a warning.
func printS3(ctx context.Context, cfg Config, path string, p printer, stderr io.Writer) error {
	bucket, prefix, err := parseS3Path(path)
	if err != nil {
		return err
	}
	from, to, err := cfg.Remote.hourRange()
	if err != nil {
		return err
	}
	s, err := cfg.Remote.s3()
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	tr, err := minio.DefaultTransport(s.secure)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer tr.CloseIdleConnections()
	cl, err := minio.New(s.hostport, &minio.Options{
		Creds:     credentials.NewStaticV4(s.accessKey, s.secretKey, ""),
		Secure:    s.secure,
		Region:    s.region,
		Transport: tr,
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	var names []string
	lctx, cancel := context.WithCancel(ctx)
	for obj := range cl.ListObjects(lctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			cancel()
			return fmt.Errorf("list %s at %s: %w", path, s.hostport, obj.Err)
		}
		names = append(names, obj.Key)
	}
	cancel()
	sort.Strings(names)
	filter := !from.IsZero() || !to.IsZero()
	var errs []error
	printed := 0
	for _, name := range names {
		if filter {
			h, ok := objectHour(name)
			if !ok || (!from.IsZero() && h.Before(from)) || (!to.IsZero() && h.After(to)) {
				continue
			}
		}
		full := schemeS3 + bucket + "/" + name
		obj, err := cl.GetObject(ctx, bucket, name, minio.GetObjectOptions{})
		if err == nil {
			err = printStream(ctx, full, obj, cfg.Entities, p)
			_ = obj.Close() // read-only
		}
		printed++
		switch {
		case errors.Is(err, sffile.ErrNotSysFlow):
			fmt.Fprintf(stderr, "sfprint: warning: skipping %v\n", err)
		case isFatal(ctx, err):
			return errors.Join(append(errs, err)...)
		case err != nil:
			errs = append(errs, err)
		}
	}
	if printed == 0 {
		fmt.Fprintf(stderr, "sfprint: warning: no objects under %s\n", path)
	}
	return errors.Join(errs...)
}

// printStream prints the records of one SysFlow file read from r, called name in messages,
// as printFile does for local files.
func printStream(ctx context.Context, name string, r io.Reader, entities bool, p printer) error {
	rd, err := sffile.NewReader(r)
	if err != nil {
		var ce *sffile.CorruptError
		if errors.Is(err, sffile.ErrNotSysFlow) || (errors.As(err, &ce) && ce.Offset == 0) {
			return fmt.Errorf("%s: %w: %w", name, sffile.ErrNotSysFlow, err)
		}
		return fmt.Errorf("read %s: %w", name, err)
	}
	return printRecords(ctx, name, rd, entities, p)
}
