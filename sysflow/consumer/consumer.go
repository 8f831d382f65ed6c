package consumer

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sfstream/sfstream/internal/sysprint"
	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sfql"
)

// Source is a stream of flattened SysFlow records.
type Source interface {
	// Next returns the next record that passes the filter, io.EOF at the end of the input,
	// or an error. It blocks until a record comes or ctx ends.
	Next(ctx context.Context) (*sysflow.Flat, error)
	// Close releases what the source holds (and, in a consumer group, commits the offsets
	// of the records returned and leaves the group).
	Close() error
}

// Option configures a Source.
type Option func(*options)

type options struct {
	filter string
	defs   *sfql.Defs
	log    *slog.Logger
}

// WithFilter keeps only the records that match the SFQL expression expr (sfprint --filter's
// language and fields: type = NF and net.dport = 80). Default: every record.
func WithFilter(expr string) Option { return func(o *options) { o.filter = expr } }

// WithDefs gives the filter the lists and macros of defs (sfql.LoadDefs). Default: none.
func WithDefs(defs *sfql.Defs) Option { return func(o *options) { o.defs = defs } }

// WithLogger sets the logger for skipped files and records. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

func newOptions(opts []Option) (options, *sysprint.Filter, error) {
	o := options{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	if o.filter == "" {
		return o, nil, nil
	}
	f, err := sysprint.NewFilter(o.filter, o.defs)
	if err != nil {
		return o, nil, fmt.Errorf("filter: %w", err)
	}
	return o, f, nil
}

// Log keys.
const (
	logKeyFile      = "file"
	logKeyErr       = "err"
	logKeyPartition = "partition"
	logKeyOffset    = "offset"
)
