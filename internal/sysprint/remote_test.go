package sysprint

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sfstream/sfstream/archiver/archive"
	"github.com/sfstream/sfstream/archiver/archivetest"
	"github.com/sfstream/sfstream/archiver/hourly"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/internal/stack"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/sysflow"
)

const remoteFields = "type,ts_uts,proc.exe,proc.pid,pproc.pid,file.path,node.id"

// remoteFixture is the default workload on a test stack: in sysflow.events and archived.
type remoteFixture struct {
	env     *testkit.Env
	kcfg    kafka.Config
	target  stack.ArchiveTarget
	want    map[string]int
	perHour map[int64]int
}

func newRemoteFixture(t *testing.T) *remoteFixture {
	t.Helper()
	env := testkit.New(t)
	kcfg, serde := archivetest.Setup(t, env)
	batches := archivetest.Default().Batches()
	want := archivetest.Expected(t, batches)
	archivetest.ProduceRaw(t, kcfg, serde, batches)
	archivetest.Process(t, kcfg, serde, archivetest.Count(want))
	f := &remoteFixture{env: env, kcfg: kcfg, target: env.Archive, want: want, perHour: map[int64]int{}}
	for k, n := range want {
		rec, err := sysflow.Unmarshal([]byte(k))
		if err != nil {
			t.Fatal(err)
		}
		f.perHour[hourly.HourOf(tsOf(rec))] += n
	}
	a, err := archive.New(archive.Config{
		Kafka: kcfg, Group: kcfg.TopicPrefix + "archivers", Target: f.target, StagingDir: t.TempDir(),
		IdleTimeout: time.Second,
	}, serde, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res := archivetest.Check(t, archivetest.ReadObjects(t, f.target), f.target.Prefix)
		if archivetest.Count(res.Events) >= archivetest.Count(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("archive incomplete after 60s: %d events of %d", archivetest.Count(res.Events), archivetest.Count(want))
		}
		time.Sleep(250 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return f
}

func tsOf(rec sysflow.Record) int64 {
	switch r := rec.(type) {
	case *sysflow.ProcessEvent:
		return r.TS
	case *sysflow.FileFlow:
		return r.TS
	case *sysflow.FileEvent:
		return r.TS
	case *sysflow.NetworkFlow:
		return r.TS
	}
	return 0
}

// checkRows parses flatjson output and checks that every flow has its process joined; it
// returns the number of rows.
func checkRows(t *testing.T, out string) int {
	t.Helper()
	n, flows := 0, 0
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatalf("output line %q: %v", sc.Text(), err)
		}
		n++
		typ, _ := row["type"].(string)
		if typ != "FF" && typ != "NF" {
			continue
		}
		flows++
		exe, _ := row["proc.exe"].(string)
		ppid, _ := row["pproc.pid"].(float64)
		node, _ := row["node.id"].(string)
		if exe != "/usr/bin/worker" || ppid != 100 || !strings.HasPrefix(node, "node-") {
			t.Fatalf("flow without its process joined: %s", sc.Text())
		}
		if typ == "FF" && row["file.path"] == "" {
			t.Fatalf("file flow without its file joined: %s", sc.Text())
		}
	}
	if flows == 0 {
		t.Fatal("no flows printed")
	}
	return n
}

func TestPrintS3AndKafka(t *testing.T) {
	f := newRemoteFixture(t)
	total := archivetest.Count(f.want)
	host, port, err := net.SplitHostPort(f.target.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	s3Path := "s3://" + f.target.Bucket + "/" + f.target.Prefix

	t.Run("s3 with sysprint's flags", func(t *testing.T) {
		out := mustSfprint(t, "-o", "flatjson", "-f", remoteFields, "-e", host, "-p", port, "-a", f.target.AccessKey,
			"-s", f.target.SecretKey, "--secure="+map[bool]string{true: "true", false: "false"}[f.target.Secure], s3Path)
		if n := checkRows(t, out); n != total {
			t.Errorf("printed %d records, want %d", n, total)
		}
	})
	t.Run("stats over s3", func(t *testing.T) {
		out := mustSfprint(t, "--stats", "-e", host, "-p", port, "-a", f.target.AccessKey,
			"-s", f.target.SecretKey, "--secure="+map[bool]string{true: "true", false: "false"}[f.target.Secure], s3Path)
		var captured int64
		for _, b := range archivetest.Default().Batches() {
			for _, e := range b.Events {
				if e.Op != raw.OpSnapshot {
					captured++
				}
			}
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		last := lines[len(lines)-1]
		want := fmt.Sprintf(" captured=%d lost=0 kernel=0 queue=0 other=0 excluded=0 coverage=100.00%%", captured)
		if !strings.HasPrefix(last, "TOTAL records=") || !strings.HasSuffix(last, want) || len(lines) < 5 {
			t.Errorf("--stats over s3 printed %d lines ending %q, want a TOTAL line ending %q", len(lines), last, want)
		}
		for _, l := range lines[:len(lines)-1] {
			if !strings.HasPrefix(l, s3Path+"/") || !strings.Contains(l, " coverage=100.00%") {
				t.Errorf("line %q: want an object of %s with coverage 100%%", l, s3Path)
			}
		}
	})
	t.Run("s3 from the environment, one hour", func(t *testing.T) {
		t.Setenv(envS3Endpoint, f.target.Endpoint)
		t.Setenv(envS3AccessKey, f.target.AccessKey)
		t.Setenv(envS3SecretKey, f.target.SecretKey)
		t.Setenv(envS3Secure, map[bool]string{true: "true", false: "false"}[f.target.Secure])
		first := archivetest.Boundary/1e9 - 3600
		hour := time.Unix(first, 0).UTC().Format(hourLayout)
		out := mustSfprint(t, "-o", "flatjson", "-f", remoteFields, "-from", hour, "-to", hour, s3Path)
		if n := checkRows(t, out); n != f.perHour[first] {
			t.Errorf("printed %d records of %s, want %d", n, hour, f.perHour[first])
		}
		out = mustSfprint(t, "-o", "flatjson", "-f", remoteFields, "--from", time.Unix(first+3600, 0).UTC().Format(hourLayout), s3Path)
		if n := checkRows(t, out); n != f.perHour[first+3600] {
			t.Errorf("printed %d records from the second hour, want %d", n, f.perHour[first+3600])
		}
	})
	t.Run("s3 with wrong credentials", func(t *testing.T) {
		if f.env.Mode == testkit.ModeEmbedded {
			s3 := archivetest.NewS3(t, "creds", "right", "right-secret")
			s3.Start(t)
			_, errOut, code := sfprint(t, "-e", s3.Target.Endpoint, "--secure=false", "-a", "wrong", "-s", "x", "s3://creds/")
			if code != 1 || !strings.Contains(errOut, "Access Key Id") {
				t.Errorf("exit %d, stderr %q: want a credentials error", code, errOut)
			}
			return
		}
		_, errOut, code := sfprint(t, "-e", f.target.Endpoint, "-a", f.target.AccessKey, "-s", "wrong", s3Path)
		if code != 1 || errOut == "" {
			t.Errorf("exit %d, stderr %q: want a credentials error", code, errOut)
		}
	})
	t.Run("kafka", func(t *testing.T) {
		path := "kafka://" + strings.Join(f.env.Brokers, ",") + "/" + f.kcfg.Topics().Events
		out := mustSfprint(t, "-o", "flatjson", "-f", remoteFields, "-registry", f.env.RegistryURL, path)
		if n := checkRows(t, out); n != total {
			t.Errorf("printed %d records, want %d", n, total)
		}
		out = mustSfprint(t, "-E", "-o", "flatjson", "-f", "type", "-registry", f.env.RegistryURL, path)
		if n := strings.Count(out, `"P"`); n == 0 {
			t.Error("-E printed no process entities")
		}
	})
	t.Run("filter", func(t *testing.T) {
		secure := map[bool]string{true: "true", false: "false"}[f.target.Secure]
		kafkaPath := "kafka://" + strings.Join(f.env.Brokers, ",") + "/" + f.kcfg.Topics().Events
		for _, src := range []struct {
			name string
			args []string
		}{
			{"s3", []string{"-e", host, "-p", port, "-a", f.target.AccessKey, "-s", f.target.SecretKey, "--secure=" + secure, s3Path}},
			{"kafka", []string{"-registry", f.env.RegistryURL, kafkaPath}},
		} {
			all := mustSfprint(t, append([]string{"-o", "flatjson", "-f", "type"}, src.args...)...)
			want := strings.Count(all, `"FF"`)
			got := mustSfprint(t, append([]string{"-o", "flatjson", "-f", "type", "--filter", "type = FF"}, src.args...)...)
			if want == 0 || want == strings.Count(all, "\n") || strings.Count(got, "\n") != want || strings.Count(got, `"FF"`) != want {
				t.Errorf("%s: --filter 'type = FF' printed %d records (%d FF) of %d, want the %d FF",
					src.name, strings.Count(got, "\n"), strings.Count(got, `"FF"`), strings.Count(all, "\n"), want)
			}
		}
	})
	t.Run("kafka topic missing", func(t *testing.T) {
		_, errOut, code := sfprint(t, "-registry", f.env.RegistryURL, "kafka://"+f.env.Brokers[0]+"/no-such-topic")
		if code != 1 || !strings.Contains(errOut, "no-such-topic") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
}

func TestRemoteSettings(t *testing.T) {
	env := map[string]string{}
	r := remoteConfig{getenv: func(k string) string { return env[k] }}
	if _, err := r.s3(); err == nil || !strings.Contains(err.Error(), "no endpoint") {
		t.Errorf("no endpoint: %v", err)
	}
	tests := []struct {
		name       string
		r          remoteConfig
		env        map[string]string
		wantHost   string
		wantSecure bool
	}{
		{"host only: https on 443", remoteConfig{endpoint: "s3.example.com"}, nil, "s3.example.com:443", true},
		{"host and -p, insecure", remoteConfig{endpoint: "minio", port: 9000, secure: optionalBool{true, false}}, nil, "minio:9000", false},
		{"no port, insecure: 80", remoteConfig{endpoint: "minio", secure: optionalBool{true, false}}, nil, "minio:80", false},
		{"env endpoint and secure", remoteConfig{}, map[string]string{envS3Endpoint: "minio:9000", envS3Secure: "false"}, "minio:9000", false},
		{"URL decides", remoteConfig{endpoint: "http://10.0.0.1:9000"}, nil, "10.0.0.1:9000", false},
		{"flag beats env", remoteConfig{endpoint: "a:1"}, map[string]string{envS3Endpoint: "b:2"}, "a:1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env = tt.env
			tt.r.getenv = r.getenv
			s, err := tt.r.s3()
			if err != nil {
				t.Fatal(err)
			}
			if s.hostport != tt.wantHost || s.secure != tt.wantSecure || s.region != "us-east-1" {
				t.Errorf("got %+v", s)
			}
		})
	}
	env = map[string]string{}
	if u := r.registryURL([]string{"kafka-1:9092"}); u != "http://kafka-1:8081" {
		t.Errorf("default registry %s", u)
	}
	if h, ok := objectHour("p/n/2023-11-14/22/n.2023111422.p3.late.2.sf"); !ok || h.Hour() != 22 {
		t.Errorf("objectHour = %v, %v", h, ok)
	}
}
