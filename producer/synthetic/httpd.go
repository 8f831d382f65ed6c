package synthetic

import (
	"fmt"
	"math"
	"sort"

	"github.com/sfstream/sfstream/internal/raw"
)

// The httpd profile's site and fixed descriptors.
const (
	httpdRoot      = "/usr/local/apache2"
	httpdListenFD  = 3
	httpdAccessFD  = 4
	httpdSiteFiles = 2000
	httpdChunk     = 8192
	httpdMissing   = 0.05 // share of requests for files that do not exist
	httpdMaxKeep   = 15   // requests per connection: uniform 1..httpdMaxKeep
)

// site is the static content every worker serves, with Zipf(1.1) popularity by rank.
type site struct {
	paths  []string
	sizes  []int64
	cdf    []float64
	master *simProc
	cid    string
}

// chunkPattern sets file sizes (in 8 KiB chunks) by popularity rank: the ten most popular
// files take 3 chunks and the rest follow a palindromic pattern, so that the mean number of
// chunks per request stays 3 whatever the popularity skew (the Mix assumes it).
var chunkPattern = []int64{1, 5, 5, 1, 2, 4, 4, 2, 3, 3}

func newSite(g *Generator) *site {
	s := &site{cid: fmt.Sprintf("%012x", g.rng.Uint64()&0xffffffffffff)}
	dirs := []string{"", "css/", "js/", "img/", "docs/", "blog/2024/", "blog/2025/", "static/fonts/"}
	exts := []string{".html", ".css", ".js", ".png", ".html", ".svg", ".html", ".woff2"}
	var sum float64
	for r := 0; r < httpdSiteFiles; r++ {
		d := g.rng.IntN(len(dirs))
		s.paths = append(s.paths, fmt.Sprintf("%s/htdocs/%spage-%04d%s", httpdRoot, dirs[d], r, exts[d]))
		chunks := int64(3)
		if r >= 10 {
			chunks = chunkPattern[(r-10)%len(chunkPattern)]
		}
		s.sizes = append(s.sizes, (chunks-1)*httpdChunk+1+g.rng.Int64N(httpdChunk))
		w := 1 / math.Pow(float64(r+1), 1.1)
		sum += w
		s.cdf = append(s.cdf, sum)
	}
	for i := range s.cdf {
		s.cdf[i] /= sum
	}
	return s
}

func (s *site) pick(g *Generator) int {
	u := g.rng.Float64()
	return min(sort.SearchFloat64s(s.cdf, u), len(s.cdf)-1)
}

// httpdWorker is one prefork worker: a keep-alive connection at a time.
type httpdWorker struct {
	p    *simProc
	site *site
	conn int32 // -1: none
	left int   // requests left on conn
}

func newHTTPDWorker(g *Generator, slot int) worker {
	if g.site == nil {
		g.site = newSite(g)
		g.site.master = g.newProc(httpdAttrs(g.site, 0, 0, 0), append(stdFDs(httpdRoot+"/logs/error_log"), listener(), accessLog()))
	}
	m := g.site.master
	attrs := httpdAttrs(g.site, m.hpid, m.cts, int64(7+slot))
	p := g.newProc(attrs, append(stdFDs(httpdRoot+"/logs/error_log"), listener(), accessLog()))
	return &httpdWorker{p: p, site: g.site, conn: -1}
}

func listener() raw.FD {
	f := fdEntry(httpdListenFD, raw.FDIPv4, "", oRDONLY)
	f.Sock = tcpSock(anyIP, 80, nil, 0)
	return f
}

func accessLog() raw.FD {
	return fdEntry(httpdAccessFD, raw.FDFile, httpdRoot+"/logs/access_log", oWRONLY|oAPPEND|oCREAT)
}

func httpdAttrs(s *site, ppid, pcts, vpid int64) *raw.Proc {
	uid, user := int32(1), "daemon"
	if ppid == 0 {
		uid, user, vpid = 0, "root", 1 // the master
	}
	return &raw.Proc{
		PPID: ppid, PCreateTS: pcts,
		Exe: httpdRoot + "/bin/httpd", Args: []string{"-DFOREGROUND"}, Comm: "httpd", Cwd: httpdRoot,
		Env: []string{
			"HTTPD_PREFIX=" + httpdRoot,
			"PATH=" + httpdRoot + "/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"HOSTNAME=" + s.cid,
			"HTTPD_VERSION=2.4.62",
		},
		UID: uid, GID: uid, UserName: user, GroupName: user, VPID: vpid,
		Container: &raw.Container{ID: s.cid, Name: "web", Image: "httpd:2.4", ImageID: "sha256:" + s.cid + s.cid, Runtime: 0},
	}
}

func (w *httpdWorker) step(g *Generator) {
	p := w.p
	if w.conn < 0 {
		w.conn = p.fds.alloc()
		w.left = g.intIn(1, httpdMaxKeep)
		client := []byte{clientNet[0], clientNet[1], clientNet[2], byte(g.intIn(1, 254))}
		e := evFD(raw.OpAccept, httpdListenFD, int64(w.conn))
		e.Sock = tcpSock(serverIP, 80, client, int32(g.intIn(32768, 60999)))
		g.emit(p, e)
	}
	g.emit(p, evFD(raw.OpRead, w.conn, int64(g.intIn(350, 700)))) // the request
	if g.chance(httpdMissing) {
		g.emit(p, evOpen(fmt.Sprintf("%s/htdocs/old/gone-%03d.html", httpdRoot, g.rng.IntN(200)), oRDONLY|oCLOEXEC, enoent))
		g.emit(p, evFD(raw.OpWrite, w.conn, int64(g.intIn(380, 520)))) // 404
	} else {
		i := w.site.pick(g)
		fd := p.fds.alloc()
		g.emit(p, evOpen(w.site.paths[i], oRDONLY|oCLOEXEC, int64(fd)))
		g.emit(p, evFD(raw.OpWrite, w.conn, int64(g.intIn(240, 320)))) // response headers
		for left := w.site.sizes[i]; left > 0; left -= httpdChunk {
			n := min(left, httpdChunk)
			g.emit(p, evFD(raw.OpRead, fd, n))
			g.emit(p, evFD(raw.OpWrite, w.conn, n))
		}
		g.emit(p, evFD(raw.OpRead, fd, 0)) // EOF
		g.emit(p, evFD(raw.OpClose, fd, 0))
		p.fds.free(fd)
	}
	g.emit(p, evFD(raw.OpWrite, httpdAccessFD, int64(g.intIn(150, 260))))
	w.left--
	if w.left == 0 {
		g.emit(p, evFD(raw.OpRead, w.conn, 0)) // the client closed
		e := evFD(raw.OpShutdown, w.conn, 0)
		e.Flags = shutWR
		g.emit(p, e)
		g.emit(p, evFD(raw.OpClose, w.conn, 0))
		p.fds.free(w.conn)
		w.conn = -1
	}
}
