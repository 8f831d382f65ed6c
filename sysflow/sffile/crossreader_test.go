package sffile_test

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// generic turns a record into what fastavro's JSON dump holds: avro field names, fixed and
// bytes as hex, enums as symbols, nil pointers as null.
func generic(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return generic(v.Elem())
	case reflect.Struct:
		m := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			m[v.Type().Field(i).Tag.Get("avro")] = generic(v.Field(i))
		}
		return m
	case reflect.Array:
		b := make([]byte, v.Len())
		reflect.Copy(reflect.ValueOf(b), v)
		return hex.EncodeToString(b)
	case reflect.Slice:
		out := []any{}
		for i := 0; i < v.Len(); i++ {
			out = append(out, generic(v.Index(i)))
		}
		return out
	case reflect.Map:
		m := map[string]any{}
		for _, k := range v.MapKeys() {
			m[k.String()] = generic(v.MapIndex(k))
		}
		return m
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int32, reflect.Int64:
		return float64(v.Int())
	}
	panic("unhandled kind " + v.Kind().String())
}

func TestFastavroReadsOurFiles(t *testing.T) {
	for _, codec := range []string{sffile.CodecDeflate, sffile.CodecNull} {
		t.Run(codec, func(t *testing.T) {
			recs := records()
			path := filepath.Join(t.TempDir(), "x.sf")
			if err := os.WriteFile(path, writeFile(t, recs, sffile.WithCodec(codec), sffile.WithBlockSize(200)), 0o644); err != nil {
				t.Fatal(err)
			}
			theirs := testkit.Fastavro(t, path)
			if len(theirs) != len(recs) {
				t.Fatalf("fastavro read %d records, wrote %d", len(theirs), len(recs))
			}
			for i, r := range theirs {
				if want := recs[i].Kind().FullName(); r.Type != want {
					t.Errorf("record %d: fastavro type %s, want %s", i, r.Type, want)
				}
				if want := generic(reflect.ValueOf(recs[i])); !reflect.DeepEqual(any(r.Rec), want) {
					t.Errorf("record %d (%s):\nfastavro %v\n    want %v", i, r.Type, r.Rec, want)
				}
			}
		})
	}
}
