package raw_test

import (
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/sfstream/sfstream/internal/raw"
)

func TestParseKey(t *testing.T) {
	for _, exp := range []string{"node", "a/P/b", ""} {
		key := string(raw.Key(exp, 42, -7))
		if e, h, c, ok := raw.ParseKey(key); !ok || e != exp || h != 42 || c != -7 {
			t.Errorf("ParseKey(%q) = %q, %d, %d, %v", key, e, h, c, ok)
		}
	}
	for _, bad := range []string{"node/F/abc", "node/P/1", "node/P/x/2", "node/P/1/2/3"} {
		if _, _, _, ok := raw.ParseKey(bad); ok {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
}

// A batch written with the raw schema before containers carried a pod id (testdata/raw-v1.avsc,
// the schema as committed then) still decodes with the current one, as the codec resolves
// writer schemas: the pod id is empty. A container notice batch is addressed to every
// partition like drop and end notices.
func TestOldRawSchemaDecodes(t *testing.T) {
	old, err := avro.ParseFiles("testdata/raw-v1.avsc")
	if err != nil {
		t.Fatal(err)
	}
	in := raw.Batch{Exporter: "node", HPID: 7, CreateTS: 9, Events: []raw.Event{raw.NewEvent(raw.OpExec, 10, 7)}}
	in.Events[0].Proc = &raw.Proc{Exe: "/bin/sh", Args: []string{}, Env: []string{},
		Container: &raw.Container{ID: "0123456789ab", Name: "web", Image: "img:1:1", ImageID: "beef", Runtime: 7}}
	data, err := avro.Marshal(old, in)
	if err != nil {
		t.Fatal(err)
	}
	res, err := avro.NewSchemaCompatibility().Resolve(raw.Schema, old)
	if err != nil {
		t.Fatal(err)
	}
	var out raw.Batch
	if err := avro.Unmarshal(res, data, &out); err != nil {
		t.Fatal(err)
	}
	got, want := *out.Events[0].Proc.Container, *in.Events[0].Proc.Container
	if got != want {
		t.Errorf("container from an old record = %+v, want %+v", got, want)
	}

	notice := raw.Batch{Exporter: "node", Events: []raw.Event{raw.NewEvent(raw.OpContainer, 5, 0)}}
	if !notice.Notices() || notice.Validate() != nil {
		t.Errorf("a container notice batch (hpid 0) is not a valid notice batch: %v", notice.Validate())
	}
}
