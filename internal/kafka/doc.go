// Package kafka builds sfstream's Kafka clients and topics from one Config: seed brokers,
// TLS (CA, client certificate, insecure skip), SASL (PLAIN, SCRAM-SHA-256/512, password
// from a file), client id and the topic prefix that lets several pipelines share a cluster.
//
// Topics (names get Config.TopicPrefix in front; EnsureTopics creates the missing ones):
//
//	sysflow.raw               Partitions (6), delete, RawRetention (6h)
//	sysflow.entities          Partitions (6), compact
//	sysflow.events            Partitions (6), delete, EventsRetention (7d, at least 1d)
//	sysflow.raw.dlq           1 partition, delete, DLQRetention (7d)
//	sfstream.processors.state Partitions (6, as sysflow.raw: one changelog partition per raw partition), compact
//
// Invariants:
//   - Config is validated once, in NewClient/Dial; secrets (SASL password) are never logged.
//   - Dial returns a client only once a broker answered; an unreachable cluster is retried
//     with backoff until the caller's context ends, then reported with the last cause.
//     Authentication and certificate errors fail at once. Dial never leaves a client open on
//     error.
//   - franz-go logs through the injected slog logger (kslog); nothing logs per record.
//
// Metrics: with WithMetrics(reg, subsystem), franz-go's client metrics come through the kprom
// hook as sfstream_<subsystem>_* with a client_id label (connects, connect errors,
// disconnects, read/write bytes and latency, request durations, produce and fetch bytes,
// batches and records by node and topic, buffered records). The package declares no other
// metrics.
package kafka
