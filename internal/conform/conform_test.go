package conform_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sfstream/sfstream/internal/conform"
	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
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
	if !strings.Contains(out, "\n  NF.numWSendBytes ") {
		t.Error("summary has no line for the changed field")
	}
	if rep.OutOfOrder == 0 {
		t.Error("reversed order not reported")
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[len(lines)-1], "matched ") || !strings.HasSuffix(lines[len(lines)-1], "%") {
		t.Errorf("last line %q is not the matched percentage", lines[len(lines)-1])
	}
}

func TestSummaryCountsByTypeAndField(t *testing.T) {
	procA := sysflow.OID{CreateTS: 1000, HPID: 10}
	procB := sysflow.OID{CreateTS: 1200, HPID: 10} // procA with another createTS
	ff := func(proc sysflow.OID, fd int32, bytes int64) *sysflow.FileFlow {
		return &sysflow.FileFlow{ProcOID: proc, TS: 5, FD: fd, NumWSendBytes: bytes}
	}
	header := &sysflow.Header{Version: 5, Exporter: "tests"}
	for _, tc := range []struct {
		name      string
		ref, ours []sysflow.Record
		want      []conform.FieldCount
	}{
		{
			name: "identical lists have no lines",
			ref:  []sysflow.Record{header, ff(procA, 3, 10)},
			ours: []sysflow.Record{header, ff(procA, 3, 10)},
		},
		{
			name: "one OID mapping over two flows outranks one byte counter",
			ref:  []sysflow.Record{header, ff(procA, 3, 0), ff(procA, 4, 0), ff(procA, 5, 10)},
			ours: []sysflow.Record{header, ff(procB, 3, 0), ff(procB, 4, 0), ff(procA, 5, 11)},
			want: []conform.FieldCount{
				{Kind: sysflow.KindFileFlow, What: conform.MismatchField, Field: "procOID", Records: 2, Pairs: 1,
					Common: conform.Pair{Ref: "{createTS:1000,hpid:10}", Ours: "{createTS:1200,hpid:10}", Records: 2}},
				{Kind: sysflow.KindFileFlow, What: conform.MismatchField, Field: "numWSendBytes", Records: 1, Pairs: 1,
					Common: conform.Pair{Ref: "10", Ours: "11", Records: 1}},
			},
		},
		{
			name: "distinct value pairs are counted",
			ref: []sysflow.Record{ff(sysflow.OID{CreateTS: 1, HPID: 1}, 3, 0), ff(sysflow.OID{CreateTS: 2, HPID: 2}, 3, 0),
				ff(sysflow.OID{CreateTS: 2, HPID: 2}, 4, 0)},
			ours: []sysflow.Record{ff(sysflow.OID{CreateTS: 9, HPID: 1}, 3, 0), ff(sysflow.OID{CreateTS: 8, HPID: 2}, 3, 0),
				ff(sysflow.OID{CreateTS: 8, HPID: 2}, 4, 0)},
			want: []conform.FieldCount{
				{Kind: sysflow.KindFileFlow, What: conform.MismatchField, Field: "procOID", Records: 3, Pairs: 2,
					Common: conform.Pair{Ref: "{createTS:2,hpid:2}", Ours: "{createTS:8,hpid:2}", Records: 2}},
			},
		},
		{
			name: "missing and extra records by type",
			ref: []sysflow.Record{header, &sysflow.NetworkFlow{ProcOID: procA, FD: 3}, &sysflow.NetworkFlow{ProcOID: procA, FD: 4},
				&sysflow.Process{OID: procA, Exe: "/bin/sh"}},
			ours: []sysflow.Record{header, &sysflow.Process{OID: procA, Exe: "/bin/sh"}, &sysflow.Process{OID: procB, Exe: "/bin/sh"}},
			want: []conform.FieldCount{
				{Kind: sysflow.KindNetworkFlow, What: conform.MismatchMissing, Records: 2},
				{Kind: sysflow.KindProcess, What: conform.MismatchExtra, Records: 1},
			},
		},
		{
			name: "equal counts in union order, then field lines, then declaration order",
			ref: []sysflow.Record{ff(procA, 3, 0), &sysflow.ProcessEvent{ProcOID: procA, Ret: 0},
				&sysflow.File{Path: "/a"}, &sysflow.NetworkFlow{ProcOID: procA}},
			ours: []sysflow.Record{&sysflow.FileFlow{ProcOID: procA, TS: 6, FD: 4}, &sysflow.ProcessEvent{ProcOID: procA, Ret: -1},
				&sysflow.File{Path: "/b"}, &sysflow.File{Path: "/c"}},
			want: []conform.FieldCount{
				{Kind: sysflow.KindFile, What: conform.MismatchField, Field: "path", Records: 1, Pairs: 1,
					Common: conform.Pair{Ref: "/a", Ours: "/b", Records: 1}},
				{Kind: sysflow.KindFile, What: conform.MismatchExtra, Records: 1},
				{Kind: sysflow.KindProcessEvent, What: conform.MismatchField, Field: "ret", Records: 1, Pairs: 1,
					Common: conform.Pair{Ref: "0", Ours: "-1", Records: 1}},
				{Kind: sysflow.KindNetworkFlow, What: conform.MismatchMissing, Records: 1},
				{Kind: sysflow.KindFileFlow, What: conform.MismatchField, Field: "ts", Records: 1, Pairs: 1,
					Common: conform.Pair{Ref: "5", Ours: "6", Records: 1}},
				{Kind: sysflow.KindFileFlow, What: conform.MismatchField, Field: "fd", Records: 1, Pairs: 1,
					Common: conform.Pair{Ref: "3", Ours: "4", Records: 1}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := conform.Compare(tc.ref, tc.ours).Summary()
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("summary:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestSummaryIsPrintedBeforeMatchedLine(t *testing.T) {
	procA := sysflow.OID{CreateTS: 1000, HPID: 10}
	procB := sysflow.OID{CreateTS: 1200, HPID: 10}
	for _, tc := range []struct {
		name      string
		ref, ours []sysflow.Record
		want      []string // lines the report must hold, in this order
	}{
		{
			name: "no mismatches",
			ref:  []sysflow.Record{&sysflow.FileFlow{ProcOID: procA}},
			ours: []sysflow.Record{&sysflow.FileFlow{ProcOID: procA}},
			want: []string{"mismatches by type and field: no mismatches", "matched 100.0%"},
		},
		{
			name: "a cascading OID is one line",
			ref: []sysflow.Record{&sysflow.FileFlow{ProcOID: procA, FD: 3}, &sysflow.FileFlow{ProcOID: procA, FD: 4},
				&sysflow.FileFlow{ProcOID: procA, FD: 5}, &sysflow.NetworkFlow{ProcOID: procA}},
			ours: []sysflow.Record{&sysflow.FileFlow{ProcOID: procB, FD: 3}, &sysflow.FileFlow{ProcOID: procB, FD: 4},
				&sysflow.FileFlow{ProcOID: procB, FD: 5}, &sysflow.Process{OID: procB}},
			want: []string{
				"mismatches by type and field, biggest first:",
				"  FF.procOID 3 records, 1 distinct (ref→ours) pair; commonest ×3: {createTS:1000,hpid:10} → {createTS:1200,hpid:10}",
				"  P extra    1 record of ours that no reference record took",
				"  NF missing 1 reference record with no record of ours of this type left",
				"0 of 4 reference records matched field by field",
				"matched 0.0%",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			conform.Compare(tc.ref, tc.ours).Write(&b)
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			at := 0
			for _, w := range tc.want {
				for at < len(lines) && lines[at] != w {
					at++
				}
				if at == len(lines) {
					t.Fatalf("report lacks %q (in order):\n%s", w, b.String())
				}
			}
			if at != len(lines)-1 {
				t.Errorf("last line %q, want %q", lines[len(lines)-1], tc.want[len(tc.want)-1])
			}
		})
	}
}
