package synthetic

import (
	"fmt"

	"github.com/sfstream/sfstream/internal/raw"
)

// The files profile's name spaces: bounded, so that the set of File entities is too.
const (
	fileOutputs   = 4096 // out/obj-NNNN.o per worker
	fileDirs      = 256  // stage/d-NNN per worker
	fileTemplates = 300  // shared read-only inputs
	fileSources   = 2048 // src/file-NNNN.c per worker
)

// fileTask weights per 45 tasks (see FileHeavy).
var fileTasks = []struct {
	weight float64
	run    func(w *fileWorker, g *Generator)
}{
	{7.5, (*fileWorker).read},
	{16.5, (*fileWorker).write},
	{7, (*fileWorker).probe},
	{7, (*fileWorker).unlink},
	{2.3, (*fileWorker).mkdir},
	{2.3, (*fileWorker).rmdir},
	{1.2, (*fileWorker).link},
	{1.2, (*fileWorker).symlink},
}

var fileTaskTotal = func() float64 {
	var s float64
	for _, t := range fileTasks {
		s += t.weight
	}
	return s
}()

// fileWorker is a long-lived job runner working in its own directory.
type fileWorker struct {
	p       *simProc
	outputs []bool // out/obj-N.o exists
	dirs    []bool // stage/d-N exists
}

func newFileWorker(g *Generator, slot int) worker {
	attrs := &raw.Proc{
		PPID: 1, Exe: "/usr/local/bin/jobrunner", Args: []string{"--queue", "builds", "--worker", fmt.Sprint(slot)},
		Comm: "jobrunner", Cwd: fmt.Sprintf("/var/lib/jobs/w%02d", slot),
		Env: []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "HOME=/var/lib/jobs"},
		UID: 1000, GID: 1000, UserName: "build", GroupName: "build",
	}
	return &fileWorker{
		p:       g.newProc(attrs, stdFDs("/var/log/jobrunner.log")),
		outputs: make([]bool, fileOutputs),
		dirs:    make([]bool, fileDirs),
	}
}

func (w *fileWorker) step(g *Generator) {
	u := g.rng.Float64() * fileTaskTotal
	for _, t := range fileTasks {
		if u < t.weight {
			t.run(w, g)
			return
		}
		u -= t.weight
	}
	fileTasks[len(fileTasks)-1].run(w, g)
}

// read reads an input whole: a shared template (absolute path) or one of its sources
// (relative to its cwd).
func (w *fileWorker) read(g *Generator) {
	path := fmt.Sprintf("src/file-%04d.c", g.rng.IntN(fileSources))
	if g.chance(0.5) {
		path = fmt.Sprintf("/usr/share/jobrunner/templates/t-%03d.tmpl", g.rng.IntN(fileTemplates))
	}
	fd := w.p.fds.alloc()
	g.emit(w.p, evOpen(path, oRDONLY|oCLOEXEC, int64(fd)))
	g.emit(w.p, evFD(raw.OpRead, fd, int64(g.intIn(1, 16384))))
	g.emit(w.p, evFD(raw.OpClose, fd, 0))
	w.p.fds.free(fd)
}

// write writes an output, one time in ten to a temporary name renamed into place.
func (w *fileWorker) write(g *Generator) {
	i := g.rng.IntN(fileOutputs)
	final := fmt.Sprintf("out/obj-%04d.o", i)
	path := final
	atomic := g.chance(0.1)
	if atomic {
		path = fmt.Sprintf("out/.tmp-%04d", i)
	}
	fd := w.p.fds.alloc()
	g.emit(w.p, evOpen(path, oWRONLY|oCREAT|oTRUNC|oCLOEXEC, int64(fd)))
	writes := 1
	if g.chance(1.0 / 3) {
		writes = 2
	}
	for range writes {
		g.emit(w.p, evFD(raw.OpWrite, fd, int64(g.intIn(200, 60000))))
	}
	g.emit(w.p, evFD(raw.OpClose, fd, 0))
	w.p.fds.free(fd)
	if atomic {
		g.emit(w.p, evPath2(raw.OpRename, path, final, 0))
	}
	w.outputs[i] = true
}

// probe looks for an optional configuration file that is not there.
func (w *fileWorker) probe(g *Generator) {
	path := fmt.Sprintf("/etc/jobrunner/conf.d/override-%02d.conf", g.rng.IntN(20))
	if g.chance(0.5) {
		path = fmt.Sprintf("src/.cache-%04d", g.rng.IntN(fileSources))
	}
	g.emit(w.p, evOpen(path, oRDONLY|oCLOEXEC, enoent))
}

// unlink removes an output, failing when it is not there (rm -f).
func (w *fileWorker) unlink(g *Generator) {
	i := g.rng.IntN(fileOutputs)
	ret := int64(enoent)
	if w.outputs[i] {
		ret = 0
	}
	w.outputs[i] = false
	g.emit(w.p, evPath(raw.OpUnlink, fmt.Sprintf("out/obj-%04d.o", i), ret))
}

func (w *fileWorker) mkdir(g *Generator) {
	i := g.rng.IntN(fileDirs)
	ret := int64(0)
	if w.dirs[i] {
		ret = eexist
	}
	w.dirs[i] = true
	e := evPath(raw.OpMkdir, fmt.Sprintf("stage/d-%03d", i), ret)
	e.Mode = 0o755
	g.emit(w.p, e)
}

func (w *fileWorker) rmdir(g *Generator) {
	i := g.rng.IntN(fileDirs)
	ret := int64(enoent)
	if w.dirs[i] {
		ret = 0
	}
	w.dirs[i] = false
	g.emit(w.p, evPath(raw.OpRmdir, fmt.Sprintf("stage/d-%03d", i), ret))
}

func (w *fileWorker) link(g *Generator) {
	i := g.rng.IntN(fileOutputs)
	ret := int64(enoent)
	if w.outputs[i] {
		ret = 0
	}
	g.emit(w.p, evPath2(raw.OpLink, fmt.Sprintf("out/obj-%04d.o", i), fmt.Sprintf("release/obj-%04d.o", i), ret))
}

func (w *fileWorker) symlink(g *Generator) {
	i := g.rng.IntN(fileOutputs)
	g.emit(w.p, evPath2(raw.OpSymlink, fmt.Sprintf("../out/obj-%04d.o", i), fmt.Sprintf("latest/obj-%04d.o", i), 0))
}
