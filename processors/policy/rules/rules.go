package rules

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sfstream/sfstream/sysflow/sfql"
)

// Priority is a rule's priority, Falco's (and syslog's) severities from emergency (0) to
// debug (7).
type Priority int

// Priorities, most severe first.
const (
	PriorityEmergency Priority = iota
	PriorityAlert
	PriorityCritical
	PriorityError
	PriorityWarning
	PriorityNotice
	PriorityInformational
	PriorityDebug
)

var priorityNames = [...]string{"EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFORMATIONAL", "DEBUG"}

// String returns the priority's name in capitals, as Falco writes it.
func (p Priority) String() string {
	if p >= 0 && int(p) < len(priorityNames) {
		return priorityNames[p]
	}
	return "Priority(" + strconv.Itoa(int(p)) + ")"
}

// ParsePriority reads a priority name in any case; INFO is Informational.
func ParsePriority(s string) (Priority, bool) {
	u := strings.ToUpper(strings.TrimSpace(s))
	if u == "INFO" {
		return PriorityInformational, true
	}
	for i, n := range priorityNames {
		if n == u {
			return Priority(i), true
		}
	}
	return 0, false
}

// Rule is one compiled rule. It is immutable.
type Rule struct {
	Name      string
	Desc      string
	Condition string // the condition as written (with appends)
	Output    string // the output template as written
	Priority  Priority
	Tags      []string
	// Where is the file and line of the rule's definition.
	Where string

	filter *sfql.Filter
	output template
}

// Match reports whether the record satisfies the rule's condition.
func (r *Rule) Match(rec sfql.Record) bool { return r.filter.Match(rec) }

// AppendOutput appends the rule's output for rec to b: the template with each %field replaced
// by the field's text in rec ("<NA>" for a field the record lacks).
func (r *Rule) AppendOutput(b []byte, rec sfql.Record) []byte { return r.output.render(b, rec) }

// RenderOutput returns the rule's output for rec.
func (r *Rule) RenderOutput(rec sfql.Record) string { return string(r.AppendOutput(nil, rec)) }

// Set is a compiled rule set, in file order. It is immutable and safe for concurrent use.
type Set struct {
	rules []*Rule
	// Rules are indexed by the record type their condition requires (sfql.Filter.Values of
	// the type field): byType holds, for each type some rule requires, the rules that can
	// match a record of that type, in order; other those that require no type.
	typeID sfql.FieldID
	byType map[string][]*Rule
	other  []*Rule
}

// typeField is the field whose values index the rules.
const typeField = "type"

func (s *Set) index(fields sfql.Fields) {
	s.other = s.rules
	id, ok := lookupField(fields, typeField)
	if !ok {
		return
	}
	s.typeID = id
	need := make([]map[string]bool, len(s.rules))
	types := map[string]bool{}
	for i, r := range s.rules {
		if vs, ok := r.filter.Values(id); ok {
			need[i] = map[string]bool{}
			for _, v := range vs {
				need[i][v] = true
				types[v] = true
			}
		}
	}
	s.byType = map[string][]*Rule{}
	s.other = nil
	for i, r := range s.rules {
		if need[i] == nil {
			s.other = append(s.other, r)
		}
	}
	for t := range types {
		var list []*Rule
		for i, r := range s.rules {
			if need[i] == nil || need[i][t] {
				list = append(list, r)
			}
		}
		s.byType[t] = list
	}
}

// candidates returns the rules that can match rec.
func (s *Set) candidates(rec sfql.Record) []*Rule {
	if s.byType == nil {
		return s.rules
	}
	t := rec.Field(s.typeID).String()
	if strings.IndexByte(t, ',') >= 0 { // several parts: any rule may match
		return s.rules
	}
	if list, ok := s.byType[t]; ok {
		return list
	}
	return s.other
}

// Rules returns the enabled rules in order.
func (s *Set) Rules() []*Rule { return s.rules }

// Match appends to dst the enabled rules that rec satisfies, in order, and returns it.
func (s *Set) Match(dst []*Rule, rec sfql.Record) []*Rule {
	for _, r := range s.candidates(rec) {
		if r.filter.Match(rec) {
			dst = append(dst, r)
		}
	}
	return dst
}

// Error is an error in a rule file, at a line and column of it (1-based; 0 when unknown),
// in the rule named Rule ("" outside a rule).
type Error struct {
	File         string
	Line, Column int
	Rule         string
	Err          error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteString(":" + strconv.Itoa(e.Column))
		}
	}
	if e.Rule != "" {
		fmt.Fprintf(&b, ": rule %q", e.Rule)
	}
	b.WriteString(": " + e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// File is one rule file's name (for messages) and content.
type File struct {
	Name string
	Data []byte
}

// ReadFiles reads rule files from disk, in order.
func ReadFiles(paths ...string) ([]File, error) {
	out := make([]File, 0, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read rules: %w", err)
		}
		out = append(out, File{Name: p, Data: data})
	}
	return out, nil
}

// ruleDef is a rule entry before compilation.
type ruleDef struct {
	name, desc, output, where string
	cond                      []string // the condition and its appends
	condNode                  *yaml.Node
	outNode                   *yaml.Node
	file                      string
	priority                  Priority
	tags                      []string
	enabled                   bool
}

// Compile parses the files in order and compiles their rules against fields. Lists and macros
// of every file are visible to every rule.
func Compile(fields sfql.Fields, files ...File) (*Set, error) {
	defs := &sfql.Defs{}
	var order []*ruleDef
	byName := map[string]*ruleDef{}
	for _, f := range files {
		if err := parseFile(f, defs, &order, byName); err != nil {
			return nil, err
		}
	}
	s := &Set{}
	for _, d := range order {
		if !d.enabled {
			continue
		}
		r, err := d.compile(fields, defs)
		if err != nil {
			return nil, err
		}
		s.rules = append(s.rules, r)
	}
	s.index(fields)
	return s, nil
}

func parseFile(f File, defs *sfql.Defs, order *[]*ruleDef, byName map[string]*ruleDef) error {
	fail := func(n *yaml.Node, rule string, format string, args ...any) error {
		e := &Error{File: f.Name, Rule: rule, Err: fmt.Errorf(format, args...)}
		if n != nil {
			e.Line, e.Column = n.Line, n.Column
		}
		return e
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(f.Data, &doc); err != nil {
		return &Error{File: f.Name, Err: fmt.Errorf("parse rules: %w", err)}
	}
	if doc.Kind == 0 {
		return nil
	}
	seq := &doc
	if seq.Kind == yaml.DocumentNode && len(seq.Content) == 1 {
		seq = seq.Content[0]
	}
	if seq.Kind != yaml.SequenceNode {
		return fail(seq, "", "expected a list of entries (- rule: ..., - macro: ..., - list: ...)")
	}
	for _, n := range seq.Content {
		if n.Kind != yaml.MappingNode {
			return fail(n, "", "expected a mapping")
		}
		keys := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			keys[n.Content[i].Value] = n.Content[i+1]
		}
		appending := false
		if a := keys["append"]; a != nil {
			if err := a.Decode(&appending); err != nil {
				return fail(a, "", "append: expected true or false")
			}
		}
		switch {
		case keys["list"] != nil, keys["macro"] != nil:
			if appending {
				return fail(n, "", "append is supported for rules only")
			}
		case keys["rule"] != nil:
			if err := parseRule(f.Name, n, keys, appending, order, byName, fail); err != nil {
				return err
			}
		case keys["required_engine_version"] != nil:
		default:
			return fail(n, "", "unknown entry: expected rule, macro or list")
		}
	}
	// The definitions of the file: sfql's own reader, so lists and macros mean what they mean
	// for sfprint --defs.
	if err := defs.Parse(f.Name, f.Data); err != nil {
		return &Error{File: f.Name, Err: err}
	}
	return nil
}

func parseRule(file string, n *yaml.Node, keys map[string]*yaml.Node, appending bool,
	order *[]*ruleDef, byName map[string]*ruleDef, fail func(*yaml.Node, string, string, ...any) error) error {
	name := keys["rule"].Value
	if name == "" || keys["rule"].Kind != yaml.ScalarNode {
		return fail(keys["rule"], "", "a rule needs a name")
	}
	for k, v := range keys {
		switch k {
		case "rule", "desc", "condition", "output", "priority", "tags", "enabled", "append", "source", "exceptions":
		default:
			return fail(v, name, "unknown key %q", k)
		}
	}
	scalar := func(k string) (string, *yaml.Node, error) {
		v := keys[k]
		if v == nil {
			return "", nil, nil
		}
		if v.Kind != yaml.ScalarNode {
			return "", nil, fail(v, name, "%s: expected text", k)
		}
		return v.Value, v, nil
	}
	cond, condNode, err := scalar("condition")
	if err != nil {
		return err
	}
	cond = strings.TrimRight(cond, " \t\r\n") // a block scalar's final newline
	var tags []string
	if t := keys["tags"]; t != nil {
		if err := t.Decode(&tags); err != nil {
			return fail(t, name, "tags: expected a list of words")
		}
	}
	enabled, hasEnabled := true, keys["enabled"] != nil
	if hasEnabled {
		if err := keys["enabled"].Decode(&enabled); err != nil {
			return fail(keys["enabled"], name, "enabled: expected true or false")
		}
	}
	if prev := byName[name]; prev != nil && (appending || (cond == "" && hasEnabled)) {
		if cond != "" {
			prev.cond = append(prev.cond, cond)
		}
		prev.tags = append(prev.tags, tags...)
		if hasEnabled {
			prev.enabled = enabled
		}
		return nil
	}
	if appending {
		return fail(n, name, "append to a rule not defined before")
	}
	d := &ruleDef{name: name, file: file, where: file + ":" + strconv.Itoa(n.Line), condNode: condNode, tags: tags, enabled: enabled, priority: PriorityDebug}
	if cond == "" {
		return fail(n, name, "a rule needs a condition")
	}
	d.cond = []string{cond}
	if d.desc, _, err = scalar("desc"); err != nil {
		return err
	}
	if d.output, d.outNode, err = scalar("output"); err != nil {
		return err
	}
	if d.outNode == nil {
		return fail(n, name, "a rule needs an output")
	}
	if p := keys["priority"]; p != nil {
		var ok bool
		if d.priority, ok = ParsePriority(p.Value); !ok {
			return fail(p, name, "unknown priority %q (EMERGENCY, ALERT, CRITICAL, ERROR, WARNING, NOTICE, INFORMATIONAL, DEBUG)", p.Value)
		}
	} else {
		return fail(n, name, "a rule needs a priority")
	}
	if prev := byName[name]; prev != nil {
		*prev = *d // a later definition replaces the earlier one, in its place
		return nil
	}
	byName[name] = d
	*order = append(*order, d)
	return nil
}

func (d *ruleDef) compile(fields sfql.Fields, defs *sfql.Defs) (*Rule, error) {
	cond := d.cond[0]
	if len(d.cond) > 1 {
		cond = "(" + strings.Join(d.cond, ") and (") + ")"
	}
	f, err := sfql.Compile(cond, fields, defs)
	if err != nil {
		e := &Error{File: d.file, Rule: d.name, Err: fmt.Errorf("condition: %w", err)}
		if d.condNode != nil {
			e.Line, e.Column = d.condNode.Line, d.condNode.Column
			var se *sfql.Error
			if errors.As(err, &se) && len(d.cond) == 1 && se.Pos.Offset <= len(d.cond[0]) {
				e.Line, e.Column = yamlPos(d.condNode, se.Pos)
				e.Err = fmt.Errorf("condition: %s", se.Msg)
				if se != err { // inside a macro: keep the chain
					e.Err = fmt.Errorf("condition: %w", err)
				}
			}
		}
		return nil, e
	}
	out, err := parseTemplate(d.output, fields)
	if err != nil {
		e := &Error{File: d.file, Rule: d.name, Err: fmt.Errorf("output: %w", err)}
		e.Line, e.Column = d.outNode.Line, d.outNode.Column
		return nil, e
	}
	tags := d.tags
	if tags == nil {
		tags = []string{} // as an alert decoded from Avro has them
	}
	return &Rule{
		Name: d.name, Desc: d.desc, Condition: cond, Output: d.output, Priority: d.priority,
		Tags: tags, Where: d.where, filter: f, output: out,
	}, nil
}

// yamlPos maps a position within a scalar's value to the file: exact for plain one-line
// scalars and block scalars, the scalar's start otherwise.
func yamlPos(n *yaml.Node, p sfql.Pos) (line, col int) {
	switch n.Style {
	case 0:
		if p.Line == 1 {
			return n.Line, n.Column + p.Col - 1
		}
		return n.Line + p.Line - 1, 0
	case yaml.LiteralStyle, yaml.FoldedStyle:
		return n.Line + p.Line, 0
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		if p.Line == 1 {
			return n.Line, n.Column + p.Col
		}
	}
	return n.Line, n.Column
}
