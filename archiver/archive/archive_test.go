package archive_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sfstream/sfstream/archiver/archive"
	"github.com/sfstream/sfstream/archiver/archivetest"
	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/stack"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/sysflow"
)

func logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// config returns an archiver configuration for tests: short idle timeout and retries.
func config(t testing.TB, kcfg kafka.Config, target stack.ArchiveTarget) archive.Config {
	return archive.Config{
		Kafka:          kcfg,
		Group:          kcfg.TopicPrefix + "archivers",
		Target:         target,
		StagingDir:     t.TempDir(),
		IdleTimeout:    time.Second,
		EntityWait:     5 * time.Second,
		MaxPollRecords: 100,
		UploadRetryMax: 500 * time.Millisecond,
		SessionTimeout: 6 * time.Second,
	}
}

// running is an archiver running in the background.
type running struct {
	a    *archive.Archiver
	reg  *prometheus.Registry
	stop func() error
}

func start(t testing.TB, cfg archive.Config, serde *codec.Serde) *running {
	t.Helper()
	reg := prometheus.NewRegistry()
	a, err := archive.New(cfg, serde, reg, archive.WithLogger(logger(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	r := &running{a: a, reg: reg}
	var stopped bool
	var stopErr error
	r.stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			stopErr = <-done
		}
		return stopErr
	}
	t.Cleanup(func() { _ = r.stop() })
	return r
}

// waitFor polls cond until it holds or wait passes.
func waitFor(t testing.TB, wait time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", wait, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pipelineEvents generates the default workload, runs it through a processor and returns
// the expected events.
func pipelineEvents(t testing.TB, env *testkit.Env) (kafka.Config, *codec.Serde, map[string]int) {
	t.Helper()
	kcfg, serde := archivetest.Setup(t, env)
	batches := archivetest.Default().Batches()
	want := archivetest.Expected(t, batches)
	archivetest.ProduceRaw(t, kcfg, serde, batches)
	archivetest.Process(t, kcfg, serde, archivetest.Count(want))
	return kcfg, serde, want
}

// verify checks the archive's invariants and that it holds every expected event once.
func verify(t testing.TB, target stack.ArchiveTarget, want map[string]int) archivetest.Result {
	t.Helper()
	res := archivetest.Check(t, archivetest.ReadObjects(t, target), target.Prefix)
	if d := archivetest.Diff(res.Events, want); archivetest.Count(res.Events) != archivetest.Count(want) || !strings.HasPrefix(d, "0 missing, 0 duplicated, 0 unexpected") {
		t.Errorf("archived events: %s", d)
	}
	return res
}

// stragglerEvents returns the expected events of the workload's stragglers (hpid >= 50000,
// and the shell's clones of them).
func stragglerEvents(t testing.TB, want map[string]int) map[string]int {
	out := map[string]int{}
	for k, n := range want {
		rec, err := sysflow.Unmarshal([]byte(k))
		if err != nil {
			t.Fatal(err)
		}
		if pe, ok := rec.(*sysflow.ProcessEvent); ok && pe.ProcOID.HPID == 100 {
			continue // the shell's clone events: which are late depends on the hour
		}
		var oid sysflow.OID
		switch r := rec.(type) {
		case *sysflow.ProcessEvent:
			oid = r.ProcOID
		case *sysflow.FileFlow:
			oid = r.ProcOID
		case *sysflow.FileEvent:
			oid = r.ProcOID
		case *sysflow.NetworkFlow:
			oid = r.ProcOID
		}
		if oid.HPID >= 50000 {
			out[k] = n
		}
	}
	return out
}

// The archive of a workload spanning two hours, written to a directory: every event once,
// in self-contained hourly objects per exporter and partition, stragglers in late objects.
func TestArchiveToDirectory(t *testing.T) {
	env := testkit.New(t)
	kcfg, serde, want := pipelineEvents(t, env)
	target := stack.ArchiveTarget{Dir: t.TempDir(), Prefix: "sysflow/archive"}
	cfg := config(t, kcfg, target)
	r := start(t, cfg, serde)
	n := float64(archivetest.Count(want))
	begin := time.Now()
	waitFor(t, 60*time.Second, "every event stored", func() bool {
		return archivetest.Metric(t, r.reg, "sfstream_archiver_records_written_total") >= n
	})
	took := time.Since(begin)
	if err := r.stop(); err != nil {
		t.Fatalf("archiver: %v", err)
	}
	res := verify(t, target, want)
	t.Logf("%d events in %d objects (%d late, %d late events), %d hours, %d partitions, entities %v; archived in %v",
		archivetest.Count(res.Events), res.Objects, res.LateObjects, res.LateEvents, len(res.Hours), len(res.Partitions), res.Entities, took.Round(time.Millisecond))
	if len(res.Hours) != 2 {
		t.Errorf("objects for %d hours, want 2", len(res.Hours))
	}
	if len(res.Partitions) != int(kcfg.Partitions) {
		t.Errorf("objects for %d partitions, want %d", len(res.Partitions), kcfg.Partitions)
	}
	for k, c := range stragglerEvents(t, want) {
		if res.Late[k] != c {
			t.Errorf("a straggler's event is not in a late object")
			break
		}
	}
	if res.LateObjects == 0 {
		t.Error("no late object")
	}
	if res.Entities["P MODIFIED"] == 0 || res.Entities["P CREATED"] == 0 || res.Entities["P REUP"] == 0 || res.Entities["C"] == 0 {
		t.Errorf("entity states missing: %v", res.Entities)
	}
	for _, kind := range []string{"process", "file", "container"} {
		if v := archivetest.MetricLabel(t, r.reg, "sfstream_archiver_missing_references_total", "kind", kind); v != 0 {
			t.Errorf("%v missing %s references", v, kind)
		}
	}
	if v := archivetest.Metric(t, r.reg, "sfstream_archiver_late_records_total"); v != float64(res.LateEvents) {
		t.Errorf("late_records_total = %v, want %d", v, res.LateEvents)
	}
}

// An archiver whose commits were lost (offsets back at the start, without metadata) and one
// of whose objects was never stored finds the stored objects in the archive, skips their
// records and rebuilds the missing object byte for byte: no duplicate, no new late object.
// With --parquet the object's Parquet file, lost with it, is rebuilt byte for byte too.
func TestRestartAfterLostCommitsSkipsStoredRecords(t *testing.T) {
	env := testkit.New(t)
	kcfg, serde, want := pipelineEvents(t, env)
	target := stack.ArchiveTarget{Dir: t.TempDir(), Prefix: "replay"}
	cfg := config(t, kcfg, target)
	cfg.Parquet = true
	r := start(t, cfg, serde)
	total := float64(archivetest.Count(want))
	waitFor(t, 60*time.Second, "every event stored", func() bool {
		return archivetest.Metric(t, r.reg, "sfstream_archiver_records_written_total") >= total
	})
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	before := archivetest.ReadObjects(t, target)

	// Forget the commits, as if none had been made since the start of the topic ...
	adm := env.Admin(t)
	offsets := kadm.Offsets{}
	for p := range kcfg.Partitions {
		offsets.Add(kadm.Offset{Topic: kcfg.Topics().Events, Partition: p, At: 0, LeaderEpoch: -1})
	}
	if err := adm.CommitAllOffsets(t.Context(), cfg.Group, offsets); err != nil {
		t.Fatal(err)
	}
	// ... and lose the last object of partition 0: it was closed but not stored.
	var lost string
	for name := range before {
		if strings.Contains(name, "/node-a.2023111423.p0.sf") {
			lost = name
		}
	}
	if lost == "" {
		t.Fatal("no hour-23 object of node-a in partition 0")
	}
	if err := os.Remove(filepath.Join(target.Dir, filepath.FromSlash(lost))); err != nil {
		t.Fatal(err)
	}
	lostParquet := "replay/parquet/exporter=node-a/date=2023-11-14/hour=23/node-a.2023111423.p0.parquet"
	if _, ok := before[lostParquet]; !ok {
		t.Fatalf("no %s", lostParquet)
	}
	if err := os.Remove(filepath.Join(target.Dir, filepath.FromSlash(lostParquet))); err != nil {
		t.Fatal(err)
	}
	lostEvents := archivetest.Count(archivetest.Check(t, map[string][]byte{lost: before[lost]}, target.Prefix).Events)

	cfg.StagingDir = t.TempDir()
	r = start(t, cfg, serde)
	waitFor(t, 60*time.Second, "the lost object rebuilt and every other record skipped", func() bool {
		return archivetest.Metric(t, r.reg, "sfstream_archiver_records_written_total") >= float64(lostEvents) &&
			archivetest.MetricLabel(t, r.reg, "sfstream_archiver_skipped_records_total", "reason", "stored") >= total-float64(lostEvents)
	})
	time.Sleep(2 * time.Second) // nothing else may come
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	after := archivetest.ReadObjects(t, target)
	if len(after) != len(before) {
		t.Errorf("%d objects after the restart, %d before", len(after), len(before))
	}
	for name, b := range before {
		if !bytes.Equal(after[name], b) {
			t.Errorf("%s differs after the restart", name)
		}
	}
	if v := archivetest.Metric(t, r.reg, "sfstream_archiver_records_written_total"); v != float64(lostEvents) {
		t.Errorf("restart wrote %v events, want the %d of the lost object", v, lostEvents)
	}
	if v := archivetest.MetricLabel(t, r.reg, "sfstream_archiver_lookups_total", "result", "ok"); v == 0 {
		t.Error("no archive lookups")
	}
	verify(t, target, want)
}

// Drain stores the hours still open once the stream has been read to its end.
func TestDrainStoresOpenHours(t *testing.T) {
	env := testkit.New(t)
	kcfg, serde, want := pipelineEvents(t, env)
	target := stack.ArchiveTarget{Dir: t.TempDir(), Prefix: "drain"}
	cfg := config(t, kcfg, target)
	cfg.IdleTimeout = time.Hour // only Drain closes the last hour
	r := start(t, cfg, serde)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := r.a.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if v := archivetest.Metric(t, r.reg, "sfstream_archiver_records_written_total"); v != float64(archivetest.Count(want)) {
		t.Errorf("after Drain %v events stored, want %d", v, archivetest.Count(want))
	}
	if v := archivetest.Metric(t, r.reg, "sfstream_archiver_open_hours"); v != 0 {
		t.Errorf("after Drain %v hours open", v)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	verify(t, target, want)
}

// With --parquet, every object of the two-hour workload, late ones included, has its
// Parquet file beside it, in the Hive layout; pyarrow and DuckDB read each with the
// object's rows per type, and DuckDB's query over the whole layout finds the workload's
// network flows, with the process and parent joined in.
func TestParquetArchiveReadByDuckDBAndPyarrow(t *testing.T) {
	archivetest.Python(t, "duckdb", "pyarrow") // before the pipeline: fail or skip at once
	env := testkit.New(t)
	kcfg, serde, want := pipelineEvents(t, env)
	target := stack.ArchiveTarget{Dir: t.TempDir(), Prefix: "sysflow/archive"}
	cfg := config(t, kcfg, target)
	cfg.Parquet = true
	cfg.ParquetRowGroupRows = 64 // several row groups per file
	r := start(t, cfg, serde)
	n := float64(archivetest.Count(want))
	waitFor(t, 60*time.Second, "every event stored", func() bool {
		return archivetest.Metric(t, r.reg, "sfstream_archiver_records_written_total") >= n
	})
	if err := r.stop(); err != nil {
		t.Fatalf("archiver: %v", err)
	}
	res := verify(t, target, want)
	objects := archivetest.ReadObjects(t, target)
	const from = "from read_parquet('{glob}', hive_partitioning = true)"
	rep := archivetest.CheckParquet(t, objects, target.Prefix, map[string]string{
		"nf443":    "select count(*) " + from + " where type = 'NF' and net_dport = 443",
		"nf443ctx": "select count(*) " + from + " where type = 'NF' and net_dport = 443 and proc_exe = '/usr/bin/worker' and pproc_exe = '/bin/bash' and net_dip = '10.0.1.1'",
		"rows":     "select count(*) " + from,
		"hive":     "select count(distinct exporter || ' ' || cast(date as varchar) || ' ' || cast(hour as varchar)) " + from,
	})
	if len(rep.Files) != res.Objects {
		t.Errorf("%d Parquet files for %d objects", len(rep.Files), res.Objects)
	}
	late := 0
	for name, f := range rep.Files {
		if strings.Contains(name, ".late.") {
			late++
		}
		rows := 0
		for _, c := range f.Pyarrow.RowsByType {
			rows += c
		}
		if f.Pyarrow.RowGroups != (rows+63)/64 {
			t.Errorf("%s: %d rows in %d row groups, want groups of 64 rows", name, rows, f.Pyarrow.RowGroups)
		}
	}
	if late != res.LateObjects || late == 0 {
		t.Errorf("%d late Parquet files, %d late objects", late, res.LateObjects)
	}
	nf := archivetest.NetworkFlowsTo(t, objects, 443)
	if nf == 0 {
		t.Fatal("the workload has no flow to port 443")
	}
	for _, q := range []string{"nf443", "nf443ctx"} {
		if got := rep.Queries[q]; got != float64(nf) {
			t.Errorf("duckdb query %s: %v, want the %d NetworkFlows to port 443", q, got, nf)
		}
	}
	if got := rep.Queries["rows"]; got != n {
		t.Errorf("duckdb reads %v rows in all, want %v events", got, n)
	}
	if got := rep.Queries["hive"]; got != float64(2*len(res.Hours)) {
		t.Errorf("duckdb sees %v exporter/date/hour partitions, want %d", got, 2*len(res.Hours))
	}
	files := archivetest.MetricLabel(t, r.reg, "sfstream_archiver_files_written_total", "kind", "hour") +
		archivetest.MetricLabel(t, r.reg, "sfstream_archiver_files_written_total", "kind", "late")
	pfiles := archivetest.MetricLabel(t, r.reg, "sfstream_archiver_parquet_files_written_total", "kind", "hour") +
		archivetest.MetricLabel(t, r.reg, "sfstream_archiver_parquet_files_written_total", "kind", "late")
	if pfiles != files || archivetest.Metric(t, r.reg, "sfstream_archiver_parquet_rows_written_total") != n {
		t.Errorf("metrics: %v parquet files for %v objects, %v rows for %v events", pfiles, files,
			archivetest.Metric(t, r.reg, "sfstream_archiver_parquet_rows_written_total"), n)
	}
	t.Logf("%d Parquet files (%d late), %v rows; %d NetworkFlows to 443 found by duckdb", len(rep.Files), late, rep.Queries["rows"], nf)
}
