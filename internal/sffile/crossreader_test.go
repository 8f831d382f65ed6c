package sffile_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sfstream/sfstream/internal/sffile"
)

// pythonWithFastavro returns a Python interpreter that can import fastavro: $SFSTREAM_PYTHON
// (make test-deps sets it up), else python3. Where CI runs, a missing fastavro fails the test.
func pythonWithFastavro(t *testing.T) string {
	t.Helper()
	py := os.Getenv("SFSTREAM_PYTHON")
	if py == "" {
		py = "python3"
	}
	if out, err := exec.Command(py, "-c", "import fastavro").CombinedOutput(); err != nil {
		msg := "fastavro is not importable by " + py + " (run `make test-deps` and set SFSTREAM_PYTHON): " + strings.TrimSpace(string(out))
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return py
}

// generic turns a record into what fastavro's JSON dump holds: avro field names, fixed and
// bytes as hex, enums as symbols, nil pointers as null.
func generic(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return generic(v.Elem())
	case reflect.Struct:
		m := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			m[v.Type().Field(i).Tag.Get("avro")] = generic(v.Field(i))
		}
		return m
	case reflect.Array:
		b := make([]byte, v.Len())
		reflect.Copy(reflect.ValueOf(b), v)
		return hex.EncodeToString(b)
	case reflect.Slice:
		out := []any{}
		for i := 0; i < v.Len(); i++ {
			out = append(out, generic(v.Index(i)))
		}
		return out
	case reflect.Map:
		m := map[string]any{}
		for _, k := range v.MapKeys() {
			m[k.String()] = generic(v.MapIndex(k))
		}
		return m
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int32, reflect.Int64:
		return float64(v.Int())
	}
	panic("unhandled kind " + v.Kind().String())
}

func TestFastavroReadsOurFiles(t *testing.T) {
	py := pythonWithFastavro(t)
	for _, codec := range []string{sffile.CodecDeflate, sffile.CodecNull} {
		t.Run(codec, func(t *testing.T) {
			recs := records()
			path := filepath.Join(t.TempDir(), "x.sf")
			if err := os.WriteFile(path, writeFile(t, recs, sffile.WithCodec(codec), sffile.WithBlockSize(200)), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(py, filepath.Join("testdata", "fastavro_dump.py"), path)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("fastavro: %v: %s", err, stderr.String())
			}
			sc := bufio.NewScanner(bytes.NewReader(out))
			sc.Buffer(nil, 1<<20)
			sc.Scan()
			var hdr struct {
				Codec      string `json:"codec"`
				SchemaName string `json:"schema_name"`
			}
			if err := json.Unmarshal(sc.Bytes(), &hdr); err != nil || hdr.Codec != codec || !strings.HasSuffix(hdr.SchemaName, "SysFlow") {
				t.Fatalf("file header as fastavro sees it: %s (%v)", sc.Text(), err)
			}
			i := 0
			for sc.Scan() {
				var line struct {
					Type string `json:"type"`
					Rec  any    `json:"rec"`
				}
				if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
					t.Fatalf("line %d: %v", i, err)
				}
				if i >= len(recs) {
					t.Fatalf("fastavro read more records than the %d written", len(recs))
				}
				if want := recs[i].Kind().FullName(); line.Type != want {
					t.Errorf("record %d: fastavro type %s, want %s", i, line.Type, want)
				}
				if want := generic(reflect.ValueOf(recs[i])); !reflect.DeepEqual(line.Rec, want) {
					t.Errorf("record %d (%s):\nfastavro %v\n    want %v", i, line.Type, line.Rec, want)
				}
				i++
			}
			if i != len(recs) {
				t.Fatalf("fastavro read %d records, wrote %d", i, len(recs))
			}
		})
	}
}
