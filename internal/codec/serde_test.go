package codec_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/schemas"
	"github.com/sfstream/sfstream/sysflow"
)

func newSerde(t *testing.T, opts ...codec.Option) (*codec.Serde, *srfake.Registry) {
	t.Helper()
	reg := srfake.New()
	t.Cleanup(reg.Close)
	s, err := codec.New(srclient.NewSchemaRegistryClient(reg.URL()), opts...)
	if err != nil {
		t.Fatalf("new serde: %v", err)
	}
	return s, reg
}

func TestSysFlowRoundTrip(t *testing.T) {
	ctx := t.Context()
	s, _ := newSerde(t)
	id, err := s.RegisterSysFlow(ctx, "sysflow.events")
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	// A second Serde (a consumer) knows nothing and fetches the writer schema by id.
	for _, rec := range testkit.SysFlowRecords() {
		t.Run(rec.Kind().String(), func(t *testing.T) {
			b, err := s.AppendSysFlow([]byte("prefix"), id, rec)
			if err != nil {
				t.Fatalf("append: %v", err)
			}
			if string(b[:6]) != "prefix" {
				t.Fatalf("append clobbered dst: %q", b[:6])
			}
			got, err := s.DecodeSysFlow(ctx, b[6:])
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, rec) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, rec)
			}
		})
	}
}

func TestConsumerFetchesWriterSchema(t *testing.T) {
	ctx := t.Context()
	reg := srfake.New()
	t.Cleanup(reg.Close)
	producer, err := codec.New(srclient.NewSchemaRegistryClient(reg.URL()))
	if err != nil {
		t.Fatal(err)
	}
	promReg := prometheus.NewRegistry()
	consumer, err := codec.New(srclient.NewSchemaRegistryClient(reg.URL()), codec.WithMetrics(promReg))
	if err != nil {
		t.Fatal(err)
	}
	sfID, err := producer.RegisterSysFlow(ctx, "t.events")
	if err != nil {
		t.Fatal(err)
	}
	rawID, err := producer.RegisterRaw(ctx, "t.raw")
	if err != nil {
		t.Fatal(err)
	}
	if sfID == rawID {
		t.Fatalf("sysflow and raw schemas share id %d", sfID)
	}
	again, err := producer.RegisterSysFlow(ctx, "t.entities")
	if err != nil || again != sfID {
		t.Fatalf("same schema under another subject: id %d, %v; want %d", again, err, sfID)
	}

	// Decode concurrently: one fetch per id, decoders pooled.
	recs := testkit.SysFlowRecords()
	batch := testkit.RawBatch("node-1", 4242)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for _, rec := range recs {
				b, err := producer.AppendSysFlow(nil, sfID, rec)
				if err != nil {
					errs <- err
					return
				}
				got, err := consumer.DecodeSysFlow(ctx, b)
				if err != nil || !reflect.DeepEqual(got, rec) {
					errs <- errors.Join(errors.New("sysflow mismatch"), err)
					return
				}
			}
			b, err := producer.AppendRaw(nil, rawID, batch)
			if err != nil {
				errs <- err
				return
			}
			var got raw.Batch
			if err := consumer.DecodeRaw(ctx, b, &got); err != nil {
				errs <- err
				return
			}
			if !rawEqual(&got, batch) {
				errs <- errors.New("raw mismatch")
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := gauge(t, promReg, "sfstream_codec_writer_schemas"); n != 2 {
		t.Errorf("writer schemas cached: %v, want 2", n)
	}
}

func gauge(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}

// rawEqual compares batches treating nil and empty slices as equal.
func rawEqual(a, b *raw.Batch) bool {
	ja, _ := json.Marshal(normalize(a))
	jb, _ := json.Marshal(normalize(b))
	return string(ja) == string(jb)
}

func normalize(b *raw.Batch) *raw.Batch {
	c := *b
	c.Events = append([]raw.Event(nil), b.Events...)
	for i := range c.Events {
		if len(c.Events[i].FDs) == 0 {
			c.Events[i].FDs = nil
		}
		if p := c.Events[i].Proc; p != nil && len(p.Env) == 0 {
			q := *p
			q.Env = nil
			c.Events[i].Proc = &q
		}
	}
	return &c
}

// oldSysFlowSchema returns the v5 schema without Process.cwd and Process.env, as written by
// SysFlow 4 era collectors.
func oldSysFlowSchema(t *testing.T) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(schemas.SysFlow()), &doc); err != nil {
		t.Fatal(err)
	}
	union := doc["fields"].([]any)[0].(map[string]any)["type"].([]any)
	proc := union[sysflow.KindProcess].(map[string]any)
	var kept []any
	for _, f := range proc["fields"].([]any) {
		if n := f.(map[string]any)["name"]; n != "cwd" && n != "env" {
			kept = append(kept, f)
		}
	}
	proc["fields"] = kept
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestSchemaEvolution(t *testing.T) {
	ctx := t.Context()
	s, reg := newSerde(t)

	t.Run("sysflow older writer", func(t *testing.T) {
		old := oldSysFlowSchema(t)
		oldID, _, err := reg.RegisterSchema("legacy-value", sr.Schema{Schema: old})
		if err != nil {
			t.Fatal(err)
		}
		newID, err := s.RegisterSysFlow(ctx, "legacy")
		if err != nil {
			t.Fatal(err)
		}
		if newID == oldID {
			t.Fatalf("v5 got the old schema's id %d", oldID)
		}
		// Encode a Process with the old branch: union index, then the record without cwd/env.
		parsed, err := avro.ParseWithCache(old, "", &avro.SchemaCache{}) // not the global cache: same names as v5
		if err != nil {
			t.Fatal(err)
		}
		ws := parsed.(*avro.RecordSchema)
		branch := ws.Fields()[0].Type().(*avro.UnionSchema).Types()[sysflow.KindProcess]
		want := testkit.SysFlowRecords()[sysflow.KindProcess].(*sysflow.Process)
		body, err := avro.Marshal(branch, want)
		if err != nil {
			t.Fatal(err)
		}
		value := append(codec.AppendHeader(nil, oldID), byte(2*sysflow.KindProcess))
		value = append(value, body...)

		got, err := s.DecodeSysFlow(ctx, value)
		if err != nil {
			t.Fatalf("decode old record: %v", err)
		}
		p := got.(*sysflow.Process)
		if p.Cwd != "" || len(p.Env) != 0 {
			t.Errorf("fields missing from the writer: cwd %q env %q, want zero", p.Cwd, p.Env)
		}
		p.Cwd, p.Env = want.Cwd, want.Env
		if !reflect.DeepEqual(p, want) {
			t.Errorf("old record:\n got %+v\nwant %+v", p, want)
		}
	})

	t.Run("raw newer writer", func(t *testing.T) {
		var doc map[string]any
		if err := json.Unmarshal([]byte(schemas.Raw()), &doc); err != nil {
			t.Fatal(err)
		}
		doc["fields"] = append(doc["fields"].([]any), map[string]any{"name": "hostname", "type": "string", "default": ""})
		text, _ := json.Marshal(doc)
		newerID, _, err := reg.RegisterSchema("rawnext-value", sr.Schema{Schema: string(text)})
		if err != nil {
			t.Fatal(err)
		}
		want := testkit.RawBatch("node-9", 99)
		ws, err := avro.ParseWithCache(string(text), "", &avro.SchemaCache{})
		if err != nil {
			t.Fatal(err)
		}
		body, err := avro.Marshal(ws, map[string]any{
			"exporter": want.Exporter, "hpid": want.HPID, "createTS": want.CreateTS, "events": []any{}, "hostname": "h",
		})
		if err != nil {
			t.Fatal(err)
		}
		var got raw.Batch
		if err := s.DecodeRaw(ctx, append(codec.AppendHeader(nil, newerID), body...), &got); err != nil {
			t.Fatalf("decode newer raw: %v", err)
		}
		if got.Exporter != want.Exporter || got.HPID != want.HPID || got.CreateTS != want.CreateTS || len(got.Events) != 0 {
			t.Errorf("newer raw: got %+v", got)
		}
	})
}

func TestDecodeErrors(t *testing.T) {
	ctx := t.Context()
	s, reg := newSerde(t)
	sfID, err := s.RegisterSysFlow(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	otherID, _, err := reg.RegisterSchema("other-value", sr.Schema{Schema: `{"type":"record","name":"X","fields":[{"name":"a","type":"int"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	protoID, _, err := reg.RegisterSchema("proto-value", sr.Schema{Schema: `syntax = "proto3"; message M {}`, Type: sr.TypeProtobuf})
	if err != nil {
		t.Fatal(err)
	}
	valid, err := s.AppendSysFlow(nil, sfID, testkit.SysFlowRecords()[0])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		value []byte
		check func(error) bool
	}{
		{"empty", nil, func(err error) bool { return errors.Is(err, codec.ErrShortRecord) }},
		{"short", []byte{0, 0, 0}, func(err error) bool { return errors.Is(err, codec.ErrShortRecord) }},
		{"bad magic", append([]byte{1}, valid[1:]...), func(err error) bool { return errors.Is(err, codec.ErrBadMagic) }},
		{"unknown id", codec.AppendHeader(nil, 9999), func(err error) bool {
			var u *codec.UnknownIDError
			return errors.As(err, &u) && u.ID == 9999
		}},
		{"huge id", []byte{0, 0xff, 0xff, 0xff, 0xff, 0}, func(err error) bool {
			var u *codec.UnknownIDError
			return errors.As(err, &u)
		}},
		{"other record", append(codec.AppendHeader(nil, otherID), 2), func(err error) bool { return errors.Is(err, codec.ErrIncompatible) }},
		{"protobuf", append(codec.AppendHeader(nil, protoID), 2), func(err error) bool { return errors.Is(err, codec.ErrIncompatible) }},
		{"truncated", valid[:len(valid)-1], func(err error) bool { return errors.Is(err, codec.ErrMalformed) }},
		{"trailing", append(append([]byte(nil), valid...), 0), func(err error) bool { return errors.Is(err, codec.ErrMalformed) }},
		{"bad union index", append(codec.AppendHeader(nil, sfID), 0x7f), func(err error) bool { return errors.Is(err, codec.ErrMalformed) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.DecodeSysFlow(ctx, tt.value)
			if err == nil || !tt.check(err) {
				t.Fatalf("err = %v", err)
			}
			if !codec.IsBadRecord(err) {
				t.Errorf("IsBadRecord(%v) = false", err)
			}
			var b raw.Batch
			if err := s.DecodeRaw(ctx, tt.value, &b); err == nil || !codec.IsBadRecord(err) {
				t.Errorf("raw: err = %v, want a bad-record error", err)
			}
		})
	}

	t.Run("invalid raw batch", func(t *testing.T) {
		rawID, err := s.RegisterRaw(ctx, "r")
		if err != nil {
			t.Fatal(err)
		}
		b := testkit.RawBatch("n", 1)
		b.HPID = 0
		v, err := s.AppendRaw(nil, rawID, b)
		if err != nil {
			t.Fatal(err)
		}
		var got raw.Batch
		if err := s.DecodeRaw(ctx, v, &got); !errors.Is(err, raw.ErrInvalid) || !codec.IsBadRecord(err) {
			t.Fatalf("err = %v, want raw.ErrInvalid", err)
		}
	})
}

// reserveAddr returns a loopback address that nothing listens on (yet).
func reserveAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestRegistryDown(t *testing.T) {
	addr := reserveAddr(t)
	client := srclient.NewSchemaRegistryClient("http://" + addr)
	client.SetTimeout(time.Second)
	s, err := codec.New(client, codec.WithBackoff(20*time.Millisecond, 100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("gives up when ctx ends", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		_, err := s.RegisterSysFlow(ctx, "down")
		if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "gave up after") {
			t.Fatalf("err = %v", err)
		}
		if codec.IsBadRecord(err) {
			t.Errorf("an unreachable registry is not a bad record")
		}
	})

	t.Run("decode with registry down is transient", func(t *testing.T) {
		_, err := s.DecodeSysFlow(t.Context(), codec.AppendHeader(nil, 1))
		if err == nil || codec.IsBadRecord(err) {
			t.Fatalf("err = %v, want a transient error", err)
		}
	})

	t.Run("registers once the registry comes up", func(t *testing.T) {
		reg := srfake.NewRegistry()
		srv := &http.Server{Handler: reg.Handler(), ReadHeaderTimeout: time.Second}
		var wg sync.WaitGroup
		defer wg.Wait()
		time.AfterFunc(300*time.Millisecond, func() {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Errorf("listen: %v", err)
				return
			}
			wg.Go(func() { _ = srv.Serve(ln) })
		})
		defer srv.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		id, err := s.RegisterSysFlow(ctx, "down")
		if err != nil {
			t.Fatalf("register: %v", err)
		}
		if got, ok := reg.GetSchema("down-value", 1); !ok || got.ID != id {
			t.Fatalf("registry has %+v %v, want id %d", got, ok, id)
		}
	})
}

func TestRegistryRejects(t *testing.T) {
	s, reg := newSerde(t)
	reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost {
			return false
		}
		w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		w.WriteHeader(http.StatusConflict)
		_ = json.NewEncoder(w).Encode(map[string]any{"error_code": 409, "message": "incompatible"})
		return true
	})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := s.RegisterSysFlow(ctx, "x")
	if err == nil || strings.Contains(err.Error(), "gave up") {
		t.Fatalf("err = %v, want an immediate rejection", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("a 409 was retried")
	}
}
