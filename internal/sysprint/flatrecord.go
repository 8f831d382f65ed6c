package sysprint

import (
	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sfql"
)

// QueryFields resolves SFQL field names to sfprint's fields (those of sfprint -l but idx,
// with or without sf-processor's "sf." prefix, which sfql strips). It is the field table of
// every condition over flattened records: sfprint --filter and the policy engine's rules.
var QueryFields sfql.Fields = queryFields

// v5Schema is what records of the v5 schema (every source but an old file) have.
var v5Schema = v5Fields()

// FlatRecord gives a flattened record of the v5 schema to SFQL (an sfql.Record over
// QueryFields), with the values sfprint --filter compares. proc.apid and proc.aname hold
// the process and its parent only (a FlatRecord keeps no history). The zero FlatRecord is
// no record; Reset makes it one. It holds no reference beyond those of the Flat.
type FlatRecord struct {
	r record
	// The values asked for so far, by field id: a rule set asks for the same fields many
	// times per record.
	memo [memoFields]sfql.Value
	have [memoFields / 64]uint64
}

// memoFields bounds the field ids whose values a FlatRecord remembers (every id of the field
// table is below it; a test checks).
const memoFields = 128

// NewFlatRecord returns flat as an SFQL record.
func NewFlatRecord(flat sysflow.Flat) *FlatRecord {
	f := &FlatRecord{}
	f.Reset(flat)
	return f
}

// Reset makes f the record flat, reusing f.
func (f *FlatRecord) Reset(flat sysflow.Flat) {
	f.r = newRecord(flat, 0, v5Schema)
	f.have = [memoFields / 64]uint64{}
}

// Flat returns the flattened record.
func (f *FlatRecord) Flat() *sysflow.Flat { return &f.r.flat }

// Field returns the value of field id (an id of QueryFields).
func (f *FlatRecord) Field(id sfql.FieldID) sfql.Value {
	if id < 0 || id >= memoFields {
		return f.r.Field(id)
	}
	w, bit := id/64, uint64(1)<<(id%64)
	if f.have[w]&bit != 0 {
		return f.memo[id]
	}
	v := f.r.Field(id)
	f.memo[id], f.have[w] = v, f.have[w]|bit
	return v
}
