package bench

import (
	"fmt"
	"time"

	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// Archive bytes. Until sf-archiver exists, the driver sizes the archive itself: what
// archiver/ will write is one self-contained SysFlow file (sysflow/sffile: Avro container,
// deflate, ~80 KB blocks) per exporter, hour and events partition, each holding every entity
// its records reference before the first reference. archiver below writes exactly that
// layout to byte counters, with one simplification: an entity is written in its last
// version only (the real archiver writes the versions that changed in the hour, so it may
// write a few more entity records). When archiver/ lands, replace newArchiver with a stage
// that runs it over the run's topics into a temporary directory and sums the sizes of the
// files it stored; archiveResult stays the interface to the report.

// archiveResult is the size of the run's archive.
type archiveResult struct {
	Files   int
	Records int64 // records written, headers and re-emitted entities included
	Bytes   int64
}

type archiver struct {
	exporter string
	entities map[string]sysflow.Record // latest version by entity key
	files    map[int32]*archiveFile
}

type archiveFile struct {
	w       *sffile.Writer
	size    *byteCounter
	written map[string]bool // entity keys already in this file
}

type byteCounter struct{ n int64 }

func (c *byteCounter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func newArchiver(exporter string) *archiver {
	return &archiver{exporter: exporter, entities: map[string]sysflow.Record{}, files: map[int32]*archiveFile{}}
}

// entity records the latest version of an entity.
func (a *archiver) entity(key string, rec sysflow.Record) { a.entities[key] = rec }

// event writes rec to its partition's file, after the entities it references.
func (a *archiver) event(part int32, rec sysflow.Record) error {
	f, err := a.file(part, rec)
	if err != nil {
		return err
	}
	var (
		proc  sysflow.OID
		files []sysflow.FOID
	)
	switch r := rec.(type) {
	case *sysflow.ProcessEvent:
		proc = r.ProcOID
	case *sysflow.ProcessFlow:
		proc = r.ProcOID
	case *sysflow.NetworkFlow:
		proc = r.ProcOID
	case *sysflow.FileFlow:
		proc, files = r.ProcOID, []sysflow.FOID{r.FileOID}
	case *sysflow.FileEvent:
		proc, files = r.ProcOID, []sysflow.FOID{r.FileOID}
		if r.NewFileOID != nil {
			files = append(files, *r.NewFileOID)
		}
	}
	if err := a.process(f, proc); err != nil {
		return err
	}
	for _, foid := range files {
		if err := a.write(f, foid.Key(a.exporter)); err != nil {
			return err
		}
	}
	return f.w.Write(rec)
}

// process writes a process entity with its unwritten ancestors, oldest first, each after its
// container.
func (a *archiver) process(f *archiveFile, oid sysflow.OID) error {
	var chain []*sysflow.Process
	for cur := &oid; cur != nil && len(chain) < 64; {
		key := cur.Key(a.exporter)
		p, ok := a.entities[key].(*sysflow.Process)
		if !ok || f.written[key] {
			break
		}
		chain = append(chain, p)
		cur = p.POID
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if c := chain[i].ContainerID; c != nil {
			if err := a.write(f, sysflow.ContainerKey(a.exporter, *c)); err != nil {
				return err
			}
		}
		if err := a.write(f, chain[i].OID.Key(a.exporter)); err != nil {
			return err
		}
	}
	return nil
}

// write writes the entity of key once per file; unknown keys are skipped.
func (a *archiver) write(f *archiveFile, key string) error {
	if f.written[key] {
		return nil
	}
	rec, ok := a.entities[key]
	if !ok {
		return nil
	}
	f.written[key] = true
	return f.w.Write(rec)
}

func (a *archiver) file(part int32, first sysflow.Record) (*archiveFile, error) {
	if f, ok := a.files[part]; ok {
		return f, nil
	}
	hour := time.Unix(0, eventTime(first)).UTC().Format("2006010215")
	c := &byteCounter{}
	w, err := sffile.NewWriter(c, &sysflow.Header{
		Version: 5, Exporter: a.exporter, IP: "",
		Filename: fmt.Sprintf("%s.%s.p%d.sf", a.exporter, hour, part),
	}, sffile.WithSyncMarker([16]byte{'s', 'f', 'b', 'e', 'n', 'c', 'h'}))
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	f := &archiveFile{w: w, size: c, written: map[string]bool{}}
	a.files[part] = f
	return f, nil
}

// close flushes every file and returns the archive's size.
func (a *archiver) close() (archiveResult, error) {
	var res archiveResult
	for _, f := range a.files {
		if err := f.w.Close(); err != nil {
			return res, fmt.Errorf("archive: %w", err)
		}
		res.Files++
		res.Records += f.w.Records()
		res.Bytes += f.size.n
	}
	return res, nil
}

// eventTime returns the time of the raw event that made an event record: its end for a flow
// that has ended, else its start.
func eventTime(rec sysflow.Record) int64 {
	switch r := rec.(type) {
	case *sysflow.ProcessEvent:
		return r.TS
	case *sysflow.FileEvent:
		return r.TS
	case *sysflow.NetworkFlow:
		return max(r.TS, r.EndTS)
	case *sysflow.FileFlow:
		return max(r.TS, r.EndTS)
	case *sysflow.ProcessFlow:
		return max(r.TS, r.EndTS)
	}
	return 0
}
