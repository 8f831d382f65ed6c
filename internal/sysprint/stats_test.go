package sysprint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sfstream/sfstream/archiver/hourly"
	"github.com/sfstream/sfstream/internal/entities"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/sysflow"
)

// archived writes an archive object of hour 2023-11-14T22 with one process's flows and the
// given capture counts (none when nil) to dir and returns its path.
func archived(t *testing.T, dir string, partition int32, flows int, counts *raw.Counts) string {
	t.Helper()
	const hour = 1_699_999_200
	oid := sysflow.OID{HPID: 7, CreateTS: hour * 1e9}
	table := entities.NewTable(0)
	if err := table.Add(oid.Key("n"), &sysflow.Process{State: sysflow.StateCreated, OID: oid, TS: hour * 1e9, Exe: "/bin/x", Env: []string{}}, 1); err != nil {
		t.Fatal(err)
	}
	key := hourly.Key{Exporter: "n", Hour: hour, Partition: partition}
	f, err := hourly.Create(t.TempDir(), key, key.Name(""), table)
	if err != nil {
		t.Fatal(err)
	}
	for i := range flows {
		if err := f.Append(&sysflow.NetworkFlow{ProcOID: oid, TS: hour*1e9 + int64(i), SPort: int32(i)}, 2, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if counts != nil {
		f.AddCounts(*counts, int64(flows))
	}
	obj, err := f.Finish("sysflow.events")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(obj.Path)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, filepath.Base(obj.Name))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// --stats prints per file its records by type, what its exporter captured and lost in its
// hour (the object's metadata) and the coverage; a total over several files; "-" where a
// file states no counts (the reference's files).
func TestStats(t *testing.T) {
	dir := t.TempDir()
	lossy := archived(t, dir, 0, 3, &raw.Counts{Captured: 900, LostKernel: 60, LostQueue: 30, LostOther: 10, Excluded: 4})
	whole := archived(t, dir, 1, 2, &raw.Counts{Captured: 50})
	allLost := archived(t, dir, 2, 0, &raw.Counts{LostKernel: 8})
	bare := archived(t, dir, 3, 1, nil)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"one file with losses", []string{lossy}, []string{
			lossy + " records=5 H=1 P=1 NF=3 captured=900 lost=100 kernel=60 queue=30 other=10 excluded=4 coverage=90.00%",
		}},
		{"every event lost", []string{allLost}, []string{
			allLost + " records=1 H=1 captured=0 lost=8 kernel=8 queue=0 other=0 excluded=0 coverage=0.00%",
		}},
		{"no counts", []string{bare}, []string{bare + " records=3 H=1 P=1 NF=1 captured=- lost=- coverage=-"}},
		{"directory", []string{dir}, []string{
			lossy + " records=5 H=1 P=1 NF=3 captured=900 lost=100 kernel=60 queue=30 other=10 excluded=4 coverage=90.00%",
			whole + " records=4 H=1 P=1 NF=2 captured=50 lost=0 kernel=0 queue=0 other=0 excluded=0 coverage=100.00%",
			allLost + " records=1 H=1 captured=0 lost=8 kernel=8 queue=0 other=0 excluded=0 coverage=0.00%",
			bare + " records=3 H=1 P=1 NF=1 captured=- lost=- coverage=-",
			"TOTAL records=13 H=4 P=3 NF=6 captured=950 lost=108 kernel=68 queue=30 other=10 excluded=4 coverage=89.79%",
		}},
		{"reference file", []string{ref("alpine/alpine.sf")}, []string{
			ref("alpine/alpine.sf") + " records=39 H=1 C=1 P=8 F=5 PE=8 FF=16 captured=- lost=- coverage=-",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Split(strings.TrimSuffix(mustSfprint(t, append([]string{"--stats"}, tt.args...)...), "\n"), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("sfprint --stats:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{{"--stats", "--filter", "type = NF", lossy}, {"--stats", "kafka://localhost:9092/sysflow.events"}} {
			if _, _, code := sfprint(t, args...); code != 2 {
				t.Errorf("sfprint %q: exit %d, want 2", args, code)
			}
		}
	})
}
