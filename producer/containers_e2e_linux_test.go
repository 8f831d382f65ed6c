package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/producer/containers/enginetest"
	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

// Live, as root: `sfstream run --cri-socket` (the producer's capture with the embedded stack)
// captures two containers of a real Docker engine (Debian's docker.io in a network namespace
// of its own, an image imported from a busybox root file system, --network none) and a host
// process. The archive holds each container's name, image (as the reference writes it) and
// image id, the processes inside and their files point at their container, the host
// process at none, and the lookups were counted.
func TestLiveContainerMetadata(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (CI runs as root)")
	}
	e := enginetest.Start(t)
	const image = "sfstream-test/busybox:v1"
	imageID := strings.TrimPrefix(e.Image(image), "sha256:")

	dir := t.TempDir()
	sfstream := filepath.Join(dir, "sfstream")
	if out, err := exec.Command("go", "build", "-o", sfstream, "../cmd/sfstream").CombinedOutput(); err != nil {
		t.Fatalf("go build sfstream: %v\n%s", err, out)
	}
	port := freePort(t)
	cmd := exec.Command(sfstream, "run", "--data-dir", filepath.Join(dir, "data"), "--kafka-port", "0", "--registry-port", "0",
		"--metrics-addr", fmt.Sprintf("127.0.0.1:%d", port), "--progress", "2s", "--log-level", "info", "--cri-socket", e.Socket)
	cmd.Env = testkit.CleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitOK(t, base+"/readyz", 90*time.Second)

	loop := `i=0; while true; do i=$((i+1)); echo $i > /tmp/ctr-marker; cat /tmp/ctr-marker > /dev/null; sleep 0.3; done`
	ids := map[string]string{} // name -> short id
	for _, name := range []string{"sfs-alpha", "sfs-beta"} {
		ids[name] = e.Run("--name", name, image, "sh", "-c", loop)[:12]
	}
	hostMarker := filepath.Join(dir, "host-marker.txt")
	for range 3 {
		if out, err := exec.Command("sh", "-c", fmt.Sprintf("echo host > %s && cat %s > /dev/null", hostMarker, hostMarker)).CombinedOutput(); err != nil {
			t.Fatalf("host workload: %v: %s", err, out)
		}
		time.Sleep(time.Second)
	}
	time.Sleep(3 * time.Second)
	metrics := get(t, base+"/metrics")
	if !strings.Contains(metrics, `sfstream_producer_container_lookups_total{result="ok"}`) {
		t.Errorf("/metrics counts no successful container lookup:\n%s", grepLines(metrics, "container"))
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sfstream run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("sfstream run still running 2 minutes after SIGINT\n%s", stdout.String())
	}
	t.Logf("sfstream run log:\n%s", grepLines(stdout.String()+stderr.String(), "container"))

	a := readArchive(t, filepath.Join(dir, "data", "archive"))
	for name, id := range ids {
		want := sysflow.Container{ID: id, Name: name, Image: image + ":v1", ImageID: imageID, Type: sysflow.CTDocker}
		last, ok := a.lastContainer[id]
		if !ok {
			t.Errorf("%s (%s): no Container record in the archive", name, id)
			continue
		}
		if last.Name != want.Name || last.Image != want.Image || last.ImageID != want.ImageID || last.Type != want.Type || last.PodID != nil {
			t.Errorf("%s: last Container record %+v, want %+v", name, last, want)
		}
		if a.procsIn[id] == 0 {
			t.Errorf("%s: no process in the archive points at container %s", name, id)
		}
		if a.markerFlows[id] == 0 {
			t.Errorf("%s: no file flow on /tmp/ctr-marker by a process of container %s", name, id)
		}
		t.Logf("%s: %d container versions (%v), %d processes, %d marker flows", name, a.versions[id], a.names[id], a.procsIn[id], a.markerFlows[id])
	}
	if a.hostFlows == 0 {
		t.Errorf("no file flow on %s by a host process (no container)", hostMarker)
	}
	if a.badRefs > 0 {
		t.Errorf("%d records reference a container not written before them in their file", a.badRefs)
	}
}

type archiveSummary struct {
	lastContainer map[string]sysflow.Container // by id: the last version written
	versions      map[string]int
	names         map[string][]string
	procsIn       map[string]int // processes per container id
	markerFlows   map[string]int // file flows on /tmp/ctr-marker per container id
	hostFlows     int            // file flows on the host marker by a process in no container
	badRefs       int
}

// readArchive reads every .sf file of the archive in name order (hours in order).
func readArchive(t *testing.T, root string) archiveSummary {
	t.Helper()
	s := archiveSummary{lastContainer: map[string]sysflow.Container{}, versions: map[string]int{}, names: map[string][]string{},
		procsIn: map[string]int{}, markerFlows: map[string]int{}}
	var paths []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".sf") {
			paths = append(paths, path)
		}
		return err
	})
	if err != nil || len(paths) == 0 {
		t.Fatalf("no SysFlow file under %s: %v", root, err)
	}
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := sffile.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		conts := map[string]bool{}
		procs := map[sysflow.OID]*sysflow.Process{}
		files := map[sysflow.FOID]*sysflow.File{}
		for {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			switch x := rec.(type) {
			case *sysflow.Container:
				conts[x.ID] = true
				s.lastContainer[x.ID] = *x
				s.versions[x.ID]++
				s.names[x.ID] = append(s.names[x.ID], x.Name)
			case *sysflow.Process:
				procs[x.OID] = x
				if x.ContainerID != nil {
					if !conts[*x.ContainerID] {
						s.badRefs++
					}
					s.procsIn[*x.ContainerID]++
				}
			case *sysflow.File:
				files[x.OID] = x
			case *sysflow.FileFlow:
				p, fl := procs[x.ProcOID], files[x.FileOID]
				if p == nil || fl == nil {
					continue
				}
				switch {
				case fl.Path == "/tmp/ctr-marker" && p.ContainerID != nil && fl.ContainerID != nil && *fl.ContainerID == *p.ContainerID:
					s.markerFlows[*p.ContainerID]++
				case strings.HasSuffix(fl.Path, "host-marker.txt") && p.ContainerID == nil:
					s.hostFlows++
				}
			}
		}
		f.Close()
	}
	return s
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitOK(t *testing.T, url string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s not ready after %s", url, d)
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func grepLines(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(strings.ToLower(l), word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
