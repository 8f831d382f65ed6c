package entities_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/entities"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/testkit"
	"github.com/sfstream/sfstream/sysflow"
)

// The follower reads committed entities, skips aborted ones, and knows it has reached the end
// even when the log ends with transaction markers.
func TestFollowerLoadsCommittedEntities(t *testing.T) {
	env := testkit.New(t)
	kcfg := env.Kafka()
	if err := kafka.EnsureTopics(t.Context(), env.Admin(t), nil, kcfg.TopicSpecs()...); err != nil {
		t.Fatal(err)
	}
	topic := kcfg.Topics().Entities
	serde, err := codec.New(env.Registry())
	if err != nil {
		t.Fatal(err)
	}
	id, err := serde.RegisterSysFlow(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	prod := env.Client(t, kgo.TransactionalID(env.Prefix+"txn"), kgo.DefaultProduceTopic(topic))
	txn := func(commit bool, hpids ...int64) {
		if err := prod.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for _, h := range hpids {
			p := &sysflow.Process{State: sysflow.StateCreated, OID: sysflow.OID{HPID: h, CreateTS: 1}, TS: 5, Env: []string{}}
			v, err := serde.AppendSysFlow(nil, id, p)
			if err != nil {
				t.Fatal(err)
			}
			if err := prod.ProduceSync(t.Context(), &kgo.Record{Key: []byte(p.OID.Key("n")), Value: v}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := prod.EndTransaction(t.Context(), kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	txn(true, 1, 2, 3)
	txn(false, 4, 5)
	txn(true, 6)
	tombstone := &kgo.Record{Topic: topic, Key: []byte(sysflow.OID{HPID: 2, CreateTS: 1}.Key("n"))}
	if err := env.Client(t).ProduceSync(t.Context(), tombstone).FirstErr(); err != nil {
		t.Fatal(err)
	}

	table := entities.NewTable(0)
	cl, err := kafka.NewClient(kcfg, kafka.WithKgoOpts(entities.ClientOpts(topic)...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	f, err := entities.NewFollower(cl, topic, serde, table)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	lctx, lcancel := context.WithTimeout(ctx, 20*time.Second)
	defer lcancel()
	if err := f.Load(lctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for h, want := range map[int64]bool{1: true, 2: false, 3: true, 4: false, 5: false, 6: true} {
		if _, ok := table.Process("n", sysflow.OID{HPID: h, CreateTS: 1}, 10, 1<<62); ok != want {
			t.Errorf("process %d in the table: %v, want %v", h, ok, want)
		}
	}
}
