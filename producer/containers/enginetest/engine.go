// Package enginetest gives tests a real Docker engine of their own: Debian's docker.io started
// by the project's deploy/docker/engine.sh in a network namespace of its own (own socket, data
// root and exec root, so it touches neither another engine on the machine nor the machine's
// network), and a tiny image made locally by `docker import` of a root file system holding
// busybox-static (no registry is reachable). Containers run with --network none.
// StartContainerd adds a containerd with its CRI plugin, likewise in a namespace of its own,
// which takes images saved from the engine.
//
// It needs root; Start installs docker.io and busybox-static with apt when they are missing.
// Every engine, container and namespace it starts is removed by the test's cleanup.
package enginetest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Engine is a running dockerd of one test.
type Engine struct {
	// Socket is the path of the engine's API socket.
	Socket string
	env    []string
	t      testing.TB
}

// Start starts an engine for t and registers its removal. It fails t when it cannot: the
// callers are tests that must run where they can (as root).
func Start(t testing.TB) *Engine {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a Docker engine of the test's own needs root (CI runs as root)")
	}
	script := filepath.Join(repoRoot(t), "deploy", "docker", "engine.sh")
	name := fmt.Sprintf("sfs-ctr-%d", os.Getpid())
	run := "/run/" + name // short: a unix socket path has at most 107 bytes
	e := &Engine{Socket: run + "/docker.sock", t: t}
	e.env = append(os.Environ(),
		"SFSTREAM_DOCKER_NETNS="+name,
		"SFSTREAM_DOCKER_RUN="+run,
		"SFSTREAM_DOCKER_DATA="+filepath.Join(os.TempDir(), name+"-data"),
	)
	t.Cleanup(func() {
		out, err := e.command("bash", script, "down", "--purge").CombinedOutput()
		if err != nil {
			t.Errorf("engine.sh down: %v\n%s", err, out)
		}
	})
	started := time.Now()
	if out, err := e.command("bash", script, "up").CombinedOutput(); err != nil {
		t.Fatalf("engine.sh up: %v\n%s", err, out)
	}
	t.Logf("dockerd in network namespace %s answers on %s after %s", name, e.Socket, time.Since(started).Round(time.Millisecond))
	return e
}

func (e *Engine) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = e.env
	return cmd
}

// Docker runs the docker client against the engine and returns its trimmed output.
func (e *Engine) Docker(args ...string) string {
	e.t.Helper()
	return e.DockerIn(nil, args...)
}

// DockerIn is Docker with stdin.
func (e *Engine) DockerIn(stdin []byte, args ...string) string {
	e.t.Helper()
	cmd := e.command("docker", append([]string{"-H", "unix://" + e.Socket}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		e.t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// busyboxApplets are the commands the test image has, each a link to /bin/busybox.
var busyboxApplets = []string{"sh", "sleep", "cat", "echo", "ls", "true", "touch", "rm", "date"}

// Image imports an image named ref (repository:tag) holding /bin/busybox and its applets,
// whose default command is sleep, and returns its id (sha256:<hex>).
func (e *Engine) Image(ref string) string {
	e.t.Helper()
	bin := busybox(e.t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(1_700_000_000, 0)
	for _, dir := range []string{"bin/", "tmp/", "etc/", "proc/", "sys/", "dev/"} {
		mode := int64(0o755)
		if dir == "tmp/" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: mode, ModTime: mtime}); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(bin)), ModTime: mtime}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := tw.Write(bin); err != nil {
		e.t.Fatal(err)
	}
	for _, a := range busyboxApplets {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", ModTime: mtime}); err != nil {
			e.t.Fatal(err)
		}
	}
	passwd := []byte("root:x:0:0:root:/:/bin/sh\n")
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "etc/passwd", Mode: 0o644, Size: int64(len(passwd)), ModTime: mtime}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := tw.Write(passwd); err != nil {
		e.t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.DockerIn(buf.Bytes(), "import", "--change", `CMD ["/bin/sleep", "3600"]`, "-", ref)
	return e.Docker("image", "inspect", "-f", "{{.Id}}", ref)
}

// Run starts a detached container with --network none (`docker run -d --network none
// ARGS...`: options, the image, the command) and returns its full id. The engine's cleanup
// removes it.
func (e *Engine) Run(args ...string) string {
	e.t.Helper()
	return e.Docker(append([]string{"run", "-d", "--network", "none"}, args...)...)
}

// busybox returns the static busybox binary, installing Debian's busybox-static if needed.
func busybox(t testing.TB) []byte {
	t.Helper()
	const path = "/bin/busybox"
	if _, err := os.Stat(path); err != nil {
		out, err := exec.Command("bash", "-c", "apt-get install -y -qq --no-install-recommends busybox-static || "+
			"{ apt-get update -qq && apt-get install -y -qq --no-install-recommends busybox-static; }").CombinedOutput()
		if err != nil {
			t.Fatalf("apt-get install busybox-static: %v\n%s", err, out)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// repoRoot is the directory of the module's go.mod, above the test's directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
