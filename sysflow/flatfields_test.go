package sysflow

import "testing"

func TestEventFieldsAndResource(t *testing.T) {
	foid, foid2 := FOID{1}, FOID{2}
	tests := []struct {
		name string
		rec  Record
		want EventFields
	}{
		{"process event", &ProcessEvent{TS: 5, TID: 7, OpFlags: 2, Ret: -1},
			EventFields{IsEvent: true, TS: 5, TID: 7, OpFlags: 2, Ret: -1, HasTID: true, HasOpFlags: true, HasRet: true}},
		{"file flow", &FileFlow{TS: 5, EndTS: 9, TID: 7, OpFlags: 3, FD: 4},
			EventFields{IsFlow: true, TS: 5, EndTS: 9, TID: 7, OpFlags: 3, FD: 4, HasTID: true, HasOpFlags: true, HasFD: true}},
		{"process flow has no tid", &ProcessFlow{TS: 5, EndTS: 9, OpFlags: 1},
			EventFields{IsFlow: true, TS: 5, EndTS: 9, OpFlags: 1, HasOpFlags: true}},
		{"k8s event has only ts", &K8sEvent{TS: 5}, EventFields{IsEvent: true, TS: 5}},
		{"entity", &Process{TS: 5}, EventFields{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EventFieldsOf(tt.rec); got != tt.want {
				t.Errorf("EventFieldsOf = %+v, want %+v", got, tt.want)
			}
		})
	}
	if c, ok := FlowCountersOf(&NetworkFlow{NumRRecvBytes: 1, NumRRecvOps: 2, NumWSendBytes: 3, NumWSendOps: 4}); !ok || c != (FlowCounters{1, 2, 3, 4}) {
		t.Errorf("FlowCountersOf = %+v, %v", c, ok)
	}
	if _, ok := FlowCountersOf(&ProcessFlow{}); ok {
		t.Error("a ProcessFlow has flow counters")
	}
	fe := Flat{Kind: KindFileEvent, Rec: &FileEvent{FileOID: foid, NewFileOID: &foid2}, File: &File{Path: "/a"}, NewFile: &File{Path: "/b"}}
	if got := fe.Resource(); got != "/a, /b" {
		t.Errorf("FileEvent resource %q", got)
	}
	nf := Flat{Kind: KindNetworkFlow, Rec: &NetworkFlow{SIP: 16777343, SPort: 1, DIP: 16777343, DPort: 2}}
	if got, want := nf.Resource(), nf.Rec.(*NetworkFlow).Tuple(); got != want {
		t.Errorf("NetworkFlow resource %q, want the tuple %q", got, want)
	}
	if got := (&Flat{Kind: KindProcessEvent}).Resource(); got != "" {
		t.Errorf("ProcessEvent resource %q", got)
	}
	if got := EnvString([]string{"A=1", "", "=", "B=2"}); got != "A=1;B=2" {
		t.Errorf("EnvString = %q", got)
	}
}
