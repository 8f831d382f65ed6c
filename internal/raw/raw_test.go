package raw_test

import (
	"testing"

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
