package codec_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/schemas"
)

// A raw batch written with our own schema is decoded by raw.DecodeBatchLimits, which reports
// malformed input as a *raw.DecodeError; any other writer schema goes through hamba/avro,
// whose errors are not. The tests tell the paths apart by that.

// rawSchemaDoc returns the raw schema as a document, to be edited into other versions.
func rawSchemaDoc(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(schemas.Raw()), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// stripDocs removes every "doc" from a schema document, recursively.
func stripDocs(v any) {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "doc")
		for _, x := range v {
			stripDocs(x)
		}
	case []any:
		for _, x := range v {
			stripDocs(x)
		}
	}
}

func marshalDoc(t *testing.T, doc map[string]any) string {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkPath asserts that malformed values written with id are bad records, reported by the
// fast decoder if wantFast, else by hamba/avro.
func checkPath(t *testing.T, s *codec.Serde, id int, valid []byte, wantFast bool) {
	t.Helper()
	var dst raw.Batch
	err := s.DecodeRaw(t.Context(), valid[:len(valid)-1], &dst)
	if !errors.Is(err, codec.ErrMalformed) || !codec.IsBadRecord(err) || !strings.Contains(err.Error(), "schema id "+strconv.Itoa(id)+":") {
		t.Fatalf("truncated value: err = %v, want ErrMalformed for schema id %d", err, id)
	}
	var de *raw.DecodeError
	if fast := errors.As(err, &de); fast != wantFast {
		t.Fatalf("schema id %d: fast path %v, want %v (err %v)", id, fast, wantFast, err)
	}
	err = s.DecodeRaw(t.Context(), append(valid[:len(valid):len(valid)], 0), &dst)
	if !errors.Is(err, codec.ErrMalformed) || !strings.Contains(err.Error(), "trailing bytes") {
		t.Fatalf("trailing byte: err = %v", err)
	}
}

func TestRawFastPath(t *testing.T) {
	ctx := t.Context()
	producer, reg := newSerde(t)
	consumer, err := codec.New(srclient.NewSchemaRegistryClient(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	id, err := producer.RegisterRaw(ctx, "fast.raw")
	if err != nil {
		t.Fatal(err)
	}
	// The same schema without its docs: another id, the same canonical form.
	doc := rawSchemaDoc(t)
	stripDocs(doc)
	bareID, _, err := reg.RegisterSchema("bare-value", sr.Schema{Schema: marshalDoc(t, doc)})
	if err != nil {
		t.Fatal(err)
	}
	if bareID == id {
		t.Fatalf("the schema without docs got our id %d", id)
	}

	want := testkit.RawBatch("node-1", 4242)
	for _, c := range []struct {
		name string
		s    *codec.Serde
		id   int
	}{{"registered", producer, id}, {"fetched", consumer, id}, {"same canonical form", consumer, bareID}} {
		t.Run(c.name, func(t *testing.T) {
			v, err := producer.AppendRaw(nil, c.id, want)
			if err != nil {
				t.Fatal(err)
			}
			var got raw.Batch
			if err := c.s.DecodeRaw(ctx, v, &got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !rawEqual(&got, want) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, *want)
			}
			checkPath(t, c.s, c.id, v, true)
		})
	}

	t.Run("reuse", func(t *testing.T) {
		big := testkit.RawBatch("node-1", 4242)
		for range 20 {
			big.Events = append(big.Events, big.Events[:4]...)
		}
		small := &raw.Batch{Exporter: "n", HPID: 9, CreateTS: 1, Events: []raw.Event{raw.NewEvent(raw.OpRead, 2, 9)}}
		var dst raw.Batch
		for _, b := range []*raw.Batch{big, small, big, small} {
			v, err := producer.AppendRaw(nil, id, b)
			if err != nil {
				t.Fatal(err)
			}
			if err := consumer.DecodeRaw(ctx, v, &dst); err != nil {
				t.Fatal(err)
			}
			if !rawEqual(&dst, b) {
				t.Fatalf("decoded into a used batch:\n got %+v\nwant %+v", dst, *b)
			}
		}
		for i, e := range dst.Events[:cap(dst.Events)] {
			if i > 0 && !reflect.ValueOf(e).IsZero() {
				t.Fatalf("event %d past the batch keeps %+v", i, e)
			}
		}
	})

	t.Run("invalid batch", func(t *testing.T) {
		b := testkit.RawBatch("n", 1)
		b.Events[0].Op = 99
		v, err := producer.AppendRaw(nil, id, b)
		if err != nil {
			t.Fatal(err)
		}
		var got raw.Batch
		if err := consumer.DecodeRaw(ctx, v, &got); !errors.Is(err, raw.ErrInvalid) || !codec.IsBadRecord(err) {
			t.Fatalf("err = %v, want raw.ErrInvalid", err)
		}
	})

	t.Run("item limit", func(t *testing.T) {
		b := &raw.Batch{Exporter: "n", HPID: 1, Events: make([]raw.Event, codec.MaxRawItems)}
		for i := range b.Events {
			b.Events[i] = raw.NewEvent(raw.OpRead, 1, 1)
		}
		v, err := producer.AppendRaw(nil, id, b)
		if err != nil {
			t.Fatal(err)
		}
		var got raw.Batch
		if err := consumer.DecodeRaw(ctx, v, &got); err != nil || len(got.Events) != codec.MaxRawItems {
			t.Fatalf("%d events: err = %v, %d decoded", codec.MaxRawItems, err, len(got.Events))
		}
		b.Events = append(b.Events, raw.NewEvent(raw.OpRead, 1, 1))
		if v, err = producer.AppendRaw(nil, id, b); err != nil {
			t.Fatal(err)
		}
		if err := consumer.DecodeRaw(ctx, v, &got); !errors.Is(err, codec.ErrMalformed) || !strings.Contains(err.Error(), "above the limit") {
			t.Fatalf("%d events: err = %v, want ErrMalformed", codec.MaxRawItems+1, err)
		}
	})
}

// TestRawOlderWriter decodes a batch written with an older raw schema, without Event.uid and
// Proc.env: hamba/avro resolves it, filling in our defaults.
func TestRawOlderWriter(t *testing.T) {
	ctx := t.Context()
	s, reg := newSerde(t)
	id, err := s.RegisterRaw(ctx, "evo.raw")
	if err != nil {
		t.Fatal(err)
	}
	doc := rawSchemaDoc(t)
	drop := func(fs []any, name string) []any {
		var kept []any
		for _, f := range fs {
			if f.(map[string]any)["name"] != name {
				kept = append(kept, f)
			}
		}
		if len(kept) != len(fs)-1 {
			t.Fatalf("no field %s", name)
		}
		return kept
	}
	eventRec := doc["fields"].([]any)[3].(map[string]any)["type"].(map[string]any)["items"].(map[string]any)
	events := eventRec["fields"].([]any)
	for _, f := range events {
		if f := f.(map[string]any); f["name"] == "proc" {
			proc := f["type"].([]any)[1].(map[string]any)
			proc["fields"] = drop(proc["fields"].([]any), "env")
		}
	}
	eventRec["fields"] = drop(events, "uid")
	old := marshalDoc(t, doc)
	oldID, _, err := reg.RegisterSchema("evo.old-value", sr.Schema{Schema: old})
	if err != nil {
		t.Fatal(err)
	}
	if oldID == id {
		t.Fatalf("the old schema got our id %d", id)
	}
	ws, err := avro.ParseWithCache(old, "", &avro.SchemaCache{}) // not the global cache: same names as ours
	if err != nil {
		t.Fatal(err)
	}

	want := testkit.RawBatch("node-3", 77)
	body, err := avro.Marshal(ws, want) // the struct's uid and env are not in the schema: not written
	if err != nil {
		t.Fatal(err)
	}
	v := append(codec.AppendHeader(nil, oldID), body...)
	var got raw.Batch
	if err := s.DecodeRaw(ctx, v, &got); err != nil {
		t.Fatalf("decode old raw: %v", err)
	}
	for i := range want.Events {
		e := &want.Events[i]
		e.UID = -1 // the default of a field the writer lacked
		if e.Proc != nil {
			p := *e.Proc
			p.Env = []string{}
			e.Proc = &p
		}
	}
	if !rawEqual(&got, want) {
		t.Fatalf("old raw:\n got %+v\nwant %+v", got, *want)
	}
	checkPath(t, s, oldID, v, false)

	// Our own id still takes the fast path next to it.
	own, err := s.AppendRaw(nil, id, testkit.RawBatch("node-3", 77))
	if err != nil {
		t.Fatal(err)
	}
	checkPath(t, s, id, own, true)

	// A value holding the varint -2^63 never reaches hamba/avro, which would take it for an
	// array block count and write outside the slice: events as one block of -2^63 items.
	bad := codec.AppendHeader(nil, oldID)
	bad = append(bad, 2, 'n')                                                     // exporter "n"
	bad = append(bad, 2, 2)                                                       // hpid 1, createTS 1
	bad = append(bad, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01) // block count -2^63
	bad = append(bad, 2)                                                          // its byte size
	err = s.DecodeRaw(ctx, bad, &got)
	if !errors.Is(err, codec.ErrMalformed) || !strings.Contains(err.Error(), "-2^63") {
		t.Fatalf("block count -2^63 on the resolving path: err = %v, want ErrMalformed naming it", err)
	}
}
