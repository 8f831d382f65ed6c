// Command hourclose closes the archiver's open hour now, for tests that cannot wait for the
// hour to end (deploy/docker/compose-test.sh). An hour closes when a partition's watermark,
// the largest record ts seen, passes the hour's end plus the grace; hourclose writes to every
// partition of sysflow.events one ProcessEvent of an exporter of its own (-exporter) whose ts
// lies past that point (-ahead, default 1h10m from now). The archiver then stores the hours
// the records before it belong to; the probe records themselves open a later hour of their
// own exporter, which stays open.
//
//	hourclose -brokers HOST:PORT -registry URL [-topic-prefix P] [-exporter ID] [-ahead D]
//
// Its registry client registers the SysFlow schema under sysflow.events-value (a no-op when
// the processors have already done it).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/riferrei/srclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/raw"
	"github.com/sfstream/sfstream/sysflow"
)

type config struct {
	brokers, registry, prefix, exporter string
	ahead, timeout                      time.Duration
}

func main() {
	var c config
	flag.StringVar(&c.brokers, "brokers", "127.0.0.1:29092", "Kafka brokers, comma-separated")
	flag.StringVar(&c.registry, "registry", "http://127.0.0.1:8081", "schema registry URL")
	flag.StringVar(&c.prefix, "topic-prefix", "", "topic name prefix")
	flag.StringVar(&c.exporter, "exporter", "sfstream-hourclose", "exporter id of the probe records")
	flag.DurationVar(&c.ahead, "ahead", 70*time.Minute, "ts of the probe records, from now")
	flag.DurationVar(&c.timeout, "timeout", time.Minute, "give up after this long")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, c)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hourclose:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	if c.exporter == "" || strings.Contains(c.exporter, "/") {
		return errors.New("-exporter must be non-empty and free of '/'")
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	topic := c.prefix + "sysflow.events"
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(c.brokers, ",")...),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	topics, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("list topic %s: %w", topic, err)
	}
	td, ok := topics[topic]
	if !ok || td.Err != nil || len(td.Partitions) == 0 {
		return fmt.Errorf("topic %s: missing (is the pipeline up?)", topic)
	}
	serde, err := codec.New(srclient.NewSchemaRegistryClient(strings.TrimRight(c.registry, "/")))
	if err != nil {
		return err
	}
	id, err := serde.RegisterSysFlow(ctx, topic)
	if err != nil {
		return fmt.Errorf("register schema: %w", err)
	}
	ts := time.Now().Add(c.ahead).UnixNano()
	var recs []*kgo.Record
	for _, p := range td.Partitions.Numbers() {
		hpid := int64(p + 1)
		ev := &sysflow.ProcessEvent{ProcOID: sysflow.OID{HPID: hpid, CreateTS: ts - 1}, TS: ts, TID: hpid, OpFlags: int32(sysflow.OpExit)}
		v, err := serde.AppendSysFlow(nil, id, ev)
		if err != nil {
			return fmt.Errorf("encode: %w", err)
		}
		recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Key: raw.Key(c.exporter, hpid, ts-1), Value: v})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("produce: %w", err)
	}
	fmt.Printf("hourclose: %d partitions of %s past %s\n", len(recs), topic, time.Unix(0, ts).UTC().Format(time.RFC3339))
	return nil
}
