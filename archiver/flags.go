package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/sfstream/sfstream/archiver/archive"
	"github.com/sfstream/sfstream/archiver/store"
	"github.com/sfstream/sfstream/internal/entities"
	"github.com/sfstream/sfstream/internal/service"
)

// DefaultS3Endpoint is used when a bucket is given without an endpoint.
const DefaultS3Endpoint = "s3.amazonaws.com"

// options are sf-archiver's settings: the common ones, the archiver's Config and the archive
// target's flags.
type options struct {
	common service.Common
	cfg    archive.Config
	s      s3Flags
}

// s3Flags are the archive target's command-line settings.
type s3Flags struct {
	dir                      string
	endpoint, bucket, region string
	prefix                   string
	accessKey, accessKeyFile string
	secretKey, secretKeyFile string
	secure                   bool
	partSize, stagingMax     byteSize
	showVersion              bool
}

// addFlags defines sf-archiver's flags on f, each bound to o.
func addFlags(f *service.Flags, o *options) {
	o.s = s3Flags{partSize: store.DefaultPartSize, stagingMax: archive.DefaultStagingMaxBytes}
	common, cfg, s := &o.common, &o.cfg, &o.s
	service.AddCommon(f, common, "archiver")
	f.StringVar(&cfg.Group, "group", archive.DefaultGroup, "consumer group of the archivers")
	f.StringVar(&cfg.InstanceID, "instance-id", "", "static group member id: a restart keeps the partitions (default: dynamic membership)")
	f.DurationVar(&cfg.SessionTimeout, "session-timeout", archive.DefaultSessionTimeout, "group session timeout: how long a dead instance keeps its partitions")
	f.StringVar(&s.dir, "archive-dir", "", "archive to this local directory (default: none; exclusive with -s3-bucket)")
	f.StringVar(&s.endpoint, "s3-endpoint", "", "S3 endpoint, host:port or http(s)://host:port (default "+DefaultS3Endpoint+" when -s3-bucket is set)")
	f.StringVar(&s.bucket, "s3-bucket", "", "archive to this S3 bucket (default: none; exclusive with -archive-dir)")
	f.StringVar(&s.accessKey, "s3-access-key", "", "S3 access key (default: none: the AWS_/MINIO_ environment or the instance's IAM role)")
	f.StringVar(&s.accessKeyFile, "s3-access-key-file", "", "file whose first line is the S3 access key (default: none)")
	f.StringVar(&s.secretKey, "s3-secret-key", "", "S3 secret key; prefer the environment or -s3-secret-key-file (default: none)")
	f.StringVar(&s.secretKeyFile, "s3-secret-key-file", "", "file whose first line is the S3 secret key (default: none)")
	f.BoolVar(&s.secure, "s3-secure", true, "use https to a host:port S3 endpoint")
	f.StringVar(&s.region, "s3-region", store.DefaultS3Region, "S3 region")
	f.StringVar(&s.prefix, "s3-prefix", "", "prefix of every object name, also under -archive-dir (default: none)")
	f.Var(&s.partSize, "s3-part-size", "S3 multipart part size: larger objects are uploaded in parts of this size (at least 5MiB)")
	f.StringVar(&cfg.StagingDir, "staging-dir", archive.DefaultStagingDir, "local directory staging the open hours; its p<N> subdirectories are emptied at start")
	f.Var(&s.stagingMax, "staging-max-bytes", "bound of the staging directory: fetching pauses beyond it until objects are stored")
	f.DurationVar(&cfg.Grace, "grace", archive.DefaultGrace, "an hour closes when a partition's records are this far past its end")
	f.DurationVar(&cfg.IdleTimeout, "idle-timeout", archive.DefaultIdleTimeout, "close the finished hours of a partition that received nothing for this long")
	f.StringVar(&cfg.ExporterIP, "exporter-ip", "", "header ip of exporters whose header record is unknown (default: empty)")
	f.DurationVar(&cfg.EntityWait, "entity-wait", archive.DefaultEntityWait, "how long events wait for the entity table to read sysflow.entities up to its end")
	f.DurationVar(&cfg.ReferenceWait, "reference-wait", archive.DefaultReferenceWait, "how long events wait for an entity they reference that has not arrived (an ancestor from a lagging partition) before it is written as unknown")
	f.IntVar(&cfg.MaxVersions, "max-versions", entities.DefaultMaxVersions, "versions kept per entity")
	f.IntVar(&cfg.UploadWorkers, "upload-workers", archive.DefaultUploadWorkers, "objects stored concurrently")
	f.IntVar(&cfg.MaxPollRecords, "max-poll-records", archive.DefaultMaxPollRecords, "records handled per poll at most")
	f.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", archive.DefaultShutdownTimeout, "on SIGTERM, how long to keep storing the objects of closed hours")
	f.DurationVar(&cfg.UploadRetryMax, "upload-retry-max", archive.DefaultUploadRetryMax, "largest delay between attempts to store an object")
	f.BoolVar(&cfg.Parquet, "parquet", false, "also write, beside each object, a Parquet file of its events and flows flattened, under <prefix>/parquet/exporter=<id>/date=<YYYY-MM-DD>/hour=<HH>/ (default: off; sfstream run turns it on)")
	f.BoolVar(&s.showVersion, "version", false, "print the version and exit")
}

// target builds the archive target from the flags, reading key files.
func (s s3Flags) target() (store.Target, error) {
	var errs []error
	key := func(name, value, file string) string {
		switch {
		case value != "" && file != "":
			errs = append(errs, fmt.Errorf("-%s and -%s-file are exclusive", name, name))
		case file != "":
			b, err := os.ReadFile(file)
			if err != nil {
				errs = append(errs, fmt.Errorf("-%s-file: %w", name, err))
				return ""
			}
			line, _, _ := strings.Cut(string(b), "\n")
			return strings.TrimSpace(line)
		}
		return value
	}
	t := store.Target{
		Dir:       s.dir,
		Prefix:    s.prefix,
		Region:    s.region,
		AccessKey: key("s3-access-key", s.accessKey, s.accessKeyFile),
		SecretKey: key("s3-secret-key", s.secretKey, s.secretKeyFile),
	}
	switch {
	case s.dir != "" && (s.bucket != "" || s.endpoint != ""):
		errs = append(errs, errors.New("-archive-dir and -s3-bucket/-s3-endpoint are exclusive: archive to a directory or to S3"))
	case s.dir == "" && s.bucket == "":
		errs = append(errs, errors.New("no archive target: set -archive-dir or -s3-bucket (SFSTREAM_ARCHIVE_DIR, SFSTREAM_S3_BUCKET)"))
	case s.bucket != "":
		t.Endpoint, t.Bucket, t.Secure = s.endpoint, s.bucket, s.secure
		if t.Endpoint == "" {
			t.Endpoint = DefaultS3Endpoint
		}
	}
	if len(errs) > 0 {
		return t, fmt.Errorf("archive target: %w", errors.Join(errs...))
	}
	return t, nil
}

// byteSize is a flag holding a byte count: a number with an optional unit (KiB, MiB, GiB,
// TiB, or KB, MB, GB, TB in powers of 1000).
type byteSize int64

var units = []struct {
	suffix string
	mult   int64
}{
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1},
}

func (b *byteSize) String() string {
	v := int64(*b)
	for _, u := range units[:4] {
		if v != 0 && v%u.mult == 0 {
			return strconv.FormatInt(v/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(v, 10)
}

func (b *byteSize) Set(s string) error {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return fmt.Errorf("byte size %q: want a number with an optional unit (KiB, MiB, GiB, TiB, KB, MB, GB, TB)", s)
	}
	*b = byteSize(n * mult)
	return nil
}
