package scap

import (
	"fmt"
	"net/netip"
)

// InterfaceList lists the captured machine's network interfaces.
type InterfaceList struct {
	Offset     int64
	Type       BlockType
	Interfaces []Interface
}

// Interface is one address of a network interface.
type Interface struct {
	Type      uint16 // 1 IPv4, 2 IPv6, 3 IPv4 without link speed, 4 IPv6 without link speed
	Name      string
	Addr      netip.Addr
	Netmask   netip.Addr
	Broadcast netip.Addr
	LinkSpeed uint64
}

// UserList lists the users and groups of the captured machine.
type UserList struct {
	Offset int64
	Type   BlockType
	Users  []User
	Groups []Group
}

// User is one passwd entry.
type User struct {
	UID, GID    uint32
	Name        string
	Home, Shell string
}

// Group is one group entry.
type Group struct {
	GID  uint32
	Name string
}

func (b *InterfaceList) BlockOffset() int64 { return b.Offset }
func (b *UserList) BlockOffset() int64      { return b.Offset }
func (*InterfaceList) isBlock()             {}
func (*UserList) isBlock()                  {}

// parseIfList decodes IL and IL_V2. IL_V2's per-entry length excludes its own 4 bytes.
func parseIfList(body []byte, off int64, v2 bool) (*InterfaceList, error) {
	il := &InterfaceList{Offset: off, Type: BlockIfList}
	if v2 {
		il.Type = BlockIfListV2
	}
	c := cursor{b: body}
	for i := 0; c.left() >= 4; i++ {
		ec := &c
		if v2 {
			n := int(c.u32())
			if n > c.left() {
				return nil, fmt.Errorf("%w: interface entry %d declares %d bytes, %d left", ErrBadLength, i, n, c.left())
			}
			ec = &cursor{b: c.take(n)}
		}
		var it Interface
		it.Type = ec.u16()
		nameLen := int(ec.u16())
		switch it.Type {
		case 1, 3:
			it.Addr, it.Netmask, it.Broadcast = addr4(ec), addr4(ec), addr4(ec)
		case 2, 4:
			it.Addr, it.Netmask, it.Broadcast = addr16(ec), addr16(ec), addr16(ec)
		default:
			if ec.err == nil {
				if !v2 {
					return nil, fmt.Errorf("interface entry %d: %w: type %d", i, ErrMalformed, it.Type)
				}
				continue // unknown type in a length-prefixed entry: skip it
			}
		}
		if it.Type == 1 || it.Type == 2 {
			it.LinkSpeed = ec.u64()
		}
		it.Name = cString(ec.take(nameLen))
		if ec.err != nil {
			return nil, fmt.Errorf("interface entry %d: %w", i, ec.err)
		}
		il.Interfaces = append(il.Interfaces, it)
	}
	return il, nil
}

// parseUserList decodes UL and UL_V2. UL_V2's per-entry length includes its own 4 bytes.
func parseUserList(body []byte, off int64, v2 bool) (*UserList, error) {
	ul := &UserList{Offset: off, Type: BlockUserList}
	if v2 {
		ul.Type = BlockUserListV2
	}
	c := cursor{b: body}
	for i := 0; c.left() >= 4; i++ {
		ec := &c
		if v2 {
			n := int(c.u32())
			if n < 4 || n-4 > c.left() {
				return nil, fmt.Errorf("%w: user entry %d declares %d bytes, %d left", ErrBadLength, i, n, c.left()+4)
			}
			ec = &cursor{b: c.take(n - 4)}
		}
		switch kind := ec.u8(); kind {
		case 0:
			var u User
			u.UID, u.GID = ec.u32(), ec.u32()
			u.Name, u.Home, u.Shell = ec.str16(), ec.str16(), ec.str16()
			if ec.err == nil {
				ul.Users = append(ul.Users, u)
			}
		case 1:
			var g Group
			g.GID = ec.u32()
			g.Name = ec.str16()
			if ec.err == nil {
				ul.Groups = append(ul.Groups, g)
			}
		default:
			if ec.err == nil && !v2 {
				return nil, fmt.Errorf("user entry %d: %w: kind %d", i, ErrMalformed, kind)
			}
		}
		if ec.err != nil {
			return nil, fmt.Errorf("user entry %d: %w", i, ec.err)
		}
	}
	return ul, nil
}
