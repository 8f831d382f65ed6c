// Package sysflow is the SysFlow v5 data model: one Go type per record of the union
// sysflow.SysFlow (schemas/sysflow.avsc), the record Kind enum whose values are the union's
// branch indexes, OID and FOID identity helpers, operation and open flags with the string
// forms sysprint prints, IP and port helpers, the Avro binary codec of the union, and
// flattening: Flattener and FlatReader join each event or flow with the header, process,
// parent, container, pod and files it references (sf-apis' FlattenedSFReader).
//
// It is a public package, as are its sub-packages sffile (SysFlow files: reader of any schema
// version, writer, sffile.NewFlatReader), sfql (filter expressions) and consumer (flattened
// records from the topics, S3 or a directory). Breaking changes are listed in CHANGELOG.md.
//
// Invariants:
//   - Kind values equal the v5 union branch index: they are what goes on the wire.
//   - Every record type implements Record; Encode and Decode handle exactly these types.
//   - FOID is SHA-1(containerID + path), 20 raw bytes; container id "" on the host.
//   - All timestamps are ns since the Unix epoch.
package sysflow
