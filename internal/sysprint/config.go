package sysprint

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Config is sfprint's command line.
type Config struct {
	Output    string   // output format: str (default), json, flatjson or csv
	Fields    []string // field names; empty for the format's default
	AllFields bool     // every field, also in str output
	OutPath   string   // write here instead of standard output
	List      bool     // list the fields and exit
	Entities  bool     // print entity records (header, container, process, file, pod) too
	Paths     []string // files and directories to read
	Filter    string   // SFQL expression: print only the records that match (empty: all)
	Defs      []string // SFQL definition files (lists and macros) for Filter
	Stats     bool     // print per file its records by type and capture counts instead of records

	Remote remoteConfig // settings of s3:// and kafka:// paths (remote.go)
}

const usageText = `usage: sfprint [-o str|json|flatjson|csv] [-f FIELDS] [-A] [-w OUT] [-E]
               [--filter EXPR [--defs FILE,...]] PATH...
       sfprint --stats PATH...
       sfprint -l

Prints SysFlow files (and directories of them, recursively) with sysprint's fields and formats.
A PATH may also be s3://bucket/prefix (the objects under the prefix, in name order) or
kafka://broker:port/topic (the topic from its start to its current end). --filter prints only
the records that match an SFQL expression (sysprint's -f), such as
'type = NF and net.dport in (80, 443)'; --defs loads its lists and macros. --stats prints, per
file, its records by type and what its exporter captured and lost in its hour (the archiver's
sfstream.captured and sfstream.lost* metadata) with the coverage, captured/(captured+lost).

`

// parseArgs reads the command line. Flags may come before, between and after the paths.
func parseArgs(args []string, stderr io.Writer) (Config, error) {
	var cfg Config
	var fieldList string
	fs := flag.NewFlagSet("sfprint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Output, "o", formatStr, "output `format`: str, json (nested keys), flatjson or csv")
	fs.StringVar(&fieldList, "f", "", "comma-separated `fields` to print (default: all for json and csv, the standard columns for str)")
	fs.BoolVar(&cfg.AllFields, "A", false, "print every field, also in str output")
	fs.StringVar(&cfg.OutPath, "w", "", "write to `file` instead of standard output")
	fs.BoolVar(&cfg.List, "l", false, "list the fields and their descriptions")
	fs.BoolVar(&cfg.Entities, "E", false, "print entity records (H, C, P, F, POD) as well as events and flows")
	fs.BoolVar(&cfg.Stats, "stats", false, "print per file its records by type, events captured and lost, and coverage, instead of records")
	fs.StringVar(&cfg.Filter, "filter", "", "print only the records that match the SFQL `expression` (sysprint's -f)")
	fs.Func("defs", "SFQL definition `files` (YAML lists and macros) for --filter; repeatable or comma-separated", func(v string) error {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				cfg.Defs = append(cfg.Defs, p)
			}
		}
		return nil
	})
	addRemoteFlags(fs, &cfg.Remote)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return cfg, err
			}
			return cfg, usageError{err}
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" { // everything after -- is a path
			cfg.Paths = append(cfg.Paths, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		cfg.Paths = append(cfg.Paths, rest[0])
		args = rest[1:]
	}
	if fieldList != "" {
		cfg.Fields = strings.Split(fieldList, ",")
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

// Validate checks the configuration once, before anything is read.
func (c *Config) Validate() error {
	switch c.Output {
	case formatStr, formatJSON, formatFlatJSON, formatCSV:
	default:
		return fmt.Errorf("unknown output format %q (want str, json, flatjson or csv)", c.Output)
	}
	if c.List {
		return nil
	}
	if c.Stats && (c.Filter != "" || len(c.Fields) > 0 || c.AllFields) {
		return errors.New("--stats takes no --filter, -f or -A")
	}
	if c.Stats {
		for _, p := range c.Paths {
			if strings.HasPrefix(p, "kafka://") {
				return fmt.Errorf("%s: --stats reads files, directories and s3:// (a topic has no file metadata)", p)
			}
		}
	}
	if len(c.Defs) > 0 && c.Filter == "" {
		return errors.New("--defs needs --filter")
	}
	if len(c.Paths) == 0 {
		return errors.New("no path given")
	}
	for _, p := range c.Paths {
		if isRemote(p) {
			if err := c.Remote.validate(p); err != nil {
				return err
			}
			continue
		}
		if strings.Contains(p, "://") {
			return fmt.Errorf("%s: unknown URL scheme (want a local file or directory, s3:// or kafka://)", p)
		}
	}
	_, err := c.selectedFields()
	return err
}

// selectedFields returns the fields to print: those named with -f, else every field (-A, or
// json and csv output), else sysprint's default columns.
func (c *Config) selectedFields() ([]fieldInfo, error) {
	switch {
	case c.AllFields:
		return allRecordFields(), nil
	case len(c.Fields) > 0:
		return selectFields(c.Fields)
	case c.Output == formatStr:
		return selectFields(defaultTableFields[:])
	}
	return allRecordFields(), nil
}
