package consumer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/entities"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/sysprint"
	"github.com/sfstream/sfstream/sysflow"
)

// Start is where a Kafka source begins reading a partition that has no committed offset in
// its group (or any partition, without a group). The zero Start is AtStart.
type Start struct {
	kind   startKind
	time   time.Time
	offset int64
}

type startKind uint8

const (
	startFirst startKind = iota
	startEnd
	startTime
	startOffset
)

// AtStart starts at the oldest record each partition holds.
func AtStart() Start { return Start{} }

// AtEnd starts after the last committed record: only records committed from now on.
func AtEnd() Start { return Start{kind: startEnd} }

// AtTime starts at the first record whose Kafka timestamp is at t or later.
func AtTime(t time.Time) Start { return Start{kind: startTime, time: t} }

// AtOffset starts at offset off of every partition read (the partition's start or end if
// off is outside it).
func AtOffset(off int64) Start { return Start{kind: startOffset, offset: off} }

// KafkaConfig says which records of the topics a Kafka source reads.
type KafkaConfig struct {
	// Brokers are the seed brokers, host:port. Required.
	Brokers []string
	// RegistryURL is the schema registry (Confluent API) the records are decoded through.
	// Required.
	RegistryURL string
	// TopicPrefix is the prefix of the pipeline's topics: "staging." reads
	// staging.sysflow.events and staging.sysflow.entities. Default "".
	TopicPrefix string
	// Group makes the source a member of this consumer group: partitions are shared with the
	// group's other members, reading resumes at the group's committed offsets, and the
	// offsets of the records Next returned are committed (every few seconds, and by Close).
	// Default: no group.
	Group string
	// Partitions, without Group, reads only these partitions of sysflow.events. Default:
	// every partition.
	Partitions []int32
	// Start is where reading begins (without Group, in every partition; with Group, in
	// partitions without a committed offset). Default AtStart.
	Start Start
	// StopAtEnd makes Next return io.EOF once every partition has been read to the end
	// offset it had when reading began. Not with Group. Default: wait for new records.
	StopAtEnd bool
	// ClientOptions are franz-go options added to the connection settings of both clients
	// (TLS: kgo.DialTLSConfig; SASL: kgo.SASL; kgo.ClientID, ...). Default: none.
	ClientOptions []kgo.Opt
}

// Validate reports the first setting that cannot work.
func (c KafkaConfig) Validate() error {
	switch {
	case len(c.Brokers) == 0:
		return errors.New("kafka source: no brokers")
	case c.RegistryURL == "":
		return errors.New("kafka source: no schema registry URL")
	case c.Group != "" && len(c.Partitions) > 0:
		return errors.New("kafka source: Partitions are assigned by the group: set Group or Partitions, not both")
	case c.Group != "" && c.StopAtEnd:
		return errors.New("kafka source: StopAtEnd needs explicit partitions (no Group)")
	}
	return nil
}

// kafkaSource reads sysflow.events and joins each record with the entity table that a
// Follower keeps from sysflow.entities.
type kafkaSource struct {
	cfg    KafkaConfig
	opts   options
	filter *sysprint.Filter
	topic  string
	serde  *codec.Serde

	cl       *kgo.Client // sysflow.events
	entCl    *kgo.Client // sysflow.entities
	table    *entities.Table
	follower *entities.Follower
	stop     context.CancelFunc
	wg       sync.WaitGroup
	runErr   error // the follower's, after wg.Wait

	started bool
	ends    map[int32]int64 // StopAtEnd: where to stop
	pos     map[int32]int64 // next offset per partition
	pending []*kgo.Record
	headers map[string]*sysflow.Header
	closed  bool
}

// FromKafka returns a source of the records of sysflow.events (with cfg.TopicPrefix),
// joined with sysflow.entities, read_committed. It connects lazily: the first Next reads
// the whole entity topic, then the events.
func FromKafka(cfg KafkaConfig, opts ...Option) (Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o, filter, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	serde, err := codec.New(srclient.CreateSchemaRegistryClient(strings.TrimRight(cfg.RegistryURL, "/")))
	if err != nil {
		return nil, fmt.Errorf("kafka source: %w", err)
	}
	s := &kafkaSource{
		cfg: cfg, opts: o, filter: filter, serde: serde,
		topic:   cfg.TopicPrefix + kafka.EventsTopic,
		table:   entities.NewTable(entities.DefaultMaxVersions),
		headers: map[string]*sysflow.Header{},
		pos:     map[int32]int64{},
	}
	entTopic := cfg.TopicPrefix + kafka.EntitiesTopic
	base := append([]kgo.Opt{kgo.SeedBrokers(cfg.Brokers...)}, cfg.ClientOptions...)
	if s.entCl, err = kgo.NewClient(append(base, entities.ClientOpts(entTopic)...)...); err != nil {
		return nil, fmt.Errorf("kafka source: %w", err)
	}
	if s.follower, err = entities.NewFollower(s.entCl, entTopic, serde, s.table, entities.WithLogger(o.log)); err != nil {
		s.entCl.Close()
		return nil, fmt.Errorf("kafka source: %w", err)
	}
	evOpts := append(base,
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(), // transaction markers move the position to the end offsets
		kgo.FetchMaxWait(500*time.Millisecond),
	)
	if cfg.Group != "" {
		evOpts = append(evOpts,
			kgo.ConsumerGroup(cfg.Group),
			kgo.ConsumeTopics(s.topic),
			kgo.ConsumeResetOffset(resetOffset(cfg.Start)),
			kgo.AutoCommitMarks(),
		)
	} else {
		// Partitions and their start offsets are resolved at the first Next.
		evOpts = append(evOpts, kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	}
	if s.cl, err = kgo.NewClient(evOpts...); err != nil {
		s.entCl.Close()
		return nil, fmt.Errorf("kafka source: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runErr = s.follower.Run(ctx)
	}()
	return s, nil
}

// resetOffset is the franz-go form of a Start, for a group's partitions without commits.
func resetOffset(st Start) kgo.Offset {
	switch st.kind {
	case startEnd:
		return kgo.NewOffset().AtEnd()
	case startTime:
		return kgo.NewOffset().AfterMilli(st.time.UnixMilli())
	case startOffset:
		return kgo.NewOffset().At(st.offset)
	}
	return kgo.NewOffset().AtStart()
}

// begin loads the entity table and, without a group, resolves the partitions, their start
// offsets and (StopAtEnd) their end offsets.
func (s *kafkaSource) begin(ctx context.Context) error {
	if err := s.follower.Load(ctx); err != nil {
		return fmt.Errorf("kafka source: %w", err)
	}
	if s.cfg.Group != "" {
		return nil
	}
	adm := kadm.NewClient(s.cl)
	ends, err := listed(adm.ListCommittedOffsets(ctx, s.topic))
	if err != nil {
		return fmt.Errorf("kafka source: end offsets of %s: %w", s.topic, err)
	}
	var starts map[int32]int64
	switch st := s.cfg.Start; st.kind {
	case startFirst, startOffset:
		if starts, err = listed(adm.ListStartOffsets(ctx, s.topic)); err == nil && st.kind == startOffset {
			for p, first := range starts {
				starts[p] = min(max(st.offset, first), ends[p])
			}
		}
	case startEnd:
		starts = ends
	case startTime:
		starts, err = listed(adm.ListOffsetsAfterMilli(ctx, st.time.UnixMilli(), s.topic))
	}
	if err != nil {
		return fmt.Errorf("kafka source: start offsets of %s: %w", s.topic, err)
	}
	want := map[int32]bool{}
	for _, p := range s.cfg.Partitions {
		if _, ok := ends[p]; !ok {
			return fmt.Errorf("kafka source: %s has no partition %d", s.topic, p)
		}
		want[p] = true
	}
	offsets := map[int32]kgo.Offset{}
	s.ends = map[int32]int64{}
	for p, end := range ends {
		if len(want) > 0 && !want[p] {
			continue
		}
		start, ok := starts[p]
		if !ok || start < 0 || start > end { // no record at or after the time: the end
			start = end
		}
		offsets[p] = kgo.NewOffset().At(start)
		s.pos[p] = start
		s.ends[p] = end
	}
	s.cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{s.topic: offsets})
	return nil
}

// listed turns a kadm offset listing into offsets per partition.
func listed(l kadm.ListedOffsets, err error) (map[int32]int64, error) {
	if err == nil {
		err = l.Error()
	}
	if err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	l.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out, nil
}

// atEnd reports whether every partition has been read to its end offset (StopAtEnd).
func (s *kafkaSource) atEnd() bool {
	for p, end := range s.ends {
		if s.pos[p] < end {
			return false
		}
	}
	return true
}

func (s *kafkaSource) Next(ctx context.Context) (*sysflow.Flat, error) {
	if s.closed {
		return nil, errors.New("kafka source: closed")
	}
	if !s.started {
		if err := s.begin(ctx); err != nil {
			return nil, err
		}
		s.started = true
	}
	for {
		for len(s.pending) > 0 {
			r := s.pending[0]
			s.pending = s.pending[1:]
			flat, err := s.flatten(ctx, r)
			if err != nil {
				return nil, err
			}
			if s.cfg.Group != "" {
				s.cl.MarkCommitRecords(r)
			}
			if flat != nil && (s.filter == nil || s.filter.Match(flat)) {
				return flat, nil
			}
		}
		if s.cfg.StopAtEnd && s.atEnd() {
			return nil, io.EOF
		}
		if err := s.poll(ctx); err != nil {
			return nil, err
		}
	}
}

// poll fetches the next records of the topic and waits until the entity table has every
// entity written before they were fetched.
func (s *kafkaSource) poll(ctx context.Context) error {
	fetches := s.cl.PollFetches(ctx)
	if err := ctx.Err(); err != nil {
		return err
	}
	if fetches.IsClientClosed() {
		return errors.New("kafka source: client closed")
	}
	var ferr error
	fetches.EachError(func(t string, p int32, err error) {
		if ferr == nil && !errors.Is(err, context.Canceled) {
			ferr = fmt.Errorf("kafka source: fetch %s partition %d: %w", t, p, err)
		}
	})
	if ferr != nil {
		return ferr
	}
	fetches.EachRecord(func(r *kgo.Record) {
		if r.Offset < s.pos[r.Partition] && s.cfg.Group == "" {
			return
		}
		s.pos[r.Partition] = r.Offset + 1
		if end, ok := s.ends[r.Partition]; s.cfg.StopAtEnd && ok && r.Offset >= end {
			return
		}
		if r.Attrs.IsControl() {
			if s.cfg.Group != "" {
				s.cl.MarkCommitRecords(r)
			}
			return
		}
		s.pending = append(s.pending, r)
	})
	if len(s.pending) == 0 {
		return nil
	}
	// As the archiver does: the entities of these records were written before them, so
	// once the table has read sysflow.entities to its end offsets of now, it has them.
	targets, err := s.follower.EndOffsets(ctx)
	if err != nil {
		return fmt.Errorf("kafka source: %w", err)
	}
	if err := s.follower.Wait(ctx, targets); err != nil {
		return fmt.Errorf("kafka source: %w", err)
	}
	return nil
}

// flatten decodes r and joins it with the versions of its entities that the archiver would
// write with it; nil for a record to skip (no value, undecodable, an entity).
func (s *kafkaSource) flatten(ctx context.Context, r *kgo.Record) (*sysflow.Flat, error) {
	if r.Value == nil {
		return nil, nil
	}
	rec, err := entities.DecodeRetrying(ctx, s.serde, r.Value)
	if err != nil {
		if codec.IsBadRecord(err) {
			s.opts.log.Warn("undecodable record skipped", logKeyPartition, r.Partition, logKeyOffset, r.Offset, logKeyErr, err)
			return nil, nil
		}
		return nil, fmt.Errorf("kafka source: decode %s partition %d offset %d: %w", r.Topic, r.Partition, r.Offset, err)
	}
	if rec.Kind().IsEntity() {
		return nil, nil
	}
	exp := keyExporter(string(r.Key))
	kts := r.Timestamp.UnixMilli()
	ev := sysflow.EventFieldsOf(rec)
	flat := &sysflow.Flat{Kind: rec.Kind(), Rec: rec, Header: s.header(exp, kts)}
	proc := func(oid sysflow.OID) *sysflow.Process {
		if v, ok := s.table.Process(exp, oid, ev.TS, kts); ok {
			return v.Rec.(*sysflow.Process)
		}
		return nil
	}
	file := func(oid sysflow.FOID) *sysflow.File {
		if v, ok := s.table.File(exp, oid, ev.TS, kts); ok {
			return v.Rec.(*sysflow.File)
		}
		return nil
	}
	var procOID *sysflow.OID
	switch e := rec.(type) {
	case *sysflow.ProcessEvent:
		procOID = &e.ProcOID
	case *sysflow.NetworkFlow:
		procOID = &e.ProcOID
	case *sysflow.NetworkEvent:
		procOID = &e.ProcOID
	case *sysflow.ProcessFlow:
		procOID = &e.ProcOID
	case *sysflow.FileFlow:
		procOID = &e.ProcOID
		flat.File = file(e.FileOID)
	case *sysflow.FileEvent:
		procOID = &e.ProcOID
		flat.File = file(e.FileOID)
		if e.NewFileOID != nil {
			flat.NewFile = file(*e.NewFileOID)
		}
	}
	if procOID != nil {
		flat.Process = proc(*procOID)
	}
	if p := flat.Process; p != nil {
		if p.POID != nil {
			flat.Parent = proc(*p.POID)
		}
		if p.ContainerID != nil {
			if v, ok := s.table.Container(exp, *p.ContainerID, kts); ok {
				flat.Container = v.Rec.(*sysflow.Container)
			}
		}
	}
	return flat, nil
}

// header returns the exporter's header in the table, or one naming the exporter.
func (s *kafkaSource) header(exp string, kts int64) *sysflow.Header {
	if h, ok := s.table.Header(exp, kts); ok {
		return h
	}
	h := s.headers[exp]
	if h == nil {
		h = &sysflow.Header{Version: 5, Exporter: exp}
		s.headers[exp] = h
	}
	return h
}

// keyExporter returns the exporter of an event's key, <exporter>/P/<hpid>/<createTS>
// (DESIGN.md, "Identity and keys"); exporter names may contain slashes.
func keyExporter(key string) string {
	if i := strings.LastIndex(key, "/P/"); i >= 0 {
		return key[:i]
	}
	exp, _, _ := strings.Cut(key, "/")
	return exp
}

func (s *kafkaSource) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.cfg.Group != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if cerr := s.cl.CommitMarkedOffsets(ctx); cerr != nil {
			err = fmt.Errorf("kafka source: commit offsets: %w", cerr)
		}
		cancel()
	}
	s.cl.Close() // leaves the group
	s.stop()
	s.wg.Wait()
	s.entCl.Close()
	return errors.Join(err, s.runErr)
}
