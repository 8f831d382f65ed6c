// Package conform compares SysFlow records with a reference collector's output: per-type
// counts, then record by record on the fields that matter (types, op flags, OIDs and parents,
// paths and FOIDs, tuples, byte and op counts, return values).
//
// Matching is by multiset: each reference record is paired with an unused record of ours
// that agrees on every compared field. This is what SEMANTICS.md §8 asks for where the
// reference's order is hash-map order (shutdown truncation, multi-flow exits, related-flow
// flushes); elsewhere the order of the paired records is checked too and departures are
// reported. A reference record with no exact partner is reported against its closest
// candidate with the differing fields named.
//
// Report.Summary counts those differences by record type and field, with the number of
// distinct (reference → ours) value pairs, and the records missing on either side, so that
// one cause that cascades over thousands of records reads as one line.
package conform

import (
	"encoding/hex"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"github.com/sfstream/sfstream/sysflow"
)

// Diff is one reference record without an exact partner.
type Diff struct {
	Index  int            // position in the reference
	Ref    sysflow.Record // the reference record
	Best   sysflow.Record // our closest candidate of the same type, or nil
	Fields []string       // fields that differ from Best, "field: ref → ours"
}

// Report is the result of a comparison.
type Report struct {
	RefCounts, OurCounts map[sysflow.Kind]int
	Compared             int // reference records compared (the header is not)
	Matched              int
	Diffs                []Diff
	Extra                []sysflow.Record // records of ours no reference record took
	OutOfOrder           int              // matched records whose order differs from the reference's
}

// Percent is the share of reference records matched field by field.
func (r *Report) Percent() float64 {
	if r.Compared == 0 {
		return 100
	}
	return 100 * float64(r.Matched) / float64(r.Compared)
}

// Compare matches ours against ref.
func Compare(ref, ours []sysflow.Record) *Report {
	rep := &Report{RefCounts: counts(ref), OurCounts: counts(ours)}
	used := make([]bool, len(ours))
	byKind := map[sysflow.Kind][]int{}
	for i, r := range ours {
		byKind[r.Kind()] = append(byKind[r.Kind()], i)
	}
	var pairs [][2]int
	// Exact matches first, so that a near miss cannot steal an exact partner.
	unmatched := []int{}
	for i, r := range ref {
		if r.Kind() == sysflow.KindHeader {
			continue
		}
		rep.Compared++
		k := fingerprint(r)
		found := -1
		for _, j := range byKind[r.Kind()] {
			if !used[j] && fingerprint(ours[j]) == k {
				found = j
				break
			}
		}
		if found < 0 {
			unmatched = append(unmatched, i)
			continue
		}
		used[found] = true
		rep.Matched++
		pairs = append(pairs, [2]int{i, found})
	}
	for _, i := range unmatched {
		r := ref[i]
		best, bestDiff := -1, []string(nil)
		for _, j := range byKind[r.Kind()] {
			if used[j] {
				continue
			}
			d := fieldDiff(r, ours[j])
			if best < 0 || len(d) < len(bestDiff) {
				best, bestDiff = j, d
			}
		}
		diff := Diff{Index: i, Ref: r}
		if best >= 0 {
			used[best] = true
			diff.Best, diff.Fields = ours[best], bestDiff
		}
		rep.Diffs = append(rep.Diffs, diff)
	}
	for j, r := range ours {
		if !used[j] && r.Kind() != sysflow.KindHeader {
			rep.Extra = append(rep.Extra, r)
		}
	}
	rep.OutOfOrder = len(pairs) - longestIncreasing(pairs)
	return rep
}

func counts(recs []sysflow.Record) map[sysflow.Kind]int {
	m := map[sysflow.Kind]int{}
	for _, r := range recs {
		m[r.Kind()]++
	}
	return m
}

// fingerprint renders the compared fields of a record.
func fingerprint(r sysflow.Record) string {
	var b strings.Builder
	for _, f := range fields(r) {
		fmt.Fprintf(&b, "%s=%s;", f.name, f.value)
	}
	return b.String()
}

type field struct{ name, value string }

// ignored are fields not compared: the header's filename (the reference's is its own path).
var ignored = map[string]bool{"filename": true}

// fields lists a record's compared fields with printable values.
func fields(r sysflow.Record) []field {
	v := reflect.ValueOf(r).Elem()
	var out []field
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Tag.Get("avro")
		if ignored[name] {
			continue
		}
		out = append(out, field{name, show(v.Field(i))})
	}
	return out
}

func show(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return "null"
		}
		return show(v.Elem())
	case reflect.Array:
		b := make([]byte, v.Len())
		reflect.Copy(reflect.ValueOf(b), v)
		return hex.EncodeToString(b)
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = show(v.Index(i))
		}
		return "[" + strings.Join(parts, ",") + "]"
	case reflect.Struct:
		parts := make([]string, v.NumField())
		for i := range parts {
			parts[i] = v.Type().Field(i).Tag.Get("avro") + ":" + show(v.Field(i))
		}
		return "{" + strings.Join(parts, ",") + "}"
	case reflect.Map:
		keys := v.MapKeys()
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprint(k.Interface()) + ":" + show(v.MapIndex(k))
		}
		sort.Strings(parts)
		return "{" + strings.Join(parts, ",") + "}"
	}
	return fmt.Sprint(v.Interface())
}

// change is one compared field in which two records of the same type differ.
type change struct {
	pos             int // the field's index among the record's compared fields
	name, ref, ours string
}

// changes lists the compared fields in which ours differs from ref, in declaration order;
// both records are of the same type.
func changes(ref, ours sysflow.Record) []change {
	a, b := fields(ref), fields(ours)
	var out []change
	for i := range a {
		if a[i].value != b[i].value {
			out = append(out, change{i, a[i].name, a[i].value, b[i].value})
		}
	}
	return out
}

func fieldDiff(ref, ours sysflow.Record) []string {
	cs := changes(ref, ours)
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = fmt.Sprintf("%s: %s → %s", c.name, abbrev(c.ref), abbrev(c.ours))
	}
	return out
}

// abbrev shortens long values (environments) for the report.
func abbrev(v string) string { return shorten(v, 100) }

// shorten cuts v to its first n bytes and says how long it was, if it is longer.
func shorten(v string, n int) string {
	if len(v) <= n {
		return v
	}
	return v[:n] + fmt.Sprintf("…(%d bytes)", len(v))
}

// brief renders a record's compared fields with long values shortened.
func brief(r sysflow.Record) string {
	var b strings.Builder
	for _, f := range fields(r) {
		fmt.Fprintf(&b, "%s=%s;", f.name, abbrev(f.value))
	}
	return b.String()
}

// longestIncreasing returns the length of the longest run of pairs (in reference order)
// whose positions in ours increase: the records in the same relative order.
func longestIncreasing(pairs [][2]int) int {
	var tails []int
	for _, p := range pairs {
		x := p[1]
		i := sort.SearchInts(tails, x)
		if i == len(tails) {
			tails = append(tails, x)
		} else {
			tails[i] = x
		}
	}
	return len(tails)
}

// Write prints the report readably: per-type counts, the per-record diffs and extra records,
// the mismatch summary (Summary), and last a line "matched NN.N%".
func (r *Report) Write(w io.Writer) {
	fmt.Fprintf(w, "%-4s %9s %9s\n", "type", "reference", "ours")
	for _, k := range sysflow.Kinds() {
		if r.RefCounts[k] == 0 && r.OurCounts[k] == 0 {
			continue
		}
		mark := ""
		if r.RefCounts[k] != r.OurCounts[k] {
			mark = "  ≠"
		}
		fmt.Fprintf(w, "%-4s %9d %9d%s\n", k, r.RefCounts[k], r.OurCounts[k], mark)
	}
	for _, d := range r.Diffs {
		if d.Best == nil {
			fmt.Fprintf(w, "reference #%d %s: no record of ours of this type left\n  %s\n", d.Index, d.Ref.Kind(), brief(d.Ref))
			continue
		}
		fmt.Fprintf(w, "reference #%d %s differs from our closest in %d field(s):\n", d.Index, d.Ref.Kind(), len(d.Fields))
		for _, f := range d.Fields {
			fmt.Fprintf(w, "  %s\n", f)
		}
	}
	for _, e := range r.Extra {
		fmt.Fprintf(w, "extra %s of ours: %s\n", e.Kind(), brief(e))
	}
	if r.OutOfOrder > 0 {
		fmt.Fprintf(w, "%d matched record(s) in another order than the reference's\n", r.OutOfOrder)
	}
	writeSummary(w, r.Summary())
	fmt.Fprintf(w, "%d of %d reference records matched field by field\n", r.Matched, r.Compared)
	fmt.Fprintf(w, "matched %.1f%%\n", r.Percent())
}
