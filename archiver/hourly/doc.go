// Package hourly writes the archive's objects: one self-contained SysFlow file per exporter,
// UTC hour and sysflow.events partition (DESIGN.md, "Files and the archive"), and names them.
//
// A File is staged on local disk while its hour is open. It starts with the SFHeader (version
// 5, the exporter, its IP, filename = the object name) and, before each event or flow, writes
// the entities the record references that the file does not hold yet, in the reference
// collector's order: containers, the process's ancestors oldest first, the process, then the
// file(s). Entity versions come from an entities.Table: for a record with ts T, the latest
// version with ts ≤ T among those written to Kafka before the record. A version is written
// with its own state (CREATED, MODIFIED) when its ts falls inside the file's hour and as REUP
// otherwise (REUP keeps ts); a version older than one the file already holds is not written
// again, so a reader's view of an entity only moves forward.
//
// Invariants:
//   - The bytes of a finished object are a pure function of its name, its records (with their
//     offsets and Kafka timestamps) and the entity table's versions written before them: the
//     Avro sync marker is derived from the name and the container metadata is sorted.
//   - Every reference of a record resolves to an entity earlier in the same file, ancestors
//     included. An entity the table has no version of is written as a placeholder (REUP; a
//     process with empty exe, args and names and uid/gid -1, a file with an empty path, a
//     container named "incomplete") and counted in Missing; a real version found later for
//     another record of the file follows it. The archiver waits, boundedly, for entities of
//     other partitions before it appends records (Resolver finds what to wait for), so a
//     placeholder means the entity did not come within that wait.
//   - The container metadata carries, besides avro.codec and avro.schema, where the records
//     came from: sfstream.topic, sfstream.partition, sfstream.offsets ("first-last" Kafka
//     offsets) and sfstream.records; a restarted archiver reads them back to skip records
//     already stored. An object that received count records (AddCounts: the processors'
//     capture counts, records of sysflow.events with no value) also states what its exporter
//     captured and lost in that hour, summed over them: sfstream.captured, sfstream.lost,
//     sfstream.lost.kernel, sfstream.lost.queue, sfstream.lost.other, sfstream.excluded
//     (raw.Counts). The sums are part of the bytes' function: they come from records in the
//     object's offset range.
//   - Object names: <prefix>/<exporter>/<YYYY-MM-DD>/<HH>/<exporter>.<YYYYMMDDHH>.p<N>.sf,
//     late objects of the hour .p<N>.late.sf, .p<N>.late.2.sf, ...; the exporter is made safe
//     for a path (characters outside [A-Za-z0-9._-] become '_'). The Parquet file beside an
//     object (--parquet) is <prefix>/parquet/exporter=<exporter>/date=<YYYY-MM-DD>/hour=<HH>/
//     followed by the object's base name with .parquet for .sf (Key.ParquetName).
//
// Metrics: none (the archive package counts what Files report).
package hourly
