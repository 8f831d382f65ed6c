package codec_test

import (
	"reflect"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/schemas"
)

// TestAlertRoundTrip pins codec.Alert to alert.avsc: an alert written through the registry
// reads back equal, and its bytes are what a generic reader of the schema reads.
func TestAlertRoundTrip(t *testing.T) {
	s, _ := newSerde(t)
	ctx := t.Context()
	id, err := s.RegisterAlert(ctx, "sysflow.alerts")
	if err != nil {
		t.Fatal(err)
	}
	cont, path := "0123456789ab", "/etc/shadow"
	cases := map[string]codec.Alert{
		"full": {Rule: "read_sensitive_file", Priority: "WARNING", Tags: []string{"filesystem", "mitre_credential_access"},
			Output: "Sensitive file read (file /etc/shadow)", Exporter: "node-a", TS: 1700000000000000001, Kind: "FF",
			HPID: 42, CreateTS: 1699999999000000000, ContainerID: &cont, FilePath: &path, Record: []byte{8, 1, 2, 3}},
		"no optional fields": {Rule: "r", Priority: "DEBUG", Tags: []string{}, Output: "", Exporter: "x", Kind: "PE", Record: []byte{}},
	}
	for name, a := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := s.AppendAlert(nil, id, &a)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.DecodeAlert(ctx, b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, a) {
				t.Fatalf("round trip\n got %+v\nwant %+v", *got, a)
			}
			var generic map[string]any
			if err := avro.Unmarshal(avro.MustParse(schemas.Alert()), b[5:], &generic); err != nil {
				t.Fatal(err)
			}
			if generic["rule"] != a.Rule || generic["hpid"] != a.HPID || generic["exporter"] != a.Exporter {
				t.Fatalf("generic reader: %v", generic)
			}
		})
	}
}
