// Package sysprint is sfprint's implementation, shared with the consumer API: SysFlow records
// printed in the reference sysprint's fields and formats (str, json, flatjson, csv) from
// files, directories, S3 and Kafka, and SFQL filtering (package sysflow/sfql) over those
// fields. cmd/sfprint is its main (Run, ExitCode; the command's documentation is there);
// sysflow/consumer filters with Filter, so that an expression selects the same records in
// sfprint --filter and in a Go program.
//
// Invariants: field names, values and layouts are sysprint's (golden files in testdata and a
// differential test against the reference's sysprint -f); a Filter sees what sfprint --filter
// sees.
//
// Metrics: none.
package sysprint

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// usageError marks errors in the command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCode reports err on stderr and returns the process status: 0 for success (and -h), 2 for
// usage errors, 1 for anything else.
func exitCode(err error, stderr io.Writer) int {
	var usage usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "sfprint: %v\n(sfprint -h for help)\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "sfprint: %v\n", err)
	return 1
}

// Run is sfprint with its arguments (without the program name) and output streams; ExitCode
// turns its error into the process status.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return run(ctx, args, stdout, stderr)
}

// ExitCode reports err on stderr and returns sfprint's process status: 0 for success (and -h),
// 2 for usage errors, 1 for anything else.
func ExitCode(err error, stderr io.Writer) int { return exitCode(err, stderr) }

// run is sfprint with its arguments (without the program name) and output streams.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	cfg, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	if cfg.List {
		return listFields(stdout)
	}
	sel, err := cfg.selectedFields()
	if err != nil {
		return usageError{err}
	}
	out := stdout
	if cfg.OutPath != "" {
		f, err := os.Create(cfg.OutPath)
		if err != nil {
			return fmt.Errorf("create output: %w", err)
		}
		defer func() {
			if cerr := f.Close(); cerr != nil {
				err = errors.Join(err, fmt.Errorf("close output: %w", cerr))
			}
		}()
		out = f
	}
	p := newPrinter(cfg.Output, out, sel)
	if cfg.Stats {
		p = newStatsPrinter(out)
	}
	if cfg.Filter != "" {
		fp, err := newFilterPrinter(p, cfg.Filter, cfg.Defs)
		if err != nil {
			return usageError{err}
		}
		p = fp
	}
	readErr := printPaths(ctx, cfg, p, stderr)
	// After a write error the flush fails the same way: report it once.
	if cerr := p.close(); cerr != nil && !errors.As(readErr, new(outputError)) {
		return errors.Join(readErr, outputError{cerr})
	}
	return readErr
}

// listFields prints every field and its description as sysprint -l does.
func listFields(w io.Writer) error {
	const rule = "------------------------------\n"
	b := []byte(rule + "List of attributes:\n" + rule)
	for _, f := range fields {
		b = fmt.Appendf(b, "%-40s %-40s\n", f.name, f.desc)
	}
	b = append(b, rule...)
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write field list: %w", err)
	}
	return nil
}
