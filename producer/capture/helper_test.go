package capture

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// helperEnv selects what a re-executed test binary does instead of running tests.
const helperEnv = "SFSTREAM_CAPTURE_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "workload":
		if err := workload(os.Stdout, os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, "workload:", err)
			os.Exit(1)
		}
		os.Exit(0)
	case "spin", "spin-uncaptured":
		n, _ := strconv.Atoi(os.Getenv(helperEnv + "_N"))
		if err := spin(n, os.Getenv(helperEnv) == "spin-uncaptured"); err != nil {
			fmt.Fprintln(os.Stderr, "spin:", err)
			os.Exit(1)
		}
		os.Exit(0)
	default:
		fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv(helperEnv))
		os.Exit(2)
	}
}

// workloadReport is what the workload tells the test about the syscalls it made.
type workloadReport struct {
	WriteFD, ReadFD    int
	Written, ReadBytes int
	ListenFD, ClientFD int
	AcceptedFD         int
	ServerPort         int
	ClientPort         int
	Sent, Received     int
	ChildPID           int
	Dir                string
	MissingErrno       int
	// IPv6 loopback pair.
	V6ClientFD, V6AcceptedFD, V6ServerPort, V6ClientPort int
	// Unix stream pair on UnixPath.
	UnixClientFD, UnixAcceptedFD int
	UnixPath                     string
	// Pipe and dup.
	PipeR, PipeW, DupFD int
}

// workload runs in the current directory: file I/O, rename, mkdir, a failed open, a TCP
// connection over 127.0.0.1 accepted by itself, and a child `sh -c 'exit 3'`. It writes its
// report as one JSON line, then waits for stdin to close before it exits.
func workload(out io.Writer, in io.Reader) error {
	var r workloadReport
	var err error
	if r.Dir, err = os.Getwd(); err != nil {
		return err
	}
	if r.WriteFD, err = unix.Open("data.txt", unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, 0o640); err != nil {
		return err
	}
	if r.Written, err = unix.Write(r.WriteFD, []byte("hello sfstream")); err != nil {
		return err
	}
	if err := unix.Close(r.WriteFD); err != nil {
		return err
	}
	if r.ReadFD, err = unix.Open("data.txt", unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
		return err
	}
	buf := make([]byte, 64)
	if r.ReadBytes, err = unix.Read(r.ReadFD, buf); err != nil {
		return err
	}
	if err := unix.Close(r.ReadFD); err != nil {
		return err
	}
	if err := unix.Rename("data.txt", "renamed.txt"); err != nil {
		return err
	}
	if err := unix.Mkdir("subdir", 0o750); err != nil {
		return err
	}
	if _, err := unix.Open("missing/nope", unix.O_RDONLY, 0); err != nil {
		r.MissingErrno = int(err.(unix.Errno))
	}
	for _, op := range []func() error{
		func() error { return unix.Symlink("renamed.txt", "sym") },
		func() error { return unix.Link("renamed.txt", "hard") },
		func() error { return unix.Unlink("hard") },
		func() error { return unix.Rmdir("subdir") },
	} {
		if err := op(); err != nil {
			return err
		}
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return err
	}
	r.PipeR, r.PipeW = p[0], p[1]
	if r.DupFD, err = unix.Dup(r.PipeW); err != nil {
		return err
	}
	for _, fd := range []int{r.DupFD, r.PipeW, r.PipeR} {
		if err := unix.Close(fd); err != nil {
			return err
		}
	}
	if err := tcpPair(&r); err != nil {
		return err
	}
	if err := tcp6Pair(&r); err != nil {
		return err
	}
	if err := unixPair(&r); err != nil {
		return err
	}
	child := exec.Command("/bin/sh", "-c", "exit 3")
	if err := child.Start(); err != nil {
		return err
	}
	r.ChildPID = child.Process.Pid
	if err := child.Wait(); err == nil {
		return fmt.Errorf("child exited 0, want 3")
	}
	if err := json.NewEncoder(out).Encode(r); err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, bufio.NewReader(in))
	return err
}

func tcpPair(r *workloadReport) error {
	var err error
	loopback := [4]byte{127, 0, 0, 1}
	if r.ListenFD, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err != nil {
		return err
	}
	if err := unix.Bind(r.ListenFD, &unix.SockaddrInet4{Addr: loopback}); err != nil {
		return err
	}
	if err := unix.Listen(r.ListenFD, 1); err != nil {
		return err
	}
	sa, err := unix.Getsockname(r.ListenFD)
	if err != nil {
		return err
	}
	r.ServerPort = sa.(*unix.SockaddrInet4).Port
	if r.ClientFD, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err != nil {
		return err
	}
	if err := unix.Connect(r.ClientFD, &unix.SockaddrInet4{Addr: loopback, Port: r.ServerPort}); err != nil {
		return err
	}
	if sa, err = unix.Getsockname(r.ClientFD); err != nil {
		return err
	}
	r.ClientPort = sa.(*unix.SockaddrInet4).Port
	if r.AcceptedFD, _, err = unix.Accept4(r.ListenFD, unix.SOCK_CLOEXEC); err != nil {
		return err
	}
	if r.Sent, err = unix.Write(r.ClientFD, []byte("ping")); err != nil {
		return err
	}
	buf := make([]byte, 16)
	if r.Received, err = unix.Read(r.AcceptedFD, buf); err != nil {
		return err
	}
	for _, fd := range []int{r.AcceptedFD, r.ClientFD, r.ListenFD} {
		if err := unix.Close(fd); err != nil {
			return err
		}
	}
	return nil
}

func tcp6Pair(r *workloadReport) error {
	lo := [16]byte{15: 1}
	ln, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(ln)
	if err := unix.Bind(ln, &unix.SockaddrInet6{Addr: lo}); err != nil {
		return err
	}
	if err := unix.Listen(ln, 1); err != nil {
		return err
	}
	sa, err := unix.Getsockname(ln)
	if err != nil {
		return err
	}
	r.V6ServerPort = sa.(*unix.SockaddrInet6).Port
	if r.V6ClientFD, err = unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err != nil {
		return err
	}
	defer unix.Close(r.V6ClientFD)
	if err := unix.Connect(r.V6ClientFD, &unix.SockaddrInet6{Addr: lo, Port: r.V6ServerPort}); err != nil {
		return err
	}
	if sa, err = unix.Getsockname(r.V6ClientFD); err != nil {
		return err
	}
	r.V6ClientPort = sa.(*unix.SockaddrInet6).Port
	if r.V6AcceptedFD, _, err = unix.Accept(ln); err != nil {
		return err
	}
	return unix.Close(r.V6AcceptedFD)
}

func unixPair(r *workloadReport) error {
	r.UnixPath = r.Dir + "/app.sock"
	ln, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(ln)
	if err := unix.Bind(ln, &unix.SockaddrUnix{Name: r.UnixPath}); err != nil {
		return err
	}
	if err := unix.Listen(ln, 1); err != nil {
		return err
	}
	if r.UnixClientFD, err = unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err != nil {
		return err
	}
	defer unix.Close(r.UnixClientFD)
	if err := unix.Connect(r.UnixClientFD, &unix.SockaddrUnix{Name: r.UnixPath}); err != nil {
		return err
	}
	if r.UnixAcceptedFD, _, err = unix.Accept(ln); err != nil {
		return err
	}
	return unix.Close(r.UnixAcceptedFD)
}

// spin makes n write(2) calls of one byte to /dev/null, one record each: the load of the drain
// benchmarks; or, uncaptured, n getppid(2) calls, which the programs see and reject.
func spin(n int, uncaptured bool) error {
	if uncaptured {
		for range n {
			unix.Getppid()
		}
		return nil
	}
	fd, err := unix.Open("/dev/null", unix.O_WRONLY, 0)
	if err != nil {
		return err
	}
	b := []byte{0}
	for range n {
		if _, err := unix.Write(fd, b); err != nil {
			return err
		}
	}
	return unix.Close(fd)
}
