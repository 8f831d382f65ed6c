package sysprint

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sfstream/sfstream/sysflow"
)

// referenceFiles are the reference collector's files, in a fixed order.
func referenceFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(referenceDir, "*", "*.sf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no reference files: %v", err)
	}
	return files
}

// sysprintCommand returns the reference sysprint from sysflow-tools, run by $SFSTREAM_PYTHON
// (make test-deps installs sysflow-tools into its venv) or python3. Where CI runs (CI set),
// a missing sysprint fails the test; elsewhere it skips.
func sysprintCommand(t *testing.T) (python, script string) {
	t.Helper()
	py := os.Getenv("SFSTREAM_PYTHON")
	if py == "" {
		py = "python3"
	}
	missing := func(msg string) {
		msg = "the reference sysprint (sysflow-tools) is not available (run `make test-deps`): " + msg
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if out, err := exec.Command(py, "-c", "import sysflow.formatter").CombinedOutput(); err != nil {
		missing(py + ": " + strings.TrimSpace(string(out)))
	}
	pyPath, err := exec.LookPath(py)
	if err != nil {
		missing(err.Error())
	}
	script = filepath.Join(filepath.Dir(pyPath), "sysprint") // the venv's entry point
	if _, err := os.Stat(script); err != nil {
		if script, err = exec.LookPath("sysprint"); err != nil {
			missing("no sysprint beside " + pyPath + " or on PATH")
		}
	}
	return py, script
}

// TestFilterMatchesSysprint checks that sfprint --filter prints exactly what the reference
// sysprint -f prints (json output, byte for byte) on every reference file, for expressions that
// use every operator. The reference evaluates <= as >=; its expression spells out what <=
// means.
func TestFilterMatchesSysprint(t *testing.T) {
	py, script := sysprintCommand(t)
	files := referenceFiles(t)
	total := strings.Count(mustSfprint(t, append([]string{"-o", "json"}, files...)...), "\n")
	tests := []struct {
		name, expr, reference string
	}{
		{"eq", "type = NF", ""},
		{"neq and", "type != FF and type != NF", ""},
		{"lt", "type = NF and net.dport < 1024", ""},
		{"le", "type = NF and net.dport <= 53", "type = NF and (net.dport < 53 or net.dport = 53)"},
		{"gt", "type = NF and net.sport > 30000", ""},
		{"ge", "type = FF and flow.rbytes >= 100", ""},
		{"gt timestamp", "ts > 1600000000000000000", ""},
		{"contains", "proc.exe contains bin", ""},
		{"contains quoted", `proc.cmdline contains " -"`, ""},
		{"icontains", "file.path icontains TMP", ""},
		{"icontains opflags", "opflags icontains read", ""},
		{"startswith", "proc.exe startswith /usr/sbin", ""},
		{"exists", "container.id exists", ""},
		{"not exists", "not file.path exists", ""},
		{"in", "opflags in (EXEC, CLONE)", ""},
		{"pmatch", "file.path pmatch (passwd, locale)", ""},
		{"opflags parts", "opflags = READ and not opflags = WRITE", ""},
		{"parens or", "(type = PE or type = FE) and ret != 0", ""},
		{"and before or", "type = PE and opflags = EXEC or type = FF and file.name = passwd", ""},
		{"not before or", "not type = FF or proc.exe = /bin/busybox", ""},
		{"names", "proc.name = busybox or pproc.name = bash", ""},
		{"bool", "proc.tty = True and type = FE", ""},
		{"field on the right", "type = NF and net.sport > net.dport", ""},
		{"open flags", "file.openflags = CREAT", ""},
		{"open for write", "file.is_open_write = true", ""},
		{"directory", "file.directory = /tmp", ""},
		{"int as text", "net.proto = 17", ""},
		{"ancestors", "proc.aname contains sh", ""},
		{"user and group", "proc.user = root and proc.gid = 0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			refExpr := tt.expr
			if tt.reference != "" {
				refExpr = tt.reference
			}
			// One run over all files, as the reference's process tree (proc.aname) spans them.
			cmd := exec.Command(py, append([]string{script, "-o", "json", "-f", refExpr}, files...)...)
			cmd.Env = append(os.Environ(), "TZ=UTC")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			want, err := cmd.Output()
			if err != nil || stderr.Len() > 0 {
				t.Fatalf("sysprint -f %q: %v: %s", refExpr, err, stderr.String())
			}
			got := mustSfprint(t, append([]string{"-o", "json", "--filter", tt.expr}, files...)...)
			n := strings.Count(got, "\n")
			if got != string(want) {
				t.Fatalf("sfprint --filter %q printed %d records, sysprint -f %q %d; first difference:\n%s",
					tt.expr, n, refExpr, strings.Count(string(want), "\n"), firstDiff(got, string(want)))
			}
			if n == 0 || n == total {
				t.Errorf("--filter %q printed %d of %d records: the expression tests nothing", tt.expr, n, total)
			}
		})
	}
}

func TestFilterFormats(t *testing.T) {
	file := ref("legacy-v1/nodejs-mon.1544763289.sf")
	const expr = "type = NF and net.dport = 53"
	want := strings.Count(mustSfprint(t, "-o", "json", "--filter", expr, file), "\n")
	if want == 0 {
		t.Fatal("the expression matches nothing")
	}
	t.Run("flatjson", func(t *testing.T) {
		out := mustSfprint(t, "-o", "flatjson", "-f", "type,net.dport", "--filter", expr, file)
		if n := strings.Count(out, `{"type": "NF", "net.dport": 53}`); n != want || strings.Count(out, "\n") != want {
			t.Errorf("flatjson printed %d matching lines of %d, want %d", n, strings.Count(out, "\n"), want)
		}
	})
	t.Run("csv", func(t *testing.T) {
		out := mustSfprint(t, "-o", "csv", "-f", "type,net.dport", "--filter", expr, file)
		if rows := strings.Count(out, "NF,53\r\n"); rows != want || strings.Count(out, "\r\n") != want+1 {
			t.Errorf("csv printed %d matching rows (%d lines), want %d and a header", rows, strings.Count(out, "\r\n"), want)
		}
	})
	t.Run("str numbers the printed records", func(t *testing.T) {
		out := mustSfprint(t, "-o", "str", "-f", "type,net.dport", "--filter", expr, file)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != want+2 {
			t.Fatalf("str printed %d lines, want %d rows and 2 header lines:\n%s", len(lines), want, out)
		}
		for i, l := range lines[2:] {
			cells := strings.Split(l, "|")
			if strings.TrimSpace(cells[1]) != strconv.Itoa(i) || strings.TrimSpace(cells[2]) != "NF" {
				t.Fatalf("row %d is %q, want record %d, an NF", i, l, i)
			}
		}
	})
	t.Run("write to file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "out.json")
		mustSfprint(t, "-o", "json", "-w", path, "--filter", expr, file)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(b, []byte("\n")); n != want {
			t.Errorf("-w wrote %d records, want %d", n, want)
		}
	})
	t.Run("entities", func(t *testing.T) {
		out := mustSfprint(t, "-E", "-o", "flatjson", "-f", "type", "--filter", "type = P", file)
		if n := strings.Count(out, "\n"); n == 0 || strings.Count(out, `{"type": "P"}`) != n {
			t.Errorf("-E --filter 'type = P' printed %q", out)
		}
	})
}

func TestFilterDefs(t *testing.T) {
	dir := t.TempDir()
	lists := filepath.Join(dir, "lists.yaml")
	macros := filepath.Join(dir, "macros.yaml")
	write := func(path, s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(lists, "- list: dns_ports\n  items: [53, 5353]\n")
	write(macros, "- macro: dns\n  condition: >\n    type = NF and\n    net.dport in (dns_ports)\n")
	file := ref("legacy-v1/nodejs-mon.1544763289.sf")
	want := mustSfprint(t, "-o", "json", "--filter", "type = NF and net.dport in (53, 5353)", file)
	if want == "" {
		t.Fatal("the expression matches nothing")
	}
	for name, args := range map[string][]string{
		"comma-separated": {"--defs", lists + "," + macros},
		"repeated":        {"--defs", lists, "--defs=" + macros},
	} {
		t.Run(name, func(t *testing.T) {
			got := mustSfprint(t, append(append([]string{"-o", "json", "--filter", "dns"}, args...), file)...)
			if got != want {
				t.Errorf("the macro printed %d records, the expression %d", strings.Count(got, "\n"), strings.Count(want, "\n"))
			}
		})
	}
}

func TestFilterErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("- macro: m\n  condition: type ==\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := ref("setuid/setuid.sf")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"syntax", []string{"--filter", "type = NF and", file}, `--filter: 1:14: expected a field, a macro, "not" or "(", found end of expression`},
		{"unknown field", []string{"--filter", "proc.nme = sh", file}, `--filter: 1:1: unknown field "proc.nme"`},
		{"idx is no field", []string{"--filter", "idx = 1", file}, `unknown field "idx"`},
		{"non-integer bound", []string{"--filter", "proc.pid > x", file}, `--filter: 1:12: expected an integer after ">", found "x"`},
		{"unknown macro", []string{"--filter", "shell", file}, `unknown macro "shell"`},
		{"defs missing", []string{"--filter", "type = PE", "--defs", filepath.Join(dir, "none.yaml"), file}, "load definitions"},
		{"defs bad", []string{"--filter", "m", "--defs", bad, file}, `bad.yaml:2: macro "m": condition 1:7: expected a value after "="`},
		{"defs without filter", []string{"--defs", bad, file}, "--defs needs --filter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := sfprint(t, tt.args...)
			if code != 2 || out != "" || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, out, errOut, tt.want)
			}
		})
	}
}

func TestQueryValues(t *testing.T) {
	proc := &sysflow.Process{OID: sysflow.OID{HPID: 7, CreateTS: 1}, Exe: "/usr/bin/python3/", ExeArgs: "-c x",
		Env: []string{"A=1", "B='2'"}}
	flow := &sysflow.FileFlow{OpFlags: int32(sysflow.OpOpen | sysflow.OpReadRecv | sysflow.OpWriteSend), OpenFlags: int32(sysflow.OpenRdonly | sysflow.OpenCloexec), FD: 3, TS: 5}
	r := newRecord(sysflow.Flat{Kind: sysflow.KindFileFlow, Rec: flow, Process: proc, File: &sysflow.File{Path: "/etc/passwd"}}, 0, v5Fields())
	for name, want := range map[string]string{
		"proc.name":          "python3",
		"proc.cmdline":       "/usr/bin/python3/ -c x",
		"proc.env":           `['A=1', "B='2'"]`,
		"proc.aname":         "/usr/bin/python3/",
		"proc.apid":          "7",
		"pproc.pid":          "None",
		"pproc.name":         "None",
		"opflags":            "OPEN,READ,RECV,WRITE,SEND",
		"file.openflags":     "RDONLY,RDWR,CLOEXEC",
		"file.is_open_write": "true",
		"file.name":          "passwd",
		"file.directory":     "/etc",
		"file.newpath":       "None",
		"file.fd":            "3",
		"ts":                 "5",
		"endts":              "0",
		"net.dport":          "None",
		"ret":                "None",
		"container.id":       "None",
		"proc.tty":           "False",
	} {
		id, ok := queryFields.Lookup(name)
		if !ok {
			t.Errorf("field %s unknown", name)
			continue
		}
		if got := r.Field(id).String(); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for p, want := range map[string][2]string{
		"/etc/passwd": {"passwd", "/etc"}, "/passwd": {"passwd", "/"}, "passwd": {"passwd", ""},
		"/a/b/": {"b", "/a/b"}, "/": {"", "/"}, "": {".", ""}, "//x": {"x", "//"},
	} {
		if b, d := pyBasename(p), pyDirname(p); b != want[0] || d != want[1] {
			t.Errorf("basename, dirname of %q = %q, %q; want %q, %q", p, b, d, want[0], want[1])
		}
	}
}

// BenchmarkFilter measures sfprint's filter on its records, field values included.
func BenchmarkFilter(b *testing.B) {
	flow := &sysflow.NetworkFlow{OpFlags: int32(sysflow.OpConnect | sysflow.OpWriteSend), DPort: 443, SPort: 40000}
	proc := &sysflow.Process{Exe: "/usr/bin/curl", ExeArgs: "-s https://example.com"}
	r := newRecord(sysflow.Flat{Kind: sysflow.KindNetworkFlow, Rec: flow, Process: proc}, 0, v5Fields())
	fp, err := newFilterPrinter(nil, "type = NF and net.dport in (80, 443) and opflags = CONNECT and not proc.name = wget", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !fp.filter.match(&r) {
			b.Fatal("no match")
		}
	}
}
