package archive

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sfstream/sfstream/archiver/store"
	"github.com/sfstream/sfstream/internal/entities"
	"github.com/sfstream/sfstream/internal/kafka"
)

// Defaults of Config fields left at their zero value.
const (
	DefaultGroup           = "sfstream-archivers"
	DefaultStagingDir      = "staging"
	DefaultStagingMaxBytes = 8 << 30
	DefaultGrace           = 5 * time.Minute
	DefaultIdleTimeout     = 2 * time.Minute
	DefaultEntityWait      = 10 * time.Second
	DefaultReferenceWait   = 30 * time.Second
	DefaultUploadWorkers   = 8
	DefaultMaxPollRecords  = 10000
	DefaultShutdownTimeout = 30 * time.Second
	DefaultSessionTimeout  = 10 * time.Second
	DefaultUploadRetryMax  = 30 * time.Second
)

// Config configures an Archiver. The zero value of every field but Kafka and Target means
// its documented default.
type Config struct {
	// Kafka is how to reach the brokers and name the topics.
	Kafka kafka.Config
	// Group is the consumer group of the archivers over sysflow.events. Default
	// "sfstream-archivers".
	Group string
	// InstanceID, when set, makes this a static group member (KIP-345): a restart within the
	// session timeout keeps the partitions. Default: dynamic membership.
	InstanceID string
	// SessionTimeout is the group session timeout. Default 10s.
	SessionTimeout time.Duration
	// Target is where objects are stored: a directory or an S3 bucket; its Prefix starts
	// every object name. Required.
	Target store.Target
	// PartSize is the S3 multipart part size. Default store.DefaultPartSize (16 MiB).
	PartSize uint64
	// StagingDir holds the open hours and the objects waiting to be stored. Its p<N>
	// subdirectories are emptied at start: their content is rebuilt from Kafka. Default
	// "staging" (relative to the working directory).
	StagingDir string
	// StagingMaxBytes bounds the staging directory: beyond it fetching pauses until objects
	// are stored. Default 8 GiB.
	StagingMaxBytes int64
	// Grace is how far past an hour's end the partition's watermark (the largest record ts
	// seen) must be for the hour to close. Default 5m.
	Grace time.Duration
	// IdleTimeout closes the open hours of a partition that received no record for this
	// long, once the hour (plus grace) is over by the wall clock. Default 2m.
	IdleTimeout time.Duration
	// ExporterIP is the header's ip for exporters whose sysflow.entities header record is
	// unknown. Default "".
	ExporterIP string
	// EntityWait bounds how long a fetched batch of events waits for the entity table to
	// catch up with sysflow.entities before it is written with what is known. Default 10s.
	EntityWait time.Duration
	// ReferenceWait bounds how long fetched events wait for entities they reference that the
	// table has never seen (an ancestor or file whose own partition's processor is behind):
	// once it passes, the records are written with a placeholder for each such entity
	// (counted) and later records do not wait for it again. Default 30s.
	ReferenceWait time.Duration
	// MaxVersions is the number of versions kept per entity. Default
	// entities.DefaultMaxVersions (16).
	MaxVersions int
	// UploadWorkers is the number of objects stored concurrently. Default 8.
	UploadWorkers int
	// MaxPollRecords bounds the records handled per poll. Default 10000.
	MaxPollRecords int
	// ShutdownTimeout bounds how long a stopping archiver keeps storing the objects of
	// closed hours. Default 30s.
	ShutdownTimeout time.Duration
	// BlockSize is the uncompressed bytes per Avro block. Default sffile.DefaultBlockSize.
	BlockSize int
	// UploadRetryMax is the largest delay between attempts to store an object (the delay
	// starts at 500ms and doubles). Default 30s.
	UploadRetryMax time.Duration
	// Parquet also writes, beside each object (late ones included), a Parquet file of its
	// events and flows flattened (archiver/parquetfile), named by hourly.Key.ParquetName,
	// stored before the object. Default false.
	Parquet bool
	// ParquetRowGroupRows is the rows per Parquet row group. Default
	// parquetfile.DefaultRowGroupRows.
	ParquetRowGroupRows int
}

func (c Config) withDefaults() Config {
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.PartSize == 0 {
		c.PartSize = store.DefaultPartSize
	}
	if c.StagingDir == "" {
		c.StagingDir = DefaultStagingDir
	}
	if c.StagingMaxBytes == 0 {
		c.StagingMaxBytes = DefaultStagingMaxBytes
	}
	if c.Grace == 0 {
		c.Grace = DefaultGrace
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.EntityWait == 0 {
		c.EntityWait = DefaultEntityWait
	}
	if c.ReferenceWait == 0 {
		c.ReferenceWait = DefaultReferenceWait
	}
	if c.MaxVersions == 0 {
		c.MaxVersions = entities.DefaultMaxVersions
	}
	if c.UploadWorkers == 0 {
		c.UploadWorkers = DefaultUploadWorkers
	}
	if c.MaxPollRecords == 0 {
		c.MaxPollRecords = DefaultMaxPollRecords
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.UploadRetryMax == 0 {
		c.UploadRetryMax = DefaultUploadRetryMax
	}
	return c
}

// Validate reports every problem with c, joined.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := c.Kafka.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Target.Validate(); err != nil {
		errs = append(errs, err)
	}
	for _, el := range strings.Split(c.Target.Prefix, "/") {
		if el == "." || el == ".." {
			bad("prefix %q: no . or .. elements", c.Target.Prefix)
			break
		}
	}
	if c.Target.IsS3() && c.PartSize < store.MinPartSize {
		bad("s3 part size %d: want at least %d (5 MiB)", c.PartSize, store.MinPartSize)
	}
	if c.StagingMaxBytes < 0 {
		bad("staging max bytes %d: negative", c.StagingMaxBytes)
	}
	if info, err := os.Stat(c.StagingDir); err == nil && !info.IsDir() {
		bad("staging dir %s: not a directory", c.StagingDir)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"grace", c.Grace}, {"idle timeout", c.IdleTimeout}, {"entity wait", c.EntityWait}, {"reference wait", c.ReferenceWait}, {"shutdown timeout", c.ShutdownTimeout}, {"session timeout", c.SessionTimeout}, {"upload retry max", c.UploadRetryMax}} {
		if d.v < 0 {
			bad("%s %v: negative", d.name, d.v)
		}
	}
	if c.UploadWorkers < 1 {
		bad("upload workers %d: want at least 1", c.UploadWorkers)
	}
	if c.MaxPollRecords < 1 {
		bad("max poll records %d: want at least 1", c.MaxPollRecords)
	}
	if c.MaxVersions < 1 {
		bad("max versions %d: want at least 1", c.MaxVersions)
	}
	if c.ParquetRowGroupRows < 0 {
		bad("parquet row group rows %d: negative", c.ParquetRowGroupRows)
	}
	if c.BlockSize < 0 {
		bad("block size %d: negative", c.BlockSize)
	}
	if len(errs) > 0 {
		return fmt.Errorf("archiver config: %w", errors.Join(errs...))
	}
	return nil
}
