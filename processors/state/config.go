package state

import (
	"errors"
	"fmt"
	"time"
)

// Config holds the knobs of SysFlow building. The zero value is not valid; start from
// DefaultConfig.
type Config struct {
	// ProcFlow aggregates thread clones and exits into ProcessFlow records instead of
	// emitting CLONE and EXIT events for threads. Default true (the reference library's
	// default; its test suite runs with false).
	ProcFlow bool
	// FileOnly keeps FileFlows only for regular files, dropping directories, pipes and unix
	// sockets. Default true (reference default; its tests use false).
	FileOnly bool
	// ReadMode filters read-only FileFlows: 0 keeps them, 1 drops them all, 2 drops them under
	// /proc/, /dev/, /sys/, /lib/, /lib64/, /usr/lib/, /usr/lib64/. Default 2 (reference).
	ReadMode int
	// ExportInterval re-exports long-running flows. Default 30s.
	ExportInterval time.Duration
	// ExpireInterval drops flows idle that long, unwritten. Default 60s.
	ExpireInterval time.Duration
	// ExitGrace keeps an exited process's state that long (event time) for late events.
	// Default 1s, as the reference's deletion queue.
	ExitGrace time.Duration
	// MaxProcesses caps the processes kept per partition; the least recently used is
	// evicted (and counted) beyond it. Default 100000.
	MaxProcesses int
	// EntityTombstoneAfter is how long (event time) after a process's exit its entity is
	// deleted from sysflow.entities with a tombstone: long enough that no archive hour still
	// open can reference it. 0 never deletes. Default 2h (DESIGN.md).
	EntityTombstoneAfter time.Duration
	// MaxEntities caps the File and Container entities remembered as emitted per partition;
	// beyond it the oldest half is forgotten (and may be emitted again, as REUP). Default 1M.
	MaxEntities int
}

// DefaultConfig returns the reference collector's library defaults.
func DefaultConfig() Config {
	return Config{
		ProcFlow:       true,
		FileOnly:       true,
		ReadMode:       2,
		ExportInterval: 30 * time.Second,
		ExpireInterval: 60 * time.Second,
		ExitGrace:      time.Second,
		MaxProcesses:   100000,
		MaxEntities:    1 << 20,

		EntityTombstoneAfter: 2 * time.Hour,
	}
}

// ReferenceTestConfig returns the configuration the reference collector's own test suite
// uses (ENABLE_PROC_FLOW=0, FILE_ONLY=0, FILE_READ_MODE=0): what conformance runs use.
func ReferenceTestConfig() Config {
	c := DefaultConfig()
	c.ProcFlow = false
	c.FileOnly = false
	c.ReadMode = 0
	return c
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	var errs []error
	if c.ReadMode < 0 || c.ReadMode > 2 {
		errs = append(errs, fmt.Errorf("read mode %d: want 0, 1 or 2", c.ReadMode))
	}
	if c.ExportInterval < time.Second {
		errs = append(errs, fmt.Errorf("flow export interval %s: want at least 1s", c.ExportInterval))
	}
	if c.ExpireInterval < c.ExportInterval {
		errs = append(errs, fmt.Errorf("flow expire interval %s: want at least the export interval %s", c.ExpireInterval, c.ExportInterval))
	}
	if c.ExitGrace < 0 {
		errs = append(errs, fmt.Errorf("exit grace %s: want >= 0", c.ExitGrace))
	}
	if c.EntityTombstoneAfter < 0 {
		errs = append(errs, fmt.Errorf("entity tombstone delay %s: want >= 0 (0: never)", c.EntityTombstoneAfter))
	}
	if c.MaxEntities < 2 {
		errs = append(errs, fmt.Errorf("max entities %d: want >= 2", c.MaxEntities))
	}
	if c.MaxProcesses < 1 {
		errs = append(errs, fmt.Errorf("max processes %d: want >= 1", c.MaxProcesses))
	}
	if len(errs) > 0 {
		return fmt.Errorf("state config: %w", errors.Join(errs...))
	}
	return nil
}
