package capture

import (
	"errors"
	"strings"
	"testing"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/procfs"
	"github.com/sfstream/sfstream/sysflow/sfql"
)

// TestProcessFilter judges process entries of a table: a shell on the host, a web server in a
// Docker container started by containerd-shim, and its worker.
func TestProcessFilter(t *testing.T) {
	web := &raw.Container{ID: "347b1411b047", Name: "web", Image: "nginx:latest", Runtime: procfs.RuntimeDocker}
	table := procs{
		1:   {createTS: 10, info: &raw.Proc{Comm: "systemd", Exe: "/usr/lib/systemd/systemd", UserName: "root"}},
		100: {createTS: 20, info: &raw.Proc{PPID: 1, PCreateTS: 10, Comm: "bash", Exe: "/usr/bin/bash", UserName: "alice"}},
		200: {createTS: 30, info: &raw.Proc{PPID: 1, PCreateTS: 10, Comm: "containerd-shim", Exe: "/usr/bin/containerd-shim-runc-v2"}},
		300: {createTS: 40, info: &raw.Proc{PPID: 200, PCreateTS: 30, Comm: "nginx", Exe: "/usr/sbin/nginx", Args: []string{"-g", "daemon off;"}, Container: web, UserName: "root"}},
		301: {createTS: 50, info: &raw.Proc{PPID: 300, PCreateTS: 40, Comm: "nginx", Exe: "/usr/sbin/nginx", Container: web, UserName: "www-data"}},
		// A process whose parent's pid was reused: its ancestry stops there.
		400: {createTS: 60, info: &raw.Proc{PPID: 100, PCreateTS: 999, Comm: "orphan"}},
	}
	tests := []struct {
		name           string
		expr           string
		containersOnly bool
		want           []int64 // the pids included
	}{
		{"no filter", "", false, []int64{1, 100, 200, 300, 301, 400}},
		{"containers only", "", true, []int64{300, 301}},
		{"the reference's default", "container.name != sf-collector and container.type != host", false, []int64{300, 301}},
		{"sysdig's spelling without spaces", "container.name!=web", false, []int64{1, 100, 200, 400}},
		{"host processes by id", "container.id = host", false, []int64{1, 100, 200, 400}},
		{"container type", "container.type = docker", false, []int64{300, 301}},
		{"image startswith", "container.image startswith nginx", false, []int64{300, 301}},
		{"image is empty on the host", "container.image exists", false, []int64{300, 301}},
		{"proc.name !=", "proc.name != bash", false, []int64{1, 200, 300, 301, 400}},
		{"proc.name in", "proc.name in (bash, systemd)", false, []int64{1, 100}},
		{"proc.exe glob", "proc.exe glob /usr/bin/*", false, []int64{100, 200}},
		{"proc.exe glob with a class", "proc.exe glob '/usr/*/[bn]*'", false, []int64{100, 300, 301}},
		{"proc.args contains", "proc.args contains daemon", false, []int64{300}},
		{"proc.pid", "proc.pid = 100 or proc.pid > 300", false, []int64{100, 301, 400}},
		{"proc.aname: any ancestor", "proc.aname = containerd-shim", false, []int64{300, 301}},
		{"proc.aname[n]", "proc.aname[2] = containerd-shim", false, []int64{301}},
		{"proc.aname[0] is the process", "proc.aname[0] = orphan", false, []int64{400}},
		{"proc.aname stops at a reused pid", "proc.aname = bash", false, nil},
		{"user.name", "user.name = www-data", false, []int64{301}},
		{"not and parentheses", "not (proc.name = nginx or proc.name = bash)", false, []int64{1, 200, 400}},
		{"fd.name has no value for a process", "fd.name exists", false, nil},
		{"fd.name != holds", "fd.name != /etc/passwd", false, []int64{1, 100, 200, 300, 301, 400}},
		{"expression and containers only", "proc.name = nginx and user.name = root", true, []int64{300}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := newProcessFilter(tt.expr, tt.containersOnly)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, pid := range []int64{1, 100, 200, 300, 301, 400} {
				if f.include(pid, table[pid].info, table) {
					got = append(got, pid)
				}
			}
			if !equalPIDs(got, tt.want) {
				t.Errorf("included %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("a process known by its OID only is excluded by any filter", func(t *testing.T) {
		f, _ := newProcessFilter("proc.name != nothing", false)
		if f.include(7, nil, table) {
			t.Error("included a process with no attributes")
		}
		var none *processFilter
		if !none.include(7, nil, table) {
			t.Error("no filter excluded a process")
		}
	})
}

func equalPIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestProcessFilterErrors: a bad expression is an error naming its position, at Validate.
func TestProcessFilterErrors(t *testing.T) {
	tests := []struct {
		expr, want string
	}{
		{"proc.nme = bash", `1:1: unknown field "proc.nme"`},
		{"proc.name = bash and", "1:21: expected a field"},
		{"container.name != (", "1:19: expected a value"},
		{"proc.name in (a, b", `1:19: expected "," or ")"`},
		{"proc.aname[x] = a", `1:1: unknown field "proc.aname[x]"`},
		{"proc.pid > x", `1:12: expected an integer`},
		{"proc.name = 'bash", "1:13: unterminated string"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			err := Config{Exporter: "x", Filter: tt.expr}.Validate()
			var pe *sfql.Error
			if err == nil || !errors.As(err, &pe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate: %v, want an sfql error containing %q", err, tt.want)
			}
		})
	}
}
