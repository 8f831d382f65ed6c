package archivetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/sfstream/sfstream/internal/testkit"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfstream/sfstream/archiver/hourly"
	"github.com/sfstream/sfstream/archiver/store"
	"github.com/sfstream/sfstream/internal/stack"
	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// ReadObjects returns every object of target under its prefix, by name.
func ReadObjects(t testing.TB, target stack.ArchiveTarget) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	if !target.IsS3() {
		root := target.Dir
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if d.IsDir() {
				return nil
			}
			rel, _ := filepath.Rel(root, p)
			rel = filepath.ToSlash(rel)
			if !strings.HasPrefix(rel, strings.Trim(target.Prefix, "/")) {
				return nil
			}
			b, err := os.ReadFile(p)
			out[rel] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	s, err := store.Open(target)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	names, err := s.List(ctx, target.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		rc, err := s.Head(ctx, n, 1<<40)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		_ = rc.Close() // read-only
		if err != nil {
			t.Fatalf("read %s: %v", n, err)
		}
		out[n] = b
	}
	return out
}

// Result is what Check found in an archive.
type Result struct {
	// Events is the multiset of events and flows, encoded.
	Events map[string]int
	// Late is the multiset of the events in late objects.
	Late map[string]int
	// Objects and LateObjects count the objects; LateEvents the events in late objects.
	Objects, LateObjects, LateEvents int
	// Hours and Partitions are the distinct hours (seconds) and partitions seen.
	Hours      map[int64]bool
	Partitions map[int32]bool
	// Entities counts entity records by kind and state, e.g. "P MODIFIED".
	Entities map[string]int
}

var nameRE = regexp.MustCompile(`^([^/]+)/(\d{4}-\d{2}-\d{2})/(\d{2})/([^/]+)\.(\d{10})\.p(\d+)\.(sf|late\.sf|late\.(\d+)\.sf)$`)

// Check verifies the invariants of every SysFlow object (Parquet files, under ParquetDir, are
// left to CheckParquet) and returns what they hold. The invariants:
// the name is <prefix>/<exporter>/<date>/<HH>/<exporter>.<YYYYMMDDHH>.p<N>[.late[.n]].sf with
// consistent parts; the file reads with sysflow/sffile; its first record is the header
// (version 5, the exporter, filename = the name) and no other header follows; every event's
// hour is the name's; every reference (process, parent, container, file) resolves to an
// entity earlier in the same file, so ancestors precede
// children; CREATED and MODIFIED entities have a ts within the hour; the container metadata
// names the partition and counts the events.
func Check(t testing.TB, objects map[string][]byte, prefix string) Result {
	t.Helper()
	res := Result{Events: map[string]int{}, Late: map[string]int{}, Hours: map[int64]bool{}, Partitions: map[int32]bool{}, Entities: map[string]int{}}
	names := make([]string, 0, len(objects))
	for n := range objects {
		names = append(names, n)
	}
	sort.Strings(names)
	type parsed struct {
		exporter  string
		hour      int64
		partition int32
		late      bool
		recs      []sysflow.Record
		meta      map[string][]byte
	}
	all := map[string]parsed{}
	for _, name := range names {
		rel := strings.TrimPrefix(strings.TrimPrefix(name, strings.Trim(prefix, "/")), "/")
		if strings.HasPrefix(rel, ParquetDir) {
			continue // Parquet files: CheckParquet
		}
		m := nameRE.FindStringSubmatch(rel)
		if m == nil {
			t.Errorf("%s: name does not match <prefix>/<exporter>/<date>/<HH>/<exporter>.<YYYYMMDDHH>.p<N>[.late[.n]].sf", name)
			continue
		}
		hourTime, err := time.Parse("2006010215", m[5])
		if err != nil || m[1] != m[4] || hourTime.Format("2006-01-02") != m[2] || hourTime.Format("15") != m[3] {
			t.Errorf("%s: inconsistent exporter, date and hour in the name", name)
			continue
		}
		p, _ := strconv.Atoi(m[6])
		r, err := sffile.NewReader(bytes.NewReader(objects[name]))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var recs []sysflow.Record
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Errorf("%s: %v", name, err)
				break
			}
			recs = append(recs, rec)
		}
		checkIndependently(t, name, objects[name], recs)
		pd := parsed{exporter: m[1], hour: hourTime.Unix(), partition: int32(p), late: m[7] != "sf", recs: recs, meta: r.Metadata()}
		all[name] = pd
	}
	for _, name := range names {
		pd, ok := all[name]
		if !ok {
			continue
		}
		res.Objects++
		res.Hours[pd.hour] = true
		res.Partitions[pd.partition] = true
		if pd.late {
			res.LateObjects++
		}
		fail := func(i int, format string, args ...any) {
			t.Errorf("%s: record %d: %s", name, i, fmt.Sprintf(format, args...))
		}
		if string(pd.meta[hourly.MetaPartition]) != strconv.Itoa(int(pd.partition)) {
			t.Errorf("%s: metadata partition %q", name, pd.meta[hourly.MetaPartition])
		}
		if len(pd.recs) == 0 {
			t.Errorf("%s: empty", name)
			continue
		}
		h, ok := pd.recs[0].(*sysflow.Header)
		if !ok || h.Version != 5 || hourly.SafeExporter(h.Exporter) != pd.exporter || h.Filename != name {
			t.Errorf("%s: first record is %#v, want the header of this object", name, pd.recs[0])
		}
		start, end := pd.hour*1e9, (pd.hour+3600)*1e9
		procs, files, conts := map[sysflow.OID]bool{}, map[sysflow.FOID]bool{}, map[string]bool{}
		events := 0
		inHour := func(i int, st sysflow.ObjectState, ts int64, what string) {
			if st != sysflow.StateReup && (ts < start || ts >= end) {
				fail(i, "%s %s with ts %d outside the hour", st, what, ts)
			}
		}
		needProc := func(i int, oid sysflow.OID) {
			if !procs[oid] {
				fail(i, "process %s not written before", oid)
			}
		}
		needFile := func(i int, oid sysflow.FOID) {
			if !files[oid] {
				fail(i, "file %s not written before", oid)
			}
		}
		needCont := func(i int, id *string) {
			if id != nil && !conts[*id] {
				fail(i, "container %s not written before", *id)
			}
		}
		for i, rec := range pd.recs[1:] {
			i++
			switch r := rec.(type) {
			case *sysflow.Header:
				fail(i, "second header")
				continue
			case *sysflow.Container:
				conts[r.ID] = true
				res.Entities["C"]++
				continue
			case *sysflow.Process:
				if r.POID != nil && r.POID.HPID != 0 && !procs[*r.POID] {
					fail(i, "process %s: parent %s not written before", r.OID, r.POID)
				}
				needCont(i, r.ContainerID)
				inHour(i, r.State, r.TS, "process")
				procs[r.OID] = true
				res.Entities["P "+string(r.State)]++
				continue
			case *sysflow.File:
				needCont(i, r.ContainerID)
				inHour(i, r.State, r.TS, "file")
				files[r.OID] = true
				res.Entities["F "+string(r.State)]++
				continue
			case *sysflow.ProcessEvent:
				needProc(i, r.ProcOID)
			case *sysflow.NetworkFlow:
				needProc(i, r.ProcOID)
			case *sysflow.ProcessFlow:
				needProc(i, r.ProcOID)
			case *sysflow.FileFlow:
				needProc(i, r.ProcOID)
				needFile(i, r.FileOID)
			case *sysflow.FileEvent:
				needProc(i, r.ProcOID)
				needFile(i, r.FileOID)
				if r.NewFileOID != nil {
					needFile(i, *r.NewFileOID)
				}
			}
			if ts := recTS(rec); hourly.HourOf(ts) != pd.hour {
				fail(i, "%s with ts %d outside the object's hour", rec.Kind(), ts)
			}
			b, err := sysflow.Marshal(rec)
			if err != nil {
				fail(i, "encode: %v", err)
			}
			res.Events[string(b)]++
			events++
			if pd.late {
				res.LateEvents++
				res.Late[string(b)]++
			}
		}
		if got := string(pd.meta[hourly.MetaRecords]); got != strconv.Itoa(events) {
			t.Errorf("%s: metadata says %s records, the file has %d events", name, got, events)
		}
	}
	return res
}

func recTS(rec sysflow.Record) int64 {
	switch r := rec.(type) {
	case *sysflow.ProcessEvent:
		return r.TS
	case *sysflow.NetworkFlow:
		return r.TS
	case *sysflow.FileFlow:
		return r.TS
	case *sysflow.FileEvent:
		return r.TS
	case *sysflow.ProcessFlow:
		return r.TS
	case *sysflow.NetworkEvent:
		return r.TS
	}
	return 0
}

// Diff describes how two multisets differ, for test failures.
func Diff(got, want map[string]int) string {
	var missing, extra, dup int
	for k, n := range want {
		switch g := got[k]; {
		case g < n:
			missing += n - g
		case g > n:
			dup += g - n
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			extra += n
		}
	}
	return fmt.Sprintf("%d missing, %d duplicated, %d unexpected (got %d, want %d)", missing, dup, extra, Count(got), Count(want))
}

// checkIndependently reads an object with fastavro, an independent Avro implementation, and
// requires the same records in the same order, header first.
func checkIndependently(t testing.TB, name string, data []byte, ours []sysflow.Record) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "object.sf")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	theirs := testkit.Fastavro(t, path)
	if len(theirs) != len(ours) {
		t.Errorf("%s: fastavro reads %d records, sffile %d", name, len(theirs), len(ours))
		return
	}
	for i, r := range theirs {
		if r.Type != ours[i].Kind().FullName() {
			t.Errorf("%s: record %d is %s to fastavro, %s to sffile", name, i, r.Type, ours[i].Kind().FullName())
			return
		}
	}
	if len(theirs) == 0 || theirs[0].Type != sysflow.KindHeader.FullName() {
		t.Errorf("%s: fastavro does not read a header first", name)
	}
}
