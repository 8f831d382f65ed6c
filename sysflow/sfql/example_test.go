package sfql_test

import (
	"fmt"

	"github.com/sfstream/sfstream/sysflow/sfql"
)

// flow is a caller's record type: the caller decides the field ids and computes the values.
type flow struct {
	kind  string
	exe   string
	dport int64
}

const (
	fieldType sfql.FieldID = iota
	fieldExe
	fieldDPort
)

var flowFields = sfql.FieldsFunc(func(name string) (sfql.FieldID, bool) {
	switch name {
	case "type":
		return fieldType, true
	case "proc.exe":
		return fieldExe, true
	case "net.dport":
		return fieldDPort, true
	}
	return 0, false
})

func (f *flow) Field(id sfql.FieldID) sfql.Value {
	switch id {
	case fieldType:
		return sfql.StringValue(f.kind)
	case fieldExe:
		return sfql.StringValue(f.exe)
	case fieldDPort:
		if f.kind != "NF" {
			return sfql.NoValue()
		}
		return sfql.IntValue(f.dport)
	}
	return sfql.NoValue()
}

func ExampleCompile() {
	filter, err := sfql.Compile("type = NF and net.dport in (80, 443) and not proc.exe startswith /usr/sbin", flowFields, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range []*flow{
		{"NF", "/usr/bin/curl", 443},
		{"NF", "/usr/sbin/nginx", 80},
		{"FF", "/usr/bin/cat", 0},
	} {
		fmt.Println(f.exe, filter.Match(f))
	}
	// Output:
	// /usr/bin/curl true
	// /usr/sbin/nginx false
	// /usr/bin/cat false
}

func ExampleCompile_error() {
	_, err := sfql.Compile("type = NF and net.dport >", flowFields, nil)
	fmt.Println(err)
	_, err = sfql.Compile("type = NF and proc.exr = /bin/sh", flowFields, nil)
	fmt.Println(err)
	// Output:
	// 1:26: expected a value after ">", found end of expression
	// 1:15: unknown field "proc.exr"
}

func ExampleParseDefs() {
	defs, err := sfql.ParseDefs("web.yaml", []byte(`
- list: web_ports
  items: [80, 443, 8080]
- macro: web_flow
  condition: type = NF and net.dport in (web_ports)
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	filter, err := sfql.Compile("web_flow and proc.exe pmatch (curl, wget)", flowFields, defs)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(filter.Match(&flow{"NF", "/usr/bin/wget", 8080}))
	fmt.Println(filter.Match(&flow{"NF", "/usr/bin/wget", 22}))
	// Output:
	// true
	// false
}

func ExampleParse() {
	e, err := sfql.Parse("not type = PE and proc.exe contains sh or net.dport < 1024")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e) // the canonical form shows the precedence: not, then and, then or
	// Output:
	// ((not type = PE and proc.exe contains sh) or net.dport < 1024)
}
