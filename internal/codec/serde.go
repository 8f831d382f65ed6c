package codec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riferrei/srclient"

	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/schemas"
	"github.com/sfstream/sfstream/sysflow"
)

// Log keys.
const (
	logKeySubject  = "subject"
	logKeyID       = "schema_id"
	logKeyAttempt  = "attempt"
	logKeyRegistry = "registry"
	logKeyErr      = "err"
)

// MaxRawItems bounds the items of any one array of a raw batch (events, fds, args, env): a
// block count in corrupt input makes the decoder allocate that many items at once.
const MaxRawItems = 1 << 16

// rawLimits are the bounds of the hamba/avro configuration (Serde.api) for raw.DecodeBatchLimits,
// so that both decoders accept the same values.
var rawLimits = raw.DecodeLimits{MaxFieldBytes: sysflow.MaxFieldBytes, MaxItems: MaxRawItems}

// Option configures a Serde.
type Option func(*config)

type config struct {
	log     *slog.Logger
	reg     prometheus.Registerer
	backoff backoff
}

// WithLogger sets the logger for registrations and registry failures. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithMetrics registers the package's metrics on reg. Default: no metrics are registered.
func WithMetrics(reg prometheus.Registerer) Option { return func(c *config) { c.reg = reg } }

// WithBackoff sets the first and the largest delay between registration attempts while the
// registry is unreachable. Default: 100ms, doubling up to 5s, with jitter.
func WithBackoff(first, largest time.Duration) Option {
	return func(c *config) { c.backoff = backoff{min: first, max: max(first, largest)} }
}

// Serde encodes and decodes record values in the registry wire format. It is safe for
// concurrent use.
type Serde struct {
	client  srclient.ISchemaRegistryClient
	log     *slog.Logger
	backoff backoff
	m       *metrics
	api     avro.API

	sysflowText string // our schemas as registered
	rawText     string

	sysflowEnc sync.Pool // *sysflow.Encoder
	rawEnc     sync.Pool // *avro.Writer
	rawDec     sync.Pool // *avro.Reader

	mu       sync.RWMutex
	ids      map[string]int // subject → id of our schema under it
	sysflows map[int]*sysflowReader
	raws     map[int]*rawReader
}

// New returns a Serde using client. It turns off the client's goavro codec creation (our
// schemas are decoded with hamba/avro; goavro need not be able to parse them).
func New(client srclient.ISchemaRegistryClient, opts ...Option) (*Serde, error) {
	if client == nil {
		return nil, errors.New("new serde: nil registry client")
	}
	cfg := config{
		log:     slog.New(slog.DiscardHandler),
		backoff: backoff{min: 100 * time.Millisecond, max: 5 * time.Second},
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.backoff.min <= 0 {
		return nil, errors.New("new serde: backoff must be positive")
	}
	s := &Serde{
		client:      client,
		log:         cfg.log,
		backoff:     cfg.backoff,
		m:           newMetrics(),
		api:         avro.Config{MaxByteSliceSize: sysflow.MaxFieldBytes, MaxSliceAllocSize: MaxRawItems}.Freeze(),
		sysflowText: schemas.Compact(schemas.SysFlow()),
		rawText:     schemas.Compact(schemas.Raw()),
		ids:         make(map[string]int),
		sysflows:    make(map[int]*sysflowReader),
		raws:        make(map[int]*rawReader),
	}
	if cfg.reg != nil {
		if err := s.m.register(cfg.reg); err != nil {
			return nil, fmt.Errorf("new serde: register metrics: %w", err)
		}
	}
	client.CodecCreationEnabled(false)
	s.sysflowEnc.New = func() any { return sysflow.NewEncoder() }
	s.rawEnc.New = func() any { return avro.NewWriter(nil, 1024, avro.WithWriterConfig(s.api)) }
	s.rawDec.New = func() any { return avro.NewReader(nil, 0, avro.WithReaderConfig(s.api)) }
	return s, nil
}

// RegisterSysFlow registers the SysFlow schema under topic's subject and returns its id. While
// the registry is unreachable or failing it retries with backoff until ctx ends; a registry
// that rejects the schema (4xx) fails at once.
func (s *Serde) RegisterSysFlow(ctx context.Context, topic string) (int, error) {
	id, err := s.register(ctx, topic, s.sysflowText)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	if s.sysflows[id] == nil {
		r, _ := newSysflowReader("") // our own schema always builds
		s.sysflows[id] = r
		s.m.writerSchemas.Inc()
	}
	s.mu.Unlock()
	return id, nil
}

// RegisterRaw registers the raw batch schema under topic's subject and returns its id, with the
// same retries as RegisterSysFlow.
func (s *Serde) RegisterRaw(ctx context.Context, topic string) (int, error) {
	id, err := s.register(ctx, topic, s.rawText)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	if s.raws[id] == nil {
		s.raws[id] = &rawReader{schema: raw.Schema, fast: true}
		s.m.writerSchemas.Inc()
	}
	s.mu.Unlock()
	return id, nil
}

func (s *Serde) register(ctx context.Context, topic, text string) (int, error) {
	subject := Subject(topic)
	s.mu.RLock()
	id, ok := s.ids[subject]
	s.mu.RUnlock()
	if ok {
		return id, nil
	}
	url := s.client.GetSchemaRegistryURL()
	attempts, err := s.backoff.retry(ctx, func() error {
		sch, err := s.client.CreateSchema(subject, text, srclient.Avro)
		if err != nil {
			s.m.request(opRegister, resultError)
			s.log.Warn("schema registry request failed", logKeySubject, subject, logKeyRegistry, url, logKeyErr, err)
			return err
		}
		s.m.request(opRegister, resultOK)
		id = sch.ID()
		return nil
	})
	if err != nil {
		if retryable(err) {
			return 0, fmt.Errorf("register schema under %s at %s: gave up after %d attempts: %w", subject, url, attempts, err)
		}
		return 0, fmt.Errorf("register schema under %s at %s: %w", subject, url, err)
	}
	s.mu.Lock()
	s.ids[subject] = id
	s.mu.Unlock()
	s.log.Info("schema registered", logKeySubject, subject, logKeyID, id, logKeyAttempt, attempts)
	return id, nil
}

// AppendSysFlow appends rec in the wire format with schema id to dst. On error dst is
// returned unchanged.
func (s *Serde) AppendSysFlow(dst []byte, id int, rec sysflow.Record) ([]byte, error) {
	e := s.sysflowEnc.Get().(*sysflow.Encoder)
	defer s.sysflowEnc.Put(e)
	n := len(dst)
	out, err := e.Append(AppendHeader(dst, id), rec)
	if err != nil {
		return dst[:n], fmt.Errorf("append sysflow value: %w", err)
	}
	return out, nil
}

// AppendRaw appends b in the wire format with schema id to dst. On error dst is returned
// unchanged.
func (s *Serde) AppendRaw(dst []byte, id int, b *raw.Batch) ([]byte, error) {
	w := s.rawEnc.Get().(*avro.Writer)
	defer s.rawEnc.Put(w)
	w.Reset(nil)
	w.Error = nil
	w.WriteVal(raw.Schema, b)
	if w.Error != nil {
		return dst, fmt.Errorf("append raw value: %w", w.Error)
	}
	return append(AppendHeader(dst, id), w.Buffer()...), nil
}

// DecodeSysFlow decodes a wire-format SysFlow value written with any schema id whose schema
// resolves against v5.
func (s *Serde) DecodeSysFlow(ctx context.Context, b []byte) (sysflow.Record, error) {
	rec, err := s.decodeSysFlow(ctx, b)
	if err != nil {
		s.m.decodeError(err)
		return nil, fmt.Errorf("decode sysflow value: %w", err)
	}
	return rec, nil
}

func (s *Serde) decodeSysFlow(ctx context.Context, b []byte) (sysflow.Record, error) {
	id, body, err := ParseHeader(b)
	if err != nil {
		return nil, err
	}
	r, err := s.sysflowReader(ctx, id)
	if err != nil {
		return nil, err
	}
	d, err := r.get()
	if err != nil {
		return nil, err
	}
	defer r.pool.Put(d)
	rec, err := d.Decode(body)
	if err != nil {
		if errors.Is(err, sysflow.ErrUnknownKind) {
			return nil, fmt.Errorf("schema id %d: %w: %w", id, ErrIncompatible, err)
		}
		return nil, fmt.Errorf("schema id %d: %w: %w", id, ErrMalformed, err)
	}
	return rec, nil
}

// DecodeRaw decodes a wire-format raw batch value into dst (overwriting it) and validates it.
func (s *Serde) DecodeRaw(ctx context.Context, b []byte, dst *raw.Batch) error {
	if err := s.decodeRaw(ctx, b, dst); err != nil {
		s.m.decodeError(err)
		return fmt.Errorf("decode raw value: %w", err)
	}
	return nil
}

func (s *Serde) decodeRaw(ctx context.Context, b []byte, dst *raw.Batch) error {
	id, body, err := ParseHeader(b)
	if err != nil {
		return err
	}
	rr, err := s.rawReader(ctx, id)
	if err != nil {
		return err
	}
	if rr.fast {
		// raw.DecodeBatchLimits reuses dst.Events' array and clears what it does not overwrite.
		if err := raw.DecodeBatchLimits(body, dst, rawLimits); err != nil {
			return fmt.Errorf("schema id %d: %w: %w", id, ErrMalformed, err)
		}
		return dst.Validate()
	}
	if err := sysflow.CheckMinLong(body); err != nil { // hamba/avro v2.31 mis-decodes it
		return fmt.Errorf("schema id %d: %w: %w", id, ErrMalformed, err)
	}
	r := s.rawDec.Get().(*avro.Reader)
	defer s.rawDec.Put(r)
	r.Reset(body)
	r.Error = nil
	evs := dst.Events[:cap(dst.Events)]
	clear(evs) // keep the backing array, drop what the last batch's events held
	*dst = raw.Batch{Events: evs[:0]}
	r.ReadVal(rr.schema, dst)
	if r.Error != nil {
		return fmt.Errorf("schema id %d: %w: %w", id, ErrMalformed, r.Error)
	}
	if r.Peek(); r.Error == nil { // a read past the end sets io.EOF
		return fmt.Errorf("schema id %d: %w: trailing bytes after the batch", id, ErrMalformed)
	}
	return dst.Validate()
}

// fetch returns the text of the writer schema id.
func (s *Serde) fetch(ctx context.Context, id int) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("fetch schema id %d: %w", id, err)
	}
	sch, err := s.client.GetSchema(id)
	if err != nil {
		if notFound(err) {
			s.m.request(opFetch, resultNotFound)
			return "", &UnknownIDError{ID: id}
		}
		s.m.request(opFetch, resultError)
		return "", fmt.Errorf("fetch schema id %d from %s: %w", id, s.client.GetSchemaRegistryURL(), err)
	}
	s.m.request(opFetch, resultOK)
	if t := sch.SchemaType(); t != nil && *t != "" && *t != srclient.Avro {
		return "", fmt.Errorf("schema id %d: %w: schema type %s", id, ErrIncompatible, *t)
	}
	return sch.Schema(), nil
}

// sysflowReader returns the cached decoders for writer schema id, fetching and resolving the
// schema on first use. A schema that cannot be resolved is cached as an error.
func (s *Serde) sysflowReader(ctx context.Context, id int) (*sysflowReader, error) {
	r, err := readerFor(ctx, s, s.sysflows, id, newSysflowReader, func(err error) *sysflowReader { return &sysflowReader{err: err} })
	if err != nil {
		return nil, err
	}
	return r, r.err
}

// rawReader is sysflowReader for raw batches.
func (s *Serde) rawReader(ctx context.Context, id int) (*rawReader, error) {
	r, err := readerFor(ctx, s, s.raws, id, newRawReader, func(err error) *rawReader { return &rawReader{err: err} })
	if err != nil {
		return nil, err
	}
	return r, r.err
}

// readerFor returns the reader of writer schema id cached in m, else builds it from the
// fetched schema and caches it; a schema that cannot be used is cached as failed(err). An
// error is returned only when the schema could not be fetched (not cached: retried later).
func readerFor[R any](ctx context.Context, s *Serde, m map[int]*R, id int, build func(string) (*R, error), failed func(error) *R) (*R, error) {
	s.mu.RLock()
	r := m[id]
	s.mu.RUnlock()
	if r != nil {
		return r, nil
	}
	text, err := s.fetch(ctx, id)
	if err != nil && !errors.Is(err, ErrIncompatible) {
		return nil, err
	}
	if err == nil {
		r, err = build(text)
	}
	if err != nil {
		r = failed(fmt.Errorf("schema id %d: %w", id, err))
	}
	return cacheReader(s, m, id, r), nil
}

// cacheReader stores r for id unless another goroutine stored one first, and returns the
// stored one.
func cacheReader[R any](s *Serde, m map[int]*R, id int, r *R) *R {
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev := m[id]; prev != nil {
		return prev
	}
	m[id] = r
	s.m.writerSchemas.Inc()
	return r
}

// sysflowReader pools SysFlow decoders for one writer schema (sysflow.Decoder is not safe
// for concurrent use).
type sysflowReader struct {
	err  error
	pool sync.Pool // *sysflow.Decoder
}

// newSysflowReader builds decoders for writer schema text ("" for our own v5 schema).
func newSysflowReader(text string) (*sysflowReader, error) {
	if text != "" {
		ws, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
		if err != nil {
			return nil, fmt.Errorf("%w: parse: %w", ErrIncompatible, err)
		}
		if ws.Fingerprint() == sysflow.Schema().Fingerprint() {
			text = ""
		}
	}
	d, err := sysflow.NewDecoder(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrIncompatible, err)
	}
	r := &sysflowReader{}
	r.pool.New = func() any {
		d, err := sysflow.NewDecoder(text)
		if err != nil {
			return err // cannot happen: the same text built a decoder above
		}
		return d
	}
	r.pool.Put(d)
	return r, nil
}

func (r *sysflowReader) get() (*sysflow.Decoder, error) {
	switch v := r.pool.Get().(type) {
	case *sysflow.Decoder:
		return v, nil
	case error:
		return nil, fmt.Errorf("%w: %w", ErrIncompatible, v)
	default:
		return nil, fmt.Errorf("%w: no decoder", ErrIncompatible)
	}
}

// rawReader holds the schema that reads one writer schema's raw batches into raw.Batch. When
// the writer schema is ours (the same canonical form, so the same binary encoding) fast is set
// and batches are decoded by raw.DecodeBatchLimits, hand-written for that encoding; any other
// writer schema is resolved against ours and read by hamba/avro.
type rawReader struct {
	err    error
	schema avro.Schema
	fast   bool
}

func newRawReader(text string) (*rawReader, error) {
	ws, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("%w: parse: %w", ErrIncompatible, err)
	}
	if ws.Fingerprint() == raw.Schema.Fingerprint() {
		return &rawReader{schema: raw.Schema, fast: true}, nil
	}
	rs, ok := ws.(*avro.RecordSchema)
	if !ok || rs.FullName() != raw.Schema.(*avro.RecordSchema).FullName() {
		return nil, fmt.Errorf("%w: writer schema is %s, want record %s", ErrIncompatible, ws.Type(), raw.Schema.(*avro.RecordSchema).FullName())
	}
	res, err := avro.NewSchemaCompatibility().Resolve(raw.Schema, ws)
	if err != nil {
		return nil, fmt.Errorf("%w: resolve against raw schema: %w", ErrIncompatible, err)
	}
	return &rawReader{schema: res}, nil
}
