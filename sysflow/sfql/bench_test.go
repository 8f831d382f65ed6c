package sfql

import "testing"

// BenchmarkEval measures the cost of evaluating a compiled filter on one record whose Field
// returns precomputed values (an array index), so the figure is the evaluator's alone.
func BenchmarkEval(b *testing.B) {
	defs := mustDefs(b)
	for _, bm := range []struct{ name, expr string }{
		{"eq", "type = NF"},
		{"and-int", "type = NF and net.dport = 443"},
		{"opflags-part", "opflags = SEND"},
		{"in-list", "net.dport in (web_ports) and proc.exe pmatch (tools)"},
		{"typical", "not proc.exe startswith /usr/sbin and (web or proc.args icontains EXAMPLE)"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			f, err := Compile(bm.expr, FieldsFunc(testLookup), defs)
			if err != nil {
				b.Fatal(err)
			}
			rec := testSlice{}
			for i, name := range testFields {
				rec[i] = netFlow[name]
			}
			b.ReportAllocs()
			for b.Loop() {
				if !f.Match(&rec) {
					b.Fatal("no match")
				}
			}
		})
	}
}

// testSlice holds the values of netFlow by id, as a real record's switch would return them.
type testSlice [16]Value

func (r *testSlice) Field(id FieldID) Value { return r[id] }
