// Package engine is the policy engine stage (sf-policy): one member of the sfstream-policy
// consumer group. It reads sysflow.events (the partitions assigned to it) and
// sysflow.entities (whole, as a table: internal/entities), joins each event or flow with the
// versions of its process, parent, container and files that it refers to, evaluates the rules
// (processors/policy/rules) and produces one alert per rule that holds to sysflow.alerts
// (schemas/alert.avsc, registry wire format), keyed by the record's process key. Consuming,
// producing and committing happen in one Kafka transaction: each record's alerts are
// produced exactly once, however instances die or partitions move.
//
// Invariants:
//   - The alerts of a record depend only on the record, the entities written to Kafka before
//     it and the rule set: before a poll's records are evaluated, the entity table has read
//     sysflow.entities up to its end offsets at that time (the processors commit a record's
//     entities with it or before it), and entity versions are chosen by the record's ts and
//     Kafka time as the archiver chooses them. So sfstream hunt over the archive (Alerts
//     over the archived Flat) gives the same alerts.
//   - The engine keeps no state per partition: an aborted transaction needs no restore.
//
// Metrics (sfstream_policy_*, on the injected registry):
//
//	sfstream_policy_records_total               records of sysflow.events evaluated
//	sfstream_policy_alerts_total{priority}      alerts produced, by rule priority
//	sfstream_policy_bad_records_total           records that could not be decoded (skipped)
//	sfstream_policy_transactions_total{result}  committed, aborted, failed
package engine
