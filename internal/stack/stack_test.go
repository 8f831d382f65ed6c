package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/stack"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/sysflow"
)

func logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func start(ctx context.Context, t *testing.T, opts ...stack.Opt) *stack.Stack {
	t.Helper()
	s, err := stack.Start(ctx, append([]stack.Opt{stack.Logger(logger(t))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// registryDo sends a registry API request and returns the status and body.
func registryDo(t *testing.T, method, url string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// consumeGroup reads n records of topic as member of group and commits them.
func consumeGroup(ctx context.Context, t *testing.T, brokers []string, group, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// An empty partition's fetch must not hold back the others for the default 5s.
		kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("group %s: consumed %d of %d", group, len(out), n)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		out = append(out, fs.Records()...)
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRestartKeepsState(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	kcfg := kafka.Config{TopicPrefix: "r.", Partitions: 2}
	topics := kcfg.Topics()
	const group = "archiver"

	// First life: topics, schemas, records, a committed group offset, registry changes.
	s1 := start(ctx, t, stack.DataDir(dir))
	kcfg.Brokers = s1.Brokers()
	adm := kadm.NewClient(newClient(t, s1.Brokers()))
	if err := kafka.EnsureTopics(ctx, adm, nil, kcfg.TopicSpecs()...); err != nil {
		t.Fatal(err)
	}
	serde, err := codec.New(srclient.NewSchemaRegistryClient(s1.RegistryURL()))
	if err != nil {
		t.Fatal(err)
	}
	sfID, err := serde.RegisterSysFlow(ctx, topics.Events)
	if err != nil {
		t.Fatal(err)
	}
	rawID, err := serde.RegisterRaw(ctx, topics.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := serde.RegisterSysFlow(ctx, topics.Entities); err != nil || id != sfID {
		t.Fatalf("same schema, second subject: id %d %v", id, err)
	}
	code, body := registryDo(t, http.MethodPost, s1.RegistryURL()+"/subjects/gone-value/versions", map[string]string{"schema": `{"type":"record","name":"Gone","fields":[]}`})
	if code != http.StatusOK {
		t.Fatalf("register gone: %d %s", code, body)
	}
	var gone struct{ ID int }
	_ = json.Unmarshal([]byte(body), &gone)
	if code, body := registryDo(t, http.MethodDelete, s1.RegistryURL()+"/subjects/gone-value", nil); code != http.StatusOK {
		t.Fatalf("delete gone: %d %s", code, body)
	}
	if code, body := registryDo(t, http.MethodPut, s1.RegistryURL()+"/config/"+topics.Events+"-value", map[string]string{"compatibility": "FULL"}); code != http.StatusOK {
		t.Fatalf("set compat: %d %s", code, body)
	}

	cl := newClient(t, s1.Brokers())
	recs := testkit.SysFlowRecords()
	produce := func(cl *kgo.Client, recs []sysflow.Record) {
		for _, r := range recs {
			v, err := serde.AppendSysFlow(nil, sfID, r)
			if err != nil {
				t.Fatal(err)
			}
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topics.Events, Key: []byte("k"), Value: v}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	produce(cl, recs[:8])
	consumeGroup(ctx, t, s1.Brokers(), group, topics.Events, 8)
	produce(cl, recs[8:])
	cl.Close()
	if err := s1.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	// Second and third lives on the same data dir (random ports again).
	for life := 2; life <= 3; life++ {
		s := start(ctx, t, stack.DataDir(dir))
		adm := kadm.NewClient(newClient(t, s.Brokers()))
		details, err := adm.ListTopics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, spec := range kcfg.TopicSpecs() {
			if d, ok := details[spec.Name]; !ok || int32(len(d.Partitions)) != spec.Partitions {
				t.Errorf("life %d: topic %s lost or changed: %+v", life, spec.Name, d)
			}
		}
		offs, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			t.Fatal(err)
		}
		var committed int64
		offs.Each(func(o kadm.OffsetResponse) { committed += o.At })
		if want := map[int]int64{2: 8, 3: int64(len(recs))}[life]; committed != want {
			t.Errorf("life %d: committed offsets add up to %d, want %d", life, committed, want)
		}

		client := srclient.NewSchemaRegistryClient(s.RegistryURL())
		reader, err := codec.New(client)
		if err != nil {
			t.Fatal(err)
		}
		if life == 2 {
			rest := consumeGroup(ctx, t, s.Brokers(), group, topics.Events, len(recs)-8)
			for i, r := range rest {
				got, err := reader.DecodeSysFlow(ctx, r.Value)
				if err != nil || got.Kind() != recs[8+i].Kind() {
					t.Errorf("life %d: record %d after restart: %v %v", life, i, got, err)
				}
			}
		}
		if id, err := reader.RegisterSysFlow(ctx, topics.Events); err != nil || id != sfID {
			t.Errorf("life %d: sysflow id %d %v, want %d", life, id, err, sfID)
		}
		if id, err := reader.RegisterRaw(ctx, topics.Raw); err != nil || id != rawID {
			t.Errorf("life %d: raw id %d %v, want %d", life, id, err, rawID)
		}
		subjects, err := client.GetSubjects()
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(subjects)
		want := []string{topics.Entities + "-value", topics.Events + "-value", topics.Raw + "-value"}
		if life == 3 {
			want = append([]string{"new-value"}, want...)
		}
		if !slices.Equal(subjects, want) {
			t.Errorf("life %d: subjects %v, want %v", life, subjects, want)
		}
		if code, body := registryDo(t, http.MethodGet, s.RegistryURL()+"/config/"+topics.Events+"-value", nil); !strings.Contains(body, "FULL") {
			t.Errorf("life %d: subject config %d %s, want FULL", life, code, body)
		}
		code, body := registryDo(t, http.MethodPost, s.RegistryURL()+"/subjects/new-value/versions", map[string]string{"schema": fmt.Sprintf(`{"type":"record","name":"New%d","fields":[]}`, life)})
		var fresh struct{ ID int }
		if err := json.Unmarshal([]byte(body), &fresh); err != nil || code != http.StatusOK || fresh.ID <= max(sfID, rawID, gone.ID) {
			t.Errorf("life %d: new schema got %d %s; ids must not be reused (highest so far %d)", life, code, body, max(sfID, rawID, gone.ID))
		}
		gone.ID = fresh.ID
		if err := s.Close(); err != nil {
			t.Fatalf("life %d: close: %v", life, err)
		}
	}
}

func newClient(t *testing.T, brokers []string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func TestDataDirLocked(t *testing.T) {
	dir := t.TempDir()
	s := start(t.Context(), t, stack.DataDir(dir))
	if s2, err := stack.Start(t.Context(), stack.DataDir(dir)); err == nil {
		s2.Close()
		t.Fatal("second stack on the same data dir started")
	} else if !strings.Contains(err.Error(), "another stack uses it") {
		t.Fatalf("err = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	start(t.Context(), t, stack.DataDir(dir))
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Environment of the helper process.
const (
	helperBrokers  = "STACK_TEST_HELPER_BROKERS"
	helperRegistry = "STACK_TEST_HELPER_REGISTRY"
)

// TestHelperProcess is the other process of TestFixedPortsFromAnotherProcess: it lists the
// topics and the registry's subjects of the stack it is pointed at.
func TestHelperProcess(t *testing.T) {
	brokers := os.Getenv(helperBrokers)
	if brokers == "" {
		t.Skip("helper process only")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topics, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(os.Getenv(helperRegistry) + "/subjects")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	subjects, _ := io.ReadAll(resp.Body)
	fmt.Printf("topics=%v subjects=%s\n", topics.Names(), subjects)
}

func TestFixedPortsFromAnotherProcess(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	kport, rport := freePort(t), freePort(t)
	s := start(ctx, t, stack.KafkaPort(kport), stack.RegistryPort(rport))
	broker := "127.0.0.1:" + strconv.Itoa(kport)
	if got := s.Brokers(); len(got) != 1 || got[0] != broker {
		t.Fatalf("brokers %v, want [%s]", got, broker)
	}
	if got, want := s.RegistryURL(), "http://127.0.0.1:"+strconv.Itoa(rport); got != want {
		t.Fatalf("registry %s, want %s", got, want)
	}
	adm := kadm.NewClient(newClient(t, s.Brokers()))
	if _, err := adm.CreateTopic(ctx, 1, -1, nil, "visible"); err != nil {
		t.Fatal(err)
	}
	serde, err := codec.New(srclient.NewSchemaRegistryClient(s.RegistryURL()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := serde.RegisterSysFlow(ctx, "visible"); err != nil {
		t.Fatal(err)
	}

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), helperBrokers+"="+broker, helperRegistry+"="+s.RegistryURL())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper process: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "visible") || !strings.Contains(string(out), `"visible-value"`) {
		t.Fatalf("helper process did not see the topic and subject:\n%s", out)
	}

	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Log("kcat not installed: checked with the helper process only")
		return
	}
	out, err = exec.CommandContext(ctx, kcat, "-L", "-b", broker, "-m", "10").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `topic "visible"`) {
		t.Fatalf("kcat -L: %v\n%s", err, out)
	}
}

func TestInProcessS3(t *testing.T) {
	s := start(t.Context(), t, stack.InProcessS3(0, "archive"))
	a := s.Archive()
	if err := a.Validate(); err != nil || !a.IsS3() {
		t.Fatalf("archive %v: %v", a, err)
	}
	host, secure, err := a.HostPort()
	if err != nil {
		t.Fatal(err)
	}
	mc, err := minio.New(host, &minio.Options{Creds: credentials.NewStaticV4(a.AccessKey, a.SecretKey, ""), Secure: secure, Region: a.RegionOrDefault()})
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("sysflow")
	if _, err := mc.PutObject(t.Context(), a.Bucket, "p/x.sf", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatalf("put: %v", err)
	}
	obj, err := mc.GetObject(t.Context(), a.Bucket, "p/x.sf", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	got, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get: %q %v", got, err)
	}
}

func TestArchiveTarget(t *testing.T) {
	tests := []struct {
		name    string
		target  stack.ArchiveTarget
		host    string
		secure  bool
		wantErr string
	}{
		{"dir", stack.ArchiveTarget{Dir: "/data/archive"}, "", false, ""},
		{"none", stack.ArchiveTarget{}, "", false, "neither"},
		{"both", stack.ArchiveTarget{Dir: "d", Endpoint: "h:1", Bucket: "b"}, "", false, "both"},
		{"host port", stack.ArchiveTarget{Endpoint: "127.0.0.1:39000", Bucket: "b"}, "127.0.0.1:39000", false, ""},
		{"https url", stack.ArchiveTarget{Endpoint: "https://s3.example:443", Bucket: "b"}, "s3.example:443", true, ""},
		{"no bucket", stack.ArchiveTarget{Endpoint: "h:1"}, "h:1", false, "no bucket"},
		{"half credentials", stack.ArchiveTarget{Endpoint: "h:1", Bucket: "b", AccessKey: "a"}, "h:1", false, "go together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.target.Validate()
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if tt.host != "" {
				host, secure, err := tt.target.HostPort()
				if err != nil || host != tt.host || secure != tt.secure {
					t.Errorf("HostPort = %s %v %v", host, secure, err)
				}
			}
		})
	}
	if s := (stack.ArchiveTarget{Endpoint: "h:1", Bucket: "b", SecretKey: "hush"}).String(); strings.Contains(s, "hush") {
		t.Errorf("String leaks the secret: %s", s)
	}
}

func TestRunCancelledWhileStarting(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := stack.Run(ctx, stack.DataDir(t.TempDir())); err != nil {
		t.Fatalf("run: %v", err)
	}
}

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	port, rport := freePort(t), freePort(t)
	go func() {
		done <- stack.Run(ctx, stack.DataDir(t.TempDir()), stack.KafkaPort(port), stack.RegistryPort(rport))
	}()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(rport) + "/subjects")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("stack did not start")
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("broker still listening after Run returned")
	}
}
