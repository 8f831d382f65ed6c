package conform

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/sfstream/sfstream/sysflow"
)

// Mismatch says what a summary line counts.
type Mismatch int

// Kinds of summary line.
const (
	// MismatchField counts reference records that differ from their closest candidate in
	// one field.
	MismatchField Mismatch = iota
	// MismatchMissing counts reference records of a type for which no record of ours was
	// left to compare with.
	MismatchMissing
	// MismatchExtra counts records of ours that no reference record took.
	MismatchExtra
)

// String names the mismatch as the report prints it: "field", "missing" or "extra".
func (m Mismatch) String() string {
	switch m {
	case MismatchField:
		return "field"
	case MismatchMissing:
		return "missing"
	case MismatchExtra:
		return "extra"
	}
	return "?"
}

// Pair is one mapping of a field's reference value to our value and how many records show it.
type Pair struct {
	Ref, Ours string // the printable values, as the per-record diffs show them unshortened
	Records   int
}

// FieldCount is one line of a mismatch summary.
type FieldCount struct {
	Kind    sysflow.Kind
	What    Mismatch
	Field   string // the Avro field name for MismatchField lines, else ""
	Records int    // records counted
	// Pairs is the number of distinct (reference → ours) value pairs among the records of a
	// MismatchField line: 1 means one mapping (the same OID pair, say) explains them all.
	Pairs int
	// Common is the most frequent pair of a MismatchField line (ties broken by the values'
	// order), the zero Pair for other lines.
	Common Pair
}

// Label is the line's name: "FF.procOID", "NF missing" or "F extra".
func (c FieldCount) Label() string {
	if c.What == MismatchField {
		return c.Kind.String() + "." + c.Field
	}
	return c.Kind.String() + " " + c.What.String()
}

// Summary groups the report's mismatches by record type and field, so that one cause that
// cascades over many records (a process OID that differs, say) is one line with a big count.
// It has a MismatchField line for every type and field in which at least one reference
// record differs from its closest candidate, with the number of such records and of distinct
// value pairs; a MismatchMissing line for every type with reference records left without any
// candidate; and a MismatchExtra line for every type with records of ours left over. Lines
// are sorted by Records, biggest first, then by type in union order, then field lines before
// missing and extra ones, then fields in the record's declaration order: the order is the
// same for the same report. A report without mismatches has an empty summary.
func (r *Report) Summary() []FieldCount {
	type key struct {
		kind sysflow.Kind
		what Mismatch
		pos  int // the field's declaration index; 0 for missing and extra lines
	}
	type tally struct {
		line  FieldCount
		pairs map[[2]string]int
	}
	tallies := map[key]*tally{}
	add := func(k key, field string) *tally {
		t := tallies[k]
		if t == nil {
			t = &tally{line: FieldCount{Kind: k.kind, What: k.what, Field: field}}
			tallies[k] = t
		}
		t.line.Records++
		return t
	}
	for _, d := range r.Diffs {
		kind := d.Ref.Kind()
		if d.Best == nil {
			add(key{kind, MismatchMissing, 0}, "")
			continue
		}
		for _, c := range changes(d.Ref, d.Best) {
			t := add(key{kind, MismatchField, c.pos}, c.name)
			if t.pairs == nil {
				t.pairs = map[[2]string]int{}
			}
			t.pairs[[2]string{c.ref, c.ours}]++
		}
	}
	for _, e := range r.Extra {
		add(key{e.Kind(), MismatchExtra, 0}, "")
	}

	keys := make([]key, 0, len(tallies))
	for k, t := range tallies {
		keys = append(keys, k)
		t.line.Pairs = len(t.pairs)
		for p, n := range t.pairs {
			c := &t.line.Common
			if n > c.Records || n == c.Records && (p[0] < c.Ref || p[0] == c.Ref && p[1] < c.Ours) {
				*c = Pair{Ref: p[0], Ours: p[1], Records: n}
			}
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if na, nb := tallies[a].line.Records, tallies[b].line.Records; na != nb {
			return na > nb
		}
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		if a.what != b.what {
			return a.what < b.what
		}
		return a.pos < b.pos
	})
	out := make([]FieldCount, len(keys))
	for i, k := range keys {
		out[i] = tallies[k].line
	}
	return out
}

// writeSummary prints the summary, one line each, or says that there are no mismatches.
func writeSummary(w io.Writer, sum []FieldCount) {
	if len(sum) == 0 {
		fmt.Fprintln(w, "mismatches by type and field: no mismatches")
		return
	}
	fmt.Fprintln(w, "mismatches by type and field, biggest first:")
	labelWidth, countWidth := 0, 0
	for _, c := range sum {
		labelWidth = max(labelWidth, len(c.Label()))
		countWidth = max(countWidth, len(fmt.Sprint(c.Records)))
	}
	for _, c := range sum {
		var b strings.Builder
		fmt.Fprintf(&b, "  %-*s %*d ", labelWidth, c.Label(), countWidth, c.Records)
		switch c.What {
		case MismatchField:
			fmt.Fprintf(&b, "%s, %d distinct (ref→ours) %s", noun(c.Records, "record"), c.Pairs, noun(c.Pairs, "pair"))
			if c.Common.Records > 1 {
				const short = 60
				fmt.Fprintf(&b, "; commonest ×%d: %s → %s", c.Common.Records, shorten(c.Common.Ref, short), shorten(c.Common.Ours, short))
			}
		case MismatchMissing:
			fmt.Fprintf(&b, "reference %s with no record of ours of this type left", noun(c.Records, "record"))
		case MismatchExtra:
			fmt.Fprintf(&b, "%s of ours that no reference record took", noun(c.Records, "record"))
		}
		fmt.Fprintln(w, b.String())
	}
}

// noun returns word for one and its plural (with an s) for any other count n.
func noun(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
