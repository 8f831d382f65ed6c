package enginetest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Containerd is a running containerd (Debian's, the one docker.io depends on) with its CRI
// plugin, of one test: its own root, state and socket, in a network namespace of its own
// (pods use the namespace as their "host" network: no CNI is configured).
type Containerd struct {
	// Socket is the path of its gRPC socket (containerd's API and CRI).
	Socket string
	t      testing.TB
	cmd    *exec.Cmd
}

// Save returns `docker save` of image ref: an archive containerd imports.
func (e *Engine) Save(ref string) []byte {
	e.t.Helper()
	cmd := e.command("docker", "-H", "unix://"+e.Socket, "save", ref)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		e.t.Fatalf("docker save %s: %v\n%s", ref, err, stderr.String())
	}
	return out
}

// StartContainerd starts containerd for t, whose CRI plugin takes sandboxImage for pod
// sandboxes (import it before the first pod), and registers its removal.
func StartContainerd(t testing.TB, sandboxImage string) *Containerd {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("containerd needs root (CI runs as root)")
	}
	if _, err := exec.LookPath("containerd"); err != nil {
		t.Fatalf("containerd is not installed (Debian's docker.io brings it: deploy/docker/engine.sh up): %v", err)
	}
	name := fmt.Sprintf("sfs-ctrd-%d", os.Getpid())
	run := "/run/" + name
	data := filepath.Join(os.TempDir(), name)
	for _, d := range []string{run, filepath.Join(data, "cni-bin"), filepath.Join(data, "cni-conf")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	c := &Containerd{Socket: run + "/containerd.sock", t: t}
	config := fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
[grpc]
  address = %[3]q
[ttrpc]
  address = %[4]q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[5]q
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[6]q
    conf_dir = %[7]q
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
`, filepath.Join(data, "root"), run+"/state", c.Socket, c.Socket+".ttrpc", sandboxImage,
		filepath.Join(data, "cni-bin"), filepath.Join(data, "cni-conf"))
	cfgPath := filepath.Join(data, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v\n%s", name, err, out)
	}
	if out, err := exec.Command("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("loopback up in %s: %v\n%s", name, err, out)
	}
	logf, err := os.Create(filepath.Join(data, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	c.cmd = exec.Command("nsenter", "--net=/run/netns/"+name, "containerd", "--config", cfgPath)
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The test removed its pods; stop containerd, then whatever shim is left of them.
		if err := c.cmd.Process.Signal(syscall.SIGTERM); err == nil {
			done := make(chan struct{})
			go func() { _ = c.cmd.Wait(); close(done) }() // its exit status after SIGTERM says nothing
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				if err := c.cmd.Process.Kill(); err != nil {
					t.Errorf("kill containerd: %v", err)
				}
				<-done
			}
		}
		if err := logf.Close(); err != nil {
			t.Errorf("containerd log: %v", err)
		}
		killShims(t, run)
		if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v\n%s", name, err, out)
		}
		if err := unmountUnder(run, data); err != nil { // mounts of pods a failed test left
			t.Errorf("unmount containerd's mounts: %v", err)
		}
		if err := errors.Join(os.RemoveAll(run), os.RemoveAll(data)); err != nil {
			t.Errorf("remove containerd's directories: %v", err)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if out, err := c.Ctr("version"); err == nil && strings.Contains(out, "Server:") {
			break
		} else if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(data, "containerd.log"))
			t.Fatalf("containerd did not answer on %s: %v\n%s", c.Socket, err, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return c
}

// Ctr runs containerd's ctr client in the CRI plugin's namespace (k8s.io).
func (c *Containerd) Ctr(args ...string) (string, error) {
	out, err := exec.Command("ctr", append([]string{"--address", c.Socket, "--namespace", "k8s.io"}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// Import imports an image archive (docker save or OCI) for the CRI plugin.
func (c *Containerd) Import(archive []byte) {
	c.t.Helper()
	cmd := exec.Command("ctr", "--address", c.Socket, "--namespace", "k8s.io", "images", "import", "-")
	cmd.Stdin = bytes.NewReader(archive)
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("ctr images import: %v\n%s", err, out)
	}
}

// killShims ends the runc shims whose containerd was the one at run (their command line
// names its ttrpc address) and the container processes they started (their children), by pid:
// what is left when a test failed before removing its pods.
func killShims(t testing.TB, run string) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	shims := map[int]bool{}
	parent := map[int]int{}
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			// pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
			if i := bytes.LastIndexByte(stat, ')'); i > 0 {
				var state string
				var ppid int
				if _, err := fmt.Sscan(string(stat[i+1:]), &state, &ppid); err == nil {
					parent[pid] = ppid
				}
			}
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte("containerd-shim")) && bytes.Contains(cmdline, []byte(run)) {
			shims[pid] = true
		}
	}
	for pid, ppid := range parent {
		if shims[ppid] {
			t.Logf("killing container process %d left by containerd", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL) // it may have ended meanwhile
		}
	}
	for pid := range shims {
		t.Logf("killing shim %d left by containerd", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL) // it may have ended meanwhile
	}
}

// unmountUnder unmounts every mount point under the directories, deepest first.
func unmountUnder(dirs ...string) error {
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return err
	}
	var points []string
	for _, line := range strings.Split(string(mounts), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		for _, d := range dirs {
			if strings.HasPrefix(f[1], d+"/") {
				points = append(points, f[1])
			}
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	var errs []error
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil {
			errs = append(errs, fmt.Errorf("unmount %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}
