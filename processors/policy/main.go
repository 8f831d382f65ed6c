// Command sf-policy evaluates Falco-style rules over the SysFlow topics: one instance of the
// sfstream-policy consumer group (see processors/policy/engine), alerts to sysflow.alerts.
package main

import (
	"context"
	"fmt"
	"io"

	"github.com/sfstream/sfstream/internal/codec"
	"github.com/sfstream/sfstream/internal/kafka"
	"github.com/sfstream/sfstream/internal/service"
	"github.com/sfstream/sfstream/internal/version"
	"github.com/sfstream/sfstream/processors/policy/engine"
	"github.com/sfstream/sfstream/processors/policy/rules"
)

func main() { service.Main("sf-policy", run) }

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	f := service.NewFlags("sf-policy", "sf-policy [flags]: rules over sysflow.events and sysflow.entities, alerts to sysflow.alerts (consumer group member, exactly-once)", stderr)
	var o options
	addFlags(f, &o)
	if err := f.Parse(args, getenv); err != nil {
		return err
	}
	if o.showVersion {
		fmt.Fprintln(stderr, "sf-policy", version.Version)
		return nil
	}
	o.common.Finish()
	cfg := o.cfg
	cfg.Kafka = o.common.Kafka
	var err error
	if cfg.Rules, err = rules.ReadFiles(o.rules...); err != nil {
		return err
	}
	log, err := o.common.Logger()
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	reg := service.NewRegistry("policy")
	serde, err := codec.New(o.common.Registry(), codec.WithLogger(log), codec.WithMetrics(reg))
	if err != nil {
		return err
	}
	if err := kafka.Prepare(ctx, cfg.Kafka, log); err != nil {
		return err
	}
	eng, err := engine.New(cfg, serde, reg, engine.WithLogger(log),
		engine.WithKafkaOptions(kafka.WithLogger(log), kafka.WithMetrics(reg, "policy")))
	if err != nil {
		return err
	}
	return service.Serve(ctx, "policy", o.common.MetricsAddr, reg, log, eng)
}
