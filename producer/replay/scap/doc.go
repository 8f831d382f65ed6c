// Package scap reads sysdig/Falco capture files (.scap, section format 1.x) as described in
// docs/SCAP.md. It owns the format only, not its meaning: pairing enter and exit events,
// process tables and the like belong to the caller (producer/replay).
//
// A Reader is a streaming decoder:
//
//	r, err := scap.NewReader(f) // plain or gzip; checks the section header
//	for {
//		b, err := r.Next() // *SectionHeader, *MachineInfo, *InterfaceList, *UserList,
//		                   // *ProcessList, *FDList or *Event; io.EOF at a clean end
//		...
//	}
//
// What it decodes:
//   - block framing: length checks, trailers, padding, pcapng options after a section
//     header or an event, unknown block types skipped, several sections in one file, the
//     pre-release 0x80xxABCD aliases, gzip detected by its magic;
//   - section header, machine info, interface lists (IL, IL_V2), user lists (UL, UL_V2),
//     process lists (PL_V1 to PL_V9, including V9's optional tail in both layouts) and fd
//     lists (FDL, FDL_V2, every fd type of SCAP.md 4.2);
//   - event blocks EV, EVF, EV_V2, EVF_V2, EV_V2_LARGE, EVF_V2_LARGE: v1 headers get their
//     parameter count inferred from the event table, v2 parameter lengths must fill the event
//     exactly, large-payload types use 32-bit lengths (CONTAINER_JSON_E falls back to them);
//   - parameters: the event table (events.go) names and types the parameters of every event
//     SysFlow needs, in the newest order; parameter i of an older capture is the i-th entry
//     (parameters are only ever appended) and indices >= NumParams are absent. Other types
//     known by name and count only; types beyond the table are passed through (v2) with raw
//     parameters. Typed accessors decode integers, strings, socket tuples and addresses,
//     fd lists; Format renders an event for humans.
//
// Invariants:
//   - Every error from Next is a *FormatError carrying the byte offset of the offending block
//     (wrapping ErrTruncated, ErrBadTrailer, ErrBadLength, ErrUnknownEvent, ... or an I/O
//     error) and is sticky: the blocks returned before it are the good prefix of the input.
//   - No input makes the reader panic, and memory is bounded by the input and by
//     WithMaxBlockSize: block bodies larger than the read buffer are read in chunks.
//   - The *Event returned by Next, and the byte slices reachable from it, are reused: they are
//     valid until the next call to Next (CopyTo keeps one). Metadata blocks are freshly
//     allocated and may be kept.
//   - Offsets count bytes of the decompressed stream.
package scap
