// Package entities keeps the table of SysFlow entities that the archiver and the consumer API
// (sysflow/consumer) join records with: every Process, File,
// Container and SFHeader record of sysflow.entities, with the versions seen of each (a
// process is emitted again each time it is created or modified), and follows the topic.
//
// The table answers "which version of entity X does a record with SysFlow time T, written to
// Kafka at time K, refer to": among the versions written to Kafka no later than K (record
// timestamps, so the answer depends only on the log and not on how far the table had read),
// the latest whose ts is at most T, else the earliest. Containers and headers carry no ts and
// are ordered by their Kafka timestamp alone.
//
// A Follower reads every partition of the topic from the start, without a consumer group,
// read_committed, and keeps control records so that its position per partition is exact; the
// archiver waits on it until it has read up to the end offsets that the topic had when the
// events being archived were fetched, so that every entity produced with them is in the table.
//
// Invariants:
//   - Entity keys are the Kafka keys of DESIGN.md; the exporter is the key minus the suffix
//     the record implies (/P/<hpid>/<createTS>, /F/<foid>, /C/<id>, /H), so exporter names may
//     contain anything.
//   - At most MaxVersions versions are kept per entity (the oldest are dropped); two versions
//     with the same ts and state are one (the first read is kept).
//   - Versions are immutable once added: readers may hold them without a lock.
//   - A tombstone (nil value) deletes the entity by Kafka time, as versions are added: records
//     written after it do not find the entity, records written before it still do (an
//     archiver rebuilding old hours reads the tombstone before them). Deleted entities leave
//     memory once the newest Kafka timestamp read is DefaultDeletedRetention past their
//     tombstone (Kafka's own default delete.retention.ms).
//
// Metrics (Follower, registered on the injected registry):
//
//	sfstream_archiver_entities                     entities held, all kinds
//	sfstream_archiver_entity_records_total{result} records read from sysflow.entities: ok, tombstone, bad_key, undecodable
package entities
