package engine

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// HuntFiles lists the SysFlow files of paths: a file is itself; a directory (an archive) gives
// every .sf file below it, in name order (the archive's names sort by exporter, day, hour and
// partition).
func HuntFiles(paths ...string) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("hunt: %w", err)
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), ".sf") {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("hunt: walk %s: %w", p, err)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

// Hunt evaluates ev's rules over the records of one SysFlow file, as the live engine does
// over the topics (each event or flow joined with the entities the file holds before it),
// and calls emit with each alert in record order. The exporter is the file's header's.
func Hunt(r io.Reader, ev *Evaluator, emit func(*codec.Alert) error) error {
	fr, err := sffile.NewFlatReader(r, sysflow.WithResetOnHeader())
	if err != nil {
		return fmt.Errorf("hunt: %w", err)
	}
	var alerts []codec.Alert
	for {
		flat, err := fr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("hunt: %w", err)
		}
		exporter := ""
		if flat.Header != nil {
			exporter = flat.Header.Exporter
		}
		if alerts, err = ev.Eval(alerts[:0], *flat, exporter); err != nil {
			return fmt.Errorf("hunt: %w", err)
		}
		for i := range alerts {
			if err := emit(&alerts[i]); err != nil {
				return err
			}
		}
	}
}

// HuntPaths runs Hunt over every file of HuntFiles(paths...).
func HuntPaths(ev *Evaluator, emit func(*codec.Alert) error, paths ...string) error {
	files, err := HuntFiles(paths...)
	if err != nil {
		return err
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("hunt: %w", err)
		}
		err = Hunt(f, ev, emit)
		cerr := f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if cerr != nil {
			return fmt.Errorf("hunt: %w", cerr)
		}
	}
	return nil
}

// JSONAlert is an alert as sfstream hunt prints it (one JSON object per line): the alert's
// fields but the record's bytes, and the process key it is keyed by on sysflow.alerts.
type JSONAlert struct {
	Rule        string   `json:"rule"`
	Priority    string   `json:"priority"`
	Tags        []string `json:"tags"`
	Output      string   `json:"output"`
	Exporter    string   `json:"exporter"`
	Key         string   `json:"key"`
	TS          int64    `json:"ts"`
	Kind        string   `json:"kind"`
	HPID        int64    `json:"hpid"`
	CreateTS    int64    `json:"createTS"`
	ContainerID *string  `json:"containerId,omitempty"`
	FilePath    *string  `json:"filePath,omitempty"`
}

// ToJSON returns a's printed form.
func ToJSON(a *codec.Alert) JSONAlert {
	tags := a.Tags
	if tags == nil {
		tags = []string{}
	}
	return JSONAlert{
		Rule: a.Rule, Priority: a.Priority, Tags: tags, Output: a.Output, Exporter: a.Exporter,
		Key: sysflow.OID{HPID: a.HPID, CreateTS: a.CreateTS}.Key(a.Exporter), TS: a.TS, Kind: a.Kind,
		HPID: a.HPID, CreateTS: a.CreateTS, ContainerID: a.ContainerID, FilePath: a.FilePath,
	}
}
