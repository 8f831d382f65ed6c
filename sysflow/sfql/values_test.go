package sfql

import (
	"strings"
	"testing"
)

func TestValues(t *testing.T) {
	defs, err := ParseDefs("d.yaml", []byte(`
- list: flows
  items: [FF, NF]
- macro: is_exec
  condition: type = PE and opflags = EXEC
- macro: loop
  condition: loop and type = PE
`))
	if err != nil {
		t.Fatal(err)
	}
	typeID, _ := testLookup("type")
	cases := []struct {
		expr string
		want string // "-" for unconstrained
	}{
		{"type = PE", "PE"},
		{"sf.type = PE and proc.exe = /bin/sh", "PE"},
		{"proc.exe = /bin/sh and (type = FF or type = NF)", "FF,NF"},
		{"type in (flows, PF)", "FF,NF,PF"},
		{"is_exec and proc.uid = 0", "PE"},
		{"type in (FF, NF) and type = FF", "FF"},
		{"type = PE or proc.uid = 0", "-"},
		{"not type = PE", "-"},
		{"type != PE", "-"},
		{"type = proc.exe", "-"},
		{"type startswith P", "-"},
		{"proc.uid = 0", "-"},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			f, err := Compile(c.expr, FieldsFunc(testLookup), defs)
			if err != nil {
				t.Fatal(err)
			}
			vs, ok := f.Values(typeID)
			got := "-"
			if ok {
				got = strings.Join(vs, ",")
			}
			if got != c.want {
				t.Fatalf("Values = %s, want %s", got, c.want)
			}
		})
	}
}
