package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/service"
	"github.com/sfstream/sfstream/internal/sysprint"
	"github.com/sfstream/sfstream/processors/policy/engine"
	"github.com/sfstream/sfstream/processors/policy/rules"
)

// huntCmd is sfstream hunt: the policy engine's rules over SysFlow files or an archive
// directory, alerts as JSON lines on stdout (the same alerts sf-policy produces for the same
// records).
func huntCmd(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := service.NewFlags("sfstream hunt", "sfstream hunt [--rules FILE,...] SOURCE...: evaluate rules over SysFlow files or archive directories, one JSON alert per line", stderr)
	var ruleFiles service.ListFlag
	f.Var(&ruleFiles, "rules", "rule files (Falco-style YAML), comma-separated, compiled in order (default the embedded default rule set)")
	if err := f.Parse(args, getenv); err != nil {
		return err
	}
	if f.NArg() == 0 {
		f.Usage()
		return errors.New("hunt: no SOURCE (a SysFlow file or a directory of the archive)")
	}
	files, err := rules.ReadFiles(ruleFiles...)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		files = []rules.File{rules.DefaultFile()}
	}
	set, err := rules.Compile(sysprint.QueryFields, files...)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	err = engine.HuntPaths(engine.NewEvaluator(set), func(a *codec.Alert) error { return enc.Encode(engine.ToJSON(a)) }, f.Args()...)
	return errors.Join(err, w.Flush())
}
