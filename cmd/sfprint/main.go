// Command sfprint prints SysFlow records in sysprint's fields and formats.
//
//	sfprint [-o str|json|flatjson|csv] [-f FIELDS] [-A] [-w OUT] [-E] [--filter EXPR [--defs FILES]] PATH...
//	sfprint -l
//
// A PATH is a SysFlow file or a directory, read recursively in lexical order (files that are
// not SysFlow are skipped with a warning). Each event and flow is printed with the entities it
// references (sysflow.Flattener); -E prints the entity records too. Field names, record type
// abbreviations (H C P F PE NF FF FE NE PF POD KE), values and the JSON and CSV layouts are
// those of the reference sysprint (sf-apis py3): json nests the dotted names ("proc": {"pid":
// ...}), flatjson keeps them flat, csv has a header row, str is an aligned table. Without -f,
// json and csv carry every field and str the default columns (ts_uts, type, proc.exe,
// proc.args, pproc.pid, proc.pid, proc.tid, opflags, res, flow.rbytes, flow.wbytes,
// container.id).
//
// --filter EXPR prints only the records that match the SFQL expression EXPR, in every format
// and from every kind of PATH, as sysprint -f does (package sysflow/sfql: the language, its
// fields and where it deliberately differs from the reference); --defs FILE (repeatable or
// comma-separated) loads YAML lists and macros for it. Records are numbered (idx) among those
// printed, as in sysprint. A bad expression is a usage error that gives its line:column.
//
// A corrupt or truncated file prints every record before the damage, then sfprint reports
// the file and byte offset on stderr, goes on with the other paths and exits with status 1.
// Usage errors exit with status 2.
//
// A PATH may also be s3://bucket/prefix: the objects under the prefix in name order (with
// -from/-to, only the archive objects of those UTC hours), reached with sysprint's S3 flags
// (-e endpoint, -p port, -a access key, -s secret key, --secure) or SFSTREAM_S3_ENDPOINT,
// SFSTREAM_S3_ACCESS_KEY, SFSTREAM_S3_SECRET_KEY (or _FILE), SFSTREAM_S3_SECURE and
// SFSTREAM_S3_REGION. Or kafka://broker:port/topic: the topic from its start to its current
// end, read_committed, decoded through the schema registry (-registry, else
// SFSTREAM_SCHEMA_REGISTRY_URL, else port 8081 of the broker's host); events are joined with
// the entities of the sysflow.entities topic of the same prefix, read first.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

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
