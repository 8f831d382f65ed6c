package replay

import (
	"context"

	"github.com/sfstream/sfstream/internal/raw"
)

// OpHistogram replays a capture and counts the raw events it yields per operation: the mix
// a synthetic load should reproduce. The options are those of Open (pacing is ignored).
func OpHistogram(ctx context.Context, path string, opts ...Option) (map[raw.Op]int, error) {
	s, err := Open(path, append(opts, WithPace(false))...)
	if err != nil {
		return nil, err
	}
	h := map[raw.Op]int{}
	err = s.Run(ctx, func(b raw.Batch) error {
		for i := range b.Events {
			h[b.Events[i].Op]++
		}
		return nil
	})
	return h, err
}
