// Package sffile reads and writes SysFlow files: Avro object container files whose schema is
// the sysflow.SysFlow union (schemas/sysflow.avsc).
//
// Writer writes v5 files as the reference collector does: the header record first, deflate
// blocks of about BlockSize uncompressed bytes, metadata avro.codec and avro.schema (the
// compact text of our schema, byte for byte the reference's).
//
// Reader reads files written with any SysFlow schema version (pre-v1, v2, v4, v5) by resolving
// the file's own writer schema against v5 (see sysflow.NewDecoder), never by special cases. It
// verifies every block's sync marker and record count. On corrupt or truncated input it returns
// a *CorruptError carrying the byte offset where reading stopped; every record before that
// point has been returned. It never panics on input.
//
// NewFlatReader reads a file flattened: each event or flow joined with the entities it
// references (sysflow.FlatReader).
package sffile
