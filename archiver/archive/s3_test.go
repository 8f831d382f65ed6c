package archive_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfstream/sfstream/archiver/archive"
	"github.com/sfstream/sfstream/archiver/archivetest"
	"github.com/sfstream/sfstream/internal/testkit"
)

// The archive in the test stack's S3 (the in-process S3, or versitygw with
// SFSTREAM_STACK=local) reads back complete and well-formed, Parquet files included.
func TestArchiveToS3(t *testing.T) {
	env := testkit.New(t)
	kcfg, serde, want := pipelineEvents(t, env)
	target := env.Archive
	cfg := config(t, kcfg, target)
	cfg.Parquet = true
	r := start(t, cfg, serde)
	waitFor(t, 60*time.Second, "every event stored", func() bool {
		return archivetest.Metric(t, r.reg, "sfstream_archiver_records_written_total") >= float64(archivetest.Count(want))
	})
	if err := r.stop(); err != nil {
		t.Fatalf("archiver: %v", err)
	}
	res := verify(t, target, want)
	t.Logf("%s: %d objects (%d late), %d events", target, res.Objects, res.LateObjects, archivetest.Count(res.Events))
	if len(res.Hours) != 2 || res.LateObjects == 0 {
		t.Errorf("hours %v, %d late objects: want 2 hours and late objects", res.Hours, res.LateObjects)
	}
	if rep := archivetest.CheckParquet(t, archivetest.ReadObjects(t, target), target.Prefix, nil); len(rep.Files) != res.Objects {
		t.Errorf("%d Parquet files for %d objects", len(rep.Files), res.Objects)
	}
}

// With S3 unreachable the archiver keeps what it closed staged, retries and reports; with a
// small staging bound it pauses fetching. Once S3 answers, everything is stored, once.
func TestS3OutageRetriesThenStores(t *testing.T) {
	env := testkit.New(t)
	kcfg, serde, want := pipelineEvents(t, env)
	s3 := archivetest.NewS3(t, "outage", "sfstream", "sfstream-secret")
	target := s3.Target
	target.Prefix = "outage"
	cfg := config(t, kcfg, target)
	cfg.StagingMaxBytes = 64 << 10
	r := start(t, cfg, serde)
	waitFor(t, 30*time.Second, "upload failures while S3 is down", func() bool {
		return archivetest.MetricLabel(t, r.reg, "sfstream_archiver_upload_failures_total", "reason", "network") >= 3
	})
	waitFor(t, 30*time.Second, "fetching paused at the staging bound", func() bool {
		return archivetest.Metric(t, r.reg, "sfstream_archiver_paused") == 1
	})
	pending := archivetest.Metric(t, r.reg, "sfstream_archiver_pending_uploads")
	staged := archivetest.Metric(t, r.reg, "sfstream_archiver_staging_bytes")
	if pending == 0 || staged == 0 {
		t.Errorf("while S3 is down: %v objects pending, %v bytes staged; want both > 0", pending, staged)
	}
	if v := archivetest.Metric(t, r.reg, "sfstream_archiver_files_written_total"); v != 0 {
		t.Errorf("%v objects stored while S3 is down", v)
	}
	time.Sleep(time.Second) // paused: the backlog stays in Kafka
	s3.Start(t)
	waitFor(t, 60*time.Second, "every event stored once S3 is back", func() bool {
		return archivetest.Metric(t, r.reg, "sfstream_archiver_records_written_total") >= float64(archivetest.Count(want))
	})
	if err := r.stop(); err != nil {
		t.Fatalf("archiver: %v", err)
	}
	t.Logf("while S3 was down: %v objects pending, %v bytes staged; failures: %v", pending, staged,
		archivetest.Metric(t, r.reg, "sfstream_archiver_upload_failures_total"))
	verify(t, target, want)
	if v := archivetest.Metric(t, r.reg, "sfstream_archiver_paused"); v != 0 {
		t.Errorf("still paused at the end")
	}
}

// Credentials the S3 server refuses stop the archiver at start with an error that says so.
func TestS3WrongCredentialsIsAClearError(t *testing.T) {
	env := testkit.New(t)
	kcfg, serde := archivetest.Setup(t, env)
	var target = env.Archive
	if env.Mode == testkit.ModeEmbedded {
		// The stack's in-process S3 accepts any credentials; this one checks them.
		s3 := archivetest.NewS3(t, "creds", "right-key", "right-secret")
		s3.Start(t)
		target = s3.Target
		target.AccessKey = "wrong-key"
	} else {
		target.SecretKey = "wrong-" + target.SecretKey
	}
	a, err := archive.New(config(t, kcfg, target), serde, prometheus.NewRegistry(), archive.WithLogger(logger(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = a.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "credentials refused") {
		t.Fatalf("Run = %v, want a credentials error", err)
	}
	if strings.Contains(err.Error(), target.SecretKey) {
		t.Fatalf("error reveals the secret key: %v", err)
	}
	t.Logf("error: %v", err)
}

// S3 stopped for a minute mid-stream, after some objects were stored: the archiver retries,
// keeps the rest staged, and once S3 is back the archive holds every event exactly once.
func TestS3StoppedMidStream(t *testing.T) {
	env := testkit.New(t)
	kcfg, serde, want := pipelineEvents(t, env)
	s3 := archivetest.NewS3(t, "midstream", "sfstream", "sfstream-secret")
	s3.Start(t)
	target := s3.Target
	target.Prefix = "midstream"
	r := start(t, config(t, kcfg, target), serde)
	waitFor(t, 30*time.Second, "a first object stored", func() bool {
		return archivetest.Metric(t, r.reg, "sfstream_archiver_files_written_total") >= 1
	})
	s3.Stop()
	stored := archivetest.Metric(t, r.reg, "sfstream_archiver_files_written_total")
	outage := time.Minute
	time.Sleep(outage)
	failures := archivetest.MetricLabel(t, r.reg, "sfstream_archiver_upload_failures_total", "reason", "network")
	s3.Start(t)
	waitFor(t, 60*time.Second, "every event stored once S3 is back", func() bool {
		return archivetest.Metric(t, r.reg, "sfstream_archiver_records_written_total") >= float64(archivetest.Count(want))
	})
	if err := r.stop(); err != nil {
		t.Fatalf("archiver: %v", err)
	}
	t.Logf("%v objects stored before S3 stopped for %s; %v failed attempts meanwhile", stored, outage, failures)
	if failures == 0 && archivetest.Metric(t, r.reg, "sfstream_archiver_files_written_total") > stored {
		t.Errorf("objects were stored after the outage without any failed attempt during it")
	}
	verify(t, target, want)
}
