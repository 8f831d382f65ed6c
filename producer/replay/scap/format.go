package scap

import (
	"fmt"
	"strconv"
	"strings"
)

// ParamString renders parameter i for humans (tests, debugging): integers in decimal (flags
// in hex), strings quoted, socket tuples and addresses decoded, other buffers as a quoted
// prefix. An absent parameter renders as "<absent>".
func (e *Event) ParamString(i int) string {
	b := e.Param(i)
	if b == nil && i >= e.NumParams() {
		return "<absent>"
	}
	switch t := e.paramType(i); t {
	case PTCharBuf, PTFSPath, PTFSRelPath:
		return strconv.Quote(cString(b))
	case PTByteBuf:
		if len(b) > 64 {
			return strconv.Quote(string(b[:64])) + "..."
		}
		return strconv.Quote(string(b))
	case PTSockTuple:
		st, ok := DecodeSockTuple(b)
		if !ok {
			return "<none>"
		}
		if st.Family == AFUnix {
			return fmt.Sprintf("unix %x->%x %q", st.Source, st.Dest, st.Path)
		}
		return fmt.Sprintf("%s:%d->%s:%d", st.Src, st.SPort, st.Dst, st.DPort)
	case PTSockAddr:
		sa, ok := DecodeSockAddr(b)
		switch {
		case !ok:
			return "<none>"
		case sa.Family == AFUnix:
			return "unix " + strconv.Quote(sa.Path)
		}
		return fmt.Sprintf("%s:%d", sa.Addr, sa.Port)
	case PTFlags8, PTFlags16, PTFlags32, PTEnumFlags8, PTEnumFlags16, PTEnumFlags32, PTMode:
		if v, ok := e.Uint(i); ok {
			return fmt.Sprintf("0x%x", v)
		}
	default:
		if v, ok := e.Int(i); ok {
			return strconv.FormatInt(v, 10)
		}
	}
	return fmt.Sprintf("%x", b)
}

// Format renders the whole event on one line: "TS TID TYPE name=value ...".
func (e *Event) Format() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d %d %s", e.TS, e.TID, e.Type)
	ei := e.Type.Info()
	for i := range e.params {
		name := "p" + strconv.Itoa(i)
		if ei != nil && i < len(ei.Params) && ei.Params[i].Name != "" {
			name = ei.Params[i].Name
		}
		sb.WriteString(" " + name + "=" + e.ParamString(i))
	}
	return sb.String()
}
