package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"
)

// SchemasTopic is the topic of the embedded cluster that keeps the registry's changes.
const SchemasTopic = "_schemas"

// maxBody bounds a registry request body, as srfake does.
const maxBody = 1 << 20

// Entry operations in SchemasTopic.
const (
	opRegister = "register" // a schema registered under subject/version with id
	opRequest  = "request"  // any other change (delete, config, mode), replayed as sent
)

// logEntry is one record of SchemasTopic (JSON value; the key is the subject).
type logEntry struct {
	Op      string     `json:"op"`
	Subject string     `json:"subject,omitempty"`
	Version int        `json:"version,omitempty"`
	ID      int        `json:"id,omitempty"`
	Schema  *sr.Schema `json:"schema,omitempty"`
	Method  string     `json:"method,omitempty"`
	URI     string     `json:"uri,omitempty"`
	Body    []byte     `json:"body,omitempty"`
}

type subjectVersion struct {
	subject string
	version int
}

// registry is srfake behind a handler that writes every change to SchemasTopic before
// answering, so that a restart replays the same subjects, versions and ids.
type registry struct {
	fake *srfake.Registry
	cl   *kgo.Client
	log  *slog.Logger

	mu        sync.Mutex // serialises changes and their records
	persisted map[subjectVersion]bool
}

// openRegistry creates SchemasTopic if needed, replays it into a new srfake and returns the
// registry, ready to serve.
func openRegistry(ctx context.Context, brokers []string, log *slog.Logger) (*registry, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ClientID("sfstream-stack-registry"))
	if err != nil {
		return nil, fmt.Errorf("open registry: %w", err)
	}
	r := &registry{fake: srfake.NewRegistry(), cl: cl, log: log, persisted: make(map[subjectVersion]bool)}
	if err := r.replay(ctx, brokers); err != nil {
		cl.Close()
		return nil, fmt.Errorf("open registry: %w", err)
	}
	return r, nil
}

func (r *registry) close() { r.cl.Close() }

// replay reads SchemasTopic from the start and applies its entries in order.
func (r *registry) replay(ctx context.Context, brokers []string) error {
	adm := kadm.NewClient(r.cl)
	_, err := adm.CreateTopic(ctx, 1, -1, map[string]*string{
		"cleanup.policy": kadm.StringPtr("delete"),
		"retention.ms":   kadm.StringPtr("-1"),
	}, SchemasTopic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create %s: %w", SchemasTopic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, SchemasTopic)
	if err != nil {
		return fmt.Errorf("list end offset of %s: %w", SchemasTopic, err)
	}
	end, ok := ends.Lookup(SchemasTopic, 0)
	if !ok || end.Err != nil {
		return fmt.Errorf("list end offset of %s: %w", SchemasTopic, errors.Join(errors.New("no partition 0"), end.Err))
	}
	if end.Offset == 0 {
		return nil
	}
	rd, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ClientID("sfstream-stack-registry-replay"),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{SchemasTopic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		return fmt.Errorf("replay %s: %w", SchemasTopic, err)
	}
	defer rd.Close()
	var n int
	for next := int64(0); next < end.Offset; {
		fs := rd.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("replay %s: at offset %d of %d: %w", SchemasTopic, next, end.Offset, err)
		}
		if err := fs.Err(); err != nil {
			return fmt.Errorf("replay %s: %w", SchemasTopic, err)
		}
		for it := fs.RecordIter(); !it.Done(); {
			rec := it.Next()
			next = rec.Offset + 1
			if err := r.apply(rec.Value); err != nil {
				return fmt.Errorf("replay %s offset %d: %w", SchemasTopic, rec.Offset, err)
			}
			n++
		}
	}
	r.log.Info("schema registry restored", logKeyTopic, SchemasTopic, logKeyRecords, n)
	return nil
}

// apply replays one entry into the fake.
func (r *registry) apply(value []byte) error {
	var e logEntry
	if err := json.Unmarshal(value, &e); err != nil {
		return fmt.Errorf("decode entry: %w", err)
	}
	switch e.Op {
	case opRegister:
		if e.Schema == nil || e.ID <= 0 || e.Version <= 0 {
			return fmt.Errorf("register entry for %q: missing schema, id or version", e.Subject)
		}
		if err := r.seed(e); err != nil {
			return err
		}
		r.persisted[subjectVersion{e.Subject, e.Version}] = true
	case opRequest:
		req := httptest.NewRequest(e.Method, e.URI, bytes.NewReader(e.Body))
		req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		w := httptest.NewRecorder()
		r.fake.Handler().ServeHTTP(w, req)
		if w.Code/100 != 2 {
			// The fake's state moved on in a way this request no longer applies to; the
			// original answer was a success, so report and keep going.
			r.log.Warn("schema registry replay: request not applied", logKeyMethod, e.Method, logKeyURI, e.URI, logKeyStatus, w.Code)
		}
	default:
		return fmt.Errorf("unknown entry op %q", e.Op)
	}
	return nil
}

// seed puts a registration back with its original id and version. A schema whose id is
// already present (the same schema under another subject) is registered again, which reuses
// the id and takes the next version of its subject, as it did originally; any other is
// seeded with its id, which also moves the fake's next id past it.
func (r *registry) seed(e logEntry) (err error) {
	if _, ok := r.fake.GetSchema(e.Subject, e.Version); ok {
		return nil // a duplicate entry
	}
	if r.knownID(e.ID) {
		id, version, err := r.fake.RegisterSchema(e.Subject, *e.Schema)
		if err != nil {
			return fmt.Errorf("restore %s version %d: %w", e.Subject, e.Version, err)
		}
		if id != e.ID || version != e.Version {
			return fmt.Errorf("restore %s: got id %d version %d, want id %d version %d", e.Subject, id, version, e.ID, e.Version)
		}
		return nil
	}
	defer func() {
		if p := recover(); p != nil { // SeedSchema panics on a taken slot or a bad schema
			err = fmt.Errorf("restore %s version %d id %d: %v", e.Subject, e.Version, e.ID, p)
		}
	}()
	r.fake.SeedSchema(e.Subject, e.Version, e.ID, *e.Schema)
	return nil
}

// knownID reports whether the fake has a schema with id.
func (r *registry) knownID(id int) bool {
	w := httptest.NewRecorder()
	r.fake.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, fmt.Sprintf("/schemas/ids/%d", id), nil))
	return w.Code == http.StatusOK
}

// ServeHTTP serves the registry API. Reads go straight to the fake; changes are serialised,
// applied, and recorded in SchemasTopic before the answer is sent. A change that cannot be
// recorded is answered with 500 (the client retries; the retry records it).
func (r *registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !changes(req) {
		r.fake.Handler().ServeHTTP(w, req)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeRegistryError(w, http.StatusBadRequest, 400, "request body unreadable or too large")
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	r.fake.Handler().ServeHTTP(rec, req)
	if rec.Code/100 == 2 {
		if err := r.record(req.Context(), req, body); err != nil {
			r.log.Error("schema registry change not persisted", logKeyMethod, req.Method, logKeyURI, req.URL.RequestURI(), logKeyErr, err)
			writeRegistryError(w, http.StatusInternalServerError, 50001, "error while storing the change: "+err.Error())
			return
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// changes reports whether req changes the registry (everything but reads, lookups and
// compatibility checks).
func changes(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	case http.MethodPost:
		_, ok := registerSubject(req)
		return ok
	}
	return true
}

// registerSubject returns the subject of a POST /subjects/{subject}/versions.
func registerSubject(req *http.Request) (string, bool) {
	parts := strings.Split(strings.Trim(req.URL.EscapedPath(), "/"), "/")
	if req.Method != http.MethodPost || len(parts) != 3 || parts[0] != "subjects" || parts[2] != "versions" {
		return "", false
	}
	s, err := url.PathUnescape(parts[1])
	return s, err == nil
}

// record writes the entry for a successful change and waits for the broker's ack.
func (r *registry) record(ctx context.Context, req *http.Request, body []byte) error {
	e := logEntry{Op: opRequest, Method: req.Method, URI: req.URL.RequestURI(), Body: body}
	if subject, ok := registerSubject(req); ok {
		var sch sr.Schema
		if err := json.Unmarshal(body, &sch); err != nil {
			return fmt.Errorf("decode registered schema: %w", err)
		}
		// Registering is idempotent: this returns the id and version just assigned.
		id, version, err := r.fake.RegisterSchema(subject, sch)
		if err != nil {
			return fmt.Errorf("look up registered schema: %w", err)
		}
		if r.persisted[subjectVersion{subject, version}] {
			return nil
		}
		e = logEntry{Op: opRegister, Subject: subject, Version: version, ID: id, Schema: &sch}
	}
	value, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode entry: %w", err)
	}
	res := r.cl.ProduceSync(ctx, &kgo.Record{Topic: SchemasTopic, Key: []byte(e.Subject), Value: value})
	if err := res.FirstErr(); err != nil {
		return fmt.Errorf("write %s: %w", SchemasTopic, err)
	}
	if e.Op == opRegister {
		r.persisted[subjectVersion{e.Subject, e.Version}] = true
	}
	return nil
}

func writeRegistryError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error_code": code, "message": msg})
}
