package containers_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/producer/containers"
)

// fakeClient answers from a map; it counts lookups per id and can be made to fail or stall.
type fakeClient struct {
	mu      sync.Mutex
	known   map[string]raw.Container
	calls   map[string]int
	fail    error
	release chan struct{} // non-nil: Inspect waits for it
}

func newFake(known ...raw.Container) *fakeClient {
	f := &fakeClient{known: map[string]raw.Container{}, calls: map[string]int{}}
	for _, c := range known {
		f.known[c.ID] = c
	}
	return f
}

func (f *fakeClient) Inspect(ctx context.Context, id string) (raw.Container, error) {
	f.mu.Lock()
	f.calls[id]++
	rel, fail := f.release, f.fail
	c, ok := f.known[id]
	f.mu.Unlock()
	if rel != nil {
		select {
		case <-rel:
		case <-ctx.Done():
			return raw.Container{}, ctx.Err()
		}
	}
	if fail != nil {
		return raw.Container{}, fail
	}
	if !ok {
		return raw.Container{}, fmt.Errorf("fake: %w", containers.ErrNotFound)
	}
	return c, nil
}

func (f *fakeClient) API() string  { return "fake" }
func (f *fakeClient) Close() error { return nil }

func (f *fakeClient) callsOf(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

func (f *fakeClient) set(c raw.Container) {
	f.mu.Lock()
	f.known[c.ID] = c
	f.mu.Unlock()
}

// harness runs a cache's lookups and applies their answers as the capture does.
type harness struct {
	t     *testing.T
	cache *containers.Cache
	now   time.Time
	log   *bytes.Buffer
	reg   *prometheus.Registry
}

func newHarness(t *testing.T, client containers.Client, cfg containers.CacheConfig) *harness {
	reg := prometheus.NewRegistry()
	m, err := containers.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, now: time.Now(), log: &bytes.Buffer{}, reg: reg}
	h.cache = containers.NewCache(client, cfg, containers.WithMetrics(m),
		containers.WithCacheLogger(slog.New(slog.NewTextHandler(h.log, nil))))
	h.cache.Tick(h.now)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.cache.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return h
}

// answer waits for the next lookup's outcome and applies it.
func (h *harness) answer() (*raw.Container, bool) {
	h.t.Helper()
	select {
	case a := <-h.cache.Answers():
		return h.cache.Apply(a)
	case <-time.After(10 * time.Second):
		h.t.Fatal("no lookup answered")
		return nil, false
	}
}

// noAnswer checks that no lookup is under way.
func (h *harness) noAnswer() {
	h.t.Helper()
	select {
	case a := <-h.cache.Answers():
		h.t.Fatalf("unexpected lookup of %s", a.ID)
	case <-time.After(50 * time.Millisecond):
	}
}

func (h *harness) advance(d time.Duration) { h.now = h.now.Add(d); h.cache.Tick(h.now) }

// lookups reads sfstream_producer_container_lookups_total{result}.
func (h *harness) lookups(result string) float64 {
	h.t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "sfstream_producer_container_lookups_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

var (
	cgroupWeb = raw.Container{ID: "aaaaaaaaaaaa", Runtime: 0}
	webMeta   = raw.Container{ID: "aaaaaaaaaaaa", Name: "web", Image: "nginx:latest", ImageID: "beef", Runtime: 0}
)

// A container is looked up once, in the background: Get answers at once with the cgroup
// path's container until the answer is applied, then with the runtime's, and asks no more.
func TestCacheLooksUpOnce(t *testing.T) {
	f := newFake(webMeta)
	h := newHarness(t, f, containers.CacheConfig{})
	in := cgroupWeb
	for range 5 {
		if got := h.cache.Get(&in, 7, 1); *got != cgroupWeb {
			t.Fatalf("before the answer Get = %+v, want the cgroup's %+v", *got, cgroupWeb)
		}
	}
	c, changed := h.answer()
	if !changed || *c != webMeta {
		t.Fatalf("Apply = %+v, %v; want %+v, true", c, changed, webMeta)
	}
	for range 5 {
		if got := h.cache.Get(&in, 7, 1); got != c {
			t.Fatalf("after the answer Get = %+v, want the cached %+v", got, c)
		}
	}
	h.noAnswer()
	if n := f.callsOf(cgroupWeb.ID); n != 1 {
		t.Errorf("%d lookups, want 1", n)
	}
	if ok := h.lookups("ok"); ok != 1 {
		t.Errorf("lookups_total{result=ok} = %v, want 1", ok)
	}
}

// Get never waits for the runtime, however slow it is.
func TestCacheGetDoesNotWait(t *testing.T) {
	f := newFake(webMeta)
	f.release = make(chan struct{})
	h := newHarness(t, f, containers.CacheConfig{Workers: 1, Queue: 1})
	start := time.Now()
	for i := range 10_000 {
		c := raw.Container{ID: fmt.Sprintf("%012x", i)}
		if got := h.cache.Get(&c, 2, 1); got.ID != c.ID || got.Name != "" {
			t.Fatalf("Get = %+v", got)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("10000 Gets with a stalled runtime took %s", d)
	}
	close(f.release)
}

// A container is looked up again when its entry process (vpid 1) starts after the answer
// (a restart), and when the answer is older than the TTL; an answer that changes nothing
// changes nothing.
func TestCacheRefreshes(t *testing.T) {
	f := newFake(webMeta)
	h := newHarness(t, f, containers.CacheConfig{TTL: time.Hour})
	in := cgroupWeb
	h.cache.Get(&in, 1, 1)
	h.answer()
	answered := time.Now()

	h.cache.Get(&in, 1, answered.Add(-time.Minute).UnixNano()) // the entry process seen before: no lookup
	h.cache.Get(&in, 5, answered.Add(time.Minute).UnixNano())  // not the entry process: no lookup
	h.noAnswer()

	renamed := webMeta
	renamed.Name = "web-restarted"
	f.set(renamed)
	h.cache.Get(&in, 1, answered.Add(time.Minute).UnixNano()) // restarted
	if c, changed := h.answer(); !changed || c.Name != "web-restarted" {
		t.Fatalf("after a restart Apply = %+v, %v", c, changed)
	}

	h.advance(2 * time.Hour) // stale
	h.cache.Get(&in, 5, 1)
	if c, changed := h.answer(); changed {
		t.Errorf("a refresh that changes nothing reported a change: %+v", c)
	}
	if n := f.callsOf(in.ID); n != 3 {
		t.Errorf("%d lookups, want 3 (first, restart, TTL)", n)
	}
}

// A failed lookup is counted, logged once per container, and retried only after a backoff
// that doubles.
func TestCacheBacksOffAndLogsOnce(t *testing.T) {
	f := newFake()
	f.fail = fmt.Errorf("connection refused")
	h := newHarness(t, f, containers.CacheConfig{MinBackoff: time.Second, MaxBackoff: 4 * time.Second})
	in := cgroupWeb
	h.cache.Get(&in, 2, 1)
	h.answer()
	for _, step := range []struct {
		wait   time.Duration
		lookup bool
	}{
		{500 * time.Millisecond, false}, {500 * time.Millisecond, true}, // 1s after the first failure
		{1500 * time.Millisecond, false}, {500 * time.Millisecond, true}, // 2s after the second
		{3 * time.Second, false}, {time.Second, true}, // 4s
		{3 * time.Second, false}, {time.Second, true}, // capped at 4s
	} {
		h.advance(step.wait)
		h.cache.Get(&in, 2, 1)
		if step.lookup {
			if c, changed := h.answer(); changed || c != nil {
				t.Fatalf("a failed lookup changed the container: %+v", c)
			}
		} else {
			h.noAnswer()
		}
	}
	if got := h.lookups("error"); got != 5 {
		t.Errorf("lookups_total{result=error} = %v, want 5", got)
	}
	if n := strings.Count(h.log.String(), "lookup failed"); n != 1 {
		t.Errorf("failure logged %d times, want once:\n%s", n, h.log.String())
	}

	other := raw.Container{ID: "bbbbbbbbbbbb"}
	f.mu.Lock()
	f.fail = nil
	f.mu.Unlock()
	h.cache.Get(&other, 2, 1)
	h.answer()
	if got := h.lookups("not_found"); got != 1 {
		t.Errorf("lookups_total{result=not_found} = %v, want 1", got)
	}
}

// Without a runtime, Get gives back the cgroup path's container.
func TestCacheWithoutClient(t *testing.T) {
	c := containers.NewCache(nil, containers.CacheConfig{})
	in := cgroupWeb
	if got := c.Get(&in, 1, 1); got != &in {
		t.Errorf("Get without a client = %p, want its argument %p", got, &in)
	}
	if c.Get(nil, 1, 1) != nil {
		t.Error("Get(nil) is not nil")
	}
}

// BenchmarkCacheGet is the cost of the path every clone and exec in a container takes once
// the runtime has answered, over 64 containers.
func BenchmarkCacheGet(b *testing.B) {
	f := newFake()
	ids := make([]raw.Container, 64)
	for i := range ids {
		ids[i] = raw.Container{ID: fmt.Sprintf("%012x", i)}
		f.set(raw.Container{ID: ids[i].ID, Name: "n", Image: "i:latest"})
	}
	cache := containers.NewCache(f, containers.CacheConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cache.Run(ctx) }()
	for i := range ids {
		cache.Get(&ids[i], 2, 1)
	}
	for range ids {
		cache.Apply(<-cache.Answers())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if c := cache.Get(&ids[i&63], 2, 1); c.Name != "n" {
			b.Fatal("not cached")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
	cancel()
	<-done
}
