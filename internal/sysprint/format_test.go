package sysprint

import (
	"strings"
	"testing"

	"github.com/sfstream/sfstream/sysflow"
)

func TestIsoTime(t *testing.T) {
	tests := []struct {
		ns   int64
		want string
	}{
		{1553543280704111050, "2019-03-25T19:48:00.704111"},
		{1588262436999999999, "2020-04-30T16:00:37"},        // rounds up into the next second
		{1554914834717699659, "2019-04-10T16:47:14.717700"}, // trailing zero kept
		{1554906981531611330, "2019-04-10T14:36:21.531611"},
		{0, "1970-01-01T00:00:00"},
		{1_500_000, "1970-01-01T00:00:00.001500"},
		{2_500, "1970-01-01T00:00:00.000002"}, // half to even: 2.5 µs is 2
		{3_500, "1970-01-01T00:00:00.000004"},
		{-1_000_000_000, "1969-12-31T23:59:59"},
		{-1_500_000, "1969-12-31T23:59:59.998500"},
	}
	for _, tt := range tests {
		if got := isoTime(tt.ns); got != tt.want {
			t.Errorf("isoTime(%d) = %s, want %s", tt.ns, got, tt.want)
		}
	}
}

func TestJSONEncoding(t *testing.T) {
	tests := []struct {
		v    value
		want string
	}{
		{str(`a"b\c`), `"a\"b\\c"`},
		{str("é\x7f<>&\u2028"), `"\u00e9\u007f<>&\u2028"`},
		{str("\n\r\t\b\f\x01"), `"\n\r\t\b\f\u0001"`},
		{str("😀"), `"\ud83d\ude00"`},
		{str("bad\xffutf8"), `"bad\ufffdutf8"`},
		{none(), "null"},
		{boolean(true), "true"},
		{num(-42), "-42"},
		{emptyTuple(), "[]"},
		{list([]value{str("1.2.3.4"), num(1)}), `["1.2.3.4", 1]`},
		{value{kind: vDict, keys: []string{"a", "b"}, items: []value{num(1), list(nil)}}, `{"a": 1, "b": []}`},
	}
	for _, tt := range tests {
		if got := string(appendJSON(nil, tt.v)); got != tt.want {
			t.Errorf("appendJSON(%+v) = %s, want %s", tt.v, got, tt.want)
		}
	}
}

func TestTextAndRepr(t *testing.T) {
	tests := []struct {
		v    value
		want string
	}{
		{none(), ""},
		{str("it's"), "it's"},
		{boolean(false), "False"},
		{emptyTuple(), "()"},
		{value{kind: vTuple, items: []value{num(1)}}, "(1,)"},
		{list([]value{str("a'b"), str(`q"'`), str("x\ny\\")}), `["a'b", 'q"\'', 'x\ny\\']`},
		{value{kind: vDict, keys: []string{"port"}, items: []value{num(80)}}, "{'port': 80}"},
		{list([]value{str("\x00é\u200b")}), `['\x00é\u200b']`},
	}
	for _, tt := range tests {
		if got := string(appendText(nil, tt.v)); got != tt.want {
			t.Errorf("appendText(%+v) = %s, want %s", tt.v, got, tt.want)
		}
	}
	if got := cellText(boolean(true)); got != "1" { // Python formats a bool with a width as an int
		t.Errorf("cellText(true) = %q", got)
	}
	if got := cellText(list([]value{str("a")})); got != `["a"]` {
		t.Errorf("cellText(list) = %q", got)
	}
}

func TestCSVQuoting(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"plain", 2, "plain"},
		{" leading space", 2, " leading space"},
		{"a,b", 2, `"a,b"`},
		{`say "hi"`, 2, `"say ""hi"""`},
		{"two\nlines", 2, "\"two\nlines\""},
		{"", 2, ""},
		{"", 1, `""`}, // a row of one empty field
	}
	for _, tt := range tests {
		if got := string(appendCSVField(nil, 0, tt.s, tt.n)); got != tt.want {
			t.Errorf("appendCSVField(%q) = %s, want %s", tt.s, got, tt.want)
		}
	}
}

func TestFieldTables(t *testing.T) {
	seen := map[fieldID]string{}
	names := map[string]bool{}
	for _, f := range fields {
		if names[f.name] {
			t.Errorf("field %s listed twice", f.name)
		}
		names[f.name] = true
		if f.id.queryOnly() {
			if !strings.Contains(f.desc, "query only") {
				t.Errorf("%s is not printable but not described as query only", f.name)
			}
			continue
		}
		if other, ok := seen[f.id]; ok {
			t.Errorf("fields %s and %s share id %d", f.name, other, f.id)
		}
		seen[f.id] = f.name
	}
	for id := range numRecordFields + 1 { // every record field and idx
		if _, ok := seen[id]; !ok {
			t.Errorf("field id %d has no entry", id)
		}
	}
	if len(fields) != 88 {
		t.Errorf("%d fields, sysprint lists 88", len(fields))
	}
	if _, err := selectFields(defaultTableFields[:]); err != nil {
		t.Errorf("default fields: %v", err)
	}
	// The record order is sysprint's: a few spot checks of where it differs from the list order.
	all := allRecordFields()
	if all[0].name != "version" || all[len(all)-1].name != "k8s.msg" || all[20].name != "proc.entry" || all[21].name != "proc.env" {
		t.Errorf("record order: %s ... %s, [20]=%s [21]=%s", all[0].name, all[len(all)-1].name, all[20].name, all[21].name)
	}
}

func TestParseSchemaFields(t *testing.T) {
	v5 := v5Fields()
	for _, tt := range []struct {
		kind  sysflow.Kind
		field string
		want  bool
	}{
		{sysflow.KindHeader, "ip", true},
		{sysflow.KindHeader, "filename", true},
		{sysflow.KindProcess, "cwd", true},
		{sysflow.KindProcess, "entry", true},
		{sysflow.KindNetworkFlow, "fd", true},
		{sysflow.KindProcessFlow, "tid", false},
		{sysflow.KindK8sEvent, "opFlags", false},
		{sysflow.KindK8sEvent, "ts", true},
	} {
		if got := v5.has(tt.kind, tt.field); got != tt.want {
			t.Errorf("v5 %s has %s = %v, want %v", tt.kind, tt.field, got, tt.want)
		}
	}
	// A pre-v1 writer schema, as in legacy-v1/files-v1.sf: names qualified by namespace, no
	// header ip, no process entry.
	old := `{"type":"record","name":"SysFlow","namespace":"sysflow","fields":[{"name":"rec","type":[
		{"type":"record","name":"SFHeader","namespace":"sysflow.entity","fields":[{"name":"version","type":"long"},{"name":"exporter","type":"string"}]},
		{"type":"record","name":"sysflow.entity.Process","fields":[{"name":"exe","type":"string"}]},
		{"type":"record","name":"Mystery","fields":[]},
		"sysflow.entity.SFHeader"]}]}`
	got, err := parseSchemaFields(old)
	if err != nil {
		t.Fatal(err)
	}
	if got.has(sysflow.KindHeader, "ip") || !got.has(sysflow.KindHeader, "exporter") || got.has(sysflow.KindProcess, "entry") || !got.has(sysflow.KindProcess, "exe") {
		t.Errorf("pre-v1 fields: %v", got)
	}
	for _, bad := range []string{"", "[]", `{"fields":[]}`, `{"fields":[{"type":"long"}]}`} {
		if _, err := parseSchemaFields(bad); err == nil {
			t.Errorf("parseSchemaFields(%q) succeeded", bad)
		}
	}
}
