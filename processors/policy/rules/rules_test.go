package rules_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/sfstream/sfstream/internal/sysprint"
	"github.com/sfstream/sfstream/processors/policy/rules"
	"github.com/sfstream/sfstream/sysflow"
)

// fixture builds flattened records: a process (uid 1000 under a parent of uid 1000), on the
// host unless a container is given.
type fixture struct {
	exe, args string
	uid, puid int32
	container *sysflow.Container
	parentExe string
}

func proc(f fixture) (*sysflow.Process, *sysflow.Process) {
	parent := &sysflow.Process{OID: sysflow.OID{HPID: 10, CreateTS: 1}, Exe: f.parentExe, UID: f.puid, UserName: "u"}
	if parent.Exe == "" {
		parent.Exe = "/usr/sbin/sshd"
	}
	p := &sysflow.Process{OID: sysflow.OID{HPID: 20, CreateTS: 2}, POID: &parent.OID, Exe: f.exe, ExeArgs: f.args, UID: f.uid, UserName: "u"}
	if f.container != nil {
		p.ContainerID = &f.container.ID
	}
	return p, parent
}

var web = &sysflow.Container{ID: "0123456789ab", Name: "web", Image: "nginx:1.27", Type: sysflow.ContainerType("CT_DOCKER")}

func exec(f fixture) sysflow.Flat {
	p, parent := proc(f)
	return sysflow.Flat{Kind: sysflow.KindProcessEvent, Rec: &sysflow.ProcessEvent{ProcOID: p.OID, TS: 5, TID: 20, OpFlags: int32(sysflow.OpExec)},
		Process: p, Parent: parent, Container: f.container}
}

func setuid(f fixture, ret int32) sysflow.Flat {
	flat := exec(f)
	flat.Rec = &sysflow.ProcessEvent{ProcOID: flat.Process.OID, TS: 5, TID: 20, OpFlags: int32(sysflow.OpSetUID), Ret: ret}
	return flat
}

func fileFlow(f fixture, path string, ops sysflow.OpFlags, open sysflow.OpenFlags) sysflow.Flat {
	p, parent := proc(f)
	file := &sysflow.File{Path: path, ResType: 'f'}
	return sysflow.Flat{Kind: sysflow.KindFileFlow, Rec: &sysflow.FileFlow{ProcOID: p.OID, TS: 5, EndTS: 6, TID: 20, OpFlags: int32(ops), OpenFlags: int32(open), FD: 3},
		Process: p, Parent: parent, Container: f.container, File: file}
}

func connect(f fixture, dport int32) sysflow.Flat {
	p, parent := proc(f)
	return sysflow.Flat{Kind: sysflow.KindNetworkFlow, Rec: &sysflow.NetworkFlow{ProcOID: p.OID, TS: 5, EndTS: 6, TID: 20,
		OpFlags: int32(sysflow.OpConnect | sysflow.OpWriteSend), SIP: sysflow.IPv4ToInt(netip.AddrFrom4([4]byte{10, 0, 0, 2})), SPort: 40000,
		DIP: sysflow.IPv4ToInt(netip.AddrFrom4([4]byte{203, 0, 113, 9})), DPort: dport, Proto: 6, FD: 3}, Process: p, Parent: parent, Container: f.container}
}

func defaultSet(t testing.TB) *rules.Set {
	t.Helper()
	s, err := rules.Default(sysprint.QueryFields)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func matches(s *rules.Set, flat sysflow.Flat) []string {
	var names []string
	for _, r := range s.Match(nil, sysprint.NewFlatRecord(flat)) {
		names = append(names, r.Name)
	}
	return names
}

func TestDefaultRules(t *testing.T) {
	s := defaultSet(t)
	const wrOnly = sysflow.OpenWronly | sysflow.OpenCreat
	cases := []struct {
		name string
		flat sysflow.Flat
		want string // "" for none
	}{
		{"shell_in_container/fires", exec(fixture{exe: "/bin/bash", args: "-i", container: web}), "shell_in_container"},
		{"shell_in_container/host_shell", exec(fixture{exe: "/bin/bash", args: "-i"}), ""},
		{"shell_in_container/not_a_shell", exec(fixture{exe: "/usr/sbin/nginx", container: web}), ""},
		{"write_below_etc/fires", fileFlow(fixture{exe: "/usr/bin/vi"}, "/etc/passwd", sysflow.OpOpen|sysflow.OpWriteSend, wrOnly), "write_below_etc"},
		{"write_below_etc/package_manager", fileFlow(fixture{exe: "/usr/bin/dpkg"}, "/etc/passwd", sysflow.OpOpen|sysflow.OpWriteSend, wrOnly), ""},
		{"write_below_etc/rdonly_open", fileFlow(fixture{exe: "/usr/bin/cat"}, "/etc/ld.so.cache", sysflow.OpOpen|sysflow.OpReadRecv|sysflow.OpClose, sysflow.OpenRdonly|sysflow.OpenCloexec), ""},
		{"write_below_etc/rdwr_open", fileFlow(fixture{exe: "/usr/bin/python3"}, "/etc/app.conf", sysflow.OpOpen, sysflow.OpenRdonly|sysflow.OpenWronly|sysflow.OpenRdwr), "write_below_etc"},
		{"write_below_etc/read_only", fileFlow(fixture{exe: "/usr/bin/vi"}, "/etc/hosts", sysflow.OpOpen|sysflow.OpReadRecv, 0), ""},
		{"write_below_binary_dir/fires", fileFlow(fixture{exe: "/tmp/dropper"}, "/usr/bin/ls", sysflow.OpOpen|sysflow.OpWriteSend, wrOnly), "write_below_binary_dir"},
		{"write_below_binary_dir/subdirectory", fileFlow(fixture{exe: "/usr/bin/vi"}, "/usr/bin/x/y", sysflow.OpOpen|sysflow.OpWriteSend, wrOnly), ""},
		{"write_below_binary_dir/apt", fileFlow(fixture{exe: "/usr/bin/apt-get"}, "/usr/bin/ls", sysflow.OpOpen|sysflow.OpWriteSend, wrOnly), ""},
		{"read_sensitive_file/fires", fileFlow(fixture{exe: "/usr/bin/cat"}, "/etc/shadow", sysflow.OpOpen|sysflow.OpReadRecv|sysflow.OpClose, 0), "read_sensitive_file"},
		{"read_sensitive_file/sudo", fileFlow(fixture{exe: "/usr/bin/sudo"}, "/etc/shadow", sysflow.OpOpen|sysflow.OpReadRecv, 0), ""},
		{"read_sensitive_file/other_file", fileFlow(fixture{exe: "/usr/bin/cat"}, "/etc/passwd", sysflow.OpOpen|sysflow.OpReadRecv, 0), ""},
		{"outbound_connection_by_non_network_binary/fires", connect(fixture{exe: "/bin/bash"}, 4444), "outbound_connection_by_non_network_binary"},
		{"outbound_connection_by_non_network_binary/curl", connect(fixture{exe: "/usr/bin/curl"}, 443), ""},
		{"setuid_to_root/fires", setuid(fixture{exe: "/usr/bin/sudo", uid: 0, puid: 1000}, 0), "setuid_to_root"},
		{"setuid_to_root/failed", setuid(fixture{exe: "/usr/bin/sudo", uid: 0, puid: 1000}, -1), ""},
		{"setuid_to_root/root_parent", setuid(fixture{exe: "/usr/sbin/cron", uid: 0, puid: 0}, 0), ""},
		{"setuid_to_root/to_user", setuid(fixture{exe: "/usr/sbin/sshd", uid: 1000, puid: 0}, 0), ""},
		{"exec_from_temp_dir/fires", exec(fixture{exe: "/tmp/x/payload"}), "exec_from_temp_dir"},
		{"exec_from_temp_dir/dev_shm", exec(fixture{exe: "/dev/shm/m"}), "exec_from_temp_dir"},
		{"exec_from_temp_dir/usr_bin", exec(fixture{exe: "/usr/bin/tmp"}), ""},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := strings.Join(matches(s, c.flat), ",")
			if got != c.want {
				t.Fatalf("matched %q, want %q", got, c.want)
			}
		})
		covered[c.want] = true
	}
	for _, r := range s.Rules() {
		if !covered[r.Name] {
			t.Errorf("default rule %s has no test that fires it", r.Name)
		}
	}
}

func TestOutput(t *testing.T) {
	s := defaultSet(t)
	flat := exec(fixture{exe: "/bin/bash", args: "-i", container: web})
	rec := sysprint.NewFlatRecord(flat)
	m := s.Match(nil, rec)
	if len(m) != 1 {
		t.Fatalf("matched %d rules", len(m))
	}
	got := m[0].RenderOutput(rec)
	want := "Shell started in container web (id 0123456789ab, image nginx:1.27) by /bin/bash -i (pid 20, parent sshd, user u)"
	if got != want {
		t.Fatalf("output\n got %q\nwant %q", got, want)
	}
	if m[0].Priority != rules.PriorityWarning || m[0].Priority.String() != "WARNING" || strings.Join(m[0].Tags, ",") != "container,shell,mitre_execution" {
		t.Fatalf("rule %+v", m[0])
	}
}

func TestTemplate(t *testing.T) {
	set, err := rules.Compile(sysprint.QueryFields, rules.File{Name: "t.yaml", Data: []byte(`
- rule: r
  desc: d
  condition: type = PE
  output: "100%% %proc.exe. %container.name %sf.proc.pid% end"
  priority: info
`)})
	if err != nil {
		t.Fatal(err)
	}
	rec := sysprint.NewFlatRecord(exec(fixture{exe: "/bin/ls"}))
	if got, want := set.Rules()[0].RenderOutput(rec), "100% /bin/ls. <NA> 20% end"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestAppendAndDisable(t *testing.T) {
	base := rules.File{Name: "a.yaml", Data: []byte(`
- list: l
  items: [bash]
- rule: shell
  desc: d
  condition: type = PE and proc.name in (l)
  output: o
  priority: NOTICE
  tags: [a]
- rule: other
  desc: d
  condition: type = PE
  output: o
  priority: NOTICE
`)}
	local := rules.File{Name: "b.yaml", Data: []byte(`
- rule: shell
  append: true
  condition: proc.uid = 0
  tags: [b]
- rule: other
  enabled: false
`)}
	set, err := rules.Compile(sysprint.QueryFields, base, local)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(set.Rules()); n != 1 {
		t.Fatalf("%d rules enabled, want 1", n)
	}
	r := set.Rules()[0]
	if r.Condition != "(type = PE and proc.name in (l)) and (proc.uid = 0)" || strings.Join(r.Tags, ",") != "a,b" {
		t.Fatalf("appended rule: %q %v", r.Condition, r.Tags)
	}
	if got := matches(set, exec(fixture{exe: "/bin/bash", uid: 1000})); got != nil {
		t.Fatalf("non-root bash matched %v", got)
	}
	if got := matches(set, exec(fixture{exe: "/bin/bash", uid: 0})); len(got) != 1 {
		t.Fatalf("root bash matched %v", got)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"unknown field", `
- rule: r1
  desc: d
  condition: type = PE and proc.nmae = bash
  output: o
  priority: WARNING
`, `bad.yaml:4:28: rule "r1": condition: unknown field "proc.nmae"`},
		{"syntax in block scalar", `
- rule: r2
  desc: d
  condition: |
    type = PE and
    (proc.name = bash
  output: o
  priority: WARNING
`, `bad.yaml:6: rule "r2": condition: `},
		{"unknown macro", `
- rule: r3
  desc: d
  condition: shell_spawned
  output: o
  priority: WARNING
`, `bad.yaml:4:14: rule "r3": condition: unknown macro "shell_spawned"`},
		{"output field", `
- rule: r4
  desc: d
  condition: type = PE
  output: run %proc.exe by %proc.usr
  priority: WARNING
`, `bad.yaml:5:11: rule "r4": output: column 18: unknown field "proc.usr"`},
		{"priority", `
- rule: r5
  desc: d
  condition: type = PE
  output: o
  priority: LOUD
`, `bad.yaml:6:13: rule "r5": unknown priority "LOUD"`},
		{"missing output", `
- rule: r6
  condition: type = PE
  priority: INFO
`, `bad.yaml:2:3: rule "r6": a rule needs an output`},
		{"unknown key", `
- rule: r7
  desc: d
  condtion: type = PE
  output: o
  priority: INFO
`, `bad.yaml:4:13: rule "r7": unknown key "condtion"`},
		{"append to nothing", `
- rule: r8
  append: true
  condition: type = PE
`, `bad.yaml:2:3: rule "r8": append to a rule not defined before`},
		{"yaml", "- rule: [", `bad.yaml: parse rules: yaml:`},
		{"not a list", "rule: r", `bad.yaml:1:1: expected a list of entries`},
		{"macro error", `
- macro: m
  condition: proc.nope = 1
- rule: r9
  desc: d
  condition: type = PE and m
  output: o
  priority: INFO
`, `bad.yaml:6:14: rule "r9": condition: 1:15: in macro "m" (bad.yaml:2): 1:1: unknown field "proc.nope"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := rules.Compile(sysprint.QueryFields, rules.File{Name: "bad.yaml", Data: []byte(c.src)})
			if err == nil {
				t.Fatal("compiled")
			}
			var re *rules.Error
			if !errors.As(err, &re) {
				t.Fatalf("error %T, not *rules.Error: %v", err, err)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error\n got %q\nwant %q...", err, c.want)
			}
		})
	}
}
