package sysflow

// RecordReader is a source of SysFlow records in their order of arrival. Next returns io.EOF
// after the last record. *sffile.Reader is one.
type RecordReader interface {
	Next() (Record, error)
}

// FlatReader reads the records of a RecordReader and returns each event or flow flattened:
// joined with the header, process, parent, container, pod and files it references, as
// sf-apis' FlattenedSFReader does. Entities are remembered and, with WithEntities, returned
// too. sffile.NewFlatReader opens one over a SysFlow file. A FlatReader is not safe for
// concurrent use.
type FlatReader struct {
	src RecordReader
	fl  *Flattener
}

// NewFlatReader returns a FlatReader over src; opts configure its Flattener (see
// WithEntities and WithResetOnHeader; default: events and flows only, entities kept across
// headers).
func NewFlatReader(src RecordReader, opts ...FlattenOption) *FlatReader {
	return &FlatReader{src: src, fl: NewFlattener(opts...)}
}

// Next returns the next flattened record, or the error of the source: io.EOF after the last
// record. The entities a Flat points to are shared with later Flats and must not be modified.
func (r *FlatReader) Next() (*Flat, error) {
	for {
		rec, err := r.src.Next()
		if err != nil {
			return nil, err
		}
		if flat, ok := r.fl.Add(rec); ok {
			return &flat, nil
		}
	}
}

// Flattener returns the reader's Flattener, to look up entities by their keys (the header,
// a process by OID, a file by FOID, a container by id).
func (r *FlatReader) Flattener() *Flattener { return r.fl }
