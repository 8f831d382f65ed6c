package procfs

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/sfstream/sfstream/internal/raw"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    stat
		wantErr bool
	}{
		{
			name: "plain",
			in:   "16005 (cat) R 16002 16002 6392 34816 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 1733871 3133440 413 18446744073709551615 0\n",
			want: stat{Comm: "cat", PPID: 16002, TTY: 34816, Flags: 4194304, StartTicks: 1733871},
		},
		{
			name: "comm with spaces and parentheses",
			in:   "77 (a (b) c) S 1 77 77 0 -1 4194560 5 0 0 0 0 0 0 0 20 0 1 0 42 1 1 1 0",
			want: stat{Comm: "a (b) c", PPID: 1, Flags: 4194560, StartTicks: 42},
		},
		{
			name: "kernel thread",
			in:   "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0 1 0",
			want: stat{Comm: "kthreadd", Flags: 2129984, StartTicks: 1},
		},
		{name: "truncated", in: "1 (init) S 0 1 1", wantErr: true},
		{name: "no comm", in: "1 init S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5", wantErr: true},
		{name: "bad number", in: "1 (x) S x 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrFormat) {
					t.Fatalf("err = %v, want ErrFormat", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	const base = "Name:\tsh\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\n"
	tests := []struct {
		name    string
		in      string
		want    status
		wantErr bool
	}{
		{
			name: "host process: effective ids",
			in:   base + "Uid:\t1000\t0\t0\t0\nGid:\t100\t10\t10\t10\nNSpid:\t4242\n",
			want: status{UID: 0, GID: 10, VPID: 4242},
		},
		{
			name: "pid namespace: innermost pid",
			in:   base + "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nNSpid:\t4242\t17\t1\n",
			want: status{UID: 0, GID: 0, VPID: 1},
		},
		{
			name: "old kernel without NSpid",
			in:   base + "Uid:\t5\t5\t5\t5\nGid:\t6\t6\t6\t6\n",
			want: status{UID: 5, GID: 6},
		},
		{name: "no ids", in: base, wantErr: true},
		{name: "bad uid", in: base + "Uid:\tx\ty\nGid:\t1\t1\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatus(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseCmdline(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty (kernel thread or zombie)", "", nil},
		{"argv", "/bin/sh\x00-c\x00echo hi\x00", []string{"/bin/sh", "-c", "echo hi"}},
		{"empty argument kept", "mv\x00\x00b\x00", []string{"mv", "", "b"}},
		{"no final NUL (rewritten argv)", "nginx: worker", []string{"nginx: worker"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseCmdline([]byte(tt.in)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseFDInfoFlags(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr bool
	}{
		{"read only, large file", "pos:\t0\nflags:\t0100000\nmnt_id:\t24\nino:\t3\n", 0o100000, false},
		{"rdwr cloexec", "pos:\t5\nflags:\t02000002\nmnt_id:\t1\n", 0o2000002, false},
		{"missing", "pos:\t0\n", 0, true},
		{"not octal", "flags:\t9\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFDInfoFlags(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %o, want %o", got, tt.want)
			}
		})
	}
}

func TestClassifyLink(t *testing.T) {
	tests := []struct {
		in   string
		kind linkKind
		ino  uint64
	}{
		{"/etc/passwd", linkPath, 0},
		{"/tmp/x (deleted)", linkPath, 0},
		{"socket:[28765]", linkSocket, 28765},
		{"pipe:[28806]", linkPipe, 28806},
		{"anon_inode:[eventfd]", linkAnon, 0},
		{"anon_inode:inotify", linkAnon, 0},
		{"net:[4026531840]", linkOther, 0},
		{"socket:[x]", linkOther, 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			kind, ino := classifyLink(tt.in)
			if kind != tt.kind || ino != tt.ino {
				t.Errorf("got (%d, %d), want (%d, %d)", kind, ino, tt.kind, tt.ino)
			}
		})
	}
}

const hexID = "347b1411b047a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607182930"

func TestContainerFromCgroupPath(t *testing.T) {
	tests := []struct {
		name string
		path string
		want *raw.Container
	}{
		{"host root", "/", nil},
		{"host service", "/system.slice/sshd.service", nil},
		{"sandbox id is not a container id", "/process_api/0d61424e78247e020a288de8e1831817", nil},
		{"docker cgroupfs", "/docker/" + hexID, &raw.Container{ID: "347b1411b047", Runtime: RuntimeDocker}},
		{"docker systemd", "/system.slice/docker-" + hexID + ".scope", &raw.Container{ID: "347b1411b047", Runtime: RuntimeDocker}},
		{"kubernetes cgroupfs", "/kubepods/burstable/pod0f1e2d3c-aaaa-bbbb-cccc-000000000000/" + hexID, &raw.Container{ID: "347b1411b047", Runtime: RuntimeCRI}},
		{"containerd systemd", "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-" + hexID + ".scope", &raw.Container{ID: "347b1411b047", Runtime: RuntimeContainerd}},
		{"cri-o", "/kubepods.slice/kubepods-pod1.slice/crio-" + hexID + ".scope", &raw.Container{ID: "347b1411b047", Runtime: RuntimeCRIO}},
		{"cri-o monitor is not a container", "/kubepods.slice/kubepods-pod1.slice/crio-conmon-" + hexID + ".scope", nil},
		{"containerd namespace", "/default/" + hexID, &raw.Container{ID: "347b1411b047", Runtime: RuntimeContainerd}},
		{"podman", "/machine.slice/libpod-" + hexID + ".scope", &raw.Container{ID: "347b1411b047", Runtime: RuntimeCustom}},
		{"sub-cgroup inside a container", "/system.slice/docker-" + hexID + ".scope/init.scope", &raw.Container{ID: "347b1411b047", Runtime: RuntimeDocker}},
		{"uppercase hex is not an id", "/docker/" + strings.ToUpper(hexID), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ContainerFromCgroupPath(tt.path); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestContainerFromCgroupFile(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *raw.Container
	}{
		{"host v1+v2", "9:name=systemd:/\n4:memory:/process_api/0d61424e\n0::/\n", nil},
		{"docker v1", "12:pids:/docker/" + hexID + "\n11:memory:/docker/" + hexID + "\n0::/\n", &raw.Container{ID: "347b1411b047", Runtime: RuntimeDocker}},
		{"v2 only", "0::/system.slice/docker-" + hexID + ".scope\n", &raw.Container{ID: "347b1411b047", Runtime: RuntimeDocker}},
		{"garbage", "nonsense\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ContainerFromCgroupFile(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseInet(t *testing.T) {
	const tcp4 = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 47 1 00000000ec00e77f 100 0 0 10 0
   1: 0100007F:9FCC 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 5150 1 00000000f4b503b6 20 4 30 10 -1
   2: 0100007F:9FCD 0100007F:1F90 06 00000000:00000000 03:00001462 00000000     0        0 0 3 00000000f4b503b6
`
	const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF00000100007F:94C1 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 28765 1 00000000226f2684 100 0 0 10 0
   1: 00000000000000000000000001000000:0050 00000000000000000000000001000000:C350 01 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 20 0 0 10 0
`
	s := Sockets{}
	if err := s.ParseInet(strings.NewReader(tcp4), raw.AFInet, raw.ProtoTCP); err != nil {
		t.Fatal(err)
	}
	if err := s.ParseInet(strings.NewReader(tcp6), raw.AFInet6, raw.ProtoTCP); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ino  uint64
		want raw.Sock
	}{
		{"v4 listener", 47, raw.Sock{Family: raw.AFInet, Proto: raw.ProtoTCP, LAddr: []byte{0, 0, 0, 0}, LPort: 2024, RAddr: []byte{0, 0, 0, 0}}},
		{"v4 established", 5150, raw.Sock{Family: raw.AFInet, Proto: raw.ProtoTCP, LAddr: []byte{127, 0, 0, 1}, LPort: 40908, RAddr: []byte{127, 0, 0, 1}, RPort: 8080}},
		{"v4-mapped v6 listener", 28765, raw.Sock{Family: raw.AFInet6, Proto: raw.ProtoTCP,
			LAddr: []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1}, LPort: 38081, RAddr: make([]byte, 16)}},
		{"v6 loopback", 999, raw.Sock{Family: raw.AFInet6, Proto: raw.ProtoTCP,
			LAddr: []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, LPort: 80,
			RAddr: []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, RPort: 50000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s[tt.ino]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if _, ok := s[0]; ok {
		t.Error("a TIME_WAIT entry (inode 0) was kept")
	}
	t.Run("malformed address", func(t *testing.T) {
		bad := "header\n 0: 0100007F 0100007F:1F90 01 0 0 0 0 0 12 1\n"
		if err := (Sockets{}).ParseInet(strings.NewReader(bad), raw.AFInet, raw.ProtoTCP); !errors.Is(err, ErrFormat) {
			t.Errorf("err = %v, want ErrFormat", err)
		}
	})
}

func TestParseUnix(t *testing.T) {
	const in = `Num       RefCount Protocol Flags    Type St Inode Path
0000000071d6a16b: 00000002 00000000 00010000 0001 01 21551 /run/systemd/private
00000000f5b2dc05: 00000002 00000000 00000000 0001 03 28121
000000000a0b0c0d: 00000002 00000000 00010000 0001 01 31337 @/tmp/.X11-unix/X0
`
	s := Sockets{}
	if err := s.ParseUnix(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	for ino, want := range map[uint64]string{21551: "/run/systemd/private", 28121: "", 31337: "@/tmp/.X11-unix/X0"} {
		got, ok := s[ino]
		if !ok || got.Family != raw.AFUnix || got.Path != want {
			t.Errorf("inode %d: got %+v (found %v), want path %q", ino, got, ok, want)
		}
	}
}

func TestParseIDFile(t *testing.T) {
	const in = "# comment\nroot:x:0:0:root:/root:/bin/bash\n\ndaemon:x:1:1::/:/usr/sbin/nologin\nbroken\nbad:x:notanumber:0\ntoor:x:0:0::/:/bin/sh\n"
	got, err := ParseIDFile(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]string{0: "root", 1: "daemon"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestClockCreateTSAgreesAcrossPaths(t *testing.T) {
	c := Clock{BootEpoch: 1795634663 * 1e9, Offset: 1795634663*1e9 + 123456789}
	tests := []struct {
		name        string
		startBootNs uint64
	}{
		{"exact tick", 17338710000000},
		{"inside a tick", 17338719999999},
		{"at boot", 0},
		{"just after boot", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ticks := tt.startBootNs / TickNs // what /proc/<pid>/stat shows
			if a, b := c.CreateTS(tt.startBootNs), c.CreateTSFromTicks(ticks); a != b {
				t.Errorf("eBPF path %d != /proc path %d", a, b)
			}
		})
	}
	if got := c.EventTS(5); got != c.Offset+5 {
		t.Errorf("EventTS = %d", got)
	}
}

func TestParseBtime(t *testing.T) {
	got, err := parseBtime(strings.NewReader("cpu  1 2 3\nintr 5\nbtime 1795634663\nprocesses 9\n"))
	if err != nil || got != 1795634663 {
		t.Fatalf("got %d, %v", got, err)
	}
	if _, err := parseBtime(strings.NewReader("cpu 1\n")); err == nil {
		t.Fatal("no error without btime")
	}
}
