package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sfstream/sfstream/archiver/archive"
	"github.com/sfstream/sfstream/archiver/archivetest"
	"github.com/sfstream/sfstream/internal/stack"
	"github.com/sfstream/sfstream/internal/testkit"
)

func noEnv(string) string { return "" }

// ownFlags are the flags main defines besides the common ones.
var ownFlags = []string{
	"group", "instance-id", "session-timeout", "archive-dir", "s3-endpoint", "s3-bucket",
	"s3-access-key", "s3-access-key-file", "s3-secret-key", "s3-secret-key-file", "s3-secure",
	"s3-region", "s3-prefix", "s3-part-size", "staging-dir", "staging-max-bytes", "grace",
	"idle-timeout", "exporter-ip", "entity-wait", "reference-wait", "max-versions", "upload-workers",
	"max-poll-records", "shutdown-timeout", "upload-retry-max", "parquet",
}

func TestHelpDocumentsEveryFlagWithItsDefault(t *testing.T) {
	var buf bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, noEnv, &buf); err == nil {
		t.Fatal("-h returned no error")
	}
	help := buf.String()
	// Each flag is "  -name type\n    \tusage"; split the text at flag lines.
	blocks := map[string]string{}
	re := regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)
	idx := re.FindAllStringSubmatchIndex(help, -1)
	for i, m := range idx {
		end := len(help)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		blocks[help[m[2]:m[3]]] = help[m[0]:end]
	}
	for _, name := range append(ownFlags, "kafka-brokers", "schema-registry-url", "metrics-addr") {
		b, ok := blocks[name]
		if !ok {
			t.Errorf("help lacks -%s", name)
			continue
		}
		if !strings.Contains(b, "default") {
			t.Errorf("help of -%s does not state its default:\n%s", name, b)
		}
	}
	if !strings.Contains(help, "SFSTREAM_") {
		t.Error("help does not mention the SFSTREAM_ environment variables")
	}
}

func TestConfigErrorsAreClear(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte("from-file\n"), 0o600)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no target", nil, "no archive target"},
		{"two targets", []string{"-archive-dir", "/tmp/x", "-s3-bucket", "b"}, "exclusive"},
		{"key and key file", []string{"-s3-bucket", "b", "-s3-secret-key", "s", "-s3-secret-key-file", keyFile}, "exclusive"},
		{"bad size", []string{"-archive-dir", "/tmp/x", "-staging-max-bytes", "lots"}, "byte size"},
		{"small part", []string{"-s3-bucket", "b", "-s3-part-size", "1MiB", "-kafka-brokers", "127.0.0.1:1"}, "part size"},
		{"unknown setting", []string{"-no-such-flag"}, "no-such-flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, noEnv, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(fmt.Sprint(err), "from-file") {
				t.Fatalf("error reveals a secret: %v", err)
			}
		})
	}
}

func TestTargetFromFlags(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("s3cr3t\nignored\n"), 0o600)
	tg, err := s3Flags{bucket: "b", accessKey: "ak", secretKeyFile: secret, secure: true, region: "r"}.target()
	if err != nil {
		t.Fatal(err)
	}
	if tg.Endpoint != DefaultS3Endpoint || tg.SecretKey != "s3cr3t" || !tg.Secure || tg.Bucket != "b" || tg.AccessKey != "ak" {
		t.Errorf("target = %+v", tg)
	}
	if strings.Contains(tg.String(), "s3cr3t") {
		t.Errorf("target description reveals the secret: %s", tg)
	}
	var b byteSize
	for in, want := range map[string]int64{"8GiB": 8 << 30, "512MiB": 512 << 20, "100": 100, "2GB": 2e9, "16 MiB": 16 << 20} {
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("byte size %q = %d, %v; want %d", in, b, err, want)
		}
	}
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sf-archiver")
	out, err := exec.Command("go", "build", "-race", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Repeated kill -9 of the archiver binary mid-stream, then a restart that runs to the end:
// the archive holds the same objects, byte for byte, as an uninterrupted archiver's, and every
// event exactly once. Both write Parquet files (--parquet): those too are the same, byte for
// byte, and every object has its own.
func TestKill9SameObjects(t *testing.T) {
	bin := buildBinary(t)
	env := testkit.New(t)
	kcfg, serde := archivetest.Setup(t, env)
	w := archivetest.Default()
	w.Sessions, w.Span = 1500, 6*int64(time.Hour) // many hours close while the archiver is killed
	batches := w.Batches()
	want := archivetest.Expected(t, batches)
	archivetest.ProduceRaw(t, kcfg, serde, batches)
	archivetest.Process(t, kcfg, serde, archivetest.Count(want))

	// The uninterrupted reference run, in process.
	refTarget := stack.ArchiveTarget{Dir: t.TempDir(), Prefix: "k9"}
	ref, err := archive.New(archive.Config{
		Kafka: kcfg, Group: kcfg.TopicPrefix + "reference", Target: refTarget, StagingDir: t.TempDir(),
		IdleTimeout: 2 * time.Second, MaxPollRecords: 20, Parquet: true,
	}, serde, nil, archive.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ref.Run(ctx) }()
	waitArchived(t, refTarget, archivetest.Count(want), 90*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("reference archiver: %v", err)
	}
	refObjects := archivetest.ReadObjects(t, refTarget)

	target := stack.ArchiveTarget{Dir: t.TempDir(), Prefix: "k9"}
	staging := t.TempDir()
	envv := append(testkit.CleanEnv(),
		"SFSTREAM_KAFKA_BROKERS="+strings.Join(env.Brokers, ","),
		"SFSTREAM_SCHEMA_REGISTRY_URL="+env.RegistryURL,
		"SFSTREAM_TOPIC_PREFIX="+kcfg.TopicPrefix,
		"SFSTREAM_PARTITIONS=3",
		"SFSTREAM_GROUP="+kcfg.TopicPrefix+"killed",
		"SFSTREAM_INSTANCE_ID=k9-archiver",
		"SFSTREAM_SESSION_TIMEOUT=6s",
		"SFSTREAM_ARCHIVE_DIR="+target.Dir,
		"SFSTREAM_S3_PREFIX="+target.Prefix,
		"SFSTREAM_STAGING_DIR="+staging,
		"SFSTREAM_MAX_POLL_RECORDS=20",
		"SFSTREAM_IDLE_TIMEOUT=2s",
		"SFSTREAM_PARQUET=true",
		"SFSTREAM_METRICS_ADDR=127.0.0.1:0",
		"SFSTREAM_LOG_LEVEL=warn",
	)
	rng := rand.New(rand.NewPCG(3, 4))
	kills := 0
	for range 6 {
		cmd := exec.Command(bin)
		cmd.Env = envv
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(300+rng.IntN(1000)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		kills++
		if strings.Contains(stderr.String(), "panic") || strings.Contains(stderr.String(), "DATA RACE") {
			t.Fatalf("archiver failed:\n%s", stderr.String())
		}
		t.Logf("kill %d: %d objects stored so far", kills, len(archivetest.ReadObjects(t, target)))
	}
	cmd := exec.Command(bin)
	cmd.Env = envv
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitArchived(t, target, archivetest.Count(want), 90*time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("archiver did not exit cleanly on SIGTERM: %v\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), "DATA RACE") {
		t.Errorf("data race:\n%s", stderr.String())
	}
	objects := archivetest.ReadObjects(t, target)
	res := archivetest.Check(t, objects, target.Prefix)
	if d := archivetest.Diff(res.Events, want); !strings.HasPrefix(d, "0 missing, 0 duplicated, 0 unexpected") {
		t.Errorf("after %d kill -9s: %s", kills, d)
	}
	t.Logf("%d kill -9s; %d objects, %d events; reference run %d objects", kills, len(objects), archivetest.Count(res.Events), len(refObjects))
	names := func(m map[string][]byte) []string {
		var out []string
		for n := range m {
			out = append(out, n)
		}
		sort.Strings(out)
		return out
	}
	if got, want := names(objects), names(refObjects); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("object names differ from the uninterrupted run:\n got %q\nwant %q", got, want)
	}
	for n, b := range refObjects {
		if o, ok := objects[n]; ok && !bytes.Equal(o, b) {
			t.Errorf("%s: %d bytes differ from the uninterrupted run's %d", n, len(o), len(b))
		}
	}
	sf, pq := 0, 0
	for n := range objects {
		switch {
		case strings.HasSuffix(n, ".parquet"):
			pq++
		case strings.HasSuffix(n, ".sf"):
			sf++
		}
	}
	if pq != sf || pq == 0 {
		t.Errorf("%d Parquet files for %d objects", pq, sf)
	}
}

// waitArchived waits until the archive under target holds n events.
func waitArchived(t *testing.T, target stack.ArchiveTarget, n int, wait time.Duration) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		res := archivetest.Check(&quietT{TB: t}, archivetest.ReadObjects(t, target), target.Prefix)
		if archivetest.Count(res.Events) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("archive holds %d events after %v, want %d", archivetest.Count(res.Events), wait, n)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// quietT lets Check run on a partial archive (objects being renamed into place) without
// failing the test.
type quietT struct{ testing.TB }

func (q *quietT) Errorf(string, ...any) {}
func (q *quietT) Helper()               {}
