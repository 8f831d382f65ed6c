package main

import (
	"time"

	"github.com/sfstream/sfstream/internal/service"
	"github.com/sfstream/sfstream/processors/policy/engine"
)

// options are sf-policy's settings: the common ones, the engine's Config and the rule files.
type options struct {
	common      service.Common
	cfg         engine.Config
	rules       service.ListFlag
	showVersion bool
}

// addFlags defines sf-policy's flags on f, each bound to o.
func addFlags(f *service.Flags, o *options) {
	cfg := &o.cfg
	service.AddCommon(f, &o.common, "policy")
	f.Var(&o.rules, "rules", "rule files (Falco-style YAML), comma-separated, compiled in order (default the embedded default rule set)")
	f.StringVar(&cfg.Group, "group", engine.DefaultGroup, "consumer group of the policy engines")
	f.StringVar(&cfg.TransactionalID, "transactional-id", "", "transactional id, stable per instance and unique (default sfstream-policy-<hostname>)")
	f.StringVar(&cfg.InstanceID, "instance-id", "", "static group member id (default dynamic membership)")
	f.DurationVar(&cfg.SessionTimeout, "session-timeout", 10*time.Second, "group session timeout: how long a dead instance keeps its partitions")
	f.IntVar(&cfg.MaxPollRecords, "max-poll-records", 5000, "records per transaction at most")
	f.DurationVar(&cfg.TransactionTimeout, "transaction-timeout", 60*time.Second, "how long the brokers keep a dead instance's transaction open before aborting it")
	f.BoolVar(&o.showVersion, "version", false, "print the version and exit")
}
