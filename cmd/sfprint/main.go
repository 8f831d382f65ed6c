// Command sfprint prints SysFlow records in sysprint's fields and formats.
//
//	sfprint [-o str|json|flatjson|csv] [-f FIELDS] [-A] [-w OUT] [-E] [--filter EXPR [--defs FILES]] PATH...
//	sfprint --stats PATH...
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
// --stats prints, instead of records, one line per file (files, directories and s3:// paths):
// its records by type, what its exporter captured and lost in the file's hour as the
// archiver's metadata states it (captured, lost, and lost by kind: kernel, queue, other;
// excluded by filters), and the coverage captured/(captured+lost); "-" for a file that states
// no counts (the reference's, or archived before counts); a TOTAL line after several files.
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
	"os"
	"os/signal"
	"syscall"

	"github.com/sfstream/sfstream/internal/sysprint"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := sysprint.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(sysprint.ExitCode(err, os.Stderr))
}
