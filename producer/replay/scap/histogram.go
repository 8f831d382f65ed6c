package scap

import (
	"errors"
	"io"
)

// Histogram counts the blocks of a capture: events per type and metadata blocks per block
// type.
type Histogram struct {
	Events map[EventType]int
	Blocks map[BlockType]int
}

// Total is the number of events counted.
func (h Histogram) Total() int {
	n := 0
	for _, c := range h.Events {
		n += c
	}
	return n
}

// CountEvents reads a whole capture and returns its histogram. On a read error it returns the
// histogram of the good prefix along with the error.
func CountEvents(r io.Reader) (Histogram, error) {
	h := Histogram{Events: map[EventType]int{}, Blocks: map[BlockType]int{}}
	rd, err := NewReader(r)
	if err != nil {
		return h, err
	}
	for {
		b, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return h, nil
		}
		if err != nil {
			return h, err
		}
		switch b := b.(type) {
		case *Event:
			h.Events[b.Type]++
			h.Blocks[b.Block]++
		case *SectionHeader:
			h.Blocks[BlockSection]++
		case *MachineInfo:
			h.Blocks[BlockMachineInfo]++
		case *InterfaceList:
			h.Blocks[b.Type]++
		case *UserList:
			h.Blocks[b.Type]++
		case *ProcessList:
			h.Blocks[b.Type]++
		case *FDList:
			h.Blocks[b.Type]++
		}
	}
}
