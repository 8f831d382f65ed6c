package sysprint

import (
	"testing"

	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sfql"
)

// Every query field's id is one a FlatRecord remembers, and a remembered value is the
// record's own: Reset forgets the values of the record before.
func TestFlatRecordMemo(t *testing.T) {
	for _, f := range fields {
		if id, ok := QueryFields.Lookup(f.name); ok && (id < 0 || id >= memoFields) {
			t.Errorf("field %s has id %d, beyond memoFields %d", f.name, id, memoFields)
		}
	}
	exe, _ := QueryFields.Lookup("proc.exe")
	flat := func(path string) sysflow.Flat {
		p := &sysflow.Process{Exe: path}
		return sysflow.Flat{Kind: sysflow.KindProcessEvent, Rec: &sysflow.ProcessEvent{}, Process: p}
	}
	r := NewFlatRecord(flat("/bin/a"))
	for range 2 {
		if got := r.Field(exe); got != sfql.StringValue("/bin/a") {
			t.Fatalf("proc.exe = %v", got)
		}
	}
	r.Reset(flat("/bin/b"))
	if got := r.Field(exe); got != sfql.StringValue("/bin/b") {
		t.Fatalf("after Reset proc.exe = %v", got)
	}
}
