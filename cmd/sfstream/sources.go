package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfstream/sfstream/producer/capture"
	producer "github.com/sfstream/sfstream/producer/pipeline"
	"github.com/sfstream/sfstream/producer/replay"
	"github.com/sfstream/sfstream/producer/synthetic"
)

// pickSource returns the source the flags and the machine allow, and a one-line label.
// Live capture needs root and a kernel that accepts the programs; without them the synthetic
// generator runs instead, and the label says why.
func pickSource(o runOptions, log *slog.Logger, reg prometheus.Registerer) (producer.Source, string, error) {
	cfg := capture.Config{Exporter: o.exporter, CRISocket: o.criSocket, Filter: o.filter, ContainersOnly: o.containers, RingBufferBytes: o.ringBytes}
	filtered := o.filter != "" || o.containers
	if filtered {
		// A bad expression fails at start whatever the source.
		if err := cfg.Validate(); err != nil {
			return nil, "", err
		}
		if o.replay != "" || o.synthetic {
			return nil, "", errors.New("--filter and --containers-only apply to live capture, not to --replay or --synthetic")
		}
	}
	if o.replay != "" {
		src, err := replay.Open(o.replay, replay.WithExporter(o.exporter))
		if err != nil {
			return nil, "", err
		}
		return src, "replay of " + o.replay, nil
	}
	why := ""
	switch {
	case o.synthetic:
		why = "asked for with --synthetic"
	case os.Geteuid() != 0:
		why = "not root: live eBPF capture needs root (sudo make run)"
	default:
		if err := capture.Probe(); err != nil {
			why = fmt.Sprintf("this kernel refused the eBPF programs (%v)", err)
			break
		}
		c, err := capture.New(cfg, capture.WithLogger(log), capture.WithRegisterer(reg))
		if err != nil {
			return nil, "", err
		}
		if filtered {
			return c, "live eBPF capture, filtered", nil
		}
		return c, "live eBPF capture", nil
	}
	g, err := synthetic.New(synthetic.Config{Profile: synthetic.HTTPD, Exporter: o.exporter, Rate: o.rate, Pace: true, Processes: 20})
	if err != nil {
		return nil, "", err
	}
	if filtered {
		why += "; --filter and --containers-only do not apply"
	}
	return g, "SYNTHETIC load generator (" + why + ")", nil
}
