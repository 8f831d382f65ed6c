// Package pipeline runs SysFlow building on Kafka with exactly-once semantics: one processor
// instance of the sfstream-processors consumer group.
//
// For each poll it begins a transaction, decodes the raw batches of every partition it owns,
// applies them to that partition's state.State, produces the resulting entities and events,
// writes the state changes to the changelog partition of the same number and commits the
// consumed offsets, all in one transaction (franz-go's GroupTransactSession). Bad raw
// records go to the dead-letter topic, with the reason in the "sfstream-dlq-reason" header,
// inside the same transaction.
//
// When partitions are assigned their state is restored from the changelog (read_committed, to
// the end of the partition). When they are revoked or lost their state is dropped without
// emitting anything: the next owner continues from the same checkpoint. When a transaction
// aborts, the state of every owned partition is restored again, so that the records re-read
// from the last committed offsets are applied exactly once.
//
// The partitions of one poll are applied in parallel (at most Config.Workers at a time); each
// produces its outputs in its own order. An entity with a nil record from the state (a
// process removed state.Config.EntityTombstoneAfter after its exit) is produced as a
// tombstone: a nil value under the entity's key.
//
// After a partition's records of a transaction the processor produces their capture counts
// (state.TakeCounts: raw events, and events lost as drop notices announce them, per exporter
// and hour) to sysflow.events as count records: no value, the counts in the raw.Count*
// headers, keyed by a process key of that exporter in the partition, so that they follow
// their events into the same events partition (and so the same archive object) when
// sysflow.raw and sysflow.events are partitioned alike.
//
// Metrics (registered on the injected registry):
//
//	sfstream_processor_records_in_total            raw Kafka records consumed
//	sfstream_processor_events_in_total             raw events applied
//	sfstream_processor_records_out_total{kind}     SysFlow records produced, by record type
//	sfstream_processor_dlq_total{reason}           raw records sent to the dead-letter topic
//	sfstream_processor_lag                         records behind the high watermark, owned partitions
//	sfstream_processor_processes                   processes held in state
//	sfstream_processor_flows                       open flows held in state
//	sfstream_processor_transaction_seconds         transaction latency (begin to commit)
//	sfstream_processor_transactions_total{result}  committed / aborted transactions
//	sfstream_processor_restore_seconds             time to restore a partition's state
//	sfstream_processor_evicted_total               processes evicted by the state cap
//	sfstream_processor_entity_tombstones_total     process entities deleted after their exit
//	sfstream_processor_count_records_total         count records produced to sysflow.events
//	sfstream_processor_lost_events_total           events lost upstream, as the drop notices applied count them
package pipeline
