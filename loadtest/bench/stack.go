package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/sfstream/sfstream/internal/stack"
)

// The embedded stack runs in a child process of the driver (the driver's executable started
// as "<self> stack"), so that the broker's CPU time is not counted as the processors' and
// can be reported on its own.

// ServeStack runs an embedded stack (kfake, srfake) on loopback ports, writes its addresses
// to out as "brokers=<host:port,...>" and "registry=<url>" lines followed by "ready", and
// serves until in reaches EOF (the driver closed it or died) or ctx ends.
func ServeStack(ctx context.Context, in io.Reader, out io.Writer) error {
	s, err := stack.Start(ctx)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(out, "brokers=%s\nregistry=%s\nready\n", strings.Join(s.Brokers(), ","), s.RegistryURL()); err != nil {
		return errors.Join(fmt.Errorf("serve stack: %w", err), s.Close())
	}
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, in)
		close(done)
	}()
	select {
	case <-ctx.Done():
	case <-done:
	}
	return s.Close()
}

// endpoints is where the run's Kafka and registry are, and the broker's process when the
// driver started it.
type endpoints struct {
	brokers  []string
	registry string
	pid      int // the embedded stack's process; 0 for a real stack
	stop     func() error
}

// brokerCPU returns the CPU time the broker process has used, or 0 when it is not ours.
func (e *endpoints) brokerCPU() time.Duration {
	if e.pid == 0 {
		return 0
	}
	return procCPU(e.pid)
}

func startStack(ctx context.Context, cfg Config) (*endpoints, error) {
	switch cfg.Stack {
	case StackLocal:
		return &endpoints{brokers: cfg.Kafka.Brokers, registry: strings.TrimRight(cfg.RegistryURL, "/"), stop: func() error { return nil }}, nil
	case StackInProcess:
		s, err := stack.Start(ctx)
		if err != nil {
			return nil, err
		}
		return &endpoints{brokers: s.Brokers(), registry: s.RegistryURL(), stop: s.Close}, nil
	}
	cmd := exec.Command(cfg.Self, "stack")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start embedded stack: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start embedded stack: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start embedded stack: %w", err)
	}
	waited := make(chan error, 1)
	stop := func() error {
		_ = stdin.Close() // the signal to stop; its error shows as the process not exiting
		select {
		case err := <-waited:
			return err
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			return fmt.Errorf("stop embedded stack: pid %d did not exit within 15s; killed", cmd.Process.Pid)
		}
	}
	e := &endpoints{pid: cmd.Process.Pid, stop: stop}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		waited <- cmd.Wait()
	}()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case <-ctx.Done():
			return nil, errors.Join(fmt.Errorf("start embedded stack: %w", ctx.Err()), stop())
		case <-timeout:
			return nil, errors.Join(errors.New("start embedded stack: not ready after 30s"), stop())
		case l, ok := <-lines:
			if !ok {
				return nil, fmt.Errorf("start embedded stack: it exited: %v", <-waited)
			}
			switch k, v, _ := strings.Cut(l, "="); k {
			case "brokers":
				e.brokers = strings.Split(v, ",")
			case "registry":
				e.registry = v
			case "ready":
				go func() {
					for range lines { // keep the pipe drained
					}
				}()
				return e, nil
			}
		}
	}
}

// procCPU returns the user+system CPU time of process pid from /proc/<pid>/stat, or 0.
func procCPU(pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start after the last ')'.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(ut+st) * time.Second / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every Linux this runs on.
const clockTicks = 100
