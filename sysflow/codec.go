package sysflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/hamba/avro/v2"

	"github.com/sfstream/sfstream/schemas"
)

// MaxFieldBytes bounds any one string or bytes value the decoder allocates, and MaxItems any
// one array or map, so that corrupt input cannot make it allocate without limit.
const (
	MaxFieldBytes = 16 << 20
	MaxItems      = 1 << 16
)

var api = avro.Config{
	MaxByteSliceSize:  MaxFieldBytes,
	MaxSliceAllocSize: MaxItems,
}.Freeze()

// ErrUnknownKind marks a union branch that this build cannot map to a SysFlow record type.
var ErrUnknownKind = errors.New("unknown sysflow record type")

var (
	v5Schema   avro.Schema
	v5Branches []avro.Schema
	v5Once     sync.Once
	v5Err      error
)

func loadV5() {
	s, err := avro.ParseWithCache(schemas.SysFlow(), "", &avro.SchemaCache{})
	if err != nil {
		v5Err = fmt.Errorf("parse sysflow schema: %w", err)
		return
	}
	branches, err := unionBranches(s)
	if err != nil {
		v5Err = err
		return
	}
	if len(branches) != int(NumKinds) {
		v5Err = fmt.Errorf("sysflow schema: union has %d branches, want %d", len(branches), NumKinds)
		return
	}
	for i, b := range branches {
		if n := b.(avro.NamedSchema).FullName(); n != Kind(i).FullName() {
			v5Err = fmt.Errorf("sysflow schema: branch %d is %s, want %s", i, n, Kind(i).FullName())
			return
		}
	}
	v5Schema, v5Branches = s, branches
}

// Schema returns the parsed SysFlow v5 schema (schemas/sysflow.avsc).
func Schema() avro.Schema {
	v5Once.Do(loadV5)
	if v5Err != nil {
		panic(v5Err) // the embedded schema is part of the build; a test covers it
	}
	return v5Schema
}

// unionBranches returns the record branches of the union field "rec" of a sysflow.SysFlow schema.
func unionBranches(s avro.Schema) ([]avro.Schema, error) {
	rs, ok := s.(*avro.RecordSchema)
	if !ok || rs.FullName() != "sysflow.SysFlow" {
		return nil, fmt.Errorf("sysflow schema: top level is %s, want record sysflow.SysFlow", describe(s))
	}
	if len(rs.Fields()) != 1 {
		return nil, fmt.Errorf("sysflow schema: sysflow.SysFlow has %d fields, want 1", len(rs.Fields()))
	}
	us, ok := rs.Fields()[0].Type().(*avro.UnionSchema)
	if !ok {
		return nil, fmt.Errorf("sysflow schema: field %q is not a union", rs.Fields()[0].Name())
	}
	out := make([]avro.Schema, len(us.Types()))
	for i, t := range us.Types() {
		if ref, ok := t.(*avro.RefSchema); ok {
			t = ref.Schema()
		}
		if _, ok := t.(avro.NamedSchema); !ok {
			return nil, fmt.Errorf("sysflow schema: union branch %d is %s, want a named record", i, describe(t))
		}
		out[i] = t
	}
	return out, nil
}

func describe(s avro.Schema) string {
	if n, ok := s.(avro.NamedSchema); ok {
		return string(s.Type()) + " " + n.FullName()
	}
	return string(s.Type())
}

// Encoder encodes records as sysflow.SysFlow Avro binary (branch index, then the record).
// An Encoder reuses its buffer and is not safe for concurrent use.
type Encoder struct {
	w *avro.Writer
}

// NewEncoder returns an Encoder for the v5 schema.
func NewEncoder() *Encoder {
	Schema()
	return &Encoder{w: avro.NewWriter(nil, 512, avro.WithWriterConfig(api))}
}

// Append appends the Avro binary encoding of rec to dst and returns the extended slice.
func (e *Encoder) Append(dst []byte, rec Record) ([]byte, error) {
	// The high-volume kinds have a hand-written encoder (fastenc.go) that writes the same
	// bytes; everything else, and any value it declines, goes through hamba/avro.
	if out, ok := appendFast(dst, rec); ok {
		return out, nil
	}
	return e.appendHamba(dst, rec)
}

// appendHamba is Append through hamba/avro's reflection-driven encoder for every kind: the
// path of the kinds without a hand-written encoder, and the reference that encoder is tested
// against.
func (e *Encoder) appendHamba(dst []byte, rec Record) ([]byte, error) {
	if rec == nil {
		return dst, errors.New("encode sysflow record: nil record")
	}
	k := rec.Kind()
	if k < 0 || k >= NumKinds {
		return dst, fmt.Errorf("encode sysflow record: %w: kind %d", ErrUnknownKind, k)
	}
	e.w.Reset(nil)
	e.w.Error = nil
	e.w.WriteLong(int64(k))
	e.w.WriteVal(v5Branches[k], rec)
	if e.w.Error != nil {
		return dst, fmt.Errorf("encode sysflow %s: %w", k, e.w.Error)
	}
	return append(dst, e.w.Buffer()...), nil
}

// Marshal returns the Avro binary encoding of rec as a sysflow.SysFlow datum.
func Marshal(rec Record) ([]byte, error) {
	return NewEncoder().Append(nil, rec)
}

// Decoder decodes sysflow.SysFlow datums written with a given writer schema into v5 records,
// resolving the writer's schema against ours: union branches are matched by full name, fields
// missing from the writer take our defaults (or zero values where the reference declares
// none), fields we do not know are skipped. A Decoder is not safe for concurrent use.
type Decoder struct {
	branches []branchDecoder // indexed by the writer's branch index
	r        *avro.Reader
}

type branchDecoder struct {
	kind   Kind
	schema avro.Schema // resolved schema, or ours when the writer's branch is identical
	name   string      // the writer's full name, for errors
	ok     bool
}

// NewDecoder returns a Decoder for data written with writerSchema (Avro JSON). An empty
// writerSchema means our own v5 schema.
func NewDecoder(writerSchema string) (*Decoder, error) {
	Schema()
	if writerSchema == "" {
		return v5Decoder(), nil
	}
	ws, err := avro.ParseWithCache(writerSchema, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("parse writer schema: %w", err)
	}
	wb, err := unionBranches(ws)
	if err != nil {
		return nil, err
	}
	rb, err := lenientBranches()
	if err != nil {
		return nil, err
	}
	compat := avro.NewSchemaCompatibility()
	d := &Decoder{branches: make([]branchDecoder, len(wb)), r: avro.NewReader(nil, 0, avro.WithReaderConfig(api))}
	for i, w := range wb {
		name := w.(avro.NamedSchema).FullName()
		k, known := KindByFullName(name)
		d.branches[i] = branchDecoder{kind: k, name: name}
		if !known {
			continue // decoding a record of this branch fails with ErrUnknownKind
		}
		if w.Fingerprint() == v5Branches[k].Fingerprint() {
			d.branches[i].schema, d.branches[i].ok = v5Branches[k], true
			continue
		}
		res, err := compat.Resolve(rb[k], w)
		if err != nil {
			return nil, fmt.Errorf("resolve writer schema %s against v5: %w", name, err)
		}
		d.branches[i].schema, d.branches[i].ok = res, true
	}
	return d, nil
}

var (
	v5Dec     *Decoder
	v5DecOnce sync.Once
)

// v5Decoder returns a prototype Decoder for our own schema; callers get a copy with their own reader.
func v5Decoder() *Decoder {
	v5DecOnce.Do(func() {
		d := &Decoder{branches: make([]branchDecoder, NumKinds)}
		for i := range d.branches {
			d.branches[i] = branchDecoder{kind: Kind(i), schema: v5Branches[i], name: Kind(i).FullName(), ok: true}
		}
		v5Dec = d
	})
	return &Decoder{branches: v5Dec.branches, r: avro.NewReader(nil, 0, avro.WithReaderConfig(api))}
}

// minLongVarint is the Avro encoding of -2^63. As an array block count, hamba/avro v2.31
// negates it into a negative length without an error and mis-decodes what follows (writing
// outside the slice). Where it sits cannot be told without decoding, so input holding these
// bytes anywhere is refused as corrupt before hamba sees it. The price: a datum with a long
// field of exactly -2^63 (no SysFlow field takes that value: times, counts, ids) is refused
// too, and so, with odds of about 2^-80 per position, is one whose FOID or a non-UTF-8 path
// holds these ten bytes.
var minLongVarint = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}

// ErrMinLong is returned for input holding the varint -2^63 (see CheckMinLong).
var ErrMinLong = errors.New("holds the varint -2^63, which hamba/avro mistakes for an array block count")

// CheckMinLong returns ErrMinLong, wrapped with its offset, if b holds the Avro varint -2^63.
// Decoders call it on a datum or a block before hamba/avro reads it.
func CheckMinLong(b []byte) error {
	if i := bytes.Index(b, minLongVarint); i >= 0 {
		return fmt.Errorf("at byte %d: %w", i, ErrMinLong)
	}
	return nil
}

// Decode decodes one datum occupying all of data.
func (d *Decoder) Decode(data []byte) (Record, error) {
	if err := CheckMinLong(data); err != nil {
		return nil, fmt.Errorf("decode sysflow record: %w", err)
	}
	d.r.Reset(data)
	d.r.Error = nil
	rec, err := d.ReadFrom(d.r)
	if err != nil {
		return nil, err
	}
	if d.r.Error == nil && !d.atEnd() {
		return nil, errors.New("decode sysflow record: trailing bytes after the record")
	}
	return rec, nil
}

func (d *Decoder) atEnd() bool {
	// Reader has no public position; a one-byte read past the end sets io.EOF.
	d.r.Peek()
	return d.r.Error != nil
}

// ReadFrom decodes the next datum from r (a reader over a block of concatenated datums). On
// error the reader's position is unspecified.
func (d *Decoder) ReadFrom(r *avro.Reader) (Record, error) {
	idx := r.ReadLong()
	if r.Error != nil {
		return nil, fmt.Errorf("decode sysflow union index: %w", r.Error)
	}
	if idx < 0 || idx >= int64(len(d.branches)) {
		return nil, fmt.Errorf("decode sysflow record: union index %d out of range [0,%d)", idx, len(d.branches))
	}
	b := &d.branches[idx]
	if !b.ok {
		return nil, fmt.Errorf("decode sysflow record: %w: %s", ErrUnknownKind, b.name)
	}
	rec := New(b.kind)
	r.ReadVal(b.schema, rec)
	if r.Error != nil {
		return nil, fmt.Errorf("decode sysflow %s: %w", b.kind, r.Error)
	}
	return rec, nil
}

// NewReader returns an Avro reader over data configured with the package's allocation limits.
func NewReader(data []byte) *avro.Reader {
	r := avro.NewReader(nil, 0, avro.WithReaderConfig(api)).Reset(data)
	r.Error = nil
	return r
}

// Unmarshal decodes one v5 datum.
func Unmarshal(data []byte) (Record, error) {
	Schema()
	return v5Decoder().Decode(data)
}

var (
	lenient     []avro.Schema
	lenientErr  error
	lenientOnce sync.Once
)

// lenientBranches returns the v5 branches with a zero default on every field that has none,
// so that data from older writers (which lack cwd, env, filename, ...) resolves. The wire
// form of v5 data is unchanged by defaults.
func lenientBranches() ([]avro.Schema, error) {
	lenientOnce.Do(func() {
		var doc any
		if err := json.Unmarshal([]byte(schemas.SysFlow()), &doc); err != nil {
			lenientErr = fmt.Errorf("parse sysflow schema json: %w", err)
			return
		}
		addZeroDefaults(doc, "", map[string]any{})
		text, err := json.Marshal(doc)
		if err != nil {
			lenientErr = err
			return
		}
		s, err := avro.ParseWithCache(string(text), "", &avro.SchemaCache{})
		if err != nil {
			lenientErr = fmt.Errorf("parse lenient sysflow schema: %w", err)
			return
		}
		lenient, lenientErr = unionBranches(s)
	})
	return lenient, lenientErr
}

// addZeroDefaults walks a schema JSON document and gives every record field without a default
// the zero value of its type. named collects named types by full name for references.
func addZeroDefaults(node any, ns string, named map[string]any) {
	switch n := node.(type) {
	case []any:
		for _, t := range n {
			addZeroDefaults(t, ns, named)
		}
	case map[string]any:
		typ, _ := n["type"].(string)
		switch typ {
		case "record", "enum", "fixed":
			if s, ok := n["namespace"].(string); ok {
				ns = s
			}
			named[fullName(n["name"].(string), ns)] = n
		}
		switch typ {
		case "record":
			fields, _ := n["fields"].([]any)
			for _, f := range fields {
				fm, ok := f.(map[string]any)
				if !ok {
					continue
				}
				addZeroDefaults(fm["type"], ns, named)
				if _, has := fm["default"]; !has {
					fm["default"] = zeroValue(fm["type"], ns, named)
				}
			}
		case "array":
			addZeroDefaults(n["items"], ns, named)
		case "map":
			addZeroDefaults(n["values"], ns, named)
		}
	}
}

func fullName(name, ns string) string {
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			return name
		}
	}
	if ns == "" {
		return name
	}
	return ns + "." + name
}

// zeroValue returns the JSON default that is the zero value of the Avro type t.
func zeroValue(t any, ns string, named map[string]any) any {
	switch v := t.(type) {
	case []any: // union: the default must match the first branch
		if len(v) == 0 {
			return nil
		}
		return zeroValue(v[0], ns, named)
	case string:
		switch v {
		case "null":
			return nil
		case "boolean":
			return false
		case "int", "long", "float", "double":
			return 0
		case "string", "bytes":
			return ""
		}
		if def, ok := named[fullName(v, ns)]; ok {
			return zeroValue(def, ns, named)
		}
		if def, ok := named[v]; ok {
			return zeroValue(def, ns, named)
		}
		return nil
	case map[string]any:
		typ, _ := v["type"].(string)
		if s, ok := v["namespace"].(string); ok {
			ns = s
		}
		switch typ {
		case "record":
			obj := map[string]any{}
			fields, _ := v["fields"].([]any)
			for _, f := range fields {
				fm := f.(map[string]any)
				if d, has := fm["default"]; has {
					obj[fm["name"].(string)] = d
				} else {
					obj[fm["name"].(string)] = zeroValue(fm["type"], ns, named)
				}
			}
			return obj
		case "enum":
			syms, _ := v["symbols"].([]any)
			if len(syms) > 0 {
				return syms[0]
			}
			return ""
		case "fixed":
			size, _ := v["size"].(float64)
			b := make([]rune, int(size))
			return string(b)
		case "array":
			return []any{}
		case "map":
			return map[string]any{}
		default:
			return zeroValue(typ, ns, named)
		}
	}
	return nil
}
