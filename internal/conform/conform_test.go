package conform_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sfstream/sfstream/internal/conform"
	"github.com/sfstream/sfstream/internal/sffile"
	"github.com/sfstream/sfstream/internal/sysflow"
)

var refDir = filepath.Join("..", "..", "testdata", "reference")

func read(t *testing.T, path string) []sysflow.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := sffile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []sysflow.Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rec)
	}
}

func TestIdenticalIsFullMatch(t *testing.T) {
	ref := read(t, filepath.Join(refDir, "alpine", "alpine.sf"))
	rep := conform.Compare(ref, read(t, filepath.Join(refDir, "alpine", "alpine.sf")))
	if rep.Percent() != 100 || len(rep.Diffs) != 0 || len(rep.Extra) != 0 || rep.OutOfOrder != 0 {
		t.Fatalf("self comparison: %.1f%%, %d diffs, %d extra, %d out of order", rep.Percent(), len(rep.Diffs), len(rep.Extra), rep.OutOfOrder)
	}
}

func TestDifferencesAreNamed(t *testing.T) {
	ref := read(t, filepath.Join(refDir, "client-server", "tcp-client-server.sf"))
	ours := read(t, filepath.Join(refDir, "client-server", "tcp-client-server.sf"))
	// Change one flow's byte count, drop one record, reverse the order of the rest.
	var nf *sysflow.NetworkFlow
	for _, r := range ours {
		if f, ok := r.(*sysflow.NetworkFlow); ok {
			nf = f
			break
		}
	}
	nf.NumWSendBytes += 7
	ours = ours[:len(ours)-1]
	for i, j := 1, len(ours)-1; i < j; i, j = i+1, j-1 {
		ours[i], ours[j] = ours[j], ours[i]
	}
	rep := conform.Compare(ref, ours)
	var b bytes.Buffer
	rep.Write(&b)
	out := b.String()
	t.Log(out)
	if rep.Matched != rep.Compared-2 {
		t.Errorf("matched %d of %d, want all but 2", rep.Matched, rep.Compared)
	}
	if !strings.Contains(out, "numWSendBytes") {
		t.Error("report does not name the changed field")
	}
	if rep.OutOfOrder == 0 {
		t.Error("reversed order not reported")
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[len(lines)-1], "matched ") || !strings.HasSuffix(lines[len(lines)-1], "%") {
		t.Errorf("last line %q is not the matched percentage", lines[len(lines)-1])
	}
}
