package containers

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/sfstream/sfstream/internal/raw"
)

// CacheConfig tunes a Cache. Zero fields take the documented defaults.
type CacheConfig struct {
	// Workers is how many lookups run at once. Default 2.
	Workers int
	// Queue bounds the lookups waiting for a worker; beyond it a lookup is tried again by a
	// later Get. Default 256.
	Queue int
	// Timeout bounds one lookup. Default 5s.
	Timeout time.Duration
	// TTL is how long an answer is served before the next Get refreshes it. Default 10m.
	TTL time.Duration
	// MinBackoff and MaxBackoff bound the wait before a failed lookup is retried; it doubles
	// from MinBackoff with each failure in a row. Defaults 1s and 5m.
	MinBackoff, MaxBackoff time.Duration
	// MaxEntries bounds the containers remembered; beyond it the half least recently used is
	// forgotten (and looked up again if seen again). Default 4096.
	MaxEntries int
}

func (c CacheConfig) withDefaults() CacheConfig {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.Queue <= 0 {
		c.Queue = 256
	}
	if c.MaxEntries <= 0 {
		c.MaxEntries = 4096
	}
	def(&c.Timeout, 5*time.Second)
	def(&c.TTL, 10*time.Minute)
	def(&c.MinBackoff, time.Second)
	def(&c.MaxBackoff, 5*time.Minute)
	return c
}

// Cache holds the runtime's answers by container id (see the package doc for its rules). Get,
// Apply and Tick belong to one goroutine (the capture's); Run runs the lookups on others.
type Cache struct {
	cfg     CacheConfig
	client  Client // nil: no lookups, every container stays as the cgroup path gives it
	log     *slog.Logger
	metrics *Metrics

	now      time.Time // coarse clock, set by Tick
	entries  map[string]*entry
	requests chan string
	answers  chan Answer
}

// entry is what the cache knows of one container.
type entry struct {
	c        *raw.Container // served by Get; never modified once served (replaced instead)
	answered time.Time      // when the current answer was taken; zero: never answered
	pending  bool           // a lookup is queued or running
	retryAt  time.Time      // no lookup before this (backoff after a failure)
	failures int            // failed lookups in a row
	logged   bool           // a failure of this container was logged
	used     time.Time      // last Get
}

// Answer is the outcome of one lookup, for Apply.
type Answer struct {
	ID  string
	C   raw.Container
	Err error
	At  time.Time // when the lookup was sent
}

// CacheOption configures a Cache.
type CacheOption func(*Cache)

// WithCacheLogger sets the logger for failed lookups (once per container). Default: discard.
func WithCacheLogger(l *slog.Logger) CacheOption { return func(c *Cache) { c.log = l } }

// WithMetrics counts lookups in m. Default: not counted.
func WithMetrics(m *Metrics) CacheOption { return func(c *Cache) { c.metrics = m } }

// NewCache returns a cache asking client (nil: never asking).
func NewCache(client Client, cfg CacheConfig, opts ...CacheOption) *Cache {
	cfg = cfg.withDefaults()
	c := &Cache{
		cfg: cfg, client: client, log: slog.New(slog.DiscardHandler), now: time.Now(),
		entries:  map[string]*entry{},
		requests: make(chan string, cfg.Queue),
		answers:  make(chan Answer, cfg.Queue),
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Tick advances the cache's clock (TTL and backoff are measured on it); the capture calls it
// on its flush timer, so that Get reads no clock.
func (c *Cache) Tick(now time.Time) { c.now = now }

// Answers delivers the lookups' outcomes; the owner passes each to Apply.
func (c *Cache) Answers() <-chan Answer { return c.answers }

// Get returns the container to report for a process in container ctr (as the cgroup path
// gives it: ID and Runtime): the runtime's answer when there is one, else ctr itself, and
// starts a lookup when one is due. vpid and start (ns since the epoch) are the process's: an
// entry process (vpid 1) started after the answer means the container restarted. The
// returned container is shared and must not be modified.
func (c *Cache) Get(ctr *raw.Container, vpid, start int64) *raw.Container {
	if ctr == nil || c.client == nil {
		return ctr
	}
	e, ok := c.entries[ctr.ID]
	if !ok {
		if len(c.entries) >= c.cfg.MaxEntries {
			c.evict()
		}
		e = &entry{c: ctr}
		c.entries[ctr.ID] = e
		c.metrics.setEntries(len(c.entries))
		c.request(ctr.ID, e)
		e.used = c.now
		return e.c
	}
	e.used = c.now
	if !e.pending && !c.now.Before(e.retryAt) {
		switch {
		case e.answered.IsZero(), // never answered: retry after the backoff
			c.now.Sub(e.answered) >= c.cfg.TTL,         // stale
			vpid == 1 && start > e.answered.UnixNano(): // restarted
			c.request(ctr.ID, e)
		}
	}
	return e.c
}

// request queues a lookup of id; when the queue is full, a later Get tries again.
func (c *Cache) request(id string, e *entry) {
	select {
	case c.requests <- id:
		e.pending = true
	default:
		e.retryAt = c.now.Add(c.cfg.MinBackoff)
	}
}

// Apply records a lookup's outcome. It returns the new container and true when the answer
// changes what Get returns (the capture then tells the processors); nil and false otherwise.
func (c *Cache) Apply(a Answer) (*raw.Container, bool) {
	e, ok := c.entries[a.ID]
	if !ok { // forgotten meanwhile
		return nil, false
	}
	e.pending = false
	if a.Err != nil {
		result := resultError
		if errors.Is(a.Err, ErrNotFound) {
			result = resultNotFound
		}
		c.metrics.lookup(result)
		e.failures++
		e.retryAt = c.now.Add(c.backoff(e.failures))
		if !e.logged {
			e.logged = true
			c.log.Warn("container metadata lookup failed: written as incomplete until it succeeds",
				keyContainer, a.ID, keyError, a.Err)
		}
		return nil, false
	}
	c.metrics.lookup(resultOK)
	e.failures, e.retryAt, e.answered = 0, time.Time{}, a.At
	got := a.C
	got.ID = a.ID
	if *e.c == got {
		return nil, false
	}
	e.c = &got
	if e.logged {
		c.log.Info("container metadata found", keyContainer, a.ID, keyName, got.Name, keyImage, got.Image)
	}
	return e.c, true
}

func (c *Cache) backoff(failures int) time.Duration {
	d := c.cfg.MinBackoff
	for i := 1; i < failures && d < c.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, c.cfg.MaxBackoff)
}

// evict forgets the half of the entries used least recently.
func (c *Cache) evict() {
	type used struct {
		id string
		at time.Time
	}
	all := make([]used, 0, len(c.entries))
	for id, e := range c.entries {
		all = append(all, used{id, e.used})
	}
	slices.SortFunc(all, func(a, b used) int { return a.at.Compare(b.at) })
	for _, u := range all[:len(all)/2] {
		delete(c.entries, u.id)
	}
}

// Len returns the number of containers held.
func (c *Cache) Len() int { return len(c.entries) }

// Run performs the queued lookups on CacheConfig.Workers goroutines until ctx is done, then
// closes the client. Every goroutine it starts has ended when it returns.
func (c *Cache) Run(ctx context.Context) error {
	if c.client == nil {
		<-ctx.Done()
		return nil
	}
	var wg sync.WaitGroup
	for range c.cfg.Workers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case id := <-c.requests:
					a := c.lookup(ctx, id)
					select {
					case c.answers <- a:
					case <-ctx.Done():
						return
					}
				}
			}
		})
	}
	wg.Wait()
	return c.client.Close()
}

func (c *Cache) lookup(ctx context.Context, id string) Answer {
	at := time.Now()
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	got, err := c.client.Inspect(ctx, id)
	return Answer{ID: id, C: got, Err: err, At: at}
}
