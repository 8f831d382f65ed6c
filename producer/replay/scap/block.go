package scap

import (
	"bytes"
	"fmt"
)

// BlockType is a block's type code. Pre-release aliases (0x80xxABCD) are mapped to their
// official codes before a block is returned.
type BlockType uint32

// Block type codes (SCAP.md section 1).
const (
	BlockSection           BlockType = 0x0A0D0D0A // SHB
	BlockMachineInfo       BlockType = 0x201      // MI
	BlockProcListV1        BlockType = 0x202      // PL_V1
	BlockFDList            BlockType = 0x203      // FDL
	BlockEvent             BlockType = 0x204      // EV, v1 event header
	BlockIfList            BlockType = 0x205      // IL
	BlockUserList          BlockType = 0x206      // UL
	BlockProcListV2        BlockType = 0x207      // PL_V2
	BlockEventFlags        BlockType = 0x208      // EVF, v1 event header + flags
	BlockProcListV3        BlockType = 0x209      // PL_V3
	BlockProcListV4        BlockType = 0x210      // PL_V4
	BlockProcListV5        BlockType = 0x211      // PL_V5
	BlockProcListV6        BlockType = 0x212      // PL_V6
	BlockProcListV7        BlockType = 0x213      // PL_V7
	BlockProcListV8        BlockType = 0x214      // PL_V8
	BlockProcListV9        BlockType = 0x215      // PL_V9, per-entry lengths
	BlockEventV2           BlockType = 0x216      // EV_V2
	BlockEventFlagsV2      BlockType = 0x217      // EVF_V2
	BlockFDListV2          BlockType = 0x218      // FDL_V2, per-entry lengths
	BlockIfListV2          BlockType = 0x219      // IL_V2, per-entry lengths
	BlockUserListV2        BlockType = 0x220      // UL_V2, per-entry lengths
	BlockEventV2Large      BlockType = 0x221      // EV_V2_LARGE
	BlockEventFlagsV2Large BlockType = 0x222      // EVF_V2_LARGE
)

// legacyBlockTypes maps the pre-release aliases that libscap still accepts.
var legacyBlockTypes = map[BlockType]BlockType{
	0x8002ABCD: BlockMachineInfo,
	0x8000ABCD: BlockProcListV1,
	0x8013ABCD: BlockProcListV2,
	0x8014ABCD: BlockProcListV3,
	0x8001ABCD: BlockFDList,
	0x8010ABCD: BlockEvent,
	0x8011ABCD: BlockIfList,
	0x8012ABCD: BlockUserList,
}

var blockNames = map[BlockType]string{
	BlockSection: "SHB", BlockMachineInfo: "MI", BlockProcListV1: "PL_V1", BlockFDList: "FDL",
	BlockEvent: "EV", BlockIfList: "IL", BlockUserList: "UL", BlockProcListV2: "PL_V2",
	BlockEventFlags: "EVF", BlockProcListV3: "PL_V3", BlockProcListV4: "PL_V4",
	BlockProcListV5: "PL_V5", BlockProcListV6: "PL_V6", BlockProcListV7: "PL_V7",
	BlockProcListV8: "PL_V8", BlockProcListV9: "PL_V9", BlockEventV2: "EV_V2",
	BlockEventFlagsV2: "EVF_V2", BlockFDListV2: "FDL_V2", BlockIfListV2: "IL_V2",
	BlockUserListV2: "UL_V2", BlockEventV2Large: "EV_V2_LARGE", BlockEventFlagsV2Large: "EVF_V2_LARGE",
}

// String returns the block type's SCAP.md name, or its hex code.
func (t BlockType) String() string {
	if s, ok := blockNames[t]; ok {
		return s
	}
	return fmt.Sprintf("block 0x%x", uint32(t))
}

func canonicalBlockType(t BlockType) BlockType {
	if c, ok := legacyBlockTypes[t]; ok {
		return c
	}
	return t
}

// procListVersion returns 1..9 for process list blocks and 0 otherwise.
func procListVersion(t BlockType) int {
	switch t {
	case BlockProcListV1:
		return 1
	case BlockProcListV2:
		return 2
	case BlockProcListV3:
		return 3
	case BlockProcListV4, BlockProcListV5, BlockProcListV6, BlockProcListV7, BlockProcListV8, BlockProcListV9:
		return int(t-BlockProcListV4) + 4
	}
	return 0
}

// Block is one decoded block: *SectionHeader, *MachineInfo, *InterfaceList, *UserList,
// *ProcessList, *FDList or *Event. Blocks of unknown types are skipped by the reader.
type Block interface {
	// BlockOffset is the byte offset of the block in the (decompressed) input.
	BlockOffset() int64
	isBlock()
}

// SectionHeader is a section header block. A file may hold several sections; each starts
// with one.
type SectionHeader struct {
	Offset        int64
	Major, Minor  uint16
	SectionLength int64 // always -1 in practice
}

// MachineInfo describes the captured machine.
type MachineInfo struct {
	Offset     int64
	NumCPUs    uint32
	MemorySize uint64 // bytes
	MaxPID     uint64
	Hostname   string
	BootTS     uint64 // ns since the epoch; 0 in older files
	Flags      uint64
}

func (b *SectionHeader) BlockOffset() int64 { return b.Offset }
func (b *MachineInfo) BlockOffset() int64   { return b.Offset }
func (*SectionHeader) isBlock()             {}
func (*MachineInfo) isBlock()               {}

const sectionMagic = 0x1A2B3C4D

func parseSection(body []byte, off int64) (*SectionHeader, error) {
	c := cursor{b: body}
	magic := c.u32()
	major := c.u16()
	minor := c.u16()
	slen := c.i64()
	if c.err != nil {
		return nil, c.err
	}
	if magic != sectionMagic {
		return nil, fmt.Errorf("%w: byte-order magic 0x%08x", ErrVersion, magic)
	}
	if major != 1 {
		return nil, fmt.Errorf("%w: %d.%d", ErrVersion, major, minor)
	}
	// Anything after the 16 fixed bytes is a pcapng option list (comments): ignored.
	return &SectionHeader{Offset: off, Major: major, Minor: minor, SectionLength: slen}, nil
}

const machineInfoSize = 180

func parseMachineInfo(body []byte, off int64) (*MachineInfo, error) {
	if len(body) > machineInfoSize {
		body = body[:machineInfoSize]
	}
	// Older writers may have written a shorter struct: missing trailing fields read as 0.
	var full [machineInfoSize]byte
	copy(full[:], body)
	if len(body) < 4+8+8+128 {
		return nil, fmt.Errorf("%w: machine info body of %d bytes", ErrBadLength, len(body))
	}
	c := cursor{b: full[:]}
	mi := &MachineInfo{Offset: off}
	mi.NumCPUs = c.u32()
	mi.MemorySize = c.u64()
	mi.MaxPID = c.u64()
	host := c.take(128)
	if i := bytes.IndexByte(host, 0); i >= 0 {
		host = host[:i]
	}
	mi.Hostname = string(host)
	mi.BootTS = c.u64()
	mi.Flags = c.u64()
	return mi, c.err
}
