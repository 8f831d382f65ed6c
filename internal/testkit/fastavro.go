package testkit

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

//go:embed fastavro_dump.py
var fastavroDump []byte

// FastavroRecord is one record of a SysFlow file as fastavro (an independent Avro
// implementation) reads it: the union branch's full name and its fields.
type FastavroRecord struct {
	Type string         `json:"type"`
	Rec  map[string]any `json:"rec"`
}

// Fastavro reads a SysFlow file with Python's fastavro and returns its records. The
// interpreter is $SFSTREAM_PYTHON (make test-deps installs fastavro into a venv and sets it),
// else python3. Where CI runs (CI set), a missing fastavro fails the test; elsewhere it skips.
func Fastavro(t testing.TB, path string) []FastavroRecord {
	t.Helper()
	py := python(t)
	script := filepath.Join(t.TempDir(), "fastavro_dump.py")
	if err := os.WriteFile(script, fastavroDump, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, script, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("fastavro %s: %v: %s", path, err, stderr.String())
	}
	var recs []FastavroRecord
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	sc.Scan() // the file header line
	for sc.Scan() {
		var r FastavroRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("fastavro %s: %v", path, err)
		}
		recs = append(recs, r)
	}
	return recs
}
