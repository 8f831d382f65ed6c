package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/twmb/franz-go/pkg/kfake"
)

// Fixed loopback ports for `sfstream run`, so that kcat, sfprint and other processes find the
// embedded stack where they find a default local Kafka and registry.
const (
	DefaultKafkaPort    = 9092
	DefaultRegistryPort = 8081
)

// Log keys.
const (
	logKeyBrokers  = "brokers"
	logKeyRegistry = "registry"
	logKeyArchive  = "archive"
	logKeyDataDir  = "data_dir"
	logKeyTopic    = "topic"
	logKeyRecords  = "records"
	logKeyMethod   = "method"
	logKeyURI      = "uri"
	logKeyStatus   = "status"
	logKeyErr      = "err"
)

// Opt configures the stack.
type Opt func(*config)

type config struct {
	dataDir      string
	kafkaPort    int
	registryPort int
	syncWrites   bool
	log          *slog.Logger
	s3           bool
	s3Port       int
	s3Bucket     string
	archive      *ArchiveTarget
}

// DataDir persists the cluster (topics, records, committed offsets, transactions) and through
// it the registry under dir; a stack started again on the same dir continues where the last
// one stopped. Default "": everything lives in memory and is lost on Close.
func DataDir(dir string) Opt { return func(c *config) { c.dataDir = dir } }

// KafkaPort serves the broker on 127.0.0.1:port. Default 0: a random free port.
func KafkaPort(port int) Opt { return func(c *config) { c.kafkaPort = port } }

// RegistryPort serves the schema registry on 127.0.0.1:port. Default 0: a random free port.
func RegistryPort(port int) Opt { return func(c *config) { c.registryPort = port } }

// SyncWrites makes the broker fsync every produced batch. Default off: data survives the
// process being killed (it is in the page cache) but not a machine crash, as with Kafka's
// defaults.
func SyncWrites() Opt { return func(c *config) { c.syncWrites = true } }

// Logger sets the logger. Default: discard.
func Logger(l *slog.Logger) Opt { return func(c *config) { c.log = l } }

// InProcessS3 serves an in-memory S3 API (gofakes3) on 127.0.0.1:port (0: random) with one
// bucket, and makes it the archive target. Its objects do not survive Close. Default: off.
func InProcessS3(port int, bucket string) Opt {
	return func(c *config) { c.s3, c.s3Port, c.s3Bucket = true, port, bucket }
}

// Archive sets the archive target reported by Stack.Archive. Default: the directory
// <DataDir>/archive, or none without a data dir.
func Archive(t ArchiveTarget) Opt { return func(c *config) { c.archive = &t } }

// Stack is a running embedded Kafka (kfake), schema registry (srfake, persisted in the
// cluster's _schemas topic) and optionally an in-process S3.
type Stack struct {
	log      *slog.Logger
	lock     *os.File
	cluster  *kfake.Cluster
	brokers  []string
	reg      *registry
	regSrv   *http.Server
	regURL   string
	s3Srv    *http.Server
	archive  ArchiveTarget
	serveErr chan error
	wg       sync.WaitGroup
	closeErr error
	once     sync.Once
}

// Start starts the stack and returns once the broker and the registry serve. On error
// nothing is left running.
func Start(ctx context.Context, opts ...Opt) (*Stack, error) {
	cfg := config{log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Stack{log: cfg.log, serveErr: make(chan error, 2)}
	if err := s.start(ctx, cfg); err != nil {
		return nil, errors.Join(fmt.Errorf("start stack: %w", err), s.Close())
	}
	cfg.log.Info("embedded stack started", logKeyBrokers, s.brokers, logKeyRegistry, s.regURL, logKeyArchive, s.archive.String(), logKeyDataDir, cfg.dataDir)
	return s, nil
}

func (s *Stack) start(ctx context.Context, cfg config) (err error) {
	kopts := []kfake.Opt{kfake.NumBrokers(1), kfake.ClusterID("sfstream"), kfake.WithLogger(kfakeLogger{cfg.log})}
	if cfg.kafkaPort != 0 {
		kopts = append(kopts, kfake.Ports(cfg.kafkaPort))
	}
	if cfg.dataDir != "" {
		dir := filepath.Join(cfg.dataDir, "kafka")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if s.lock, err = lockDir(cfg.dataDir); err != nil {
			return err
		}
		kopts = append(kopts, kfake.DataDir(dir))
		if cfg.syncWrites {
			kopts = append(kopts, kfake.SyncWrites())
		}
	}
	if s.cluster, err = kfake.NewCluster(kopts...); err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	s.brokers = s.cluster.ListenAddrs()

	if s.reg, err = openRegistry(ctx, s.brokers, cfg.log); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.registryPort)))
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	s.regURL = "http://" + ln.Addr().String()
	s.regSrv = &http.Server{Handler: s.reg, ReadHeaderTimeout: 10 * time.Second}
	s.serve(s.regSrv, ln)

	switch {
	case cfg.s3:
		if s.archive, err = s.startS3(cfg.s3Port, cfg.s3Bucket); err != nil {
			return err
		}
	case cfg.archive != nil:
		s.archive = *cfg.archive
	case cfg.dataDir != "":
		s.archive = ArchiveTarget{Dir: filepath.Join(cfg.dataDir, "archive")}
	}
	return nil
}

func (s *Stack) startS3(port int, bucket string) (ArchiveTarget, error) {
	if bucket == "" {
		return ArchiveTarget{}, errors.New("s3: no bucket")
	}
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		return ArchiveTarget{}, fmt.Errorf("s3: create bucket: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return ArchiveTarget{}, fmt.Errorf("s3: %w", err)
	}
	s.s3Srv = &http.Server{Handler: gofakes3.New(backend).Server(), ReadHeaderTimeout: 10 * time.Second}
	s.serve(s.s3Srv, ln)
	return ArchiveTarget{Endpoint: ln.Addr().String(), Bucket: bucket, AccessKey: "sfstream", SecretKey: "sfstream-secret", Region: DefaultS3Region}, nil
}

func (s *Stack) serve(srv *http.Server, ln net.Listener) {
	s.wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.serveErr <- err
		}
	})
}

// Brokers returns the broker addresses (127.0.0.1:port).
func (s *Stack) Brokers() []string { return s.brokers }

// RegistryURL returns the schema registry's base URL.
func (s *Stack) RegistryURL() string { return s.regURL }

// Archive returns the archive target: the in-process S3, the configured target, or the data
// directory's archive folder.
func (s *Stack) Archive() ArchiveTarget { return s.archive }

// Cluster returns the embedded cluster, for tests that inject faults.
func (s *Stack) Cluster() *kfake.Cluster { return s.cluster }

// Close stops the servers and the cluster, which writes its state to the data dir. It is safe
// to call more than once.
func (s *Stack) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var errs []error
		for _, srv := range []*http.Server{s.regSrv, s.s3Srv} {
			if srv != nil {
				if err := srv.Shutdown(ctx); err != nil {
					errs = append(errs, fmt.Errorf("close stack: %w", err))
				}
			}
		}
		s.wg.Wait()
		close(s.serveErr)
		for err := range s.serveErr {
			errs = append(errs, fmt.Errorf("close stack: serve: %w", err))
		}
		if s.reg != nil {
			s.reg.close()
		}
		if s.cluster != nil {
			s.cluster.Close()
		}
		if s.lock != nil {
			errs = append(errs, s.lock.Close()) // closing releases the flock
		}
		s.closeErr = errors.Join(errs...)
		s.log.Info("embedded stack stopped")
	})
	return s.closeErr
}

// Run starts the stack, serves until ctx ends or a server fails, then closes it. A ctx that
// ends while the stack starts is a clean shutdown, not an error.
func Run(ctx context.Context, opts ...Opt) error {
	s, err := Start(ctx, opts...)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil
		}
		return err
	}
	var runErr error
	select {
	case <-ctx.Done():
	case err := <-s.serveErr:
		runErr = fmt.Errorf("run stack: %w", err)
	}
	return errors.Join(runErr, s.Close())
}

// lockDir takes an exclusive lock on dir so that two stacks never share a data dir.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return nil, errors.Join(fmt.Errorf("lock data dir %s: another stack uses it: %w", dir, err), f.Close())
	}
	return f, nil
}

// kfakeLogger routes kfake's logs to slog (warnings and errors only: kfake logs every
// request at info).
type kfakeLogger struct{ log *slog.Logger }

func (l kfakeLogger) Logf(level kfake.LogLevel, msg string, args ...any) {
	switch level {
	case kfake.LogLevelError:
		l.log.Error(fmt.Sprintf(msg, args...))
	case kfake.LogLevelWarn:
		l.log.Warn(fmt.Sprintf(msg, args...))
	}
}
