package sffile_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// referenceDir is the project's testdata/reference seen from this package.
var referenceDir = filepath.Join("..", "..", "testdata", "reference")

func readAll(t testing.TB, path string) []sysflow.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open reference file: %v", err)
	}
	defer f.Close()
	r, err := sffile.NewReader(f)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var recs []sysflow.Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return recs
		}
		if err != nil {
			t.Fatalf("read %s after %d records: %v", path, len(recs), err)
		}
		recs = append(recs, rec)
	}
}

func countKinds(recs []sysflow.Record) map[string]int {
	m := map[string]int{}
	for _, r := range recs {
		m[r.Kind().String()]++
	}
	return m
}

// The counts are those of the reference folder's README (independent Avro reader).
func TestReadReferenceFiles(t *testing.T) {
	tests := []struct {
		file   string
		total  int
		counts map[string]int
	}{
		{"alpine/alpine.sf", 39, map[string]int{"P": 8, "PE": 8, "FF": 16, "F": 5, "C": 1, "H": 1}},
		{"client-server/tcp-client-server.sf", 23, map[string]int{"P": 10, "PE": 4, "FF": 4, "NF": 2, "F": 2, "H": 1}},
		{"files/files.sf", 41, nil},
		{"files/filesat.sf", 43, nil},
		{"rename/rename.sf", 60, nil},
		{"setuid/setuid.sf", 21, nil},
		{"legacy-v1/files-v1.sf", 41, nil},
		{"legacy-v1/nodejs-mon.1544763289.sf", 2464, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			recs := readAll(t, filepath.Join(referenceDir, tt.file))
			if len(recs) != tt.total {
				t.Fatalf("read %d records, want %d (%v)", len(recs), tt.total, countKinds(recs))
			}
			got := countKinds(recs)
			t.Logf("%s: %v", tt.file, got)
			for k, want := range tt.counts {
				if got[k] != want {
					t.Errorf("%s records: got %d, want %d", k, got[k], want)
				}
			}
			if recs[0].Kind() != sysflow.KindHeader {
				t.Errorf("first record is %s, want the header", recs[0].Kind())
			}
		})
	}
}
