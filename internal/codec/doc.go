// Package codec owns the schema-registry wire format of sfstream's Kafka record values:
// Confluent's framing (magic byte 0, the 4-byte big-endian schema id, then the Avro binary
// body) around the SysFlow union record (schemas/sysflow.avsc) and the raw batch
// (schemas/raw.avsc).
//
// A [Serde] talks to the registry only through riferrei/srclient's
// [srclient.ISchemaRegistryClient]. At start a writer registers our schemas under the
// topic-name strategy subject (<topic>-value), retrying with backoff while the registry is
// unreachable, bounded by the caller's context. A reader decodes by the id in each record: it
// fetches that writer schema once, resolves it against ours and keeps the result, so
// consumers follow schema evolution (records written with an older or newer schema decode,
// fields we lack are skipped, fields the writer lacked take our defaults). Raw batches written
// with our own raw schema (the same canonical form) skip hamba/avro: raw.DecodeBatchLimits
// decodes them by hand, 2.7 times faster, with the same results (differentially fuzzed).
//
// Invariants:
//   - Ids are immutable: a schema fetched for an id, and the decoder built from it, are cached
//     for the life of the Serde; the subject→id of our own registrations likewise. An id the
//     registry does not know is not cached (it may be registered later).
//   - Decoding never panics on any input; malformed input gives an error callers can branch
//     on: [ErrShortRecord], [ErrBadMagic], *[UnknownIDError], [ErrIncompatible],
//     [ErrMalformed] (or raw.ErrInvalid for a raw batch that breaks the raw contract).
//     [IsBadRecord] reports whether an error means the record itself is bad (dead-letter it)
//     rather than the registry being unreachable (retry).
//   - Allocations while decoding are bounded: strings and bytes by sysflow.MaxFieldBytes, the
//     arrays of a raw batch by MaxRawItems items (SysFlow arrays by the sysflow package).
//   - A Serde is safe for concurrent use.
//
// Metrics (registered with [WithMetrics]; none by default):
//
//	sfstream_codec_registry_requests_total{op="register|fetch",result="ok|not_found|error"}
//	sfstream_codec_decode_errors_total{reason="short|bad_magic|unknown_id|incompatible|malformed|registry"}
//	sfstream_codec_writer_schemas   number of writer schema ids with a cached decoder
package codec
