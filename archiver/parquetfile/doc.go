// Package parquetfile writes the Parquet form of the archive's objects: the events and flows
// of one SysFlow object flattened into rows, the entities they reference joined in as
// columns, as sysprint's flat output shows them (sysflow.Flattener does the joining). The
// columns are sysprint's flat fields as cmd/sfprint names them, dots made underscores (Row
// lists them); ts and endts are TIMESTAMP(MICROS, UTC).
//
// Invariants:
//   - The bytes are a pure function of the records and the key-value metadata: no time of
//     writing, no map order (the key-value entries are written in key order), a fixed created_by, and
//     zstd compression on one goroutine. Convert of an object's bytes therefore gives the
//     same Parquet bytes wherever and whenever it runs.
//   - Row groups hold DefaultRowGroupRows rows (the last one the rest); every column chunk
//     carries statistics (min, max, null count) and a page index, so engines can skip.
//   - Only events and flows are rows; a record whose entities are unknown keeps its row, with
//     NULL in the entities' columns.
//
// Metrics: none (the archive package counts the files it stores).
package parquetfile
