package scap

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readRef(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(refDir, rel))
	if err != nil {
		t.Fatalf("reference capture: %v", err)
	}
	return b
}

// readAll decodes every block, copying events' formatted text (Event is reused).
func readAll(t testing.TB, data []byte) (blocks []Block, events []string, err error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	for {
		b, err := r.Next()
		if errors.Is(err, io.EOF) {
			return blocks, events, nil
		}
		if err != nil {
			return blocks, events, err
		}
		if ev, ok := b.(*Event); ok {
			events = append(events, ev.Format())
			continue
		}
		blocks = append(blocks, b)
	}
}

func TestReferenceCaptures(t *testing.T) {
	// Expected figures: SCAP.md section 8.1.
	tests := []struct {
		file       string
		events     int
		fdLists    int
		userList   bool
		largeBlock int
	}{
		{"alpine/alpine.scap", 8840, 503, true, 0},
		{"client-server/tcp-client-server.scap", 2302, 131, true, 0},
		{"files/files.scap", 2186, 201, true, 0},
		{"files/filesat.scap", 1697, 201, true, 0},
		{"rename/rename.scap", 4525, 356, false, 1},
		{"setuid/setuid.scap", 1973, 201, true, 0},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			data := readRef(t, tt.file)
			h, err := CountEvents(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if h.Total() != tt.events {
				t.Errorf("events = %d, want %d", h.Total(), tt.events)
			}
			if h.Blocks[BlockFDListV2] != tt.fdLists {
				t.Errorf("FDL_V2 blocks = %d, want %d", h.Blocks[BlockFDListV2], tt.fdLists)
			}
			if got := h.Blocks[BlockUserListV2] == 1; got != tt.userList {
				t.Errorf("UL_V2 present = %v, want %v", got, tt.userList)
			}
			if h.Blocks[BlockEventV2Large] != tt.largeBlock {
				t.Errorf("EV_V2_LARGE blocks = %d, want %d", h.Blocks[BlockEventV2Large], tt.largeBlock)
			}
			for _, bt := range []BlockType{BlockSection, BlockMachineInfo, BlockIfListV2, BlockProcListV9} {
				if h.Blocks[bt] != 1 {
					t.Errorf("%s blocks = %d, want 1", bt, h.Blocks[bt])
				}
			}
			t.Logf("event histogram:\n%s", formatHistogram(h))
		})
	}
}

func formatHistogram(h Histogram) string {
	types := make([]EventType, 0, len(h.Events))
	for t := range h.Events {
		types = append(types, t)
	}
	slices.Sort(types)
	var sb strings.Builder
	for _, t := range types {
		fmt.Fprintf(&sb, "  %4d %-24s %6d\n", t, t, h.Events[t])
	}
	return sb.String()
}

// TestDecodedSamples checks decoded values against SCAP.md section 8.2.
func TestDecodedSamples(t *testing.T) {
	tests := []struct {
		file string
		want []string // substrings of Event.Format, in file order
	}{
		{"files/files.scap", []string{
			`1554914834718098123 21847 SYSCALL_OPEN_X fd=3 name="/tmp/tested_file.txt" flags=0x107 mode=438`,
			`SYSCALL_WRITE_E fd=3 size=31`,
			`SYSCALL_MKDIR_2_X res=0 path="/tmp/testing_dir"`,
		}},
		{"files/filesat.scap", []string{
			`SYSCALL_OPENAT_2_X fd=4 dirfd=3 name="tested_file.txt" flags=0x6`,
			`SYSCALL_RENAMEAT_X res=0 olddirfd=3 oldpath="./tested_file3.txt" newdirfd=-100 newpath="/tmp/tested_file4.txt"`,
		}},
		{"client-server/tcp-client-server.scap", []string{
			`SOCKET_SOCKET_E domain=0x2 type=1 proto=0`,
			`SOCKET_BIND_X res=0 addr=0.0.0.0:8080`,
			`SOCKET_ACCEPT_5_X fd=4 tuple=127.0.0.1:40556->127.0.0.1:8080 queuepct=0 queuelen=0 queuemax=5`,
			`SOCKET_CONNECT_X res=0 tuple=127.0.0.1:40556->127.0.0.1:8080`,
			`PROCEXIT_1_E status=2`,
		}},
		{"setuid/setuid.scap", []string{
			`SYSCALL_SETUID_E uid=500`,
			`SYSCALL_SETUID_X res=0`,
			`SYSCALL_SETUID_E uid=0`,
			`SYSCALL_SETUID_X res=-1`,
		}},
		{"rename/rename.scap", []string{
			`SYSCALL_OPENAT_2_X fd=3 dirfd=-100 name="/etc/ld.so.cache" flags=0x1001 mode=0 dev=51714 ino=1049387`,
			`SYSCALL_RENAME_X res=0 oldpath="/tmp/test1" newpath="/tmp/test2"`,
		}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			_, events, err := readAll(t, readRef(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			i := 0
			for _, ev := range events {
				if i < len(tt.want) && strings.Contains(ev, tt.want[i]) {
					i++
				}
			}
			if i < len(tt.want) {
				t.Errorf("no event matching %q (after the previous ones)", tt.want[i])
			}
		})
	}
}

func TestLargePayloadEvent(t *testing.T) {
	r, err := NewReader(bytes.NewReader(readRef(t, "rename/rename.scap")))
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := r.Next()
		if err != nil {
			t.Fatalf("no CONTAINER_JSON_2_E: %v", err)
		}
		ev, ok := b.(*Event)
		if !ok || ev.Type != ContainerJSON2E {
			continue
		}
		if ev.Block != BlockEventV2Large || ev.NumParams() != 1 || len(ev.Param(0)) != 2217 {
			t.Errorf("got block %s, %d params, json of %d bytes; want EV_V2_LARGE, 1, 2217", ev.Block, ev.NumParams(), len(ev.Param(0)))
		}
		if !strings.HasPrefix(ev.String(0), `{"container":`) {
			t.Errorf("json = %.40q", ev.String(0))
		}
		return
	}
}

func TestMetadataBlocks(t *testing.T) {
	blocks, _, err := readAll(t, readRef(t, "alpine/alpine.scap"))
	if err != nil {
		t.Fatal(err)
	}
	var (
		mi    *MachineInfo
		pl    *ProcessList
		il    *InterfaceList
		ul    *UserList
		fdl   = map[int64]*FDList{}
		found int
	)
	for _, b := range blocks {
		switch b := b.(type) {
		case *MachineInfo:
			mi = b
		case *ProcessList:
			pl = b
		case *InterfaceList:
			il = b
		case *UserList:
			ul = b
		case *FDList:
			fdl[b.TID] = b
		}
	}
	if mi == nil || mi.Hostname != "8cd9d0f14848" || mi.NumCPUs == 0 {
		t.Errorf("machine info = %+v", mi)
	}
	if il == nil || len(il.Interfaces) == 0 || il.Interfaces[0].Name != "lo" || il.Interfaces[0].Addr != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("interfaces = %+v", il)
	}
	if ul == nil || !slices.ContainsFunc(ul.Users, func(u User) bool { return u.UID == 0 && u.Name == "root" }) {
		t.Errorf("user list lacks root: %+v", ul)
	}
	if pl == nil || pl.Version != 9 {
		t.Fatalf("process list = %+v", pl)
	}
	for _, th := range pl.Threads {
		if th.TID != 120512 {
			continue
		}
		found++
		if th.Comm != "sh" || th.Exe != "/bin/sh" || th.ExePath != "/bin/busybox" || th.Cwd != "/" || th.VPID != 1 || th.PTID != 120485 {
			t.Errorf("busybox entry = %+v", th)
		}
		if th.Has&HasLoginUID == 0 || th.Has&HasTTY != 0 {
			t.Errorf("busybox tail fields = %b, want loginuid only", th.Has)
		}
		if !slices.ContainsFunc(th.Cgroups, func(s string) bool { return strings.Contains(s, "/docker/c010f5a08549") }) {
			t.Errorf("cgroups = %q", th.Cgroups)
		}
	}
	if found != 1 {
		t.Errorf("busybox (tid 120512) found %d times", found)
	}
	f := fdl[120512]
	if f == nil || len(f.FDs) != 4 || f.FDs[0].Name != "/dev/pts/0" || f.FDs[0].Type != FDFileV2 {
		t.Errorf("busybox fds = %+v", f)
	}
}

func TestGzip(t *testing.T) {
	data := readRef(t, "setuid/setuid.scap")
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(bytes.NewReader(z.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Compressed() {
		t.Error("Compressed() = false")
	}
	plain, err := CountEvents(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	gz, err := CountEvents(bytes.NewReader(z.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if gz.Total() != plain.Total() || gz.Total() != 1973 {
		t.Errorf("gzip events = %d, plain %d", gz.Total(), plain.Total())
	}
}

func TestEventCopy(t *testing.T) {
	r, err := NewReader(bytes.NewReader(readRef(t, "files/files.scap")))
	if err != nil {
		t.Fatal(err)
	}
	var saved Event
	for {
		b, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev, ok := b.(*Event); ok && ev.Type == OpenX {
			ev.CopyTo(&saved)
			break
		}
	}
	want := saved.Format()
	for range 100 { // move the reader on; the copy must not change
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if got := saved.Format(); got != want {
		t.Errorf("copy changed: %s, was %s", got, want)
	}
}

func TestSplitNul(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"one", "a\x00", []string{"a"}},
		{"unterminated", "a\x00b", []string{"a", "b"}},
		{"two", "a\x00b\x00", []string{"a", "b"}},
		{"three NULs: two empty args (tcp-client-server.sf, sshd)", "\x00\x00\x00", []string{"", ""}},
		{"two NULs", "\x00\x00", []string{""}},
		{"single NUL", "\x00", nil},
		{"empty last element", "a\x00\x00", []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SplitNul([]byte(tt.in)); !slices.Equal(got, tt.want) {
				t.Errorf("SplitNul(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
