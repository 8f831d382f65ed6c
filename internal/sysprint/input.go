package sysprint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// printPaths prints every path of cfg in order. A file that cannot be read fully is reported
// in the returned error and the others are still printed; files in directories that are not
// SysFlow are skipped with a warning on stderr.
func printPaths(ctx context.Context, cfg Config, p printer, stderr io.Writer) error {
	var errs []error
	for _, path := range cfg.Paths {
		if isRemote(path) {
			err := printRemote(ctx, cfg, path, p, stderr)
			if err != nil {
				errs = append(errs, err)
			}
			if isFatal(ctx, err) {
				break
			}
			continue
		}
		info, err := os.Stat(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("read %s: %w", path, err))
			continue
		}
		if !info.IsDir() {
			err := printFile(ctx, path, cfg.Entities, p)
			if err != nil {
				errs = append(errs, err)
			}
			if isFatal(ctx, err) {
				break
			}
			continue
		}
		err = filepath.WalkDir(path, func(file string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				errs = append(errs, fmt.Errorf("read %s: %w", file, err))
				return nil // WalkDir skips what it could not read and goes on
			case d.IsDir():
				return nil
			case strings.HasSuffix(d.Name(), ".parquet"):
				return nil // the archiver's Parquet copies of the SysFlow files beside them
			case d.Type()&fs.ModeSymlink != 0: // print a linked file, never walk a linked directory
				if info, err := os.Stat(file); err != nil || !info.Mode().IsRegular() {
					return nil
				}
			case !d.Type().IsRegular():
				return nil
			}
			err = printFile(ctx, file, cfg.Entities, p)
			switch {
			case errors.Is(err, sffile.ErrNotSysFlow):
				fmt.Fprintf(stderr, "sfprint: warning: skipping %v\n", err)
			case isFatal(ctx, err):
				return err
			case err != nil:
				errs = append(errs, err)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
		if isFatal(ctx, err) {
			break
		}
	}
	return errors.Join(errs...)
}

// outputError is a failure to write the output: unlike a bad input file it ends the run.
type outputError struct{ err error }

func (e outputError) Error() string { return "write output: " + e.err.Error() }
func (e outputError) Unwrap() error { return e.err }

// isFatal reports whether err (from printing one file) must stop the run.
func isFatal(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.As(err, new(outputError))
}

// printFile prints the records of one SysFlow file, stopping at the first unreadable one. A
// file that is no SysFlow file at all (wrong magic, no SysFlow schema, empty), as opposed to a
// damaged one, gives an error wrapping sffile.ErrNotSysFlow.
func printFile(ctx context.Context, path string, entities bool, p printer) (err error) {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer func() { _ = f.Close() }() // read-only: a close error loses nothing
	r, err := sffile.NewReader(f)
	if err != nil {
		switch {
		case errors.Is(err, sffile.ErrNotSysFlow):
			return fmt.Errorf("%s: %w", path, err)
		case isEmpty(f):
			return fmt.Errorf("%s: %w: empty file", path, sffile.ErrNotSysFlow)
		}
		return fmt.Errorf("read %s: %w", path, err)
	}
	return printRecords(ctx, path, r, entities, p)
}

// printRecords prints the records of an opened SysFlow file, flattened, stopping at the first
// unreadable one (what was read before it is printed). name is the file in messages.
func printRecords(ctx context.Context, name string, r *sffile.Reader, entities bool, p printer) error {
	if sp, ok := p.(*statsPrinter); ok {
		return sp.file(ctx, name, r)
	}
	has, err := parseSchemaFields(r.Schema())
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	opts := []sysflow.FlattenOption{sysflow.WithResetOnHeader()}
	if entities {
		opts = append(opts, sysflow.WithEntities())
	}
	fl := sysflow.NewFlattener(opts...)
	if err := p.beginFile(); err != nil {
		return outputError{err}
	}
	idx := 0
	for {
		if idx%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, rerr := r.Next()
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			readErr := fmt.Errorf("read %s: stopped after %d records: %w", name, r.Records(), rerr)
			if err := p.endFile(); err != nil {
				return errors.Join(readErr, outputError{err})
			}
			return readErr
		}
		flat, ok := fl.Add(rec)
		if !ok {
			continue
		}
		row := newRecord(flat, idx, has)
		idx++
		if err := p.write(&row); err != nil {
			return outputError{err}
		}
	}
	if err := p.endFile(); err != nil {
		return outputError{err}
	}
	return nil
}

// isEmpty reports whether f has no bytes.
func isEmpty(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Size() == 0
}
