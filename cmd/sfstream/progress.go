package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// progress renders one status line from the metrics every component registers.
type progress struct {
	reg   prometheus.Gatherer
	out   io.Writer
	start time.Time
}

// sums returns every metric family's total, and label-split totals for records_out by kind.
func (p *progress) sums() (map[string]float64, map[string]float64) {
	totals := map[string]float64{}
	byKind := map[string]float64{}
	mfs, err := p.reg.Gather()
	if err != nil {
		return totals, byKind
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			v := value(m)
			totals[mf.GetName()] += v
			if h := m.GetHistogram(); h != nil {
				totals[mf.GetName()+"_sum"] += h.GetSampleSum()
			}
			if mf.GetName() == "sfstream_processor_records_out_total" {
				for _, l := range m.GetLabel() {
					if l.GetName() == "kind" {
						byKind[l.GetValue()] += v
					}
				}
			}
		}
	}
	return totals, byKind
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

// line is the status line: events captured and dropped, records out by type, files written, lag.
func (p *progress) line() string {
	t, kinds := p.sums()
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var out []string
	for _, k := range ks {
		out = append(out, fmt.Sprintf("%s %.0f", k, kinds[k]))
	}
	if len(out) == 0 {
		out = append(out, "none yet")
	}
	dropped := t["sfstream_producer_ringbuf_lost_total"] + t["sfstream_producer_queue_dropped_total"]
	line := fmt.Sprintf("[%s] events captured %.0f, dropped %.0f | sysflow out: %s | files %.0f | lag %.0f",
		time.Since(p.start).Round(time.Second), t["sfstream_producer_events_sent_total"], dropped,
		strings.Join(out, ", "), t["sfstream_archiver_files_written_total"], t["sfstream_processor_lag"])
	if n := t["sfstream_archiver_reference_wait_seconds"]; n > 0 {
		// Batches that waited for entities of a lagging partition, and entities written as unknown.
		line += fmt.Sprintf(" | entity waits %.0f (%.0f ms mean), unknown %.0f", n,
			1000*t["sfstream_archiver_reference_wait_seconds_sum"]/n, t["sfstream_archiver_missing_references_total"])
	}
	return line
}
