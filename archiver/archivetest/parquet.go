package archivetest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfstream/sfstream/archiver/hourly"
	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// ParquetDir starts the names of the Parquet files under an archive's prefix.
const ParquetDir = "parquet/exporter="

//go:embed parquet_read.py
var parquetRead []byte

// ParquetReport is what pyarrow and DuckDB read in an archive's Parquet files.
type ParquetReport struct {
	// Files maps each Parquet file's name to what each reader saw.
	Files map[string]ParquetFileReport `json:"files"`
	// Queries holds the first value of each query asked for.
	Queries map[string]any `json:"queries"`
}

// ParquetFileReport is what the two readers saw in one file.
type ParquetFileReport struct {
	Pyarrow struct {
		RowsByType map[string]int    `json:"rows_by_type"`
		RowGroups  int               `json:"row_groups"`
		Columns    []string          `json:"columns"`
		TSType     string            `json:"ts_type"`
		EndTSType  string            `json:"endts_type"`
		Statistics bool              `json:"statistics"`
		Codecs     []string          `json:"codecs"`
		Metadata   map[string]string `json:"metadata"`
	} `json:"pyarrow"`
	DuckDB struct {
		RowsByType map[string]int `json:"rows_by_type"`
	} `json:"duckdb"`
}

// Python returns the interpreter the tests use ($SFSTREAM_PYTHON, which make test-deps
// points at its venv, else python3) after checking that it imports modules. Where CI runs
// (CI set) a missing module fails the test; elsewhere it skips.
func Python(t testing.TB, modules ...string) string {
	t.Helper()
	py := os.Getenv("SFSTREAM_PYTHON")
	if py == "" {
		py = "python3"
	}
	if out, err := exec.Command(py, "-c", "import "+strings.Join(modules, ", ")).CombinedOutput(); err != nil {
		msg := strings.Join(modules, " and ") + " not importable by " + py + " (run `make test-deps`): " + strings.TrimSpace(string(out))
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return py
}

// ReadParquet writes the objects to a directory and reads their Parquet files (those under
// <prefix>/parquet/) with pyarrow and DuckDB. Each query is SQL in which {glob} stands for
// every Parquet file of the archive, read with read_parquet.
func ReadParquet(t testing.TB, objects map[string][]byte, prefix string, queries map[string]string) ParquetReport {
	t.Helper()
	py := Python(t, "duckdb", "pyarrow")
	root := t.TempDir()
	var files []string
	for name, b := range objects {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".parquet") {
			files = append(files, name)
		}
	}
	sort.Strings(files)
	req, err := json.Marshal(map[string]any{
		"files": files, "queries": queries,
		"glob": path.Join(strings.Trim(prefix, "/"), "parquet", "**", "*.parquet"),
	})
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "parquet_read.py")
	if err := os.WriteFile(script, parquetRead, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, script, root, string(req))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reading the parquet files with pyarrow and duckdb: %v\n%s", err, stderr.String())
	}
	var rep ParquetReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("parquet_read.py output: %v\n%s", err, out)
	}
	return rep
}

// CheckParquet verifies that every SysFlow object of the archive has its Parquet file, and
// no Parquet file is without its object: the name is hourly.Key.ParquetName of the object's
// key; pyarrow and DuckDB both read as many rows of each type as the object has events and
// flows; ts and endts are microsecond UTC timestamps; every column chunk has statistics and
// is zstd; the key-value metadata has the object's sfstream.* entries. It returns the report.
func CheckParquet(t testing.TB, objects map[string][]byte, prefix string, queries map[string]string) ParquetReport {
	t.Helper()
	rep := ReadParquet(t, objects, prefix, queries)
	want := map[string]map[string]int{}
	meta := map[string]map[string][]byte{}
	for name, b := range objects {
		rel := strings.TrimPrefix(strings.TrimPrefix(name, strings.Trim(prefix, "/")), "/")
		if strings.HasPrefix(rel, ParquetDir) {
			continue
		}
		key, ok := objectKey(rel)
		if !ok {
			continue // Check reports it
		}
		counts, md := eventsByType(t, name, b)
		pn := key.ParquetName(prefix)
		want[pn], meta[pn] = counts, md
	}
	for name := range rep.Files {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: a Parquet file without its SysFlow object", name)
		}
	}
	for name, counts := range want {
		got, ok := rep.Files[name]
		if !ok {
			t.Errorf("%s: missing (the Parquet file of a stored object)", name)
			continue
		}
		if !equalCounts(got.Pyarrow.RowsByType, counts) {
			t.Errorf("%s: pyarrow reads rows by type %v, the object has %v", name, got.Pyarrow.RowsByType, counts)
		}
		if !equalCounts(got.DuckDB.RowsByType, counts) {
			t.Errorf("%s: duckdb reads rows by type %v, the object has %v", name, got.DuckDB.RowsByType, counts)
		}
		if got.Pyarrow.TSType != "timestamp[us, tz=UTC]" || got.Pyarrow.EndTSType != "timestamp[us, tz=UTC]" {
			t.Errorf("%s: ts %s, endts %s: want timestamp[us, tz=UTC]", name, got.Pyarrow.TSType, got.Pyarrow.EndTSType)
		}
		if !got.Pyarrow.Statistics {
			t.Errorf("%s: a column chunk without statistics", name)
		}
		if strings.Join(got.Pyarrow.Codecs, ",") != "ZSTD" {
			t.Errorf("%s: codecs %v, want ZSTD", name, got.Pyarrow.Codecs)
		}
		for _, k := range []string{hourly.MetaTopic, hourly.MetaPartition, hourly.MetaOffsets, hourly.MetaRecords} {
			if got.Pyarrow.Metadata[k] != string(meta[name][k]) {
				t.Errorf("%s: metadata %s = %q, the object's is %q", name, k, got.Pyarrow.Metadata[k], meta[name][k])
			}
		}
	}
	return rep
}

// objectKey parses the name of a SysFlow object (relative to the prefix).
func objectKey(rel string) (hourly.Key, bool) {
	m := nameRE.FindStringSubmatch(rel)
	if m == nil {
		return hourly.Key{}, false
	}
	hour, err := time.Parse("2006010215", m[5])
	if err != nil {
		return hourly.Key{}, false
	}
	p, _ := strconv.Atoi(m[6])
	k := hourly.Key{Exporter: m[1], Hour: hour.Unix(), Partition: int32(p)}
	switch {
	case m[7] == "late.sf":
		k.Variant = 1
	case m[8] != "":
		k.Variant, _ = strconv.Atoi(m[8])
	}
	return k, true
}

// eventsByType counts the events and flows of a SysFlow object by sysprint's type name, and
// returns its container metadata.
func eventsByType(t testing.TB, name string, b []byte) (map[string]int, map[string][]byte) {
	t.Helper()
	r, err := sffile.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out := map[string]int{}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out, r.Metadata()
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if k := rec.Kind(); !k.IsEntity() {
			out[k.String()]++
		}
	}
}

// NetworkFlowsTo counts the NetworkFlow records with destination port dport in the SysFlow
// objects.
func NetworkFlowsTo(t testing.TB, objects map[string][]byte, dport int32) int {
	t.Helper()
	n := 0
	for name, b := range objects {
		if !strings.HasSuffix(name, ".sf") {
			continue
		}
		r, err := sffile.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if nf, ok := rec.(*sysflow.NetworkFlow); ok && nf.DPort == dport {
				n++
			}
		}
	}
	return n
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
