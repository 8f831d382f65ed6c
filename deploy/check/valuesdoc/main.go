// Command valuesdoc checks that a Helm chart's values are documented: every value has a
// comment in values.yaml, and the chart's README has one table row per value and none for a
// value that no longer exists.
//
//	valuesdoc values.yaml README.md
//
// A value is a key whose value is a scalar, a list, an empty map, or a map whose keys carry
// no comments of their own (such a map, e.g. resources, is documented as a whole). Maps whose
// keys all have comments are not values themselves: their keys are. A README row is a table
// line whose first cell is the value's dotted path in backquotes: | `producer.args` | ...
package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: valuesdoc values.yaml README.md")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "valuesdoc:", err)
		os.Exit(1)
	}
}

func run(valuesPath, readmePath string) error {
	raw, err := os.ReadFile(valuesPath)
	if err != nil {
		return fmt.Errorf("read values: %w", err)
	}
	values, err := documentedValues(raw)
	if err != nil {
		return fmt.Errorf("parse %s: %w", valuesPath, err)
	}
	readme, err := os.Open(readmePath)
	if err != nil {
		return fmt.Errorf("read readme: %w", err)
	}
	rows, err := tableRows(readme)
	closeErr := readme.Close()
	if err := errors.Join(err, closeErr); err != nil {
		return fmt.Errorf("read %s: %w", readmePath, err)
	}

	var problems []string
	known := map[string]bool{}
	for _, v := range values {
		known[v.path] = true
		if !v.commented {
			problems = append(problems, fmt.Sprintf("%s:%d: %s has no comment", valuesPath, v.line, v.path))
		}
		if !rows[v.path] {
			problems = append(problems, fmt.Sprintf("%s: no table row for %s", readmePath, v.path))
		}
	}
	for path := range rows {
		if !known[path] {
			problems = append(problems, fmt.Sprintf("%s: row for %s, which is not a value in %s", readmePath, path, valuesPath))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return errors.New(strings.Join(problems, "\n  "))
	}
	fmt.Printf("%s: %d values, each with a comment and a row in %s\n", valuesPath, len(values), readmePath)
	return nil
}

// value is one documented unit of values.yaml.
type value struct {
	path      string
	line      int
	commented bool
}

func documentedValues(raw []byte) ([]value, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("the document is not a mapping")
	}
	var out []value
	walk(doc.Content[0], "", &out)
	return out, nil
}

func walk(m *yaml.Node, prefix string, out *[]value) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		key, val := m.Content[i], m.Content[i+1]
		path := prefix + key.Value
		if val.Kind == yaml.MappingNode && len(val.Content) > 0 && keysCommented(val) {
			walk(val, path+".", out)
			continue
		}
		*out = append(*out, value{path: path, line: key.Line, commented: hasComment(key)})
	}
}

// keysCommented reports whether every key of the mapping m has a comment, or is itself a map
// whose keys all do.
func keysCommented(m *yaml.Node) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		key, val := m.Content[i], m.Content[i+1]
		if hasComment(key) {
			continue
		}
		if val.Kind == yaml.MappingNode && len(val.Content) > 0 && keysCommented(val) {
			continue
		}
		return false
	}
	return true
}

func hasComment(key *yaml.Node) bool {
	return strings.TrimSpace(strings.TrimLeft(key.HeadComment, "#- \n")) != ""
}

var rowPath = regexp.MustCompile("^\\|\\s*`([A-Za-z0-9_.-]+)`\\s*\\|")

// tableRows returns the value paths named by the README's table rows.
func tableRows(f *os.File) (map[string]bool, error) {
	rows := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := rowPath.FindStringSubmatch(sc.Text()); m != nil {
			rows[m[1]] = true
		}
	}
	return rows, sc.Err()
}
