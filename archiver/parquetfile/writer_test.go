package parquetfile_test

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/sfstream/sfstream/archiver/parquetfile"
	"github.com/sfstream/sfstream/sysflow"
	"github.com/sfstream/sfstream/sysflow/sffile"
)

const t0 = int64(1_700_000_000_123_456_789) // ns; 2023-11-14T22:13:20.123456789Z

// stream is a small self-contained SysFlow stream: header, a container, a parent and a
// child process, a file, and one record of each kind the processors emit (n rounds of them).
func stream(n int) []sysflow.Record {
	cont := "c0ffee"
	parent := &sysflow.Process{State: sysflow.StateReup, OID: sysflow.OID{HPID: 100, CreateTS: t0 - 5e9}, TS: t0 - 5e9,
		Exe: "/bin/bash", ExeArgs: "-l", UID: 0, UserName: "root", GroupName: "root", Cwd: "/root", Env: []string{"HOME=/root"}}
	child := &sysflow.Process{State: sysflow.StateCreated, OID: sysflow.OID{HPID: 1000, CreateTS: t0}, POID: &parent.OID, TS: t0,
		Exe: "/usr/bin/worker", ExeArgs: "--job 1", UID: 1000, UserName: "u", GID: 1000, GroupName: "u", Cwd: "/srv",
		ContainerID: &cont, Env: []string{"A=1", "", "B=2"}}
	file := &sysflow.File{State: sysflow.StateCreated, OID: sysflow.FOID{1}, TS: t0, ResType: 'f', Path: "/data/f1", ContainerID: &cont}
	file2 := &sysflow.File{State: sysflow.StateCreated, OID: sysflow.FOID{2}, TS: t0, ResType: 'f', Path: "/data/f2", ContainerID: &cont}
	recs := []sysflow.Record{
		&sysflow.Header{Version: 5, Exporter: "node-a", IP: "10.0.0.1", Filename: "arch/node-a/x.sf"},
		&sysflow.Container{ID: cont, Name: "app", Image: "alpine:3.20", ImageID: "sha256:1234", Type: sysflow.CTDocker},
		parent, child, file, file2,
	}
	for i := range n {
		ts := t0 + int64(i)*1e6
		recs = append(recs,
			&sysflow.ProcessEvent{ProcOID: child.OID, TS: ts, TID: 1000, OpFlags: int32(sysflow.OpExec), Ret: 0},
			&sysflow.FileFlow{ProcOID: child.OID, TS: ts + 1, TID: 1000, OpFlags: int32(sysflow.OpOpen | sysflow.OpWriteSend | sysflow.OpClose),
				OpenFlags: 263, EndTS: ts + 5000, FileOID: file.OID, FD: 3, NumWSendOps: 1, NumWSendBytes: int64(100 + i)},
			&sysflow.NetworkFlow{ProcOID: child.OID, TS: ts + 2, TID: 1000, OpFlags: int32(sysflow.OpConnect | sysflow.OpWriteSend),
				EndTS: ts + 9000, SIP: sysflow.IPv4ToInt(netip.MustParseAddr("10.0.0.1")), SPort: 40000, DIP: sysflow.IPv4ToInt(netip.MustParseAddr("10.0.1.1")),
				DPort: 443, Proto: 6, FD: 4, NumWSendOps: 1, NumWSendBytes: 512},
			&sysflow.FileEvent{ProcOID: child.OID, TS: ts + 3, TID: 1000, OpFlags: int32(sysflow.OpRename), FileOID: file.OID, NewFileOID: &file2.OID},
			&sysflow.ProcessFlow{ProcOID: parent.OID, TS: ts + 4, NumThreadsCloned: 2, EndTS: ts + 100, NumThreadsExited: 1},
		)
	}
	return recs
}

func write(t testing.TB, recs []sysflow.Record, meta map[string]string, opts ...parquetfile.Option) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := parquetfile.NewWriter(&buf, opts...)
	for _, r := range recs {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func open(t testing.TB, b []byte) *parquet.File {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The same records and metadata give the same bytes, whatever the order the metadata map is
// built in; a different record gives different bytes.
func TestBytesAreDeterministic(t *testing.T) {
	meta := func(keys ...string) map[string]string {
		m := map[string]string{}
		for _, k := range keys {
			m[k] = "v-" + k
		}
		return m
	}
	a := write(t, stream(50), meta("sfstream.topic", "sfstream.offsets", "sfstream.partition", "sfstream.records"), parquetfile.WithRowGroupRows(64))
	for range 5 {
		b := write(t, stream(50), meta("sfstream.records", "sfstream.partition", "sfstream.offsets", "sfstream.topic"), parquetfile.WithRowGroupRows(64))
		if !bytes.Equal(a, b) {
			t.Fatal("two writes of the same records differ")
		}
	}
	recs := stream(50)
	recs[len(recs)-1].(*sysflow.ProcessFlow).NumCloneErrors = 1
	if bytes.Equal(a, write(t, recs, meta("sfstream.topic", "sfstream.offsets", "sfstream.partition", "sfstream.records"), parquetfile.WithRowGroupRows(64))) {
		t.Fatal("a changed record gives the same bytes")
	}
	kv := open(t, a).Metadata().KeyValueMetadata
	if !slices.IsSortedFunc(kv, func(x, y format.KeyValue) int { return strings.Compare(x.Key, y.Key) }) || len(kv) != 4 {
		t.Errorf("key-value metadata %v: want the 4 entries in key order", kv)
	}
}

// The columns are sysprint's flat field names with underscores, ts and endts are
// microsecond timestamps adjusted to UTC, and the file is zstd with statistics in every
// column chunk and row groups of the configured size.
func TestSchemaColumnsAndLayout(t *testing.T) {
	b := write(t, stream(50), nil, parquetfile.WithRowGroupRows(100))
	f := open(t, b)
	var names []string
	for _, c := range f.Schema().Fields() {
		names = append(names, c.Name())
	}
	for _, want := range []string{"type", "state", "opflags", "opflags_bitmap", "ret", "ts", "ts_uts", "endts", "endts_uts",
		"proc_pid", "proc_tid", "proc_uid", "proc_user", "proc_gid", "proc_group", "proc_cwd", "proc_exe", "proc_args",
		"proc_tty", "proc_entry", "proc_env", "proc_createts", "pproc_pid", "pproc_exe", "pproc_args", "pproc_createts",
		"file_fd", "file_path", "file_newpath", "file_type", "file_openflags", "file_openflags_str",
		"net_proto", "net_sport", "net_dport", "net_sip", "net_dip", "res",
		"flow_rbytes", "flow_rops", "flow_wbytes", "flow_wops", "pf_nthreads", "pf_nexits", "pf_nerrors",
		"container_id", "container_name", "container_imageid", "container_image", "container_type", "container_privileged",
		"pod_id", "pod_name", "pod_ns", "node_id", "node_ip", "filename", "schema"} {
		if !slices.Contains(names, want) {
			t.Errorf("no column %q", want)
		}
	}
	for _, n := range names {
		if strings.Contains(n, ".") {
			t.Errorf("column %q has a dot", n)
		}
	}
	for _, col := range []string{"ts", "endts"} {
		lt, _ := f.Schema().Lookup(col)
		ts := lt.Node.Type().LogicalType()
		if ts == nil || ts.String() != "TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)" {
			t.Errorf("%s: logical type %v, want TIMESTAMP(MICROS, UTC)", col, ts)
		}
	}
	md := f.Metadata()
	if md.NumRows != 250 {
		t.Errorf("%d rows, want 250 (5 kinds × 50, no entity)", md.NumRows)
	}
	if len(md.RowGroups) != 3 {
		t.Errorf("%d row groups, want 3 of at most 100 rows", len(md.RowGroups))
	}
	if !strings.HasPrefix(md.CreatedBy, "sfstream") {
		t.Errorf("created_by %q", md.CreatedBy)
	}
	for _, rg := range md.RowGroups {
		for _, cc := range rg.Columns {
			m := cc.MetaData
			if m.Codec != format.Zstd {
				t.Errorf("%v: codec %v, want ZSTD", m.PathInSchema, m.Codec)
			}
			if st := m.Statistics; st.NullCount < rg.NumRows && len(st.MinValue) == 0 && len(st.MaxValue) == 0 {
				t.Errorf("%v: no statistics: %+v", m.PathInSchema, m.Statistics)
			}
		}
	}
}

// Rows read back hold the record's fields and the entities' columns; fields a record's type
// lacks are NULL; timestamps are the ns values floored to µs.
func TestRowsHoldFlattenedRecords(t *testing.T) {
	b := write(t, stream(1), nil)
	byType := map[string]map[string]any{}
	for _, r := range readMaps(t, b) {
		byType[r["type"].(string)] = r
	}
	if len(byType) != 5 {
		t.Fatalf("row types %v, want PE FF NF FE PF", slices.Sorted(func(yield func(string) bool) {
			for k := range byType {
				if !yield(k) {
					return
				}
			}
		}))
	}
	nf := byType["NF"]
	checks := []struct {
		row  map[string]any
		col  string
		want any
	}{
		{nf, "net_dport", int32(443)},
		{nf, "net_sip", "10.0.0.1"},
		{nf, "res", "10.0.0.1:40000-10.0.1.1:443"},
		{nf, "proc_exe", "/usr/bin/worker"},
		{nf, "pproc_exe", "/bin/bash"},
		{nf, "proc_env", "A=1;B=2"},
		{nf, "container_name", "app"},
		{nf, "state", "CREATED"},
		{nf, "opflags", sysflow.OpFlags(sysflow.OpConnect | sysflow.OpWriteSend).String()},
		{nf, "opflags_bitmap", int32(sysflow.OpConnect | sysflow.OpWriteSend)},
		{nf, "ts_uts", t0 + 2},
		{nf, "endts_uts", t0 + 9000},
		{nf, "node_id", "node-a"},
		{nf, "file_path", nil},
		{nf, "ret", nil},
		{byType["FF"], "file_openflags", int32(263)},
		{byType["FF"], "file_openflags_str", sysflow.OpenFlags(263).String()},
		{byType["FF"], "file_type", "f"},
		{byType["FF"], "flow_wbytes", int64(100)},
		{byType["FF"], "net_dport", nil},
		{byType["FE"], "res", "/data/f1, /data/f2"},
		{byType["FE"], "file_newpath", "/data/f2"},
		{byType["FE"], "endts", nil},
		{byType["PE"], "ret", int32(0)},
		{byType["PE"], "opflags", "EXEC"},
		{byType["PF"], "proc_tid", nil},
		{byType["PF"], "pf_nthreads", int64(2)},
		{byType["PF"], "pproc_pid", nil},
		{byType["PF"], "container_id", nil},
	}
	for _, c := range checks {
		if got := c.row[c.col]; got != c.want {
			t.Errorf("%s %s = %#v, want %#v", c.row["type"], c.col, got, c.want)
		}
	}
	if got, want := nf["ts"], (t0+2)/1000; got != want {
		t.Errorf("NF ts = %v µs, want %d (the ns floored)", got, want)
	}
	if got, want := nf["endts"], (t0+9000)/1000; got != want {
		t.Errorf("NF endts = %v µs, want %d", got, want)
	}
}

// readMaps reads every row of a Parquet file as column name → value (nil for NULL).
func readMaps(t testing.TB, b []byte) []map[string]any {
	t.Helper()
	f := open(t, b)
	names := f.Schema().Columns()
	r := parquet.NewReader(bytes.NewReader(b))
	defer r.Close()
	var out []map[string]any
	row := make([]parquet.Row, 1)
	for {
		n, err := r.ReadRows(row)
		if n == 1 {
			m := map[string]any{}
			for _, v := range row[0] {
				name := names[v.Column()][0]
				switch {
				case v.IsNull():
					m[name] = nil
				case v.Kind() == parquet.Int32:
					m[name] = v.Int32()
				case v.Kind() == parquet.Int64:
					m[name] = v.Int64()
				case v.Kind() == parquet.Boolean:
					m[name] = v.Boolean()
				case v.Kind() == parquet.ByteArray:
					m[name] = string(v.ByteArray())
				default:
					t.Fatalf("column %s: kind %v", name, v.Kind())
				}
			}
			out = append(out, m)
		}
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Convert of a SysFlow file gives the rows of its events and flows, its sfstream.* metadata,
// and the same bytes every time.
func TestConvertCopiesMetadata(t *testing.T) {
	recs := stream(10)
	var sf bytes.Buffer
	w, err := sffile.NewWriter(&sf, recs[0].(*sysflow.Header), sffile.WithSyncMarker([16]byte{1}))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[1:] {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	conv := func() ([]byte, parquetfile.Stats) {
		var out bytes.Buffer
		st, err := parquetfile.Convert(&out, bytes.NewReader(sf.Bytes()), map[string]string{"sfstream.source": "x.sf"})
		if err != nil {
			t.Fatal(err)
		}
		return out.Bytes(), st
	}
	a, st := conv()
	if b, _ := conv(); !bytes.Equal(a, b) {
		t.Error("two conversions differ")
	}
	if st.Rows != 50 || st.ByKind[sysflow.KindNetworkFlow] != 10 {
		t.Errorf("stats %+v, want 50 rows, 10 NF", st)
	}
	f := open(t, a)
	if v, ok := f.Lookup("sfstream.source"); !ok || v != "x.sf" {
		t.Errorf("sfstream.source = %q", v)
	}
	if _, err := parquetfile.Convert(io.Discard, strings.NewReader("not avro"), nil); err == nil {
		t.Error("Convert of garbage: no error")
	}
}
