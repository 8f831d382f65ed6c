package sysprint

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/sysflow"
)

// printKafka prints a topic of SysFlow records (sysflow.events, sysflow.entities) from its
// start to its current end, read_committed, decoding through the schema registry. Events are
// joined with the entities of the sysflow.entities topic with the same prefix, read first.
// Process OIDs and FOIDs are unique per exporter, so each exporter (the first part of the
// Kafka keys) has its own entities.
func printKafka(ctx context.Context, cfg Config, path string, p printer, stderr io.Writer) error {
	brokers, topic, err := parseKafkaPath(path)
	if err != nil {
		return err
	}
	reg := srclient.CreateSchemaRegistryClient(cfg.Remote.registryURL(brokers))
	reg.SetTimeout(10 * time.Second)
	serde, err := codec.New(reg)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	has := v5Fields()
	flats := map[string]*sysflow.Flattener{}
	flattener := func(exporter string) *sysflow.Flattener {
		fl := flats[exporter]
		if fl == nil {
			var opts []sysflow.FlattenOption
			if cfg.Entities {
				opts = append(opts, sysflow.WithEntities())
			}
			fl = sysflow.NewFlattener(opts...)
			// Topics carry no header: the exporter is known from the keys.
			fl.Add(&sysflow.Header{Version: 5, Exporter: exporter})
			flats[exporter] = fl
		}
		return fl
	}
	idx := 0
	bad := 0
	emit := func(r *kgo.Record, event bool) error {
		if r.Value == nil {
			return nil // a tombstone
		}
		rec, err := serde.DecodeSysFlow(ctx, r.Value)
		if err != nil {
			if codec.IsBadRecord(err) {
				bad++
				fmt.Fprintf(stderr, "sfprint: warning: %s partition %d offset %d: %v\n", r.Topic, r.Partition, r.Offset, err)
				return nil
			}
			return fmt.Errorf("read %s: %w", path, err)
		}
		exp := keyExporter(string(r.Key), rec)
		flat, ok := flattener(exp).Add(rec)
		if !ok || (!event && !cfg.Entities) {
			return nil
		}
		row := newRecord(flat, idx, has)
		idx++
		if err := p.write(&row); err != nil {
			return outputError{err}
		}
		return nil
	}
	if err := p.beginFile(); err != nil {
		return outputError{err}
	}
	readErr := func() error {
		if prefix, ok := strings.CutSuffix(topic, kafka.EventsTopic); ok {
			entities := prefix + kafka.EntitiesTopic
			if err := readTopic(ctx, brokers, entities, func(r *kgo.Record) error { return emit(r, false) }); err != nil {
				return err
			}
		}
		return readTopic(ctx, brokers, topic, func(r *kgo.Record) error {
			return emit(r, !strings.HasSuffix(topic, kafka.EntitiesTopic))
		})
	}()
	if err := p.endFile(); err != nil && readErr == nil {
		return outputError{err}
	}
	if readErr == nil && bad > 0 {
		readErr = fmt.Errorf("read %s: %d undecodable records skipped", path, bad)
	}
	return readErr
}

// keyExporter returns the exporter of a record's Kafka key: the key without the suffix the
// record implies (DESIGN.md, "Identity and keys").
func keyExporter(key string, rec sysflow.Record) string {
	var suffix string
	switch r := rec.(type) {
	case *sysflow.Process:
		suffix = "/P/" + r.OID.String()
	case *sysflow.File:
		suffix = "/F/" + r.OID.String()
	case *sysflow.Container:
		suffix = "/C/" + r.ID
	case *sysflow.Header:
		suffix = "/H"
	}
	if suffix != "" {
		if exp, ok := strings.CutSuffix(key, suffix); ok {
			return exp
		}
	}
	if i := strings.LastIndex(key, "/P/"); i >= 0 {
		return key[:i]
	}
	exp, _, _ := strings.Cut(key, "/")
	return exp
}

// readTopic calls fn for every committed record of topic, from the start to the end offsets
// the topic had when reading began.
func readTopic(ctx context.Context, brokers []string, topic string, fn func(*kgo.Record) error) error {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(), // transaction markers advance the position to the end
		kgo.FetchMaxWait(500*time.Millisecond),
	)
	if err != nil {
		return fmt.Errorf("read %s: %w", topic, err)
	}
	defer cl.Close()
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	listed, err := kadm.NewClient(cl).ListCommittedOffsets(lctx, topic)
	cancel()
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return fmt.Errorf("read %s from %s: %w", topic, strings.Join(brokers, ","), err)
	}
	ends := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			ends[o.Partition] = o.Offset
		}
	})
	pos := map[int32]int64{}
	done := func() bool {
		for p, end := range ends {
			if pos[p] < end {
				return false
			}
		}
		return true
	}
	for !done() {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) {
			if ferr == nil {
				ferr = fmt.Errorf("read %s partition %d: %w", t, p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		var err error
		fetches.EachRecord(func(r *kgo.Record) {
			if err != nil || r.Offset < pos[r.Partition] {
				return
			}
			pos[r.Partition] = r.Offset + 1
			if end, ok := ends[r.Partition]; !ok || r.Offset >= end || r.Attrs.IsControl() {
				return
			}
			err = fn(r)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
