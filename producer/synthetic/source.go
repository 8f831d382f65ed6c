package synthetic

import (
	"context"

	"github.com/sfstream/sfstream/internal/raw"
)

// Run emits the generator's batches until ctx ends, then the batches that end its processes
// (Drain): the generator is a producer source like live capture and replay
// (producer/pipeline.Source). It returns nil when ctx ends, or emit's error.
func (g *Generator) Run(ctx context.Context, emit func(raw.Batch) error) error {
	for {
		b, err := g.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				return err
			}
			for _, b := range g.Drain() {
				if err := emit(*b); err != nil {
					return err
				}
			}
			return nil
		}
		if err := emit(*b); err != nil {
			return err
		}
	}
}
