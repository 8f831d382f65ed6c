package sysprint

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sfstream/sfstream/sysflow/sffile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// referenceDir is the project's testdata/reference seen from this package.
var referenceDir = filepath.Join("..", "..", "testdata", "reference")

func ref(name string) string { return filepath.Join(referenceDir, name) }

// sfprint runs the command and returns its output and exit status.
func sfprint(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	code = exitCode(err, &errOut)
	return out.String(), errOut.String(), code
}

func mustSfprint(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := sfprint(t, args...)
	if code != 0 {
		t.Fatalf("sfprint %q: exit %d: %s", args, code, errOut)
	}
	return out
}

// The golden files were checked to be byte for byte what the reference sysprint (sf-apis py3
// 0.6.1) prints for the same files and options.
func TestGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"alpine.json", []string{"-o", "json", ref("alpine/alpine.sf")}},
		{"tcp-client-server.json", []string{"-o", "json", ref("client-server/tcp-client-server.sf")}},
		{"setuid.json", []string{"-o", "json", ref("setuid/setuid.sf")}},
		{"files-v1.json", []string{"-o", "json", ref("legacy-v1/files-v1.sf")}},
		{"tcp-client-server.csv", []string{"-o", "csv", ref("client-server/tcp-client-server.sf")}},
		{"tcp-client-server.str", []string{ref("client-server/tcp-client-server.sf")}},
		{"alpine-entities.flatjson", []string{"-E", "-o", "flatjson", "-f", "type,state,proc.pid,pproc.pid,file.path,container.id,node.id,res", ref("alpine/alpine.sf")}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			got := mustSfprint(t, tt.args...)
			path := filepath.Join("testdata", tt.golden+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (run with -update to rewrite)\n%s", path, firstDiff(got, string(want)))
			}
		})
	}
}

// firstDiff describes the first differing line of two outputs.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got: %.300s\nwant: %.300s", i+1, gl, wl)
		}
	}
	return "outputs are equal"
}

// jsonLines decodes one JSON object per line.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line is not a JSON object: %v: %.200s", err, line)
		}
		recs = append(recs, m)
	}
	return recs
}

// Values checked by reasoning from SEMANTICS.md rather than against sysprint.
func TestValuesFromSemantics(t *testing.T) {
	recs := jsonLines(t, mustSfprint(t, "-o", "flatjson", ref("client-server/tcp-client-server.sf")))
	if len(recs) != 10 { // 23 records less 10 P, 2 F and the header
		t.Fatalf("%d records, want 10", len(recs))
	}
	var nfs, lds int
	for _, r := range recs {
		switch {
		case r["type"] == "NF":
			nfs++
			// §4: both ends carry the client→server tuple; 127.0.0.1 is stored as 16777343.
			want := map[string]any{"net.sip": "127.0.0.1", "net.sport": 40556.0, "net.dip": "127.0.0.1",
				"net.dport": 8080.0, "net.proto": 6.0, "res": "127.0.0.1:40556-127.0.0.1:8080", "file.path": ""}
			for k, v := range want {
				if r[k] != v {
					t.Errorf("NF %s = %v, want %v", k, r[k], v)
				}
			}
			if r["proc.exe"] == "./client" && r["opflags"] != "  CWR    T " {
				t.Errorf("client NF opflags %q, want CONNECT READ WRITE TRUNCATE", r["opflags"])
			}
		case r["file.path"] == "/etc/ld.so.cache":
			lds++
			// ld.so opens with O_RDONLY|O_CLOEXEC: PPM 1|4096; OPEN, MMAP and CLOSE.
			if r["file.openflags"] != 4097.0 || r["opflags"] != "O     M C  " || r["file.type"] != "f" || r["ret"] != nil {
				t.Errorf("ld.so.cache flow: openflags %v opflags %q type %v ret %v", r["file.openflags"], r["opflags"], r["file.type"], r["ret"])
			}
		}
		if r["node.id"] != "tests" || r["schema"] != 5.0 || r["version"] != "4" {
			t.Errorf("header fields: node.id %v schema %v version %v", r["node.id"], r["schema"], r["version"])
		}
	}
	if nfs != 2 || lds != 2 {
		t.Errorf("%d network flows and %d ld.so.cache flows, want 2 and 2", nfs, lds)
	}
	// ts 1553543280704111050 ns is 2019-03-25T19:48:00.704111050Z, printed to the microsecond.
	if recs[0]["ts"] != "2019-03-25T19:48:00.704111" || recs[0]["ts_uts"] != 1553543280704111050.0 {
		t.Errorf("first ts %v (%v)", recs[0]["ts"], recs[0]["ts_uts"])
	}

	// setuid: setuid(500) resolves to user terylt, the setuid back to root fails with -1.
	var setuids []map[string]any
	for _, r := range jsonLines(t, mustSfprint(t, "-o", "flatjson", ref("setuid/setuid.sf"))) {
		if r["opflags"] == "SETUID" {
			setuids = append(setuids, r)
		}
	}
	if len(setuids) != 2 || setuids[0]["ret"] != 0.0 || setuids[0]["proc.user"] != "terylt" ||
		setuids[1]["ret"] != -1.0 || setuids[1]["proc.uid"] != 500.0 || setuids[0]["state"] != "MODIFIED" {
		t.Errorf("setuid events: %v", setuids)
	}
}

func TestCSVOutput(t *testing.T) {
	out := mustSfprint(t, "-o", "csv", ref("client-server/tcp-client-server.sf"))
	if !strings.HasSuffix(out, "\r\n") || strings.Count(out, "\r\n") != 11 {
		t.Errorf("want 11 CRLF-terminated rows (header and 10 records), have %d", strings.Count(out, "\r\n"))
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v", err)
	}
	want := allRecordFields()
	if len(rows[0]) != len(want) {
		t.Fatalf("header has %d columns, want %d", len(rows[0]), len(want))
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		if name != want[i].name {
			t.Errorf("column %d is %q, want %q", i, name, want[i].name)
		}
		col[name] = i
	}
	nf := rows[7] // record 6: the client's network flow
	if nf[col["type"]] != "NF" || nf[col["res"]] != "127.0.0.1:40556-127.0.0.1:8080" ||
		nf[col["proc.tty"]] != "True" || nf[col["ret"]] != "" || nf[col["tags"]] != "()" {
		t.Errorf("NF row: type %q res %q tty %q ret %q tags %q", nf[col["type"]], nf[col["res"]], nf[col["proc.tty"]], nf[col["ret"]], nf[col["tags"]])
	}
	sel := mustSfprint(t, "-o", "csv", "-f", "type,proc.exe", ref("client-server/tcp-client-server.sf"))
	if !strings.HasPrefix(sel, "type,proc.exe\r\nPE,./server\r\nFF,./server\r\n") {
		t.Errorf("selected csv starts %q", sel[:min(len(sel), 60)])
	}
}

func TestStrOutput(t *testing.T) {
	out := mustSfprint(t, "-f", "type,proc.args,res", ref("setuid/setuid.sf"))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 14 { // titles, rule, 12 records
		t.Fatalf("%d lines, want 14:\n%s", len(lines), out)
	}
	if !regexp.MustCompile(`^\| Rec # +\| T +\| Args +\| Resource +\|$`).MatchString(lines[0]) {
		t.Errorf("titles %q", lines[0])
	}
	for _, l := range lines {
		if len(l) != len(lines[0]) {
			t.Errorf("line %q is not aligned with the titles", l)
		}
	}
	// A value longer than its column width (res: 45) shows ".." and its last 45 characters.
	if got := fitCell(strings.Repeat("a", 10)+strings.Repeat("b", 45), 45); got != ".."+strings.Repeat("b", 45) {
		t.Errorf("fitCell = %q", got)
	}
	if got := fitCell("a\nb", 45); got != "a b" {
		t.Errorf("fitCell kept a newline: %q", got)
	}
	all := mustSfprint(t, "-A", ref("setuid/setuid.sf"))
	if !strings.Contains(strings.SplitN(all, "\n", 2)[0], "| K8s EV Msg ") {
		t.Errorf("-A titles lack the last field: %.200s", all)
	}
}

func TestFieldSelection(t *testing.T) {
	path := ref("client-server/tcp-client-server.sf")
	nested := mustSfprint(t, "-o", "json", "-f", "type, net.sip,net.dport,ts_uts,net.sip,,idx", path)
	lines := strings.Split(nested, "\n")
	if want := `{"type": "PE", "net": {"sip": "", "dport": null}, "ts_uts": 1553543280704111050, "idx": 0}`; lines[0] != want {
		t.Errorf("first nested record\n got %s\nwant %s", lines[0], want)
	}
	if want := `{"type": "NF", "net": {"sip": "127.0.0.1", "dport": 8080}, "ts_uts": 1553543282832225890, "idx": 6}`; lines[6] != want {
		t.Errorf("network flow record\n got %s\nwant %s", lines[6], want)
	}
	flat := mustSfprint(t, "-o", "flatjson", "-f", "net.sip,proc.pid", path)
	if !strings.HasPrefix(flat, `{"net.sip": "", "proc.pid": 13823}`+"\n") {
		t.Errorf("flat selection starts %.80q", flat)
	}
}

func TestListFields(t *testing.T) {
	out := mustSfprint(t, "-l")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(fields)+4 || lines[1] != "List of attributes:" || lines[0] != strings.Repeat("-", 30) {
		t.Fatalf("unexpected list layout (%d lines):\n%.300s", len(lines), out)
	}
	if want := fmt.Sprintf("%-40s %-40s", "proc.exe", "Process command/filename"); !strings.Contains(out, want+"\n") {
		t.Errorf("list lacks %q", want)
	}
}

func TestEntities(t *testing.T) {
	recs := jsonLines(t, mustSfprint(t, "-E", "-o", "flatjson", ref("alpine/alpine.sf")))
	counts := map[any]int{}
	for _, r := range recs {
		counts[r["type"]]++
	}
	// The reference README's counts: 39 records, 8 P, 8 PE, 16 FF, 5 F, 1 C, 1 H.
	want := map[any]int{"H": 1, "C": 1, "P": 8, "F": 5, "PE": 8, "FF": 16}
	if len(recs) != 39 || fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("%d records %v, want 39 %v", len(recs), counts, want)
	}
	if h := recs[0]; h["type"] != "H" || h["node.id"] != "tests" || h["ts_uts"] != nil || h["state"] != "" {
		t.Errorf("header record %v", h)
	}
	if c := recs[1]; c["type"] != "C" || c["container.image"] != "alpine:latest:latest" {
		t.Errorf("container record: %v", c)
	}
}

func TestDirectory(t *testing.T) {
	// The reference folder: SysFlow files in subfolders beside .scap captures and a README.
	out, errOut, code := sfprint(t, "-o", "csv", "-f", "type,node.id,filename", referenceDir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, skipped := range []string{"README.md", "alpine.scap", "setuid.scap"} {
		if !strings.Contains(errOut, "warning: skipping") || !strings.Contains(errOut, skipped) {
			t.Errorf("no warning about %s in %q", skipped, errOut)
		}
	}
	if strings.Contains(errOut, ".sf:") {
		t.Errorf("a SysFlow file was skipped: %s", errOut)
	}
	// One header row, then the files in lexical path order.
	rows := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
	if rows[0] != "type,node.id,filename" || strings.Count(out, "type,node.id") != 1 {
		t.Errorf("want one header row, have %q...", rows[0])
	}
	var order []string
	for _, r := range rows[1:] {
		if name := r[strings.LastIndex(r, ",")+1:]; len(order) == 0 || order[len(order)-1] != name {
			order = append(order, name)
		}
	}
	wantOrder := []string{"/usr/local/sysflow/tests/alpine/alpine.sf", "/usr/local/sysflow/tests/client-server/tcp-client-server.sf",
		"/usr/local/sysflow/tests/files/files.sf", "/usr/local/sysflow/tests/files/filesat.sf", "", // legacy-v1: no filename
		"/usr/local/sysflow/tests/rename/rename.sf", "/usr/local/sysflow/tests/setuid/setuid.sf"}
	if fmt.Sprint(order) != fmt.Sprint(wantOrder) {
		t.Errorf("file order %q\nwant %q", order, wantOrder)
	}
	// 24 + 10 + 21 + 22 + 21 + 2216 + 28 + 12 events and flows.
	if len(rows)-1 != 2354 {
		t.Errorf("%d records, want 2354", len(rows)-1)
	}
}

func TestDirectoryOfCopies(t *testing.T) {
	// Nested folders, a symlinked file, a non-SysFlow file and an empty one.
	dir := t.TempDir()
	for _, d := range []string{"b/2", "a"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyRef := func(src, dst string) {
		data, err := os.ReadFile(ref(src))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyRef("setuid/setuid.sf", "b/2/x.sf")
	copyRef("client-server/tcp-client-server.sf", "a/y.sf")
	abs, err := filepath.Abs(ref("alpine/alpine.sf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(abs, filepath.Join(dir, "b", "link.sf")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "notes.txt"), []byte("not sysflow"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b", "empty"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The archiver's Parquet copies are passed over without a word.
	if err := os.MkdirAll(filepath.Join(dir, "parquet", "exporter=x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "parquet", "exporter=x", "x.2026010100.p0.parquet"), []byte("PAR1 not sysflow PAR1"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := sfprint(t, "-o", "csv", "-f", "proc.exe", dir)
	if code != 0 || strings.Count(errOut, "warning: skipping") != 2 || strings.Contains(errOut, "parquet") {
		t.Fatalf("exit %d, stderr %q; want 0 and two warnings, none for the Parquet file", code, errOut)
	}
	// a/y.sf (10 records), then b/2/x.sf (12), then b/link.sf (alpine, 24).
	rows := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
	if len(rows) != 1+10+12+24 || rows[1] != "./server" || rows[11] != "./setuid" || rows[23] != "/bin/busybox" {
		t.Errorf("%d rows: %q %q %q", len(rows), rows[1], rows[11], rows[min(23, len(rows)-1)])
	}
}

// truncatedCopy writes the first n bytes of a reference file into a temporary directory.
func truncatedCopy(t *testing.T, name string, n func(size int64) int64) string {
	t.Helper()
	data, err := os.ReadFile(ref(name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), filepath.Base(name))
	if err := os.WriteFile(path, data[:n(int64(len(data)))], 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// secondBlock returns the byte offset of the second block of a file and the records before it.
func secondBlock(t *testing.T, path string) (off, records int64) {
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
	for {
		if _, err := r.Next(); err != nil {
			t.Fatalf("file has a single block: %v", err)
		}
		if r.Offset() != 0 && off == 0 {
			off = r.Offset() // the first block's offset
		} else if r.Offset() != off {
			return r.Offset(), r.Records() - 1
		}
	}
}

func TestTruncatedFile(t *testing.T) {
	const name = "legacy-v1/nodejs-mon.1544763289.sf"
	off, before := secondBlock(t, ref(name))
	args := []string{"-o", "flatjson", "-f", "type,ts_uts,proc.pid,res"}
	full := mustSfprint(t, append(args, ref(name))...)

	path := truncatedCopy(t, name, func(size int64) int64 { return off + (size-off)/2 })
	out, errOut, code := sfprint(t, append(args, path)...)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	want := fmt.Sprintf("read %s: stopped after %d records: corrupt block 1 at offset %d: ", path, before, off)
	if !strings.Contains(errOut, want) || !strings.Contains(errOut, "unexpected EOF") {
		t.Errorf("stderr %q\nwant it to contain %q and unexpected EOF", errOut, want)
	}
	if out == "" || !strings.HasPrefix(full, out) || len(out) >= len(full) {
		t.Errorf("printed %d bytes, want a non-empty proper prefix of the %d bytes of the whole file", len(out), len(full))
	}
	if n := strings.Count(out, "\n"); n < 100 {
		t.Errorf("only %d records printed before the damage", n)
	}

	// Damage in the only block: nothing to print, the error still names file and offset.
	path = truncatedCopy(t, "alpine/alpine.sf", func(size int64) int64 { return size - 100 })
	out, errOut, code = sfprint(t, path)
	if code != 1 || out != "" || !regexp.MustCompile(`alpine\.sf: stopped after 0 records: corrupt block 0 at offset \d+`).MatchString(errOut) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	// Other paths are still printed after a damaged one.
	out, errOut, code = sfprint(t, "-o", "csv", "-f", "type", path, ref("setuid/setuid.sf"))
	if code != 1 || strings.Count(out, "\r\n") != 13 || !strings.Contains(errOut, path) {
		t.Errorf("exit %d, %d rows, stderr %q", code, strings.Count(out, "\r\n"), errOut)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	notSF := filepath.Join(dir, "notes.txt")
	empty := filepath.Join(dir, "empty.sf")
	header := truncatedCopy(t, "setuid/setuid.sf", func(int64) int64 { return 40 })
	if err := os.WriteFile(notSF, []byte("hello, not avro\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	good := ref("setuid/setuid.sf")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown field", []string{"-f", "ts,nope", good}, 2, `unknown field "nope"`},
		{"query-only field", []string{"-f", "proc.name", good}, 2, `field "proc.name" is only for sysprint's filter queries`},
		{"no field", []string{"-f", ",", good}, 2, "no field selected"},
		{"unknown format", []string{"-o", "xml", good}, 2, `unknown output format "xml"`},
		{"unknown flag", []string{"-x", good}, 2, "flag provided but not defined: -x"},
		{"no path", nil, 2, "no path given"},
		{"s3 without bucket", []string{"s3://"}, 2, "want s3://bucket[/prefix]"},
		{"kafka without topic", []string{"kafka://localhost:9092"}, 2, "want kafka://broker:port/topic"},
		{"bad hour", []string{"-from", "2024-01-01", "s3://b"}, 2, "want YYYY-MM-DDTHH"},
		{"other scheme", []string{"http://example.com/x.sf"}, 2, "unknown URL scheme"},
		{"missing file", []string{filepath.Join(dir, "missing.sf")}, 1, "no such file or directory"},
		{"named non-sysflow file", []string{notSF}, 1, notSF + ": corrupt file header at offset 0: not a sysflow file: bad magic"},
		{"named empty file", []string{empty}, 1, empty + ": not a sysflow file: empty file"},
		{"truncated header", []string{header}, 1, "corrupt file header at offset"},
		{"unwritable output", []string{"-w", filepath.Join(dir, "no", "such", "dir"), good}, 1, "create output:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := sfprint(t, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tt.code, tt.want)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	out, errOut, code := sfprint(t, "-h")
	if code != 0 || out != "" || !strings.Contains(errOut, "usage: sfprint") || !strings.Contains(errOut, "-f fields") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestInterleavedFlagsAndOutputFile(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "out.json")
	path := ref("setuid/setuid.sf")
	out := mustSfprint(t, path, "-o", "flatjson", "-w", dst, "-f", "type")
	if out != "" {
		t.Errorf("stdout %q, want nothing with -w", out)
	}
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(got), `{"type": `); n != 12 {
		t.Errorf("output file has %d records, want 12", n)
	}
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args  []string
		paths []string
		out   string
	}{
		{[]string{"a.sf", "-o", "json", "b.sf"}, []string{"a.sf", "b.sf"}, "json"},
		{[]string{"-o", "csv", "--", "-a.sf", "-o"}, []string{"-a.sf", "-o"}, "csv"},
		{[]string{"x", "--", "-y"}, []string{"x", "-y"}, "str"},
	}
	for _, tt := range tests {
		cfg, err := parseArgs(tt.args, io.Discard)
		if err != nil || fmt.Sprint(cfg.Paths) != fmt.Sprint(tt.paths) || cfg.Output != tt.out {
			t.Errorf("parseArgs(%q) = paths %q output %q, %v; want %q %q", tt.args, cfg.Paths, cfg.Output, err, tt.paths, tt.out)
		}
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestOutputErrorStopsRun(t *testing.T) {
	// Two big inputs: the first write error must end the run, not be repeated per file.
	nodejs := ref("legacy-v1/nodejs-mon.1544763289.sf")
	var errOut bytes.Buffer
	err := run(context.Background(), []string{"-o", "json", nodejs, nodejs}, failingWriter{}, &errOut)
	if err == nil || !strings.Contains(err.Error(), "write output: disk full") || strings.Count(err.Error(), "disk full") != 1 {
		t.Errorf("run = %v, want one write output error", err)
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := run(ctx, []string{ref("setuid/setuid.sf")}, io.Discard, io.Discard)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("run with a canceled context = %v, want context.Canceled", err)
	}
}
