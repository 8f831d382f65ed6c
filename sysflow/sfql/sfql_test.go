package sfql

import (
	"errors"
	"strings"
	"testing"
)

// testFields are the fields of the test records, by id.
var testFields = []string{
	"type", "proc.pid", "pproc.pid", "proc.exe", "proc.args", "opflags", "net.dport", "proc.tty",
	"ret", "file.path", "proc.env", "proc.uid", "container.name",
}

func testLookup(name string) (FieldID, bool) {
	for i, f := range testFields {
		if f == name {
			return FieldID(i), true
		}
	}
	return 0, false
}

// testRecord holds values by field name.
type testRecord map[string]Value

func (r testRecord) Field(id FieldID) Value { return r[testFields[id]] }

// netFlow is a network flow of curl; ret and file.path are absent (None).
var netFlow = testRecord{
	"type":           StringValue("NF"),
	"proc.pid":       IntValue(42),
	"pproc.pid":      IntValue(42),
	"proc.exe":       StringValue("/usr/bin/curl"),
	"proc.args":      StringValue("-s https://Example.COM/a,b"),
	"opflags":        StringValue("CONNECT,READ,RECV,WRITE,SEND"),
	"net.dport":      IntValue(443),
	"proc.tty":       BoolValue(false),
	"proc.env":       ListValue("['A=1', 'B=2']", 2),
	"proc.uid":       IntValue(0),
	"container.name": StringValue(""),
}

const testDefs = `
- list: web_ports
  items: [80, 443, 8080]
- list: ports
  items: [web_ports, 22]
- list: tools
  items: ["curl", wget]
- macro: net_flow
  condition: type = NF
- macro: web
  condition: net_flow and net.dport in (web_ports)
- macro: loop_a
  condition: loop_b
- macro: loop_b
  condition: type = NF and loop_a
- list: self
  items: [other, self]
- rule: ignored
  desc: rules are for the policy engine
  condition: type = PE
  priority: low
`

func mustDefs(t testing.TB) *Defs {
	t.Helper()
	d, err := ParseDefs("test.yaml", []byte(testDefs))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestMatch(t *testing.T) {
	defs := mustDefs(t)
	tests := []struct {
		name string
		expr string
		want bool
	}{
		{"eq string", "type = NF", true},
		{"eq string false", "type = FF", false},
		{"eq quoted", `proc.exe = "/usr/bin/curl"`, true},
		{"eq single quoted", `proc.exe = '/usr/bin/curl'`, true},
		{"eq int", "net.dport = 443", true},
		{"eq int not canonical", "net.dport = 0443", false},
		{"eq comma part", "opflags = READ", true},
		{"eq none", "ret = None", true},
		{"eq bool text", "proc.tty = False", true},
		{"eq bool lower", "proc.tty = false", false},
		{"eq field", "proc.pid = pproc.pid", true},
		{"eq quoted field name is text", `proc.pid = "pproc.pid"`, false},
		{"sf prefix", "sf.type = NF", true},
		{"neq", "type != FF", true},
		{"neq false", "type != NF", false},
		{"neq any part", "opflags != READ", true},
		{"neq int", "net.dport != 443", false},
		{"lt", "net.dport < 1024", true},
		{"lt false", "net.dport < 443", false},
		{"le equal", "net.dport <= 443", true},
		{"le less", "net.dport <= 1000", true},
		{"le false", "net.dport <= 80", false},
		{"gt", "net.dport > 80", true},
		{"gt false", "net.dport > 443", false},
		{"ge", "net.dport >= 443", true},
		{"ge false", "net.dport >= 444", false},
		{"lt on text is false", "proc.exe < 5", false},
		{"gt on none is false", "ret > -5", false},
		{"gt field", "net.dport > proc.pid", true},
		{"contains", "proc.exe contains bin/cu", true},
		{"contains false", "proc.exe contains wget", false},
		{"contains int", "net.dport contains 44", true},
		{"icontains", "proc.args icontains example.com", true},
		{"icontains upper literal", "proc.args icontains EXAMPLE", true},
		{"contains is case sensitive", "proc.args contains example.com", false},
		{"startswith", "proc.exe startswith /usr", true},
		{"startswith false", "proc.exe startswith /bin", false},
		{"startswith second part", "proc.args startswith b", true},
		{"exists", "proc.exe exists", true},
		{"exists none", "ret exists", false},
		{"exists empty", "container.name exists", false},
		{"exists zero", "proc.uid exists", false},
		{"exists list", "proc.env exists", true},
		{"in", "type in (NF, FF)", true},
		{"in false", "type in (PE, FE)", false},
		{"in int", "net.dport in (80, 443)", true},
		{"in named list", "net.dport in (web_ports)", true},
		{"in nested list", "net.dport in (ports)", true},
		{"in brackets", "type in ([PE, NF])", true},
		{"in empty brackets", "type in ([])", false},
		{"in quoted", `proc.exe in ("/usr/bin/curl")`, true},
		{"in part", "opflags in (SEND, SETNS)", true},
		{"in large", "net.dport in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 443)", true},
		{"in large false", "type in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 443)", false},
		{"pmatch", "proc.exe pmatch (tools)", true},
		{"pmatch false", "proc.exe pmatch (wget, nc)", false},
		{"pmatch int", "net.dport pmatch (44)", true},
		{"not", "not type = FF", true},
		{"not not", "not not type = FF", false},
		{"and", "type = NF and net.dport = 443", true},
		{"and false", "type = NF and net.dport = 80", false},
		{"or", "type = FF or net.dport = 443", true},
		{"or false", "type = FF or net.dport = 80", false},
		{"and binds tighter than or", "type = NF or type = FF and net.dport = 80", true},
		{"and binds tighter than or 2", "type = FF and net.dport = 80 or type = NF", true},
		{"parens", "(type = NF or type = FF) and net.dport = 80", false},
		{"not binds tighter than and", "not type = FF and type = NF", true},
		{"not binds tighter than or", "not type = NF or type = NF", true},
		{"not of parens", "not (type = FF or type = NF)", false},
		{"macro", "net_flow", true},
		{"macro in macro", "web and proc.pid = 42", true},
		{"not macro", "not web", false},
		{"event direction", "proc.exe != <", true},
		{"comment", "type = NF # the network flows\n and net.dport = 443", true},
		{"multi line", "type = NF\nand\nnet.dport = 443", true},
		{"keyword-like value", "type != list", true},
		{"negative", "net.dport > -1", true},
		{"python int space", `net.dport > " 1_0 "`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Compile(tt.expr, FieldsFunc(testLookup), defs)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tt.expr, err)
			}
			if got := f.Match(netFlow); got != tt.want {
				t.Errorf("Match(%q) = %v, want %v", tt.expr, got, tt.want)
			}
			// The canonical form means the same.
			g, err := Compile(f.String(), FieldsFunc(testLookup), defs)
			if err != nil {
				t.Fatalf("Compile(%q) (canonical form): %v", f.String(), err)
			}
			if got := g.Match(netFlow); got != tt.want {
				t.Errorf("Match(%q) (canonical form of %q) = %v, want %v", f.String(), tt.expr, got, tt.want)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	defs := mustDefs(t)
	tests := []struct {
		name string
		expr string
		want string
	}{
		{"empty", "", `1:1: empty expression`},
		{"only comment", "# nothing", `1:10: empty expression`},
		{"missing value", "type =", `1:7: expected a value after "=", found end of expression`},
		{"missing value before and", "type = and proc.pid = 1", `1:8: expected a value after "=", found "and"`},
		{"missing operator", `"NF" NF`, `1:6: expected an operator after "NF", found "NF"`},
		{"field without operator", "type", `1:1: expected an operator after the field "type"`},
		{"unknown macro", "type = NF and nosuch", `1:15: unknown macro "nosuch"`},
		{"unknown field", "proc.nmae = bash", `1:1: unknown field "proc.nmae"`},
		{"quoted field", `"type" = NF`, `1:1: expected a field name, found string "type"`},
		{"unbalanced", "(type = NF", `1:11: expected "and", "or" or ")", found end of expression`},
		{"extra paren", "type = NF)", `1:10: expected "and", "or" or the end of the expression, found ")"`},
		{"trailing and", "type = NF and", `1:14: expected a field, a macro, "not" or "(", found end of expression`},
		{"double op", "type = = NF", `1:8: expected a value after "=", found "="`},
		{"in without list", "type in NF", `1:9: expected "(" after "in", found "NF"`},
		{"in unclosed", "type in (NF, FF", `1:16: expected "," or ")", found end of expression`},
		{"in empty", "type in ()", `1:10: expected a value or a list name, found ")"`},
		{"bracket unclosed", "type in ([NF)", `1:13: expected "," or "]", found ")"`},
		{"unterminated string", `proc.exe = "/bin`, `1:12: unterminated string`},
		{"bad character", "type = NF && proc.pid = 1", `1:11: unexpected character '&'`},
		{"bang", "type ! NF", `1:6: unexpected character '!'`},
		{"non-integer bound", "proc.pid > abc", `1:12: expected an integer after ">", found "abc"`},
		{"float bound", "proc.pid <= 1.5", `1:13: expected an integer after "<=", found "1.5"`},
		{"position on line 2", "type = NF and\n  proc.pid = ", `2:14: expected a value after "="`},
		{"column counts characters", `proc.exe = "é" and x`, `1:20: unknown macro "x"`},
		{"macro cycle", "loop_a", `macro "loop_a" refers to itself`},
		{"list cycle", "type in (self)", `1:10: list "self" contains itself`},
		{"operator at start", "= NF", `1:1: expected a field, a macro, "not" or "(", found "="`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile(tt.expr, FieldsFunc(testLookup), defs)
			if err == nil {
				t.Fatalf("Compile(%q) succeeded, want error %q", tt.expr, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Compile(%q) error\n got: %v\nwant: %s", tt.expr, err, tt.want)
			}
		})
	}
	t.Run("error value", func(t *testing.T) {
		_, err := Parse("type = ")
		var e *Error
		if !errors.As(err, &e) || e.Pos != (Pos{Offset: 7, Line: 1, Col: 8}) {
			t.Errorf("Parse error = %#v, want an *Error at offset 7, 1:8", err)
		}
	})
}

func TestDefsErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"not yaml", "- list: [", "parse definitions d.yaml: yaml:"},
		{"not a sequence", "list: a", "d.yaml:1: expected a list of definitions"},
		{"list without items", "- list: a", `d.yaml:1: list "a" needs a name and items`},
		{"macro without condition", "- macro: m", `d.yaml:1: macro "m" needs a name and a condition`},
		{"bad condition", "- macro: m\n  condition: type = ", `d.yaml:2: macro "m": condition 1:7: expected a value after "="`},
		{"nested items", "- list: a\n  items: [[b]]", `d.yaml:2: list "a": items must be values`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDefs("d.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseDefs error = %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("later definitions win", func(t *testing.T) {
		d := mustDefs(t)
		if err := d.Parse("more.yaml", []byte("- macro: net_flow\n  condition: type = FF\n")); err != nil {
			t.Fatal(err)
		}
		f, err := Compile("net_flow", FieldsFunc(testLookup), d)
		if err != nil {
			t.Fatal(err)
		}
		if f.Match(netFlow) {
			t.Error("the replaced macro still matches NF")
		}
	})
	t.Run("macro error names the macro", func(t *testing.T) {
		d, err := ParseDefs("d.yaml", []byte("- macro: m\n  condition: nosuch.field = 1\n"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Compile("type = NF or m", FieldsFunc(testLookup), d)
		want := `1:14: in macro "m" (d.yaml:1): 1:1: unknown field "nosuch.field"`
		if err == nil || err.Error() != want {
			t.Errorf("error = %v, want %s", err, want)
		}
	})
}

func TestPyInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"42", 42, true}, {"-7", -7, true}, {"+7", 7, true}, {" 12\n", 12, true},
		{"1_000", 1000, true}, {"007", 7, true}, {"9223372036854775807", 1<<63 - 1, true},
		{"-9223372036854775808", -1 << 63, true},
		{"", 0, false}, {"-", 0, false}, {"1_", 0, false}, {"_1", 0, false}, {"1__0", 0, false},
		{"1.5", 0, false}, {"True", 0, false}, {"None", 0, false}, {"9223372036854775808", 0, false},
		{"0x10", 0, false}, {"1 2", 0, false},
	}
	for _, tt := range tests {
		got, ok := pyInt(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("pyInt(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestValueString(t *testing.T) {
	for v, want := range map[Value]string{
		NoValue(): "None", StringValue("a,b"): "a,b", IntValue(-3): "-3", BoolValue(true): "True",
		BoolValue(false): "False", ListValue("[]", 0): "[]",
	} {
		if got := v.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", v, got, want)
		}
	}
}

func TestCanonicalForm(t *testing.T) {
	e, err := Parse(`not a = 1 and (b in (x, "y z", [p, q]) or c exists) or m`)
	if err != nil {
		t.Fatal(err)
	}
	want := `((not a = 1 and (b in (x, "y z", p, q) or c exists)) or m)`
	if got := e.String(); got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
}
