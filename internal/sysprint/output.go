package sysprint

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// printer writes records in one output format. Records of one input file come between
// beginFile and endFile; close flushes what is buffered.
type printer interface {
	beginFile() error
	write(r *record) error
	endFile() error
	close() error
}

// Output formats.
const (
	formatStr      = "str"
	formatJSON     = "json"
	formatFlatJSON = "flatjson"
	formatCSV      = "csv"
)

func newPrinter(format string, w io.Writer, sel []fieldInfo) printer {
	bw := bufio.NewWriterSize(w, 64<<10)
	switch format {
	case formatJSON:
		return &jsonPrinter{w: bw, fields: sel, tree: buildTree(sel)}
	case formatFlatJSON:
		return &jsonPrinter{w: bw, fields: sel}
	case formatCSV:
		return &csvPrinter{w: bw, fields: sel}
	}
	return newTablePrinter(bw, sel)
}

// jsonPrinter writes one JSON object per record and line, as sysprint's json (nested: "proc":
// {"pid": ...}) or flatjson ("proc.pid": ...) outputs do.
type jsonPrinter struct {
	w      *bufio.Writer
	fields []fieldInfo
	tree   []*jsonNode // nil for flat output
	buf    []byte
}

// jsonNode is a key of nested output: a field (leaf) or an object of further keys.
type jsonNode struct {
	key      string
	field    int // index into the selected fields; -1 for an object
	children []*jsonNode
}

// buildTree nests the selected fields by the dots in their names, keeping the order in which
// each key first appears, as sysprint's dotty-dict nesting does.
func buildTree(sel []fieldInfo) []*jsonNode {
	var root []*jsonNode
	for i, f := range sel {
		parts := strings.Split(f.name, ".")
		level := &root
		for j, p := range parts {
			var n *jsonNode
			for _, c := range *level {
				if c.key == p {
					n = c
				}
			}
			if n == nil {
				n = &jsonNode{key: p, field: -1}
				*level = append(*level, n)
			}
			if j == len(parts)-1 {
				n.field = i
			}
			level = &n.children
		}
	}
	return root
}

func (p *jsonPrinter) beginFile() error { return nil }
func (p *jsonPrinter) endFile() error   { return nil }
func (p *jsonPrinter) close() error     { return p.w.Flush() }

func (p *jsonPrinter) write(r *record) error {
	b := p.buf[:0]
	if p.tree != nil {
		b = p.appendNodes(b, r, p.tree)
	} else {
		b = append(b, '{')
		for i, f := range p.fields {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendJSONString(b, f.name)
			b = append(b, ": "...)
			b = appendJSON(b, r.value(f.id))
		}
		b = append(b, '}')
	}
	b = append(b, '\n')
	p.buf = b
	_, err := p.w.Write(b)
	return err
}

func (p *jsonPrinter) appendNodes(b []byte, r *record, nodes []*jsonNode) []byte {
	b = append(b, '{')
	for i, n := range nodes {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendJSONString(b, n.key)
		b = append(b, ": "...)
		if n.field >= 0 && len(n.children) == 0 {
			b = appendJSON(b, r.value(p.fields[n.field].id))
		} else {
			b = p.appendNodes(b, r, n.children)
		}
	}
	return append(b, '}')
}

// csvPrinter writes a header row and one row per record as Python's csv.DictWriter does:
// values as Python str(), quoted only when they contain a comma, quote, CR or LF, rows ended
// by CRLF.
type csvPrinter struct {
	w       *bufio.Writer
	fields  []fieldInfo
	started bool
	buf     []byte
}

func (p *csvPrinter) beginFile() error { return nil }
func (p *csvPrinter) endFile() error   { return nil }
func (p *csvPrinter) close() error     { return p.w.Flush() }

func (p *csvPrinter) write(r *record) error {
	b := p.buf[:0]
	if !p.started { // like DictWriter, no header without a record
		p.started = true
		for i, f := range p.fields {
			b = appendCSVField(b, i, f.name, len(p.fields))
		}
		b = append(b, '\r', '\n')
	}
	var cell []byte
	for i, f := range p.fields {
		cell = appendText(cell[:0], r.value(f.id))
		b = appendCSVField(b, i, string(cell), len(p.fields))
	}
	b = append(b, '\r', '\n')
	p.buf = b
	_, err := p.w.Write(b)
	return err
}

func appendCSVField(b []byte, i int, s string, n int) []byte {
	if i > 0 {
		b = append(b, ',')
	}
	if !strings.ContainsAny(s, ",\"\r\n") && (s != "" || n > 1) {
		return append(b, s...)
	}
	b = append(b, '"')
	b = append(b, strings.ReplaceAll(s, `"`, `""`)...)
	return append(b, '"')
}

// tableRows is how many rows the table printer sizes its columns on, as sysprint does.
const tableRows = 1000

// tablePrinter writes an aligned table like sysprint's str output (tabulate's github format):
// one table per input file, the record number first, column titles on the first chunk of
// rows. A value longer than its field's width is shown as ".." and its last width characters.
type tablePrinter struct {
	w       *bufio.Writer
	cols    []fieldInfo
	rows    [][]string
	printed bool // the current file's column titles are out
}

func newTablePrinter(w *bufio.Writer, sel []fieldInfo) *tablePrinter {
	idx, _ := lookupField("idx")
	cols := []fieldInfo{idx}
	for _, f := range sel {
		if f.id != fIdx {
			cols = append(cols, f)
		}
	}
	return &tablePrinter{w: w, cols: cols}
}

func (p *tablePrinter) beginFile() error {
	p.printed = false
	return nil
}

func (p *tablePrinter) write(r *record) error {
	row := make([]string, len(p.cols))
	for i, c := range p.cols {
		row[i] = fitCell(cellText(r.value(c.id)), c.width)
	}
	p.rows = append(p.rows, row)
	if len(p.rows) >= tableRows {
		return p.flushRows()
	}
	return nil
}

func (p *tablePrinter) endFile() error { return p.flushRows() }

func (p *tablePrinter) close() error {
	if err := p.flushRows(); err != nil {
		return err
	}
	return p.w.Flush()
}

// fitCell makes s one line and cuts it to ".." plus its last width characters when longer.
func fitCell(s string, width int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if n := utf8.RuneCountInString(s); n > width {
		r := []rune(s)
		return ".." + string(r[n-width:])
	}
	return s
}

func (p *tablePrinter) flushRows() error {
	if len(p.rows) == 0 {
		return nil
	}
	widths := make([]int, len(p.cols))
	if !p.printed {
		for i, c := range p.cols {
			widths[i] = utf8.RuneCountInString(c.column)
		}
	}
	for _, row := range p.rows {
		for i, cell := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	if !p.printed {
		p.printed = true
		titles := make([]string, len(p.cols))
		for i, c := range p.cols {
			titles[i] = c.column
		}
		p.writeRow(titles, widths)
		p.w.WriteByte('|')
		for _, w := range widths {
			p.w.WriteString(strings.Repeat("-", w+2))
			p.w.WriteByte('|')
		}
		p.w.WriteByte('\n')
	}
	for _, row := range p.rows {
		p.writeRow(row, widths)
	}
	p.rows = p.rows[:0]
	// bufio.Writer keeps the first write error and returns it from every later call.
	_, err := p.w.Write(nil)
	if err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

func (p *tablePrinter) writeRow(cells []string, widths []int) {
	p.w.WriteByte('|')
	for i, c := range cells {
		p.w.WriteByte(' ')
		p.w.WriteString(c)
		p.w.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+1))
		p.w.WriteByte('|')
	}
	p.w.WriteByte('\n')
}
