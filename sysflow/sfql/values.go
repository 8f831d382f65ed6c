package sfql

// Values returns the values that field id must take for the filter to match: a record
// matches only if a part of the field's text equals one of them. It reports false when the
// expression does not constrain the field so (the field appears only under not, with other
// operators, compared with another field, or in one branch of an or). A caller can use it to
// index filters, for example by record type, and skip those that cannot match.
func (f *Filter) Values(id FieldID) ([]string, bool) {
	c := &compiler{fields: f.fields, defs: f.defs, macros: map[string]bool{}}
	return c.values(f.expr.root, id)
}

func (c *compiler) values(n node, id FieldID) ([]string, bool) {
	switch n := n.(type) {
	case *andNode:
		// Every term must hold: the narrowest constraint of any term holds.
		var best []string
		found := false
		for _, t := range n.terms {
			if vs, ok := c.values(t, id); ok && (!found || len(vs) < len(best)) {
				best, found = vs, true
			}
		}
		return best, found
	case *orNode:
		var all []string
		for _, t := range n.terms {
			vs, ok := c.values(t, id)
			if !ok {
				return nil, false
			}
			all = append(all, vs...)
		}
		return all, true
	case *macroNode:
		def, ok := c.defs.macros[n.name.text]
		if !ok || c.macros[n.name.text] {
			return nil, false
		}
		c.macros[n.name.text] = true
		defer delete(c.macros, n.name.text)
		return c.values(def.expr.root, id)
	case *cmpNode:
		if n.op != tEq {
			return nil, false
		}
		if fid, ok := c.lookup(n.field.text); !ok || n.field.quoted || fid != id {
			return nil, false
		}
		if !n.value.quoted {
			if _, isField := c.lookup(n.value.text); isField {
				return nil, false
			}
		}
		return []string{n.value.text}, true
	case *listNode:
		if n.op != tIn {
			return nil, false
		}
		if fid, ok := c.lookup(n.field.text); !ok || n.field.quoted || fid != id {
			return nil, false
		}
		var items []string
		for _, it := range n.items {
			var err error
			if items, err = c.expandList(items, it.text, it.pos, nil); err != nil {
				return nil, false
			}
		}
		return items, true
	}
	return nil, false
}
