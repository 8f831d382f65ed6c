package sfql

import "testing"

// FuzzParse checks that no input makes the parser or the compiler panic, that errors carry
// positions inside the input, and that the canonical form of what parses parses back to
// itself and compiles to a filter that agrees with the original.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"type = NF and net.dport = 80",
		"not (proc.exe startswith /usr or proc.name in (bash, sh)) and opflags = READ",
		`file.path pmatch ("/etc", [/var, /tmp]) or proc.args icontains 'X'`,
		"web and net.dport <= 1024 # comment\n or proc.tty exists",
		"proc.pid >= pproc.pid or ret < -1 or proc.aname[2] = bash",
		"((((type = PE))))", "proc.exe glob /usr/*/[a-c]?rl and not glob", `"`, "type in ([])", "a = <", "x != >",
	} {
		f.Add(s)
	}
	defs, err := ParseDefs("fuzz.yaml", []byte(testDefs))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		if err != nil {
			if pe, ok := err.(*Error); ok && (pe.Pos.Offset < 0 || pe.Pos.Offset > len(src) || pe.Pos.Line < 1 || pe.Pos.Col < 1) {
				t.Fatalf("Parse(%q): position %+v outside the input", src, pe.Pos)
			}
			return
		}
		canon := e.String()
		e2, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) (canonical form of %q): %v", canon, src, err)
		}
		if again := e2.String(); again != canon {
			t.Fatalf("canonical form not stable: %q -> %q -> %q", src, canon, again)
		}
		f1, err1 := e.Compile(FieldsFunc(testLookup), defs)
		f2, err2 := e2.Compile(FieldsFunc(testLookup), defs)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("Compile(%q): %v; canonical form: %v", src, err1, err2)
		}
		if err1 == nil && f1.Match(netFlow) != f2.Match(netFlow) {
			t.Fatalf("%q and its canonical form %q disagree", src, canon)
		}
	})
}
