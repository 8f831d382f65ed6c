package sfql

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Filter is a compiled expression. It is immutable and safe for concurrent use.
type Filter struct {
	expr   *Expr
	match  func(Record) bool
	fields Fields // what it was compiled with, for Values
	defs   *Defs
}

// Match reports whether the record satisfies the expression.
func (f *Filter) Match(r Record) bool { return f.match(r) }

// String returns the expression in canonical form (macros not expanded).
func (f *Filter) String() string { return f.expr.String() }

// Compile parses src and binds it to fields and to the macros and lists of defs (which may be
// nil). Errors in src are *Error values with their position.
func Compile(src string, fields Fields, defs *Defs) (*Filter, error) {
	e, err := Parse(src)
	if err != nil {
		return nil, err
	}
	return e.Compile(fields, defs)
}

// Compile binds the expression to fields and to the macros and lists of defs (which may be
// nil).
func (e *Expr) Compile(fields Fields, defs *Defs) (*Filter, error) {
	if defs == nil {
		defs = &Defs{}
	}
	c := &compiler{fields: fields, defs: defs, macros: map[string]bool{}}
	m, err := c.node(e.root)
	if err != nil {
		return nil, err
	}
	return &Filter{expr: e, match: m, fields: fields, defs: defs}, nil
}

type compiler struct {
	fields Fields
	defs   *Defs
	macros map[string]bool // macros being expanded, to detect cycles
}

type matcher = func(Record) bool

func (c *compiler) lookup(name string) (FieldID, bool) {
	if id, ok := c.fields.Lookup(name); ok {
		return id, true
	}
	if rest, ok := strings.CutPrefix(name, "sf."); ok { // the reference's optional prefix
		return c.fields.Lookup(rest)
	}
	return 0, false
}

func (c *compiler) node(n node) (matcher, error) {
	switch n := n.(type) {
	case *orNode:
		ms, err := c.nodes(n.terms)
		if err != nil {
			return nil, err
		}
		if len(ms) == 2 {
			a, b := ms[0], ms[1]
			return func(r Record) bool { return a(r) || b(r) }, nil
		}
		return func(r Record) bool {
			for _, m := range ms {
				if m(r) {
					return true
				}
			}
			return false
		}, nil
	case *andNode:
		ms, err := c.nodes(n.terms)
		if err != nil {
			return nil, err
		}
		if len(ms) == 2 {
			a, b := ms[0], ms[1]
			return func(r Record) bool { return a(r) && b(r) }, nil
		}
		return func(r Record) bool {
			for _, m := range ms {
				if !m(r) {
					return false
				}
			}
			return true
		}, nil
	case *notNode:
		m, err := c.node(n.x)
		if err != nil {
			return nil, err
		}
		return func(r Record) bool { return !m(r) }, nil
	case *macroNode:
		return c.macro(n.name)
	case *cmpNode:
		return c.compare(n)
	case *listNode:
		return c.list(n)
	}
	panic(fmt.Sprintf("sfql: unknown node %T", n))
}

func (c *compiler) nodes(ns []node) ([]matcher, error) {
	ms := make([]matcher, len(ns))
	for i, n := range ns {
		m, err := c.node(n)
		if err != nil {
			return nil, err
		}
		ms[i] = m
	}
	return ms, nil
}

func (c *compiler) macro(name atom) (matcher, error) {
	def, ok := c.defs.macros[name.text]
	if !ok {
		if _, isField := c.lookup(name.text); isField {
			return nil, &Error{name.pos, fmt.Sprintf("expected an operator after the field %q", name.text)}
		}
		return nil, &Error{name.pos, fmt.Sprintf("unknown macro %q (or a field name misspelt)", name.text)}
	}
	if c.macros[name.text] {
		return nil, &Error{name.pos, fmt.Sprintf("macro %q refers to itself", name.text)}
	}
	c.macros[name.text] = true
	defer delete(c.macros, name.text)
	m, err := c.node(def.expr.root)
	if err != nil {
		return nil, fmt.Errorf("%s: in macro %q (%s): %w", name.pos, name.text, def.where, err)
	}
	return m, nil
}

// field resolves the field on the left of a predicate.
func (c *compiler) field(a atom) (FieldID, error) {
	if a.quoted {
		return 0, &Error{a.pos, fmt.Sprintf("expected a field name, found string %q", a.text)}
	}
	id, ok := c.lookup(a.text)
	if !ok {
		return 0, &Error{a.pos, fmt.Sprintf("unknown field %q", a.text)}
	}
	return id, nil
}

// test is a predicate on one part of a value's text, with a shortcut for integer values
// (whose text is a single part).
type test struct {
	str func(part string) bool
	num func(n int64) bool
}

func (c *compiler) compare(n *cmpNode) (matcher, error) {
	id, err := c.field(n.field)
	if err != nil {
		return nil, err
	}
	if n.op == tExists {
		return func(r Record) bool { return r.Field(id).truthy() }, nil
	}
	if !n.value.quoted {
		if rid, ok := c.lookup(n.value.text); ok { // a field on the right: compare the values
			op := n.op
			return func(r Record) bool {
				t, ok := newTest(op, r.Field(rid).String())
				return ok && t.eval(r.Field(id))
			}, nil
		}
	}
	t, ok := newTest(n.op, n.value.text)
	if !ok {
		return nil, &Error{n.value.pos, fmt.Sprintf("expected an integer after %q, found %q", opNames[n.op], n.value.text)}
	}
	return func(r Record) bool { return t.eval(r.Field(id)) }, nil
}

func (t test) eval(v Value) bool {
	if v.kind == KindInt {
		return t.num(v.n)
	}
	return anyPart(v, t.str)
}

// anyPart reports whether pred holds for one of the comma-separated parts of v's text (v is
// not an int).
func anyPart(v Value, pred func(string) bool) bool {
	switch v.kind {
	case KindString, KindList:
		s := v.s
		for {
			i := strings.IndexByte(s, ',')
			if i < 0 {
				return pred(s)
			}
			if pred(s[:i]) {
				return true
			}
			s = s[i+1:]
		}
	case KindBool:
		if v.n != 0 {
			return pred("True")
		}
		return pred("False")
	}
	return pred("None")
}

// newTest returns the test of operator op against the text lit; false if op compares integers
// and lit is none.
func newTest(op tokKind, lit string) (test, bool) {
	var t test
	switch op {
	case tEq, tNeq:
		canon, isInt := canonicalInt(lit)
		eq := test{
			str: func(s string) bool { return s == lit },
			num: func(n int64) bool { return isInt && n == canon },
		}
		if op == tEq {
			return eq, true
		}
		return test{
			str: func(s string) bool { return s != lit },
			num: func(n int64) bool { return !eq.num(n) },
		}, true
	case tContains:
		t.str = func(s string) bool { return strings.Contains(s, lit) }
	case tIContains:
		low := strings.ToLower(lit)
		t.str = func(s string) bool { return containsFold(s, low) }
	case tStartsWith:
		t.str = func(s string) bool { return strings.HasPrefix(s, lit) }
	case tGlob:
		t.str = func(s string) bool { return globMatch(lit, s) }
	case tLt, tLe, tGt, tGe:
		k, ok := pyInt(lit)
		if !ok {
			return t, false
		}
		var cmp func(a int64) bool
		switch op {
		case tLt:
			cmp = func(a int64) bool { return a < k }
		case tLe:
			cmp = func(a int64) bool { return a <= k }
		case tGt:
			cmp = func(a int64) bool { return a > k }
		default:
			cmp = func(a int64) bool { return a >= k }
		}
		return test{
			str: func(s string) bool {
				a, ok := pyInt(s)
				return ok && cmp(a)
			},
			num: cmp,
		}, true
	default:
		panic("sfql: no test for " + opNames[op])
	}
	str := t.str
	t.num = func(n int64) bool { return str(strconv.FormatInt(n, 10)) }
	return t, true
}

// canonicalInt returns the integer whose decimal text is exactly s, if there is one.
func canonicalInt(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != s {
		return 0, false
	}
	return n, true
}

// containsFold reports whether lowered(s) contains low, which is lower case already, with
// Python's str.lower() as the lowering.
func containsFold(s, low string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return strings.Contains(strings.ToLower(s), low)
		}
	}
	if len(low) > len(s) {
		return false
	}
	for i := 0; i+len(low) <= len(s); i++ {
		j := 0
		for j < len(low) && lowerASCII(s[i+j]) == low[j] {
			j++
		}
		if j == len(low) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// smallSet is the size up to which in-lists are searched linearly rather than by map.
const smallSet = 8

func (c *compiler) list(n *listNode) (matcher, error) {
	id, err := c.field(n.field)
	if err != nil {
		return nil, err
	}
	var items []string
	for _, it := range n.items {
		if items, err = c.expandList(items, it.text, it.pos, nil); err != nil {
			return nil, err
		}
	}
	if n.op == tPmatch {
		t := test{str: func(s string) bool {
			for _, it := range items {
				if strings.Contains(s, it) {
					return true
				}
			}
			return false
		}}
		t.num = func(v int64) bool { return t.str(strconv.FormatInt(v, 10)) }
		return func(r Record) bool { return t.eval(r.Field(id)) }, nil
	}
	var ints []int64
	set := map[string]struct{}{}
	for _, it := range items {
		set[it] = struct{}{}
		if k, ok := canonicalInt(it); ok {
			ints = append(ints, k)
		}
	}
	t := test{num: func(v int64) bool {
		for _, k := range ints {
			if v == k {
				return true
			}
		}
		return false
	}}
	if len(set) <= smallSet {
		t.str = func(s string) bool {
			for _, it := range items {
				if s == it {
					return true
				}
			}
			return false
		}
	} else {
		t.str = func(s string) bool {
			_, ok := set[s]
			return ok
		}
		if len(ints) > smallSet {
			iset := map[int64]struct{}{}
			for _, k := range ints {
				iset[k] = struct{}{}
			}
			t.num = func(v int64) bool {
				_, ok := iset[v]
				return ok
			}
		}
	}
	return func(r Record) bool { return t.eval(r.Field(id)) }, nil
}

// expandList appends item to out, or the items of the list it names, recursively. seen holds
// the lists being expanded.
func (c *compiler) expandList(out []string, item string, pos Pos, seen []string) ([]string, error) {
	l, ok := c.defs.lists[item]
	if !ok {
		return append(out, item), nil
	}
	for _, s := range seen {
		if s == item {
			return nil, &Error{pos, fmt.Sprintf("list %q contains itself (through %s)", item, strings.Join(seen, " > "))}
		}
	}
	seen = append(seen, item)
	var err error
	for _, it := range l.items {
		if out, err = c.expandList(out, it, pos, seen); err != nil {
			return nil, err
		}
	}
	return out, nil
}
