package service

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// EnvPrefix prefixes the environment variable of every flag.
const EnvPrefix = "SFSTREAM_"

// Flags is a flag set whose unset flags fall back to the environment and a config file.
type Flags struct {
	*flag.FlagSet
	config string
}

// NewFlags returns a flag set for the binary name; usage is printed above the flag list.
func NewFlags(name, usage string, out io.Writer) *Flags {
	f := &Flags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.SetOutput(out)
	f.StringVar(&f.config, "config", "", "YAML config file; keys are flag names (e.g. kafka-brokers: host:9092)")
	f.Usage = func() {
		fmt.Fprintf(out, "Usage: %s\n\nFlags (each also from the environment as %s<FLAG>, e.g. %sKAFKA_BROKERS):\n", usage, EnvPrefix, EnvPrefix)
		f.PrintDefaults()
	}
	return f
}

// EnvName returns the environment variable of flag name.
func EnvName(name string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Parse parses args, then fills every flag not given on the command line from getenv and then
// from the config file. It returns flag.ErrHelp for -h.
func (f *Flags) Parse(args []string, getenv func(string) string) error {
	if err := f.FlagSet.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	var errs []error
	f.VisitAll(func(fl *flag.Flag) {
		if set[fl.Name] || fl.Name == "config" {
			return
		}
		if v := getenv(EnvName(fl.Name)); v != "" {
			if err := fl.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", EnvName(fl.Name), err))
			}
			set[fl.Name] = true
		}
	})
	if f.config == "" {
		f.config = getenv(EnvName("config"))
	}
	if f.config != "" {
		values, err := readConfig(f.config)
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(values))
		for k := range values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fl := f.Lookup(k)
			if fl == nil {
				errs = append(errs, fmt.Errorf("config %s: unknown setting %q", f.config, k))
				continue
			}
			if set[k] {
				continue
			}
			if err := fl.Value.Set(values[k]); err != nil {
				errs = append(errs, fmt.Errorf("config %s: %s: %w", f.config, k, err))
			}
		}
	}
	return errors.Join(errs...)
}

// readConfig reads a flat YAML map of flag names to scalar values (lists are joined with
// commas).
func readConfig(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		switch x := v.(type) {
		case []any:
			parts := make([]string, len(x))
			for i, p := range x {
				parts[i] = fmt.Sprint(p)
			}
			out[k] = strings.Join(parts, ",")
		case map[string]any:
			return nil, fmt.Errorf("read config %s: %s: nested maps are not settings", path, k)
		case nil:
			out[k] = ""
		default:
			out[k] = fmt.Sprint(x)
		}
	}
	return out, nil
}

// ListFlag is a comma-separated list flag.
type ListFlag []string

func (l *ListFlag) String() string { return strings.Join(*l, ",") }

// Set replaces the list with the comma-separated values of v.
func (l *ListFlag) Set(v string) error {
	*l = nil
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}
