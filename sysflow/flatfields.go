package sysflow

// EventFields are the fields that events and flows have in common, read the way sysprint's
// formatter reads them (its evt and flow objects). A field a record's type lacks is zero and
// its Has flag false; entities give the zero EventFields.
type EventFields struct {
	// IsEvent and IsFlow tell an event (PE, FE, NE, KE) from a flow (FF, NF, PF).
	IsEvent, IsFlow bool
	// TS and EndTS are in ns since the epoch; EndTS only for flows.
	TS, EndTS int64
	TID       int64
	OpFlags   int32
	Ret       int32
	FD        int32
	// HasTID, HasOpFlags, HasRet and HasFD say whether the record's type has the field:
	// ProcessFlow has no tid, K8sEvent has none of them, only events have ret and only
	// file and network flows have fd.
	HasTID, HasOpFlags, HasRet, HasFD bool
}

// EventFieldsOf returns the event or flow fields of rec.
func EventFieldsOf(rec Record) EventFields {
	switch e := rec.(type) {
	case *ProcessEvent:
		return EventFields{IsEvent: true, TS: e.TS, TID: e.TID, OpFlags: e.OpFlags, Ret: e.Ret, HasTID: true, HasOpFlags: true, HasRet: true}
	case *FileEvent:
		return EventFields{IsEvent: true, TS: e.TS, TID: e.TID, OpFlags: e.OpFlags, Ret: e.Ret, HasTID: true, HasOpFlags: true, HasRet: true}
	case *NetworkEvent:
		return EventFields{IsEvent: true, TS: e.TS, TID: e.TID, OpFlags: e.OpFlags, Ret: e.Ret, HasTID: true, HasOpFlags: true, HasRet: true}
	case *K8sEvent:
		return EventFields{IsEvent: true, TS: e.TS}
	case *FileFlow:
		return EventFields{IsFlow: true, TS: e.TS, EndTS: e.EndTS, TID: e.TID, OpFlags: e.OpFlags, FD: e.FD, HasTID: true, HasOpFlags: true, HasFD: true}
	case *NetworkFlow:
		return EventFields{IsFlow: true, TS: e.TS, EndTS: e.EndTS, TID: e.TID, OpFlags: e.OpFlags, FD: e.FD, HasTID: true, HasOpFlags: true, HasFD: true}
	case *ProcessFlow:
		return EventFields{IsFlow: true, TS: e.TS, EndTS: e.EndTS, OpFlags: e.OpFlags, HasOpFlags: true}
	}
	return EventFields{}
}

// FlowCounters are the read and write counters of a file or network flow.
type FlowCounters struct {
	RBytes, ROps, WBytes, WOps int64
}

// FlowCountersOf returns the counters of a FileFlow or NetworkFlow, and false for any other
// record.
func FlowCountersOf(rec Record) (FlowCounters, bool) {
	switch e := rec.(type) {
	case *FileFlow:
		return FlowCounters{RBytes: e.NumRRecvBytes, ROps: e.NumRRecvOps, WBytes: e.NumWSendBytes, WOps: e.NumWSendOps}, true
	case *NetworkFlow:
		return FlowCounters{RBytes: e.NumRRecvBytes, ROps: e.NumRRecvOps, WBytes: e.NumWSendBytes, WOps: e.NumWSendOps}, true
	}
	return FlowCounters{}, false
}

// Resource returns sysprint's res field of a flattened record: the file path of a file
// event or flow (followed by ", " and the new path when the event has a second file), the
// tuple of a network flow, and "" for anything else.
func (f *Flat) Resource() string {
	switch f.Kind {
	case KindFileFlow, KindFileEvent:
		var res string
		if f.File != nil {
			res = f.File.Path
		}
		if f.NewFile != nil {
			res += ", " + f.NewFile.Path
		}
		return res
	case KindNetworkFlow:
		if nf, ok := f.Rec.(*NetworkFlow); ok {
			return nf.Tuple()
		}
	}
	return ""
}

// EnvString joins a process environment as sysprint prints it (proc.env): "K=V;K=V",
// skipping "" and "=" entries.
func EnvString(env []string) string {
	n := 0
	for _, e := range env {
		n += len(e) + 1
	}
	b := make([]byte, 0, n)
	for _, e := range env {
		if e == "" || e == "=" {
			continue
		}
		if len(b) > 0 {
			b = append(b, ';')
		}
		b = append(b, e...)
	}
	return string(b)
}
