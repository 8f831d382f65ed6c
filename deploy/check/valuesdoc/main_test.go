package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const values = `# The file's own comment is not a value's.

# -- A scalar.
name: ""
image:
  # -- A nested scalar.
  tag: ""
  # -- Documented as a whole: its keys have no comments.
  resources:
    requests:
      cpu: 1
# -- An empty map.
labels: {}
undocumented: 1
`

func TestRun(t *testing.T) {
	tests := []struct {
		name, readme, wantErr string
	}{
		{
			name: "undocumented value",
			readme: "| value | default |\n|---|---|\n| `name` | x |\n| `image.tag` | x |\n" +
				"| `image.resources` | x |\n| `labels` | x |\n| `undocumented` | x |\n",
			wantErr: "values.yaml:14: undocumented has no comment",
		},
		{
			name:    "missing row",
			readme:  "| `name` | x |\n| `image.tag` | x |\n| `labels` | x |\n| `undocumented` | x |\n",
			wantErr: "no table row for image.resources",
		},
		{
			name: "stale row",
			readme: "| `name` | x |\n| `image.tag` | x |\n| `image.resources` | x |\n| `labels` | x |\n" +
				"| `undocumented` | x |\n| `gone` | x |\n",
			wantErr: "row for gone, which is not a value",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			valuesPath := filepath.Join(dir, "values.yaml")
			readmePath := filepath.Join(dir, "README.md")
			if err := os.WriteFile(valuesPath, []byte(values), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(readmePath, []byte(tt.readme), 0o600); err != nil {
				t.Fatal(err)
			}
			err := run(valuesPath, readmePath)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestRunDocumented(t *testing.T) {
	dir := t.TempDir()
	valuesPath := filepath.Join(dir, "values.yaml")
	readmePath := filepath.Join(dir, "README.md")
	documented := strings.Replace(values, "undocumented: 1", "# -- Now documented.\nundocumented: 1", 1)
	readme := "| `name` | x |\n| `image.tag` | x |\n| `image.resources` | x |\n| `labels` | x |\n| `undocumented` | x |\n"
	if err := os.WriteFile(valuesPath, []byte(documented), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(readmePath, []byte(readme), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(valuesPath, readmePath); err != nil {
		t.Fatalf("run: %v", err)
	}
}
