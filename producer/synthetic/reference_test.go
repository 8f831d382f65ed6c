package synthetic_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/replay"
	"github.com/sfstream/sfstream/producer/synthetic"
)

// referenceDir is where the reference captures live, in the repository.
const referenceDir = "../../testdata/reference"

// Each profile's declared mix is within its bounds of the mix of its reference captures, as
// producer/replay turns them into raw events, and the profile's operations cover most of
// what those captures do.
func TestProfileMixMatchesReferenceCaptures(t *testing.T) {
	for _, p := range synthetic.Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			h := map[raw.Op]int{}
			for _, ref := range p.References {
				rh, err := replay.OpHistogram(context.Background(), filepath.Join(referenceDir, ref), replay.WithExporter("tests"))
				if err != nil {
					t.Fatalf("%s: %v", ref, err)
				}
				for op, n := range rh {
					h[op] += n
				}
			}
			ref, coverage := synthetic.MixOf(h, p.Ops)
			tvd, worst, diff := synthetic.Distance(ref, p.Mix)
			t.Logf("captures %v: coverage %.2f, distance %.3f, worst %s %.3f", p.References, coverage, tvd, worst, diff)
			for _, op := range p.Ops {
				t.Logf("  %-8s profile %.3f  captures %.3f", op, p.Mix[op], ref[op])
			}
			if coverage < 0.8 {
				t.Errorf("the profile's ops cover %.2f of the captures' syscall events, want >= 0.8", coverage)
			}
			if tvd > p.MaxMixDistance {
				t.Errorf("mix distance %.3f, want <= %.3f", tvd, p.MaxMixDistance)
			}
			if diff > p.MaxOpDistance {
				t.Errorf("%s differs by %.3f, want <= %.3f", worst, diff, p.MaxOpDistance)
			}
		})
	}
}
