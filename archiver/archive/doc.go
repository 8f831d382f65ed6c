// Package archive runs one instance of the sfstream-archivers consumer group: it reads
// sysflow.events (the partitions the group assigns it) and writes one self-contained SysFlow
// object per exporter, UTC hour and partition (archiver/hourly), staged on local disk and
// stored in the archive target (archiver/store). Every instance reads all of
// sysflow.entities into a table (internal/entities), so it can write any entity its objects
// reference.
//
// Closing. A partition's watermark is the largest record ts it has seen. An object closes
// when the watermark passes its hour's end plus the grace; one opened after that point (a
// late object, or an exporter that straggles) gets its own grace past the watermark at which
// it opened. A partition that receives nothing for the idle timeout closes the objects whose
// closing point the wall clock has passed. A record for an hour whose object closed goes to a
// late object of that hour (.late.sf, .late.2.sf, ...).
//
// Exactly once. Offsets are committed by hand, only up to the first record of the oldest
// object not stored yet (or the next record when none is open), with metadata holding the
// watermark before that offset and the latest hour with a stored object. The objects of one
// hour of an exporter in a partition are stored in the order they closed (objects of
// different hours concurrently), and carry the Kafka offsets of their records in their
// container metadata. A restarted or new owner of a partition
// empties its staging, continues the watermark from the metadata (so hours close at the same
// records), reads again from the committed offset, and, for each hour up to the stored hour,
// lists the objects already in the archive: records inside their offset ranges are skipped
// and new records of such an hour go to the next late object. Names and bytes are
// deterministic, so an object rebuilt after a crash overwrites the same object with the same
// content. A partition with no committed offset is read from its start and its archive
// written afresh (objects of the same names are replaced): to archive a topic again from
// scratch, use a new prefix or keep the group's offsets.
//
// Parquet. With Config.Parquet, the worker that stores an object first converts it
// (archiver/parquetfile: its events and flows flattened, entities joined in as columns) into
// a Parquet file staged beside it, stores that under hourly.Key.ParquetName
// (<prefix>/parquet/exporter=<id>/date=<YYYY-MM-DD>/hour=<HH>/<name>.parquet), and only
// then stores the object; the commit point moves once the object is stored. So an object in
// the archive always has its Parquet file (a restart skips the records of stored objects and
// would never write it), and a Parquet file whose object is missing is overwritten, with the
// same bytes, when the object is rebuilt: its bytes are a pure function of the object's.
// Late objects get theirs like any other. Objects stored before --parquet was turned on are
// not converted. At most GOMAXPROCS conversions run at once: each is CPU-bound and holds one
// row group in memory (about 150 MiB at the default 128Ki rows; Config.ParquetRowGroupRows).
// The staged Parquet file lives only while its worker stores it and is not counted in the
// staging bound.
//
// Entities of other partitions. A record's ancestors (and files) may belong to processes of
// other partitions, whose processor may be behind this partition's. Before the records of a
// poll are written, the archiver waits until the table has read sysflow.entities to its end
// and then, at most Config.ReferenceWait, until every entity the records reference (the
// whole ancestor chain) has arrived. An entity still missing then is written as a
// placeholder and counted, and no later record waits for it again. Because a record takes
// the versions of an entity written before it, or all of its versions when none was, an
// object rebuilt after a restart (the table then holds everything) has the same bytes,
// except where the first run gave up on an entity.
//
// Back-pressure. The staging directory is bounded: beyond the bound, fetching pauses until
// objects are stored (and if nothing is waiting to be stored, the largest open object closes
// early). Objects that cannot be stored (S3 down, credentials refused) stay staged and are
// retried with backoff; nothing is deleted before it is stored, except the staging of a
// partition the archiver gives up, whose records are still in Kafka, uncommitted.
//
// Metrics (registered on the injected registry):
//
//	sfstream_archiver_files_written_total{kind}       objects stored: hour, late
//	sfstream_archiver_bytes_written_total             bytes of the objects stored
//	sfstream_archiver_records_written_total           events and flows in the objects stored
//	sfstream_archiver_entity_records_written_total    entity records in the objects stored
//	sfstream_archiver_upload_seconds                  time to store one object, retries included
//	sfstream_archiver_upload_failures_total{reason}   failed attempts: network, auth, no_bucket, server, local
//	sfstream_archiver_open_hours                      objects open for writing
//	sfstream_archiver_pending_uploads                 closed objects not stored yet
//	sfstream_archiver_staging_bytes                   bytes staged on local disk
//	sfstream_archiver_paused                          1 while fetching is paused (staging full)
//	sfstream_archiver_lag                             records behind the high watermark, owned partitions
//	sfstream_archiver_late_records_total              records written to late objects
//	sfstream_archiver_missing_references_total{kind}  references written as placeholders after the reference wait: process, parent, file, container
//	sfstream_archiver_skipped_records_total{reason}   records not written: stored (already archived), undecodable
//	sfstream_archiver_entity_wait_seconds             time a batch waited for the entity table
//	sfstream_archiver_entity_wait_timeouts_total      batches written before the entity table caught up
//	sfstream_archiver_reference_wait_seconds          time a batch waited for entities not yet arrived (only batches that waited)
//	sfstream_archiver_reference_waits_total{result}   batches that waited for such entities: resolved, timeout
//	sfstream_archiver_lookups_total{result}           archive listings after a restart: ok, error
//	sfstream_archiver_forced_closes_total             objects closed early because staging was full
//	sfstream_archiver_commits_total{result}           offset commits: ok, error
//	sfstream_archiver_parquet_files_written_total{kind}  Parquet files stored (--parquet): hour, late
//	sfstream_archiver_parquet_bytes_written_total     bytes of the Parquet files stored
//	sfstream_archiver_parquet_rows_written_total      rows of the Parquet files stored
//	sfstream_archiver_entities                        entities in the table (internal/entities)
//	sfstream_archiver_entity_records_total{result}    sysflow.entities records read (internal/entities)
package archive
