package main

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
	"time"

	"github.com/sfstream/sfstream/internal/conform"
	"github.com/sfstream/sfstream/internal/service"
	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// errBelowThreshold makes conform exit non-zero after printing its report.
var errBelowThreshold = errors.New("conformance below threshold")

func conformCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := service.NewFlags("sfstream conform", "sfstream conform [flags] CAPTURE.scap REFERENCE.sf: replay the capture through producer, processor and archiver on a temporary embedded stack and compare the archive with the reference", stderr)
	threshold := f.Float64("threshold", 0, "exit non-zero when less than this percentage of reference records match")
	exporter := f.String("exporter-id", "tests", "exporter id of the replay (the reference used tests)")
	keep := f.String("keep", "", "keep the temporary data directory here instead of removing it")
	verbose := f.Bool("v", false, "log the pipeline's progress")
	if err := f.Parse(args, getenv); err != nil {
		return err
	}
	if f.NArg() != 2 {
		f.Usage()
		return fmt.Errorf("conform: want CAPTURE.scap REFERENCE.sf, got %d arguments", f.NArg())
	}
	capture, refPath := f.Arg(0), f.Arg(1)
	ref, err := readRecords(refPath)
	if err != nil {
		return fmt.Errorf("conform: reference: %w", err)
	}
	dir := *keep
	if dir == "" {
		if dir, err = os.MkdirTemp("", "sfstream-conform-"); err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(dir) }() // a temporary directory
	}
	level := "warn"
	if *verbose {
		level = "info"
	}
	log, err := service.NewLogger(stderr, "text", level)
	if err != nil {
		return err
	}
	o := runOptions{
		dataDir: dir, metricsAddr: "", exporter: *exporter, replay: capture, every: time.Hour,
		partitions: 1, refConfig: true, drainTimeout: 2 * time.Minute, // one partition: one file, like the reference
	}
	quiet := io.Discard
	if *verbose {
		quiet = stderr
	}
	if err := runPipeline(ctx, o, dir, log.With("run", "conform"), quiet); err != nil {
		return fmt.Errorf("conform: pipeline: %w", err)
	}
	ours, files, err := readArchive(filepath.Join(dir, "archive"))
	if err != nil {
		return fmt.Errorf("conform: archive: %w", err)
	}
	fmt.Fprintf(stdout, "capture %s through the pipeline: %d records in %d archive file(s); reference %s: %d records\n",
		capture, len(ours), files, refPath, len(ref))
	rep := conform.Compare(ref, ours)
	rep.Write(stdout)
	if rep.Percent() < *threshold {
		return fmt.Errorf("%w: matched %.1f%% < %.1f%%", errBelowThreshold, rep.Percent(), *threshold)
	}
	return nil
}

// readRecords reads every record of a SysFlow file.
func readRecords(path string) ([]sysflow.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read-only
	r, err := sffile.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []sysflow.Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, rec)
	}
}

// readArchive reads the archive's files in name order (hours, then partitions, late objects
// after their hour) into one record list.
func readArchive(dir string) ([]sysflow.Record, int, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".sf") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	sort.Strings(paths)
	var out []sysflow.Record
	for _, p := range paths {
		recs, err := readRecords(p)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, recs...)
	}
	return out, len(paths), nil
}
