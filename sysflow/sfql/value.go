package sfql

import "strconv"

// FieldID identifies a field of the caller's records; the caller's [Fields] chooses the ids.
type FieldID int

// Fields resolves field names when an expression is compiled.
type Fields interface {
	// Lookup returns the id of the field called name, or false if there is none.
	Lookup(name string) (FieldID, bool)
}

// FieldsFunc adapts a function to [Fields].
type FieldsFunc func(name string) (FieldID, bool)

// Lookup calls f.
func (f FieldsFunc) Lookup(name string) (FieldID, bool) { return f(name) }

// Record is what a [Filter] evaluates: it returns the value of a field resolved at compile time.
type Record interface {
	Field(id FieldID) Value
}

// Kind is the type of a [Value], which decides its text and truthiness.
type Kind uint8

// Kinds of values, after the Python types of the reference.
const (
	KindNone   Kind = iota // no value (Python None): text "None", never truthy
	KindString             // text, truthy unless empty
	KindInt                // an integer, truthy unless 0
	KindBool               // text "True" or "False", truthy if true
	KindList               // a list rendered as text (Python's repr), truthy unless empty
)

// Value is the value of a field in one record. The zero Value is None.
type Value struct {
	kind Kind
	s    string
	n    int64
}

// NoValue returns the None value: the record has no such field.
func NoValue() Value { return Value{} }

// StringValue returns a text value. Commas separate the parts that predicates test.
func StringValue(s string) Value { return Value{kind: KindString, s: s} }

// IntValue returns an integer value.
func IntValue(n int64) Value { return Value{kind: KindInt, n: n} }

// BoolValue returns a boolean value.
func BoolValue(b bool) Value {
	if b {
		return Value{kind: KindBool, n: 1}
	}
	return Value{kind: KindBool}
}

// ListValue returns a list of n items that compares as text (the reference compares Python's
// repr of the list, for example "['A=1', 'B=2']") and is truthy unless n is 0.
func ListValue(text string, n int) Value { return Value{kind: KindList, s: text, n: int64(n)} }

// Kind returns the kind of v.
func (v Value) Kind() Kind { return v.kind }

// Int returns the integer of an int value, 1 or 0 for a boolean, else 0.
func (v Value) Int() int64 { return v.n }

// String returns v's text as the reference compares it (Python's str()).
func (v Value) String() string {
	if v.kind == KindString || v.kind == KindList {
		return v.s
	}
	var buf [24]byte
	return string(v.appendText(buf[:0]))
}

func (v Value) appendText(b []byte) []byte {
	switch v.kind {
	case KindString, KindList:
		return append(b, v.s...)
	case KindInt:
		return strconv.AppendInt(b, v.n, 10)
	case KindBool:
		if v.n != 0 {
			return append(b, "True"...)
		}
		return append(b, "False"...)
	}
	return append(b, "None"...)
}

// truthy reports whether Python's bool() of the value is true.
func (v Value) truthy() bool {
	switch v.kind {
	case KindString:
		return v.s != ""
	case KindInt, KindBool, KindList:
		return v.n != 0
	}
	return false
}

// pyInt parses s as Python's int() does for base 10: surrounding white space, an optional
// sign, digits with single underscores between them.
func pyInt(s string) (int64, bool) {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	s = s[i:j]
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	var n uint64
	prevDigit := false
	for k := 0; k < len(s); k++ {
		c := s[k]
		switch {
		case c >= '0' && c <= '9':
			if n > (1<<63)/10 {
				return 0, false
			}
			n = n*10 + uint64(c-'0')
			prevDigit = true
		case c == '_' && prevDigit && k+1 < len(s):
			prevDigit = false
		default:
			return 0, false
		}
	}
	if !prevDigit {
		return 0, false
	}
	switch {
	case neg && n <= 1<<63:
		return -int64(n), true
	case !neg && n < 1<<63:
		return int64(n), true
	}
	return 0, false
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// AppendText appends v's text (what [Value.String] returns) to b.
func (v Value) AppendText(b []byte) []byte { return v.appendText(b) }
