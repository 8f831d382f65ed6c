package sysprint

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// valueKind is the type a field value has in sysprint (Python): the type decides how each
// output format renders it.
type valueKind uint8

const (
	vNone valueKind = iota
	vStr
	vInt
	vBool
	vList
	vTuple
	vDict
)

// value is one field value as sysprint holds it. Lists, tuples and dicts keep their items in
// items; a dict's keys are in keys.
type value struct {
	kind  valueKind
	str   string
	num   int64
	items []value
	keys  []string
}

func none() value              { return value{kind: vNone} }
func str(s string) value       { return value{kind: vStr, str: s} }
func num(n int64) value        { return value{kind: vInt, num: n} }
func boolean(b bool) value     { return value{kind: vBool, num: boolInt(b)} }
func list(items []value) value { return value{kind: vList, items: items} }
func emptyTuple() value        { return value{kind: vTuple} }

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// appendJSON appends v as Python's json.dumps writes it: separators ", " and ": ", every
// character outside printable ASCII escaped (\uXXXX, lower-case hex, surrogate pairs above
// U+FFFF), tuples as arrays.
func appendJSON(b []byte, v value) []byte {
	switch v.kind {
	case vNone:
		return append(b, "null"...)
	case vStr:
		return appendJSONString(b, v.str)
	case vInt:
		return strconv.AppendInt(b, v.num, 10)
	case vBool:
		if v.num != 0 {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case vList, vTuple:
		b = append(b, '[')
		for i, it := range v.items {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendJSON(b, it)
		}
		return append(b, ']')
	case vDict:
		b = append(b, '{')
		for i, it := range v.items {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendJSONString(b, v.keys[i])
			b = append(b, ": "...)
			b = appendJSON(b, it)
		}
		return append(b, '}')
	}
	return b
}

const hexDigits = "0123456789abcdef"

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		switch r {
		case '"':
			b = append(b, `\"`...)
		case '\\':
			b = append(b, `\\`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		default:
			if r > 0xffff {
				r -= 0x10000
				b = appendU4(b, 0xd800+(r>>10))
				r = 0xdc00 + r&0x3ff
			}
			b = appendU4(b, r)
		}
	}
	return append(b, '"')
}

func appendU4(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// appendText appends v as Python's str() renders it, which is what csv.DictWriter writes:
// None is empty, booleans are True and False, containers are their repr.
func appendText(b []byte, v value) []byte {
	switch v.kind {
	case vNone:
		return b
	case vStr:
		return append(b, v.str...)
	}
	return appendRepr(b, v)
}

// appendRepr appends Python's repr() of v.
func appendRepr(b []byte, v value) []byte {
	switch v.kind {
	case vNone:
		return append(b, "None"...)
	case vStr:
		return appendReprString(b, v.str)
	case vInt:
		return strconv.AppendInt(b, v.num, 10)
	case vBool:
		if v.num != 0 {
			return append(b, "True"...)
		}
		return append(b, "False"...)
	case vList, vTuple:
		open, end := byte('['), byte(']')
		if v.kind == vTuple {
			open, end = '(', ')'
		}
		b = append(b, open)
		for i, it := range v.items {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendRepr(b, it)
		}
		if v.kind == vTuple && len(v.items) == 1 {
			b = append(b, ',')
		}
		return append(b, end)
	case vDict:
		b = append(b, '{')
		for i, it := range v.items {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendReprString(b, v.keys[i])
			b = append(b, ": "...)
			b = appendRepr(b, it)
		}
		return append(b, '}')
	}
	return b
}

// appendReprString quotes s as Python's repr does: single quotes unless s contains a single
// quote and no double quote; backslash escapes for the quote, backslash and unprintable
// characters.
func appendReprString(b []byte, s string) []byte {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	b = append(b, q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r == utf8.RuneError:
			b = append(b, `\ufffd`...)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			b = append(b, '\\', 'x', hexDigits[r>>4], hexDigits[r&0xf])
		case !unicode.IsPrint(r) && r > 0x7f:
			if r > 0xffff {
				b = append(b, `\U`...)
				b = append(b, hexDigits[r>>28&0xf], hexDigits[r>>24&0xf], hexDigits[r>>20&0xf], hexDigits[r>>16&0xf])
			} else {
				b = append(b, `\u`...)
			}
			b = append(b, hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, q)
}

// cellText returns v as sysprint's table shows it: strings and numbers as such (a boolean is
// an int in Python and formats as 1 or 0), None as nothing, anything else as JSON.
func cellText(v value) string {
	switch v.kind {
	case vNone:
		return ""
	case vStr:
		return v.str
	case vInt, vBool:
		return strconv.FormatInt(v.num, 10)
	}
	return string(appendJSON(nil, v))
}
