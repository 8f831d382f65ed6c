package sfql

import (
	"strconv"
	"strings"
)

// Expr is a parsed expression, not yet bound to fields, macros and lists.
type Expr struct {
	root node
}

// node is a node of the syntax tree.
type node interface {
	appendTo(b []byte) []byte
}

type (
	orNode  struct{ terms []node }
	andNode struct{ terms []node }
	notNode struct{ x node }
	// macroNode refers to a macro by name.
	macroNode struct{ name atom }
	// cmpNode is a field, an operator and (but for exists) a value.
	cmpNode struct {
		field atom
		op    tokKind
		value atom
	}
	// listNode is a field, in or pmatch, and a list of values.
	listNode struct {
		field atom
		op    tokKind
		items []atom
	}
)

// atom is a word or a string of the expression.
type atom struct {
	text   string
	quoted bool
	pos    Pos
}

func (a atom) appendTo(b []byte) []byte {
	if !a.quoted {
		return append(b, a.text...)
	}
	q := byte('"')
	if strings.IndexByte(a.text, '"') >= 0 {
		q = '\''
	}
	b = append(b, q)
	b = append(b, a.text...)
	return append(b, q)
}

func (n *orNode) appendTo(b []byte) []byte  { return appendJoined(b, n.terms, " or ") }
func (n *andNode) appendTo(b []byte) []byte { return appendJoined(b, n.terms, " and ") }

func appendJoined(b []byte, terms []node, sep string) []byte {
	b = append(b, '(')
	for i, t := range terms {
		if i > 0 {
			b = append(b, sep...)
		}
		b = t.appendTo(b)
	}
	return append(b, ')')
}

func (n *notNode) appendTo(b []byte) []byte   { return n.x.appendTo(append(b, "not "...)) }
func (n *macroNode) appendTo(b []byte) []byte { return n.name.appendTo(b) }

func (n *cmpNode) appendTo(b []byte) []byte {
	b = n.field.appendTo(b)
	b = append(b, ' ')
	b = append(b, opNames[n.op]...)
	if n.op == tExists {
		return b
	}
	return n.value.appendTo(append(b, ' '))
}

func (n *listNode) appendTo(b []byte) []byte {
	b = n.field.appendTo(b)
	b = append(b, ' ')
	b = append(b, opNames[n.op]...)
	if len(n.items) == 0 {
		return append(b, " ([])"...)
	}
	b = append(b, " ("...)
	for i, it := range n.items {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = it.appendTo(b)
	}
	return append(b, ')')
}

// String returns the expression in a canonical form, with every and and or group in
// parentheses; it parses to the same expression.
func (e *Expr) String() string { return string(e.root.appendTo(nil)) }

// Parse parses an expression. A syntax error is an *Error with the position of the offending
// token and what was expected there.
func Parse(src string) (*Expr, error) {
	p := &parser{lex: newLexer(src)}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return nil, &Error{p.tok.pos, "empty expression"}
	}
	root, err := p.expression(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.expected(`"and", "or" or the end of the expression`)
	}
	return &Expr{root: root}, nil
}

// maxDepth bounds the nesting of parentheses and nots, so that no input exhausts the stack.
const maxDepth = 1000

type parser struct {
	lex *lexer
	tok token
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) expected(what string) error {
	return &Error{p.tok.pos, "expected " + what + ", found " + p.tok.describe()}
}

// expression parses or-expressions: and-expressions joined by or.
func (p *parser) expression(depth int) (node, error) {
	var terms []node
	for {
		t, err := p.andExpression(depth)
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
		if p.tok.kind != tOr {
			break
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return &orNode{terms}, nil
}

func (p *parser) andExpression(depth int) (node, error) {
	var terms []node
	for {
		t, err := p.term(depth)
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
		if p.tok.kind != tAnd {
			break
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return &andNode{terms}, nil
}

func (p *parser) term(depth int) (node, error) {
	if depth > maxDepth {
		return nil, &Error{p.tok.pos, "expression nested too deeply"}
	}
	switch p.tok.kind {
	case tNot:
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.term(depth + 1)
		if err != nil {
			return nil, err
		}
		return &notNode{x}, nil
	case tLParen:
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.expression(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			return nil, p.expected(`"and", "or" or ")"`)
		}
		return x, p.advance()
	case tWord, tString:
	default:
		return nil, p.expected(`a field, a macro, "not" or "("`)
	}
	left := atom{text: p.tok.text, quoted: p.tok.kind == tString, pos: p.tok.pos}
	if err := p.advance(); err != nil {
		return nil, err
	}
	op := p.tok.kind
	if op == tWord && p.tok.text == opNames[tGlob] {
		// glob is an operator where one is expected and a word anywhere else, so no
		// expression that parsed before it was added changes meaning.
		op = tGlob
	}
	switch op {
	case tExists:
		return &cmpNode{field: left, op: op}, p.advance()
	case tEq, tNeq, tLt, tLe, tGt, tGe, tContains, tIContains, tStartsWith, tGlob:
		if err := p.advance(); err != nil {
			return nil, err
		}
		v, ok := p.value()
		if !ok {
			return nil, p.expected("a value after " + strconv.Quote(opNames[op]))
		}
		return &cmpNode{field: left, op: op, value: v}, p.advance()
	case tIn, tPmatch:
		if err := p.advance(); err != nil {
			return nil, err
		}
		items, err := p.list(op)
		if err != nil {
			return nil, err
		}
		return &listNode{field: left, op: op, items: items}, nil
	}
	if left.quoted {
		return nil, p.expected("an operator after " + strconv.Quote(left.text))
	}
	return &macroNode{name: left}, nil
}

// value returns the current token as a value: a word, a string, or < or > (the reference's
// event directions).
func (p *parser) value() (atom, bool) {
	switch t := p.tok; t.kind {
	case tWord, tString:
		return atom{text: t.text, quoted: t.kind == tString, pos: t.pos}, true
	case tLt, tGt:
		return atom{text: opNames[t.kind], pos: t.pos}, true
	}
	return atom{}, false
}

// list parses "(" item {"," item} ")" where an item is a value or a bracketed list of values.
func (p *parser) list(op tokKind) ([]atom, error) {
	if p.tok.kind != tLParen {
		return nil, p.expected(`"(" after "` + opNames[op] + `"`)
	}
	var items []atom
	for {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind == tLBrack {
			sub, err := p.brackets()
			if err != nil {
				return nil, err
			}
			items = append(items, sub...)
		} else {
			v, ok := p.value()
			if !ok {
				return nil, p.expected("a value or a list name")
			}
			items = append(items, v)
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		switch p.tok.kind {
		case tComma:
			continue
		case tRParen:
			return items, p.advance()
		}
		return nil, p.expected(`"," or ")"`)
	}
}

// brackets parses "[" [value {"," value}] "]", the current token being "[", and stops on "]".
func (p *parser) brackets() ([]atom, error) {
	var items []atom
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tRBrack {
		return nil, nil
	}
	for {
		v, ok := p.value()
		if !ok {
			return nil, p.expected("a value")
		}
		items = append(items, v)
		if err := p.advance(); err != nil {
			return nil, err
		}
		switch p.tok.kind {
		case tComma:
			if err := p.advance(); err != nil {
				return nil, err
			}
			continue
		case tRBrack:
			return items, nil
		}
		return nil, p.expected(`"," or "]"`)
	}
}
