package engine

import (
	"fmt"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/sysprint"
	"github.com/sfstream/sfstream/processors/policy/rules"
	"github.com/sfstream/sfstream/sysflow"
)

// Evaluator applies a rule set to flattened records and builds their alerts: the one place
// where the live engine and sfstream hunt make alerts, so that both give the same. It reuses
// its buffers and is not safe for concurrent use.
type Evaluator struct {
	set     *rules.Set
	rec     sysprint.FlatRecord
	enc     *sysflow.Encoder
	matched []*rules.Rule
}

// NewEvaluator returns an Evaluator of set, whose rules must be compiled against
// sysprint.QueryFields.
func NewEvaluator(set *rules.Set) *Evaluator {
	return &Evaluator{set: set, enc: sysflow.NewEncoder()}
}

// Eval appends to dst an alert for each rule that flat satisfies, in rule order; exporter is
// the record's exporter. Entities and records without a process give no alert.
func (e *Evaluator) Eval(dst []codec.Alert, flat sysflow.Flat, exporter string) ([]codec.Alert, error) {
	if flat.Kind.IsEntity() {
		return dst, nil
	}
	e.rec.Reset(flat)
	e.matched = e.set.Match(e.matched[:0], &e.rec)
	if len(e.matched) == 0 {
		return dst, nil
	}
	body, err := e.enc.Append(nil, flat.Rec)
	if err != nil {
		return dst, fmt.Errorf("evaluate rules: encode record: %w", err)
	}
	oid, ts := keyFields(flat.Rec)
	var container, file *string
	if flat.Process != nil && flat.Process.ContainerID != nil {
		container = flat.Process.ContainerID
	}
	if flat.File != nil {
		file = &flat.File.Path
	}
	for _, r := range e.matched {
		dst = append(dst, codec.Alert{
			Rule: r.Name, Priority: r.Priority.String(), Tags: r.Tags, Output: r.RenderOutput(&e.rec),
			Exporter: exporter, TS: ts, Kind: flat.Kind.String(), HPID: oid.HPID, CreateTS: oid.CreateTS,
			ContainerID: container, FilePath: file, Record: body,
		})
	}
	return dst, nil
}

// keyFields returns the process OID and ts of an event or flow.
func keyFields(rec sysflow.Record) (sysflow.OID, int64) {
	switch r := rec.(type) {
	case *sysflow.ProcessEvent:
		return r.ProcOID, r.TS
	case *sysflow.FileEvent:
		return r.ProcOID, r.TS
	case *sysflow.NetworkEvent:
		return r.ProcOID, r.TS
	case *sysflow.FileFlow:
		return r.ProcOID, r.TS
	case *sysflow.NetworkFlow:
		return r.ProcOID, r.TS
	case *sysflow.ProcessFlow:
		return r.ProcOID, r.TS
	case *sysflow.K8sEvent:
		return sysflow.OID{}, r.TS
	}
	return sysflow.OID{}, 0
}
