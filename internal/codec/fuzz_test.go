package codec_test

import (
	"testing"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/internal/testkit"
)

// FuzzDecode feeds arbitrary values to both decoders: they must return a value or an error,
// never panic or allocate without bound, and a value that decodes must re-encode.
func FuzzDecode(f *testing.F) {
	reg := srfake.New()
	defer reg.Close()
	s, err := codec.New(srclient.NewSchemaRegistryClient(reg.URL()))
	if err != nil {
		f.Fatal(err)
	}
	sfID, err := s.RegisterSysFlow(f.Context(), "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	rawID, err := s.RegisterRaw(f.Context(), "fuzz.raw")
	if err != nil {
		f.Fatal(err)
	}
	for _, rec := range testkit.SysFlowRecords() {
		v, err := s.AppendSysFlow(nil, sfID, rec)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v)
	}
	v, err := s.AppendRaw(nil, rawID, testkit.RawBatch("n", 7))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v)
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{1, 0, 0, 0, 1, 0})
	f.Add(append(codec.AppendHeader(nil, sfID), 0xff, 0xff, 0xff, 0xff, 0x0f))

	f.Fuzz(func(t *testing.T, value []byte) {
		ctx := t.Context()
		if rec, err := s.DecodeSysFlow(ctx, value); err == nil {
			if _, err := s.AppendSysFlow(nil, sfID, rec); err != nil {
				t.Fatalf("decoded sysflow %s does not re-encode: %v", rec.Kind(), err)
			}
		}
		var b raw.Batch
		if err := s.DecodeRaw(ctx, value, &b); err == nil {
			if _, err := s.AppendRaw(nil, rawID, &b); err != nil {
				t.Fatalf("decoded raw batch does not re-encode: %v", err)
			}
		}
	})
}
