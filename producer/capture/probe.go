package capture

import (
	"fmt"

	"github.com/sfstream/sfstream/bpf"
)

// Probe loads the eBPF programs with a small ring buffer and unloads them: it returns nil when
// this kernel and these privileges allow live capture, else why not. It captures nothing.
func Probe() error {
	probe, err := bpf.Open(bpf.Config{RingBufferBytes: 1 << 16})
	if err != nil {
		return err
	}
	if err := probe.Close(); err != nil {
		return fmt.Errorf("probe: unload: %w", err)
	}
	return nil
}
