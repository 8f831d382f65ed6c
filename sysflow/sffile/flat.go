package sffile

import (
	"io"

	"github.com/sfstream/sfstream/sysflow"
)

// NewFlatReader reads the header of the SysFlow file r (any schema version) and returns a
// reader of its events and flows, each joined with the entities it references (see
// sysflow.FlatReader). As the reference reader does, a header record forgets the entities
// before it; opts add to that (sysflow.WithEntities returns the entities too).
func NewFlatReader(r io.Reader, opts ...sysflow.FlattenOption) (*sysflow.FlatReader, error) {
	rd, err := NewReader(r)
	if err != nil {
		return nil, err
	}
	return sysflow.NewFlatReader(rd, append([]sysflow.FlattenOption{sysflow.WithResetOnHeader()}, opts...)...), nil
}
