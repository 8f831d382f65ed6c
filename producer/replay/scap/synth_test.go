package scap

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"slices"
	"testing"
)

// next reads one block and fails the test on error.
func next(t *testing.T, r *Reader) Block {
	t.Helper()
	b, err := r.Next()
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return b
}

func mustReader(t *testing.T, data []byte) *Reader {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	if _, ok := next(t, r).(*SectionHeader); !ok {
		t.Fatal("first block is not the section header")
	}
	return r
}

func TestEventVariants(t *testing.T) {
	flags := uint32(EventFlagStateOnly)
	sendto := [][]byte{le64(5), le32(100), append([]byte{AFInet6}, make([]byte, 36)...)}
	tests := []struct {
		name      string
		block     []byte
		wantType  EventType
		wantN     int
		wantFlags uint32
		check     func(t *testing.T, ev *Event)
	}{
		{
			name:     "v2",
			block:    evV2(10, 42, OpenX, le64(3), cstr("/etc/passwd"), le32(0x1001), le32(0)),
			wantType: OpenX, wantN: 4,
			check: func(t *testing.T, ev *Event) {
				if fd, _ := ev.IntNamed("fd"); fd != 3 || ev.StringNamed("name") != "/etc/passwd" {
					t.Errorf("fd=%d name=%q", fd, ev.StringNamed("name"))
				}
				if ev.Index("ino") != -1 {
					t.Error("absent parameter has an index")
				}
			},
		},
		{
			name:     "v1 infers nparams",
			block:    block(uint32(BlockEvent), eventBody(false, false, nil, 10, 42, ConnectX, [][]byte{le64(-115), append([]byte{AFInet}, make([]byte, 12)...)}, nil)),
			wantType: ConnectX, wantN: 2,
			check: func(t *testing.T, ev *Event) {
				if res, _ := ev.IntNamed("res"); res != -115 {
					t.Errorf("res = %d", res)
				}
			},
		},
		{
			name:     "v1 sendto 3 params",
			block:    block(uint32(BlockEvent), eventBody(false, false, nil, 10, 42, SendToE, sendto, nil)),
			wantType: SendToE, wantN: 3,
		},
		{
			name:     "v1 with flags",
			block:    block(uint32(BlockEventFlags), eventBody(false, false, &flags, 10, 42, CloseE, [][]byte{le64(7)}, nil)),
			wantType: CloseE, wantN: 1, wantFlags: flags,
		},
		{
			name:     "v2 with flags",
			block:    block(uint32(BlockEventFlagsV2), eventBody(true, false, &flags, 10, 42, CloseE, [][]byte{le64(7)}, nil)),
			wantType: CloseE, wantN: 1, wantFlags: flags,
		},
		{
			name:     "v2 large payload",
			block:    block(uint32(BlockEventV2Large), eventBody(true, true, nil, 10, -1, PluginEventE, [][]byte{le32(1), bytes.Repeat([]byte("x"), 70000)}, nil)),
			wantType: PluginEventE, wantN: 2,
			check: func(t *testing.T, ev *Event) {
				if len(ev.Param(1)) != 70000 {
					t.Errorf("payload of %d bytes", len(ev.Param(1)))
				}
			},
		},
		{
			name:     "v2 flags large",
			block:    block(uint32(BlockEventFlagsV2Large), eventBody(true, true, &flags, 10, -1, ContainerJSON2E, [][]byte{cstr("{}")}, nil)),
			wantType: ContainerJSON2E, wantN: 1, wantFlags: flags,
		},
		{
			name:     "container json with 32-bit lengths",
			block:    block(uint32(BlockEventV2), eventBody(true, true, nil, 10, 0, ContainerJSONE, [][]byte{cstr(`{"container":{}}`)}, nil)),
			wantType: ContainerJSONE, wantN: 1,
		},
		{
			name:     "trailing options after the event",
			block:    block(uint32(BlockEventV2), eventBody(true, false, nil, 10, 42, CloseX, [][]byte{le64(0)}, []byte{1, 0, 4, 0, 'a', 'b', 'c', 'd'})),
			wantType: CloseX, wantN: 1,
		},
		{
			name:     "v1 notification with overstated length",
			block:    block(uint32(BlockEvent), fixNotificationLen(eventBody(false, false, nil, 10, 42, NotificationE, [][]byte{le64(1), cstr("hi")}, nil))),
			wantType: NotificationE, wantN: 2,
		},
		{
			name:     "v2 type outside the table",
			block:    evV2(10, 42, 999, []byte{1}),
			wantType: 999, wantN: 1,
			check: func(t *testing.T, ev *Event) {
				if ev.Info() != nil || ev.Type.String() != "EVENT_999" {
					t.Errorf("info %v name %s", ev.Info(), ev.Type)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustReader(t, capture(tt.block))
			ev, ok := next(t, r).(*Event)
			if !ok {
				t.Fatal("not an event")
			}
			if ev.Type != tt.wantType || ev.NumParams() != tt.wantN || ev.Flags != tt.wantFlags || ev.TS != 10 || ev.CPU != 3 {
				t.Errorf("got %s n=%d flags=%d ts=%d cpu=%d", ev.Type, ev.NumParams(), ev.Flags, ev.TS, ev.CPU)
			}
			if tt.check != nil {
				tt.check(t, ev)
			}
			if _, err := r.Next(); !errors.Is(err, io.EOF) {
				t.Errorf("after the event: %v, want EOF", err)
			}
		})
	}
}

// fixNotificationLen adds the 3 bytes an old writer added to NOTIFICATION_E lengths.
func fixNotificationLen(body []byte) []byte {
	b := slices.Clone(body)
	n := le32(uint32(len(b)-2) + 3)
	copy(b[2+16:], n)
	return append(b, 0, 0, 0)
}

func TestSectionsAndSkipping(t *testing.T) {
	var mi buf
	mi.u32(2)
	mi.u64(1 << 30)
	mi.u64(0)
	host := make([]byte, 128)
	copy(host, "box")
	mi.Write(host)
	mi.u64(5)
	mi.u64(0)
	mi.Write(make([]byte, 16))
	data := slices.Concat(
		shbBlock(1, 0, []byte{1, 0, 4, 0, 'n', 'o', 't', 'e', 0, 0, 0, 0}), // SHB with a comment option
		block(0x8002ABCD, mi.Bytes()),                                      // legacy machine info alias
		block(0x1234, []byte("unknown block")),                             // skipped
		evV2(1, 2, CloseE, le64(4)),
		shbBlock(1, 2, nil), // a second section
		evV2(3, 2, CloseX, le64(0)),
	)
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for {
		b, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch b := b.(type) {
		case *SectionHeader:
			kinds = append(kinds, "SHB")
		case *MachineInfo:
			if b.Hostname != "box" || b.NumCPUs != 2 || b.BootTS != 5 {
				t.Errorf("machine info %+v", b)
			}
			kinds = append(kinds, "MI")
		case *Event:
			kinds = append(kinds, b.Type.String())
		}
	}
	want := []string{"SHB", "MI", "SYSCALL_CLOSE_E", "SHB", "SYSCALL_CLOSE_X"}
	if !slices.Equal(kinds, want) {
		t.Errorf("blocks %q, want %q", kinds, want)
	}
}

func TestProcessListVariants(t *testing.T) {
	types := map[int]BlockType{1: BlockProcListV1, 2: BlockProcListV2, 3: BlockProcListV3, 4: BlockProcListV4,
		5: BlockProcListV5, 6: BlockProcListV6, 7: BlockProcListV7, 8: BlockProcListV8, 9: BlockProcListV9}
	for v := 1; v <= 9; v++ {
		t.Run(types[v].String(), func(t *testing.T) {
			var body []byte
			for _, tid := range []int64{200, 201} {
				e := threadEntry(v, tid, 200, 1, "comm", "exe", "/bin/exe", "a\x00b\x00", "/cwd", nil)
				if v == 9 {
					e = slices.Concat(le32(uint32(len(e)+4)), e)
				}
				body = append(body, e...)
			}
			r := mustReader(t, capture(block(uint32(types[v]), body)))
			pl, ok := next(t, r).(*ProcessList)
			if !ok || pl.Version != v || len(pl.Threads) != 2 {
				t.Fatalf("got %+v", pl)
			}
			th := pl.Threads[1]
			if th.TID != 201 || th.PID != 200 || th.Comm != "comm" || th.Exe != "exe" || !slices.Equal(th.Args, []string{"a", "b"}) ||
				th.Cwd != "/cwd" || th.UID != 1000 || th.GID != 1001 || th.Flags != 0x2000 {
				t.Errorf("thread %+v", th)
			}
			if (th.ExePath == "/bin/exe") != (v >= 7) || (th.SID == 7) != (v >= 6) || (th.VPGID == 8) != (v >= 8) {
				t.Errorf("version fields: exepath %q sid %d vpgid %d", th.ExePath, th.SID, th.VPGID)
			}
			if (len(th.Env) == 2) != (v >= 3) || (th.VPID == 100) != (v >= 4) || (th.Root == "/") != (v >= 5) || (th.VMRSSKB == 2) != (v >= 2) {
				t.Errorf("version fields: env %q vpid %d root %q rss %d", th.Env, th.VPID, th.Root, th.VMRSSKB)
			}
		})
	}
}

func TestProcessListTails(t *testing.T) {
	var pre, post, future buf
	pre.u32(1000) // loginuid only (2019 writers)
	post.u64(77)  // pidns_init_start_ts
	post.u32(34816)
	post.u32(1000)
	post.u8(1)
	post.Write(make([]byte, 24))
	post.u8(0)
	post.Write(make([]byte, 24))
	post.u8(0)
	post.u8(0)
	post.u64(99) // pgid
	future.Write(post.Bytes())
	future.Write([]byte("fields of a future writer"))
	tests := []struct {
		name    string
		tail    []byte
		wantHas ThreadFields
		tty     uint32
		pgid    int64
	}{
		{"loginuid only", pre.Bytes(), HasLoginUID, 0, 0},
		{"29-byte pre-0.10 tail", slices.Concat(le32(5), []byte{1}, make([]byte, 24)), HasLoginUID, 0, 0},
		{"libs 0.10+ tail", post.Bytes(), HasTTY | HasLoginUID | HasPGID, 34816, 99},
		{"unknown trailing fields", future.Bytes(), HasTTY | HasLoginUID | HasPGID, 34816, 99},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := threadEntry(9, 5, 5, 1, "c", "e", "", "", "/", tt.tail)
			e = slices.Concat(le32(uint32(len(e)+4)), e)
			r := mustReader(t, capture(block(uint32(BlockProcListV9), e)))
			pl := next(t, r).(*ProcessList)
			th := pl.Threads[0]
			if th.Has&(HasTTY|HasLoginUID|HasPGID) != tt.wantHas || th.TTY != tt.tty || th.PGID != tt.pgid {
				t.Errorf("has %b tty %d pgid %d", th.Has, th.TTY, th.PGID)
			}
		})
	}
}

func TestFDLists(t *testing.T) {
	entries := func(v2 bool, extra []byte) []byte {
		var all buf
		all.u64(100) // tid
		add := func(fd int64, typ FDType, data []byte) {
			var e buf
			e.u64(uint64(fd))
			e.u64(9) // ino
			e.u8(uint8(typ))
			e.Write(data)
			if v2 {
				e.Write(extra)
				all.u32(uint32(e.Len() + 4))
			}
			all.Write(e.Bytes())
		}
		var d buf
		d.Write([]byte{127, 0, 0, 1, 10, 0, 0, 2})
		d.u16(5000)
		d.u16(47072)
		d.u8(2)
		add(3, FDIPv4Sock, d.Bytes())
		d.Reset()
		d.Write(netip.MustParseAddr("::1").AsSlice())
		d.u16(80)
		d.u8(2)
		add(4, FDIPv6Server, d.Bytes())
		d.Reset()
		d.u64(0xffff1)
		d.u64(0xffff2)
		d.str("/run/sock\n")
		add(5, FDUnixSock, d.Bytes())
		d.Reset()
		d.u32(0x1001)
		d.str("/etc/passwd")
		add(6, FDFileV2, d.Bytes())
		d.Reset()
		d.str("pipe:[77]")
		add(7, FDFifo, d.Bytes())
		return all.Bytes()
	}
	for _, tt := range []struct {
		name string
		typ  BlockType
		body []byte
	}{
		{"FDL", BlockFDList, entries(false, nil)},
		{"FDL_V2", BlockFDListV2, entries(true, nil)},
		{"FDL_V2 with unread trailing bytes", BlockFDListV2, entries(true, []byte("future"))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := mustReader(t, capture(block(uint32(tt.typ), tt.body)))
			fl, ok := next(t, r).(*FDList)
			if !ok || fl.TID != 100 || len(fl.FDs) != 5 {
				t.Fatalf("got %+v", fl)
			}
			s := fl.FDs[0]
			if s.Src != netip.MustParseAddr("127.0.0.1") || s.Dst != netip.MustParseAddr("10.0.0.2") || s.SPort != 5000 || s.DPort != 47072 || s.L4Proto != 2 {
				t.Errorf("ipv4 socket %+v", s)
			}
			if s := fl.FDs[1]; s.Src != netip.MustParseAddr("::1") || s.SPort != 80 {
				t.Errorf("ipv6 server %+v", s)
			}
			if s := fl.FDs[2]; s.Source != 0xffff1 || s.Dest != 0xffff2 || s.Name != "/run/sock\n" {
				t.Errorf("unix %+v", s)
			}
			if f := fl.FDs[3]; f.OpenFlags != 0x1001 || f.Name != "/etc/passwd" {
				t.Errorf("file %+v", f)
			}
			if p := fl.FDs[4]; p.Name != "pipe:[77]" {
				t.Errorf("pipe %+v", p)
			}
		})
	}
	t.Run("unknown type in FDL", func(t *testing.T) {
		var b buf
		b.u64(100)
		b.u64(3)
		b.u64(0)
		b.u8(99)
		b.Write(make([]byte, 8))
		r := mustReader(t, capture(block(uint32(BlockFDList), b.Bytes())))
		if _, err := r.Next(); !errors.Is(err, ErrMalformed) {
			t.Errorf("err = %v, want ErrMalformed", err)
		}
	})
}

func TestInterfaceAndUserLists(t *testing.T) {
	ifEntry := func(v2 bool) []byte {
		var e buf
		e.u16(1)
		e.u16(2)
		e.Write([]byte{10, 0, 0, 1, 255, 0, 0, 0, 10, 255, 255, 255})
		e.u64(1000)
		e.WriteString("lo")
		if !v2 {
			return e.Bytes()
		}
		return slices.Concat(le32(uint32(e.Len())), e.Bytes())
	}
	ulEntries := func(v2 bool) []byte {
		var u, g buf
		u.u8(0)
		u.u32(500)
		u.u32(500)
		u.str("alice")
		u.str("/home/alice")
		u.str("/bin/sh")
		g.u8(1)
		g.u32(500)
		g.str("staff")
		if !v2 {
			return slices.Concat(u.Bytes(), g.Bytes())
		}
		return slices.Concat(le32(uint32(u.Len()+4)), u.Bytes(), le32(uint32(g.Len()+4)), g.Bytes())
	}
	for _, v2 := range []bool{false, true} {
		name := "v1"
		ilt, ult := BlockIfList, BlockUserList
		if v2 {
			name, ilt, ult = "v2", BlockIfListV2, BlockUserListV2
		}
		t.Run(name, func(t *testing.T) {
			r := mustReader(t, capture(block(uint32(ilt), ifEntry(v2)), block(uint32(ult), ulEntries(v2))))
			il := next(t, r).(*InterfaceList)
			if len(il.Interfaces) != 1 || il.Interfaces[0].Name != "lo" || il.Interfaces[0].Addr != netip.MustParseAddr("10.0.0.1") || il.Interfaces[0].LinkSpeed != 1000 {
				t.Errorf("interfaces %+v", il.Interfaces)
			}
			ul := next(t, r).(*UserList)
			if len(ul.Users) != 1 || ul.Users[0].Name != "alice" || ul.Users[0].Shell != "/bin/sh" || len(ul.Groups) != 1 || ul.Groups[0].Name != "staff" {
				t.Errorf("users %+v", ul)
			}
		})
	}
}

func TestParamDecoders(t *testing.T) {
	unix := slices.Concat([]byte{AFUnix}, le64(0), le64(0x1234), cstr("/var/run/nscd/socket"))
	st, ok := DecodeSockTuple(unix)
	if !ok || st.Source != 0 || st.Dest != 0x1234 || st.Path != "/var/run/nscd/socket" {
		t.Errorf("unix tuple %+v", st)
	}
	v6 := slices.Concat([]byte{AFInet6}, netip.MustParseAddr("::ffff:127.0.0.1").AsSlice(), []byte{4, 173}, netip.MustParseAddr("::1").AsSlice(), []byte{0x28, 0x23})
	st, ok = DecodeSockTuple(v6)
	if !ok || st.Src.String() != "::ffff:127.0.0.1" || st.SPort != 44292 || st.DPort != 9000 {
		t.Errorf("ipv6 tuple %+v", st)
	}
	if _, ok := DecodeSockTuple([]byte{AFInet, 1, 2}); ok {
		t.Error("short tuple decoded")
	}
	sa, ok := DecodeSockAddr(slices.Concat([]byte{AFUnix}, cstr("@abstract")))
	if !ok || sa.Path != "@abstract" {
		t.Errorf("unix sockaddr %+v", sa)
	}
	fds, ok := DecodeFDList(slices.Concat([]byte{2, 0}, le64(3), []byte{1, 0}, le64(4), []byte{4, 0}))
	if !ok || len(fds) != 2 || fds[1].FD != 4 || fds[1].Flags != 4 {
		t.Errorf("fdlist %+v", fds)
	}
}
