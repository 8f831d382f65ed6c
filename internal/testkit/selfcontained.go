package testkit

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

//go:embed selfcontained.py
var selfContainedCheck []byte

// SelfContainedFile is what the independent self-containment check found in one SysFlow file:
// its records and the references to entities not written before them, by kind (process,
// parent, file, container), with a few examples.
type SelfContainedFile struct {
	File     string           `json:"file"`
	Records  int              `json:"records"`
	Missing  map[string]int64 `json:"missing"`
	Examples []string         `json:"examples"`
}

// Unresolved returns the number of references to entities not written before them.
func (f SelfContainedFile) Unresolved() int64 {
	var n int64
	for _, v := range f.Missing {
		n += v
	}
	return n
}

// SelfContained checks SysFlow files (and the *.sf files under directories) with
// selfcontained.py, which reads them with fastavro, an Avro implementation independent of
// ours: every process, parent, file and container a record references must be written before
// it in the same file. The interpreter is chosen as Fastavro chooses it.
func SelfContained(t testing.TB, paths ...string) []SelfContainedFile {
	t.Helper()
	py := python(t)
	script := filepath.Join(t.TempDir(), "selfcontained.py")
	if err := os.WriteFile(script, selfContainedCheck, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, append([]string{script, "--json"}, paths...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Fatalf("self-containment check of %v: %v: %s", paths, err, stderr.String())
	}
	var res []SelfContainedFile
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var f SelfContainedFile
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("self-containment check: %v: %s", err, sc.Text())
		}
		res = append(res, f)
	}
	return res
}

// python returns the interpreter with fastavro: $SFSTREAM_PYTHON, else python3. Where CI runs
// (CI set) a missing fastavro fails the test; elsewhere it skips.
func python(t testing.TB) string {
	t.Helper()
	py := os.Getenv("SFSTREAM_PYTHON")
	if py == "" {
		py = "python3"
	}
	if out, err := exec.Command(py, "-c", "import fastavro").CombinedOutput(); err != nil {
		msg := "fastavro is not importable by " + py + " (run `make test-deps`): " + strings.TrimSpace(string(out))
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return py
}
