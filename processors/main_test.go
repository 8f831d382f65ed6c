package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/processors/state"
	"github.com/sfstream/sfstream/producer/synthetic"
	"github.com/sfstream/sfstream/sysflow"
)

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sf-processor")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestHelpDocumentsEveryFlag(t *testing.T) {
	var buf bytes.Buffer
	err := run(context.Background(), []string{"-h"}, func(string) string { return "" }, &buf)
	if err == nil {
		t.Fatal("-h returned no error")
	}
	for _, want := range []string{"-kafka-brokers", "-schema-registry-url", "-metrics-addr", "-topic-prefix", "-proc-flow", "-file-read-mode", "SFSTREAM_"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("help lacks %s", want)
		}
	}
}

func TestBadConfigIsAClearError(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(cfg, []byte("no-such-setting: 1\n"), 0o644)
	err := run(context.Background(), []string{"-config", cfg}, func(string) string { return "" }, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "no-such-setting") {
		t.Fatalf("err = %v, want one naming the unknown setting", err)
	}
	err = run(context.Background(), []string{"-file-read-mode", "7"}, func(string) string { return "" }, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "read mode") {
		t.Fatalf("err = %v, want a read-mode error", err)
	}
}

// Repeated kill -9 of the processor mid-stream loses and duplicates nothing: every process's
// sequence of SysFlow events is exactly what one uninterrupted run produces.
func TestKill9ExactlyOnce(t *testing.T) {
	bin := buildBinary(t)
	s := testkit.New(t)
	batches := workload(200)
	want := countEvents(t, batches)
	kcfg, serde := setupRaw(t, s, s.Prefix, batches)
	env := append(testkit.CleanEnv(),
		"SFSTREAM_KAFKA_BROKERS="+strings.Join(s.Brokers, ","),
		"SFSTREAM_SCHEMA_REGISTRY_URL="+s.RegistryURL,
		"SFSTREAM_TOPIC_PREFIX="+s.Prefix,
		"SFSTREAM_TRANSACTIONAL_ID="+s.Prefix+"processor",
		"SFSTREAM_INSTANCE_ID="+s.Prefix+"processor",
		"SFSTREAM_GROUP="+s.Prefix+"processors",
		"SFSTREAM_MAX_POLL_RECORDS=40",
		"SFSTREAM_PROC_FLOW=false", "SFSTREAM_FILE_ONLY=false", "SFSTREAM_FILE_READ_MODE=0",
		"SFSTREAM_METRICS_ADDR=127.0.0.1:0",
		"SFSTREAM_LOG_LEVEL=warn",
	)
	rng := rand.New(rand.NewPCG(1, 2))
	kills := 0
	for i := 0; i < 4; i++ {
		cmd := exec.Command(bin)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(800+rng.IntN(700)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		kills++
		if strings.Contains(stderr.String(), "panic") {
			t.Fatalf("processor panicked:\n%s", stderr.String())
		}
	}
	// A last instance runs to the end and stops cleanly on SIGTERM.
	cmd := exec.Command(bin)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	got := readEvents(t, kcfg, serde, want.total, 150*time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("processor did not exit cleanly on SIGTERM: %v\n%s", err, stderr.String())
	}
	t.Logf("%d kill -9s; %d event records read, %d expected", kills, got.total, want.total)
	if got.total != want.total {
		t.Errorf("read %d event records, want %d", got.total, want.total)
	}
	for k, n := range want.perKey {
		if got.perKey[k] != n {
			t.Errorf("%s: %d records, want %d", k, got.perKey[k], n)
		}
	}
}

func workload(n int) []*raw.Batch { return synthetic.Simple("node", n, 1_700_000_000_000_000_000) }

type counts struct {
	total  int
	perKey map[string]int
}

// countEvents runs the batches through one uninterrupted State and counts its event records.
func countEvents(t *testing.T, batches []*raw.Batch) counts {
	t.Helper()
	c := counts{perKey: map[string]int{}}
	st, err := state.New(state.ReferenceTestConfig(), outputFunc(func(k []byte) { c.total++; c.perKey[string(k)]++ }))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := st.Apply(b); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

type outputFunc func(key []byte)

func (outputFunc) Entity([]byte, sysflow.Record)      {}
func (f outputFunc) Event(k []byte, _ sysflow.Record) { f(k) }

// readEvents reads sysflow.events (read_committed) until want records arrived or wait passed,
// then lingers a second for duplicates.
func readEvents(t *testing.T, kcfg kafka.Config, serde *codec.Serde, want int, wait time.Duration) counts {
	t.Helper()
	cl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(
		kgo.ConsumeTopics(kcfg.Topics().Events), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	c := counts{perKey: map[string]int{}}
	deadline := time.Now().Add(wait)
	linger := time.Time{}
	for time.Now().Before(deadline) && (linger.IsZero() || time.Now().Before(linger)) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if r.Value == nil {
				return // a count record: capture counts in its headers
			}
			if _, err := serde.DecodeSysFlow(context.Background(), r.Value); err != nil {
				t.Errorf("decode event: %v", err)
			}
			c.total++
			c.perKey[string(r.Key)]++
		})
		cancel()
		if c.total >= want && linger.IsZero() {
			linger = time.Now().Add(time.Second)
		}
	}
	return c
}

// setupRaw creates the topics under prefix and produces batches to its raw topic.
func setupRaw(t *testing.T, s *testkit.Env, prefix string, batches []*raw.Batch) (kafka.Config, *codec.Serde) {
	t.Helper()
	ctx := context.Background()
	kcfg := kafka.Config{Brokers: s.Brokers, Partitions: 6, TopicPrefix: prefix}
	serde, err := codec.New(srclient.CreateSchemaRegistryClient(s.RegistryURL))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kafka.NewClient(kcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := kafka.EnsureTopics(ctx, kadm.NewClient(cl), nil, kcfg.TopicSpecs()...); err != nil {
		t.Fatal(err)
	}
	id, err := serde.RegisterRaw(ctx, kcfg.Topics().Raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		v, err := serde.AppendRaw(nil, id, b)
		if err != nil {
			t.Fatal(err)
		}
		cl.Produce(ctx, &kgo.Record{Topic: kcfg.Topics().Raw, Key: raw.Key(b.Exporter, b.HPID, b.CreateTS), Value: v}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	return kcfg, serde
}

// multiset reads sysflow.events (read_committed) until want records or wait, lingers for
// duplicates, and returns the records' renderings with their counts.
func multiset(t *testing.T, kcfg kafka.Config, serde *codec.Serde, want int, wait time.Duration) map[string]int {
	t.Helper()
	cl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(kgo.ConsumeTopics(kcfg.Topics().Events),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	out, n := map[string]int{}, 0
	deadline, linger := time.Now().Add(wait), time.Time{}
	for time.Now().Before(deadline) && (linger.IsZero() || time.Now().Before(linger)) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if r.Value == nil {
				return // a count record: capture counts in its headers
			}
			rec, err := serde.DecodeSysFlow(context.Background(), r.Value)
			if err != nil {
				t.Errorf("decode: %v", err)
				return
			}
			out[fmt.Sprintf("%s %+v", rec.Kind(), rec)]++
			n++
		})
		cancel()
		if n >= want && linger.IsZero() {
			linger = time.Now().Add(2 * time.Second)
		}
	}
	return out
}

// The same raw stream processed by one instance, and by three instances of which one is
// killed (SIGKILL) mid-stream while a fourth joins, gives the same multiset of SysFlow
// records: nothing lost, nothing duplicated.
func TestScaleOutWithKillSameRecords(t *testing.T) {
	bin := buildBinary(t)
	s := testkit.New(t)
	batches := workload(600)
	want := countEvents(t, batches).total
	start := func(kcfg kafka.Config, name string) *exec.Cmd {
		cmd := exec.Command(bin)
		cmd.Env = append(testkit.CleanEnv(),
			"SFSTREAM_KAFKA_BROKERS="+strings.Join(s.Brokers, ","), "SFSTREAM_SCHEMA_REGISTRY_URL="+s.RegistryURL,
			"SFSTREAM_TOPIC_PREFIX="+kcfg.TopicPrefix, "SFSTREAM_GROUP="+kcfg.TopicPrefix+"processors",
			"SFSTREAM_TRANSACTIONAL_ID="+kcfg.TopicPrefix+name, "SFSTREAM_SESSION_TIMEOUT=6s",
			"SFSTREAM_MAX_POLL_RECORDS=40", "SFSTREAM_PARTITIONS=6",
			"SFSTREAM_PROC_FLOW=false", "SFSTREAM_FILE_ONLY=false", "SFSTREAM_FILE_READ_MODE=0",
			"SFSTREAM_METRICS_ADDR=127.0.0.1:0", "SFSTREAM_LOG_LEVEL=error")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	stop := func(cmds ...*exec.Cmd) {
		for _, c := range cmds {
			c.Process.Signal(syscall.SIGTERM)
			if err := c.Wait(); err != nil {
				t.Errorf("processor %v did not run and stop cleanly: %v", c.Env[len(c.Env)-9], err)
			}
		}
	}

	oneCfg, serde := setupRaw(t, s, s.Prefix+"one.", batches)
	one := start(oneCfg, "p1")
	single := multiset(t, oneCfg, serde, want, 150*time.Second)
	stop(one)

	threeCfg, serde := setupRaw(t, s, s.Prefix+"three.", batches)
	a, b, c := start(threeCfg, "p1"), start(threeCfg, "p2"), start(threeCfg, "p3")
	// Kill one instance as soon as output starts flowing: mid-stream.
	adm, err := kafka.NewClient(threeCfg)
	if err != nil {
		t.Fatal(err)
	}
	var atKill int64
	for deadline := time.Now().Add(60 * time.Second); atKill < 50 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ends, err := kadm.NewClient(adm).ListEndOffsets(context.Background(), threeCfg.Topics().Events)
		if err != nil {
			t.Fatal(err)
		}
		atKill = 0
		ends.Each(func(o kadm.ListedOffset) { atKill += o.Offset })
	}
	adm.Close()
	t.Logf("at the kill, sysflow.events holds %d offsets (records and transaction markers) of %d records expected", atKill, want)
	b.Process.Signal(syscall.SIGKILL)
	b.Wait()
	d := start(threeCfg, "p4")
	scaled := multiset(t, threeCfg, serde, want, 150*time.Second)
	stop(a, c, d)

	count := func(m map[string]int) (n int) {
		for _, v := range m {
			n += v
		}
		return n
	}
	t.Logf("one instance: %d records; three with a kill and a join: %d; expected %d", count(single), count(scaled), want)
	if count(single) != want {
		t.Errorf("one instance wrote %d event records, want %d", count(single), want)
	}
	for k, n := range single {
		if scaled[k] != n {
			t.Errorf("record written %d times by three instances, %d by one: %.150s", scaled[k], n, k)
		}
	}
	for k, n := range scaled {
		if _, ok := single[k]; !ok {
			t.Errorf("record written %d times by three instances, never by one: %.150s", n, k)
		}
	}
}
