package sfql

import (
	"fmt"
	"os"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Defs holds the named lists and macros that expressions may use. Later definitions of a
// name replace earlier ones, as in the reference. The zero Defs has no definitions; a Defs is
// not modified by compiling and may be shared.
type Defs struct {
	lists  map[string]listDef
	macros map[string]macroDef
}

type listDef struct {
	items []string
	where string
}

type macroDef struct {
	expr  *Expr
	where string // file:line, for messages
}

// LoadDefs reads definition files in order (see [ParseDefs]).
func LoadDefs(paths ...string) (*Defs, error) {
	d := &Defs{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("load definitions: %w", err)
		}
		if err := d.Parse(p, data); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// ParseDefs parses one definition file; name is the file in messages.
func ParseDefs(name string, data []byte) (*Defs, error) {
	d := &Defs{}
	if err := d.Parse(name, data); err != nil {
		return nil, err
	}
	return d, nil
}

// Parse adds the definitions of a file to d; name is the file in messages. The file is a YAML
// sequence of mappings; a mapping with a list key names a list (its items), one with a macro
// key names a macro (its condition, an expression); others (rules, Falco's
// required_engine_version, ...) are skipped. Macro conditions are parsed here, and bound to
// fields, lists and other macros only when an expression that uses them is compiled.
func (d *Defs) Parse(name string, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("parse definitions %s: %w", name, err)
	}
	if doc.Kind == 0 { // empty file
		return nil
	}
	seq := &doc
	if seq.Kind == yaml.DocumentNode && len(seq.Content) == 1 {
		seq = seq.Content[0]
	}
	if seq.Kind != yaml.SequenceNode {
		return fmt.Errorf("parse definitions %s:%d: expected a list of definitions (- list: ..., - macro: ...)", name, seq.Line)
	}
	for _, entry := range seq.Content {
		if err := d.entry(name, entry); err != nil {
			return err
		}
	}
	return nil
}

func (d *Defs) entry(file string, n *yaml.Node) error {
	where := file + ":" + strconv.Itoa(n.Line)
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("parse definitions %s: expected a mapping", where)
	}
	keys := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		keys[n.Content[i].Value] = n.Content[i+1]
	}
	switch {
	case keys["list"] != nil:
		lname := keys["list"].Value
		items := keys["items"]
		if lname == "" || items == nil || items.Kind != yaml.SequenceNode {
			return fmt.Errorf("parse definitions %s: list %q needs a name and items: [...]", where, lname)
		}
		l := listDef{where: where}
		for _, it := range items.Content {
			if it.Kind != yaml.ScalarNode {
				return fmt.Errorf("parse definitions %s:%d: list %q: items must be values", file, it.Line, lname)
			}
			l.items = append(l.items, it.Value)
		}
		if d.lists == nil {
			d.lists = map[string]listDef{}
		}
		d.lists[lname] = l
	case keys["macro"] != nil:
		mname := keys["macro"].Value
		cond := keys["condition"]
		if mname == "" || cond == nil || cond.Kind != yaml.ScalarNode {
			return fmt.Errorf("parse definitions %s: macro %q needs a name and a condition", where, mname)
		}
		e, err := Parse(cond.Value)
		if err != nil {
			return fmt.Errorf("parse definitions %s:%d: macro %q: condition %w", file, cond.Line, mname, err)
		}
		if d.macros == nil {
			d.macros = map[string]macroDef{}
		}
		d.macros[mname] = macroDef{expr: e, where: where}
	}
	return nil
}

// Merge adds the definitions of other to d, replacing those of the same names.
func (d *Defs) Merge(other *Defs) {
	if other == nil {
		return
	}
	for k, v := range other.lists {
		if d.lists == nil {
			d.lists = map[string]listDef{}
		}
		d.lists[k] = v
	}
	for k, v := range other.macros {
		if d.macros == nil {
			d.macros = map[string]macroDef{}
		}
		d.macros[k] = v
	}
}
