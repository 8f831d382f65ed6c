package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHuntPrintsAlertsAsJSONLines(t *testing.T) {
	rulesFile := filepath.Join(t.TempDir(), "setuid.yaml")
	if err := os.WriteFile(rulesFile, []byte(`
- rule: any_setuid
  desc: every setuid
  condition: sf.type = PE and sf.opflags = SETUID
  output: setuid by %sf.proc.exe uid %sf.proc.uid ret %sf.ret
  priority: NOTICE
  tags: [t]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err := dispatch(t.Context(), []string{"hunt", "--rules", rulesFile, "../../testdata/reference/setuid"}, func(string) string { return "" }, &out, &errOut)
	if err != nil {
		t.Fatalf("hunt: %v\n%s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{"setuid by ./setuid uid 500 ret 0", "setuid by ./setuid uid 500 ret -1"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, l := range lines {
		var a struct {
			Rule, Priority, Output, Exporter, Key, Kind string
			Tags                                        []string
		}
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, l)
		}
		if a.Rule != "any_setuid" || a.Priority != "NOTICE" || a.Output != want[i] || a.Kind != "PE" || a.Exporter != "tests" ||
			!strings.HasPrefix(a.Key, "tests/P/") || len(a.Tags) != 1 {
			t.Errorf("line %d: %+v", i, a)
		}
	}
	// The default rule set finds nothing in the reference captures.
	out.Reset()
	if err := dispatch(t.Context(), []string{"hunt", "../../testdata/reference"}, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 {
		t.Errorf("default rules on the reference captures:\n%s", out.String())
	}
	// A bad rule file is refused with its position.
	if err := os.WriteFile(rulesFile, []byte("- rule: r\n  desc: d\n  condition: sf.type = = PE\n  output: o\n  priority: NOTICE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = dispatch(t.Context(), []string{"hunt", "--rules", rulesFile, "../../testdata/reference/setuid"}, func(string) string { return "" }, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), rulesFile+":3:") {
		t.Fatalf("err = %v, want the rule file's position", err)
	}
}
