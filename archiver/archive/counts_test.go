package archive_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sfstream/sfstream/archiver/archivetest"
	"github.com/sfstream/sfstream/archiver/hourly"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/internal/stack"
	"github.com/sfstream/sfstream/internal/testkit"
)

// withDrops adds a drop notice to every fifth batch of a process, alternating kernel and
// queue losses, and returns the counts the input holds by exporter and hour
// ("<exporter>.<YYYYMMDDHH>", as object names have them).
func withDrops(batches []*raw.Batch) map[string]raw.Counts {
	want := map[string]raw.Counts{}
	add := func(exp string, ts int64, f func(*raw.Counts)) {
		k := exp + "." + time.Unix(0, ts).UTC().Format("2006010215")
		c := want[k]
		c.Hour = ts / 1e9 / 3600 * 3600
		f(&c)
		want[k] = c
	}
	for i, b := range batches {
		for _, e := range b.Events {
			if e.Op != raw.OpSnapshot && e.Op != raw.OpEnd && e.Op != raw.OpContainer {
				add(b.Exporter, e.TS, func(c *raw.Counts) { c.Captured++ })
			}
		}
		if b.HPID == 0 || len(b.Events) == 0 || i%5 != 0 {
			continue
		}
		kind := []int64{raw.DropKernel, raw.DropQueue}[i/5%2]
		d := raw.NewEvent(raw.OpDrop, b.Events[len(b.Events)-1].TS, b.HPID)
		d.Ret, d.Flags = int64(i%7+1), kind
		b.Events = append(b.Events, d)
		add(b.Exporter, d.TS, func(c *raw.Counts) { c.AddDrop(kind, d.Ret) })
	}
	return want
}

// countsOf returns the counts an object's metadata states, by "<exporter>.<YYYYMMDDHH>".
func countsOf(t *testing.T, objects map[string][]byte) (map[string]raw.Counts, map[string]map[string]string) {
	t.Helper()
	sums := map[string]raw.Counts{}
	metas := map[string]map[string]string{}
	for name, b := range objects {
		if !strings.HasSuffix(name, ".sf") {
			continue
		}
		meta, err := hourly.ReadMetadata(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		metas[name] = meta
		c, ok, err := raw.ParseCounts(func(k string) (string, bool) { v, ok := meta[k]; return v, ok }, false)
		if err != nil || !ok {
			t.Errorf("%s states no counts (%v)", name, err)
			continue
		}
		if meta[raw.CountLost] != fmt.Sprint(c.Lost()) {
			t.Errorf("%s: sfstream.lost %s, the kinds sum to %d", name, meta[raw.CountLost], c.Lost())
		}
		base := filepath.Base(name)
		k := base[:strings.Index(base, ".p")]
		h, err := time.Parse("2006010215", k[len(k)-10:])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s := sums[k]
		s.Hour = h.Unix()
		s.Add(c)
		sums[k] = s
	}
	return sums, metas
}

// Drop notices in sysflow.raw reach the archive: every object states what its exporter
// captured and lost in its hour (Avro metadata, and the Parquet file's key-value metadata),
// and the objects of an exporter and hour sum to the input's counts, late objects
// included. An object lost before it was stored is rebuilt after a restart with the same
// bytes, counts included.
func TestObjectsStateCapturedAndLost(t *testing.T) {
	env := testkit.New(t)
	kcfg, serde := archivetest.Setup(t, env)
	batches := archivetest.Default().Batches()
	want := withDrops(batches)
	events := archivetest.Expected(t, batches)
	archivetest.ProduceRaw(t, kcfg, serde, batches)
	archivetest.Process(t, kcfg, serde, archivetest.Count(events))

	target := stack.ArchiveTarget{Dir: t.TempDir(), Prefix: "counts"}
	cfg := config(t, kcfg, target)
	cfg.Parquet = true
	r := start(t, cfg, serde)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := r.a.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	before := archivetest.ReadObjects(t, target)
	got, metas := countsOf(t, before)
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: objects state %+v, the input holds %+v", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("counts for %d exporter-hours, want %d", len(got), len(want))
	}
	// The Parquet file of each object carries the same counts.
	// The object to lose: one with losses whose hour has no late object (a restart that finds
	// an hour's late object stored writes that hour's unstored records to the next late
	// object rather than under the lost name; the restart tests cover that case).
	var lossy string
	names := make([]string, 0, len(metas))
	for name := range metas {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		meta := metas[name]
		if lossy == "" && meta[raw.CountLost] != "0" && strings.HasSuffix(name, ".p0.sf") && !strings.Contains(name, ".late") {
			if _, late := metas[strings.TrimSuffix(name, ".sf")+".late.sf"]; !late {
				lossy = name
			}
		}
	}
	for name, meta := range metas {
		parts := strings.Split(strings.TrimPrefix(name, target.Prefix+"/"), "/") // exporter, date, hour, base
		if len(parts) != 4 {
			t.Fatalf("%s: not an object name", name)
		}
		pn := fmt.Sprintf("%s/parquet/exporter=%s/date=%s/hour=%s/%s.parquet", target.Prefix, parts[0], parts[1], parts[2], strings.TrimSuffix(parts[3], ".sf"))
		pb, ok := before[pn]
		if !ok {
			t.Errorf("%s: no Parquet file", name)
			continue
		}
		pf, err := parquet.OpenFile(bytes.NewReader(pb), int64(len(pb)))
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{raw.CountCaptured, raw.CountLost, raw.CountLostKernel, raw.CountLostQueue} {
			if v, _ := pf.Lookup(k); v != meta[k] {
				t.Errorf("%s: Parquet %s = %q, the object's %q", name, k, v, meta[k])
			}
		}
	}
	if lossy == "" {
		t.Fatal("no hourly object of partition 0 with losses")
	}

	// Forget the commits and lose the object with losses: the restart rebuilds it.
	offsets := kadm.Offsets{}
	for p := range kcfg.Partitions {
		offsets.Add(kadm.Offset{Topic: kcfg.Topics().Events, Partition: p, At: 0, LeaderEpoch: -1})
	}
	if err := env.Admin(t).CommitAllOffsets(t.Context(), cfg.Group, offsets); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(target.Dir, filepath.FromSlash(lossy))); err != nil {
		t.Fatal(err)
	}
	cfg.StagingDir = t.TempDir()
	r = start(t, cfg, serde)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel2()
	if err := r.a.Drain(ctx2); err != nil {
		t.Fatal(err)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	after := archivetest.ReadObjects(t, target)
	if !bytes.Equal(after[lossy], before[lossy]) {
		t.Errorf("%s differs after the rebuild: metadata %v, was %v", lossy, readMeta(t, after[lossy]), metas[lossy])
	}
	if len(after) != len(before) {
		t.Errorf("%d objects after the restart, %d before", len(after), len(before))
	}
	empty := 0
	for _, meta := range metas {
		if meta[hourly.MetaRecords] == "0" {
			empty++
		}
	}
	m := metas[lossy]
	t.Logf("%d objects (%d with counts only); %s: captured %s lost %s (kernel %s, queue %s)", len(metas), empty, lossy,
		m[raw.CountCaptured], m[raw.CountLost], m[raw.CountLostKernel], m[raw.CountLostQueue])
}

func readMeta(t *testing.T, b []byte) map[string]string {
	t.Helper()
	if b == nil {
		return nil
	}
	m, err := hourly.ReadMetadata(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
