// Package consumer reads flattened SysFlow records (sysflow.Flat: each event or flow with
// its header, process, parent, container and files) from the three places sfstream keeps
// them, behind one iterator, Source:
//
//   - FromKafka: the topics. The first Next reads sysflow.entities into a table, then
//     sysflow.events, read_committed, in a consumer group (offsets of the records returned
//     are committed) or from explicit partitions, starting at the start, the end, a time or
//     an offset; each record is decoded through the schema registry and joined with the
//     entities the way the archiver joins them (of the versions written to Kafka before the
//     record, the latest whose ts is at most the record's).
//   - FromS3: the SysFlow objects under an S3 prefix (an archive written by sf-archiver), in
//     name order.
//   - FromDir: the SysFlow files of a directory tree, in lexical order.
//
// WithFilter keeps only the records that match an SFQL expression (package sysflow/sfql),
// with the fields and values of sfprint --filter: one expression selects the same records
// in sfprint and here.
//
// Invariants:
//   - Next returns io.EOF at the end of the input: after the last file of a directory or
//     prefix, or, with KafkaConfig.StopAtEnd, at the end offsets the topic had when reading
//     began; without it a Kafka source waits for new records until its context ends.
//   - A file or object that is not SysFlow is skipped; a corrupt one yields its records
//     before the damage, then a *FileError; the next call goes on with the next file.
//   - Records from Kafka carry the Header of their exporter (the one in sysflow.entities, or
//     one naming the exporter of the record's key); Pod is nil (pods are not in the topics).
//   - In a group, delivery is at least once: records returned but not yet committed when a
//     partition moves to another member come again there.
//   - A Source is not safe for concurrent use; the Flats it returns point to shared entity
//     records that must not be modified.
//
// The package is public (see CHANGELOG.md for breaking changes) and imports no stage.
//
// Metrics: none.
package consumer
