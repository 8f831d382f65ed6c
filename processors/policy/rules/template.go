package rules

import (
	"fmt"
	"strings"

	"github.com/sfstream/sfstream/sysflow/sfql"
)

// template is a compiled output: literal text and fields, alternately.
type template struct {
	parts []part
}

type part struct {
	lit   string
	field sfql.FieldID
	isVal bool
}

// notAvailable is the text of a field the record lacks, as Falco writes it.
const notAvailable = "<NA>"

func isFieldByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

// lookupField resolves a field name, with sf-processor's optional "sf." prefix.
func lookupField(fields sfql.Fields, name string) (sfql.FieldID, bool) {
	if id, ok := fields.Lookup(name); ok {
		return id, true
	}
	if rest, ok := strings.CutPrefix(name, "sf."); ok {
		return fields.Lookup(rest)
	}
	return 0, false
}

// parseTemplate compiles an output: %name is the value of field name (letters, digits, _ and
// dots; a dot that ends it is text), %% is a percent sign.
func parseTemplate(s string, fields sfql.Fields) (template, error) {
	var t template
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			lit.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '%' {
			lit.WriteByte('%')
			i++
			continue
		}
		j := i + 1
		for j < len(s) && isFieldByte(s[j]) {
			j++
		}
		for j > i+1 && s[j-1] == '.' {
			j--
		}
		name := s[i+1 : j]
		if name == "" {
			lit.WriteByte('%')
			continue
		}
		id, ok := lookupField(fields, name)
		if !ok {
			return template{}, fmt.Errorf("column %d: unknown field %q", i+1, name)
		}
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{lit: lit.String()})
			lit.Reset()
		}
		t.parts = append(t.parts, part{field: id, isVal: true})
		i = j - 1
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, part{lit: lit.String()})
	}
	return t, nil
}

func (t template) render(b []byte, rec sfql.Record) []byte {
	for _, p := range t.parts {
		if !p.isVal {
			b = append(b, p.lit...)
			continue
		}
		v := rec.Field(p.field)
		if v.Kind() == sfql.KindNone {
			b = append(b, notAvailable...)
			continue
		}
		b = v.AppendText(b)
	}
	return b
}
