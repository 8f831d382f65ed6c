package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Topic names without the prefix (DESIGN.md, "Topics and schemas").
const (
	RawTopic      = "sysflow.raw"
	EntitiesTopic = "sysflow.entities"
	EventsTopic   = "sysflow.events"
	RawDLQTopic   = "sysflow.raw.dlq"
	StateTopic    = "sfstream.processors.state"
	AlertsTopic   = "sysflow.alerts"
)

// Topics are the full (prefixed) names of sfstream's topics.
type Topics struct {
	Raw, Entities, Events, RawDLQ, State, Alerts string
}

// Topics returns the topic names with c's prefix.
func (c Config) Topics() Topics {
	p := c.TopicPrefix
	return Topics{
		Raw:      p + RawTopic,
		Entities: p + EntitiesTopic,
		Events:   p + EventsTopic,
		RawDLQ:   p + RawDLQTopic,
		State:    p + StateTopic,
		Alerts:   p + AlertsTopic,
	}
}

// All returns every topic name.
func (t Topics) All() []string {
	return []string{t.Raw, t.Entities, t.Events, t.RawDLQ, t.State, t.Alerts}
}

// AlertsRetention is how long sysflow.alerts keeps alerts (DESIGN.md: at least 7 days).
const AlertsRetention = 7 * 24 * time.Hour

// TopicSpec is how EnsureTopics creates one topic.
type TopicSpec struct {
	Name              string
	Partitions        int32
	ReplicationFactor int16
	Configs           map[string]string
}

// TopicSpecs returns the specs of sfstream's topics under c (DESIGN.md settings): raw and
// events delete after their retention, entities and the state changelog are compacted, the
// DLQ has one partition.
func (c Config) TopicSpecs() []TopicSpec {
	c = c.withDefaults()
	t := c.Topics()
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	spec := func(name string, parts int32, cfg map[string]string) TopicSpec {
		return TopicSpec{Name: name, Partitions: parts, ReplicationFactor: c.ReplicationFactor, Configs: cfg}
	}
	return []TopicSpec{
		spec(t.Raw, c.Partitions, map[string]string{"cleanup.policy": "delete", "retention.ms": ms(c.RawRetention)}),
		spec(t.Entities, c.Partitions, map[string]string{"cleanup.policy": "compact"}),
		spec(t.Events, c.Partitions, map[string]string{"cleanup.policy": "delete", "retention.ms": ms(c.EventsRetention)}),
		spec(t.RawDLQ, 1, map[string]string{"cleanup.policy": "delete", "retention.ms": ms(c.DLQRetention)}),
		spec(t.State, c.Partitions, map[string]string{"cleanup.policy": "compact"}),
		spec(t.Alerts, c.Partitions, map[string]string{"cleanup.policy": "delete", "retention.ms": ms(AlertsRetention)}),
	}
}

// EnsureTopics creates every topic of specs that does not exist yet. Existing topics are left
// as they are (a partition count that differs from the spec is logged, not changed). It is
// safe to run concurrently from several instances.
func EnsureTopics(ctx context.Context, adm *kadm.Client, log *slog.Logger, specs ...TopicSpec) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// List every topic: franz-go caches answers about named topics, so listing the missing
	// ones by name would make the caller's client see them as missing for a while.
	existing, err := adm.ListTopics(ctx)
	if err != nil {
		return fmt.Errorf("ensure topics: list: %w", err)
	}
	var errs []error
	for _, s := range specs {
		if d, ok := existing[s.Name]; ok && d.Err == nil {
			if n := int32(len(d.Partitions)); n != s.Partitions {
				log.Warn("existing topic has another partition count", logKeyTopic, s.Name, logKeyPartitions, n, logKeyWant, s.Partitions)
			}
			continue
		}
		cfgs := make(map[string]*string, len(s.Configs))
		for k, v := range s.Configs {
			cfgs[k] = kadm.StringPtr(v)
		}
		_, err := adm.CreateTopic(ctx, s.Partitions, s.ReplicationFactor, cfgs, s.Name)
		switch {
		case errors.Is(err, kerr.TopicAlreadyExists):
		case err != nil:
			errs = append(errs, fmt.Errorf("create %s: %w", s.Name, err))
		default:
			log.Info("topic created", logKeyTopic, s.Name, logKeyPartitions, s.Partitions)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("ensure topics: %w", errors.Join(errs...))
	}
	return nil
}

// Prepare waits for a broker (Dial, retrying until ctx ends) and creates sfstream's topics
// that are missing, with cfg's settings: what every service does at start.
func Prepare(ctx context.Context, cfg Config, log *slog.Logger) error {
	cl, err := Dial(ctx, cfg, WithLogger(log))
	if err != nil {
		return err
	}
	defer cl.Close()
	return EnsureTopics(ctx, kadm.NewClient(cl), log, cfg.TopicSpecs()...)
}
