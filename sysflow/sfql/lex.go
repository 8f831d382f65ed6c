package sfql

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Pos is a position in an expression: the byte offset and the 1-based line and column (in
// characters).
type Pos struct {
	Offset, Line, Col int
}

func (p Pos) String() string { return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col) }

// Error is a syntax or compile error at a position of the expression.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

type tokKind uint8

const (
	tEOF tokKind = iota
	tWord
	tString
	tAnd
	tOr
	tNot
	tIn
	tPmatch
	tExists
	tEq
	tNeq
	tLt
	tLe
	tGt
	tGe
	tContains
	tIContains
	tStartsWith
	tLParen
	tRParen
	tLBrack
	tRBrack
	tComma
	tGlob // a word, not a keyword: "glob" is an operator only after a field
)

var keywords = map[string]tokKind{
	"and": tAnd, "or": tOr, "not": tNot, "in": tIn, "pmatch": tPmatch, "exists": tExists,
	"contains": tContains, "icontains": tIContains, "startswith": tStartsWith,
}

// opNames spells the operators as the language does, for String and messages.
var opNames = [...]string{
	tAnd: "and", tOr: "or", tNot: "not", tIn: "in", tPmatch: "pmatch", tExists: "exists",
	tEq: "=", tNeq: "!=", tLt: "<", tLe: "<=", tGt: ">", tGe: ">=", tContains: "contains",
	tIContains: "icontains", tStartsWith: "startswith", tLParen: "(", tRParen: ")",
	tLBrack: "[", tRBrack: "]", tComma: ",", tGlob: "glob",
}

type token struct {
	kind tokKind
	text string // a word, or a string without its quotes
	pos  Pos
	end  int // offset after the token
}

// describe names the token in error messages.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tWord:
		return strconv.Quote(t.text)
	case tString:
		return "string " + strconv.Quote(t.text)
	}
	return `"` + opNames[t.kind] + `"`
}

// lexer splits an expression into tokens.
type lexer struct {
	src       string
	off       int
	line, col int // of off
}

func newLexer(src string) *lexer { return &lexer{src: src, line: 1, col: 1} }

func (l *lexer) pos() Pos { return Pos{Offset: l.off, Line: l.line, Col: l.col} }

// advance moves past n bytes that hold no newline.
func (l *lexer) advance(n int) {
	l.col += utf8.RuneCountInString(l.src[l.off : l.off+n])
	l.off += n
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '.' || c == '/' || c == '*' || c == ':'
}

// next returns the next token.
func (l *lexer) next() (token, error) {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == '\n':
			l.off++
			l.line++
			l.col = 1
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			l.advance(1)
			continue
		case c == '#':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance(1)
			}
			continue
		}
		break
	}
	start := l.pos()
	tok := func(k tokKind, n int) (token, error) {
		l.advance(n)
		return token{kind: k, pos: start, end: l.off}, nil
	}
	if l.off == len(l.src) {
		return token{kind: tEOF, pos: start, end: l.off}, nil
	}
	rest := l.src[l.off:]
	switch c := rest[0]; c {
	case '(':
		return tok(tLParen, 1)
	case ')':
		return tok(tRParen, 1)
	case '[':
		return tok(tLBrack, 1)
	case ']':
		return tok(tRBrack, 1)
	case ',':
		return tok(tComma, 1)
	case '=':
		return tok(tEq, 1)
	case '!':
		if len(rest) > 1 && rest[1] == '=' {
			return tok(tNeq, 2)
		}
	case '<':
		if len(rest) > 1 && rest[1] == '=' {
			return tok(tLe, 2)
		}
		return tok(tLt, 1)
	case '>':
		if len(rest) > 1 && rest[1] == '=' {
			return tok(tGe, 2)
		}
		return tok(tGt, 1)
	case '"', '\'':
		for i := 1; i < len(rest); i++ {
			switch rest[i] {
			case c:
				l.advance(i + 1)
				return token{kind: tString, text: rest[1:i], pos: start, end: l.off}, nil
			case '\n', '\r':
				i = len(rest)
			}
		}
		return token{}, &Error{start, "unterminated string (strings end at the next " + string(c) + " on the same line)"}
	}
	n := 0
	for n < len(rest) {
		if isWordByte(rest[n]) {
			n++
			continue
		}
		// A subscript glued to a word, as in proc.aname[2], is part of it.
		if rest[n] == '[' && n > 0 {
			if end := indexByteBefore(rest[n:], ']', " \t\r\n"); end > 0 {
				n += end + 1
				continue
			}
		}
		break
	}
	if n == 0 {
		r, _ := utf8.DecodeRuneInString(rest)
		return token{}, &Error{start, fmt.Sprintf("unexpected character %q", r)}
	}
	word := rest[:n]
	kind := tWord
	if k, ok := keywords[word]; ok {
		kind = k
	}
	l.advance(n)
	return token{kind: kind, text: word, pos: start, end: l.off}, nil
}

// indexByteBefore returns the index of c in s if it comes before any byte of stop, else -1.
func indexByteBefore(s string, c byte, stop string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
		for j := 0; j < len(stop); j++ {
			if s[i] == stop[j] {
				return -1
			}
		}
	}
	return -1
}
