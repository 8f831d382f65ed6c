package sysprint

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sfstream/sfstream/schemas"
	"github.com/sfstream/sfstream/sysflow"
)

// schemaFields tells which fields each record kind has in a writer schema. sysprint prints
// some fields only when the record read has them (Python hasattr): an old file's process has
// no cwd, env or entry, its header no ip or filename. Our decoder fills such fields with
// defaults, so the writer schema decides instead.
type schemaFields map[sysflow.Kind]map[string]bool

func (s schemaFields) has(k sysflow.Kind, field string) bool {
	return s[k][field]
}

// v5Fields returns the fields of our own schema, which is what records from any source other
// than an old file have.
func v5Fields() schemaFields {
	s, err := parseSchemaFields(schemas.SysFlow())
	if err != nil {
		panic(fmt.Sprintf("sfprint: embedded schema: %v", err)) // part of the build; a test covers it
	}
	return s
}

// parseSchemaFields reads the field names of every record branch of a sysflow.SysFlow union
// schema (Avro JSON). Branches with names this build does not know are ignored.
func parseSchemaFields(text string) (schemaFields, error) {
	var top struct {
		Namespace string `json:"namespace"`
		Fields    []struct {
			Type json.RawMessage `json:"type"`
		} `json:"fields"`
	}
	if err := json.Unmarshal([]byte(text), &top); err != nil {
		return nil, fmt.Errorf("parse writer schema: %w", err)
	}
	if len(top.Fields) != 1 {
		return nil, fmt.Errorf("parse writer schema: sysflow.SysFlow has %d fields, want 1", len(top.Fields))
	}
	var branches []json.RawMessage
	if err := json.Unmarshal(top.Fields[0].Type, &branches); err != nil {
		return nil, fmt.Errorf("parse writer schema: field rec is not a union: %w", err)
	}
	out := schemaFields{}
	for _, raw := range branches {
		var rec struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
			Fields    []struct {
				Name string `json:"name"`
			} `json:"fields"`
		}
		if err := json.Unmarshal(raw, &rec); err != nil {
			continue // a reference to a named type defined elsewhere: not a record definition
		}
		name := rec.Name
		if !strings.Contains(name, ".") {
			ns := rec.Namespace
			if ns == "" {
				ns = top.Namespace
			}
			if ns != "" {
				name = ns + "." + name
			}
		}
		k, ok := sysflow.KindByFullName(name)
		if !ok {
			continue
		}
		fs := make(map[string]bool, len(rec.Fields))
		for _, f := range rec.Fields {
			fs[f.Name] = true
		}
		out[k] = fs
	}
	return out, nil
}
