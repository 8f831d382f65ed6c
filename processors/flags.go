package main

import (
	"time"

	"github.com/sfstream/sfstream/internal/service"
	"github.com/sfstream/sfstream/processors/pipeline"
	"github.com/sfstream/sfstream/processors/state"
)

// options are sf-processor's settings: the common ones and the processor's Config.
type options struct {
	common      service.Common
	cfg         pipeline.Config
	state       state.Config
	showVersion bool
}

// addFlags defines sf-processor's flags on f, each bound to o.
func addFlags(f *service.Flags, o *options) {
	o.state = state.DefaultConfig()
	st, cfg := &o.state, &o.cfg
	service.AddCommon(f, &o.common, "processor")
	f.StringVar(&cfg.Group, "group", pipeline.DefaultGroup, "consumer group of the processors")
	f.StringVar(&cfg.TransactionalID, "transactional-id", "", "transactional id, stable per instance and unique (default sfstream-processor-<hostname>)")
	f.StringVar(&cfg.InstanceID, "instance-id", "", "static group member id (StatefulSets): a restart keeps the partitions (default dynamic membership)")
	f.DurationVar(&cfg.SessionTimeout, "session-timeout", 10*time.Second, "group session timeout: how long a dead instance keeps its partitions")
	f.IntVar(&cfg.MaxPollRecords, "max-poll-records", 5000, "raw records per transaction at most")
	f.IntVar(&cfg.Workers, "workers", 0, "partitions applied in parallel within a transaction (default the number of CPUs)")
	f.BoolVar(&st.ProcFlow, "proc-flow", st.ProcFlow, "aggregate thread clones and exits into ProcessFlows")
	f.BoolVar(&st.FileOnly, "file-only", st.FileOnly, "keep FileFlows of regular files only (drop dirs, pipes, unix sockets)")
	f.IntVar(&st.ReadMode, "file-read-mode", st.ReadMode, "read-only FileFlows: 0 keep, 1 drop, 2 drop under /proc /dev /sys /lib /usr/lib")
	f.DurationVar(&st.ExportInterval, "flow-export-interval", st.ExportInterval, "re-export long-running flows this often")
	f.DurationVar(&st.ExpireInterval, "flow-expire-interval", st.ExpireInterval, "drop flows idle this long")
	f.IntVar(&st.MaxProcesses, "max-processes", st.MaxProcesses, "processes kept per partition at most (LRU eviction beyond)")
	f.DurationVar(&st.EntityTombstoneAfter, "entity-tombstone-after", st.EntityTombstoneAfter, "delete an exited process's entity from sysflow.entities this long (event time) after its exit (0: never)")
	f.BoolVar(&o.showVersion, "version", false, "print the version and exit")
}
