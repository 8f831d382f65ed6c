// Package stack runs sfstream's embedded stack for `sfstream run` (`make run`) and tests: a
// Kafka broker (franz-go's kfake), a Confluent-API schema registry (franz-go's srfake) and,
// on request, an in-process S3 (gofakes3), all on loopback addresses. [ArchiveTarget] is the
// configuration of where the archiver writes: a local directory or an S3 bucket.
//
// Persistence: with [DataDir], kfake keeps its state under <dir>/kafka (topics and their
// configs, record segments, committed group offsets, producer ids and transactions; written
// continuously, fsynced per batch only with [SyncWrites]) and reloads it on the next Start.
// The registry keeps nothing itself: every change that succeeds (a registration, a delete, a
// config or mode change) is first written, acknowledged, to the cluster's _schemas topic (one
// partition, never deleted); the HTTP answer is sent only after that. On Start the topic is
// read from the beginning and replayed in order: a registration is seeded with its original
// subject, version and id (srfake's SeedSchema, which also moves the next id past it), or
// registered again when its id already exists under another subject (srfake reuses the id
// of an identical schema, as it did the first time); other changes are replayed as the
// original requests. So schema ids survive restarts and are never reused.
//
// Entries of _schemas are JSON, keyed by subject:
//
//	{"op":"register","subject":S,"version":V,"id":I,"schema":{"schema":...,"schemaType":...}}
//	{"op":"request","method":"DELETE","uri":"/subjects/S/versions/1","body":...}
//
// Invariants:
//   - One stack per data dir: Start takes an exclusive lock on <dir>/LOCK.
//   - Start returns only once everything serves, and leaves nothing running on error; Close
//     stops everything and waits for its goroutines; Run is Start, wait for ctx, Close.
//   - Registry changes are serialised; reads are served concurrently.
//
// Metrics: none (the embedded servers are test and development tools).
package stack
