package sysflow

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strconv"
)

// NewFOID returns the identity of the file at path as seen from container containerID (""
// on the host): the SHA-1 of the container id immediately followed by the path, with no
// separator, as the reference collector computes it. sha1("/etc/ld.so.cache") starts 8d57b8c6.
func NewFOID(containerID, path string) FOID {
	var buf [256]byte
	b := buf[:0]
	if n := len(containerID) + len(path); n > len(buf) {
		b = make([]byte, 0, n)
	}
	b = append(b, containerID...)
	b = append(b, path...)
	return sha1.Sum(b)
}

// String returns the FOID as 40 lower-case hex digits.
func (f FOID) String() string {
	return hex.EncodeToString(f[:])
}

// ParseFOID parses 40 hex digits (either case) as written by FOID.String.
func ParseFOID(s string) (FOID, error) {
	var f FOID
	if len(s) != 2*len(f) {
		return f, fmt.Errorf("parse foid %q: want %d hex digits, have %d", s, 2*len(f), len(s))
	}
	if _, err := hex.Decode(f[:], []byte(s)); err != nil {
		return FOID{}, fmt.Errorf("parse foid %q: %w", s, err)
	}
	return f, nil
}

// Key returns the Kafka key of the file entity f of exporter: "<exporter>/F/<foid hex>".
func (f FOID) Key(exporter string) string {
	return string(f.AppendKey(make([]byte, 0, len(exporter)+3+2*len(f)), exporter))
}

// AppendKey appends the Kafka key of a file entity, as Key returns it, to dst.
func (f FOID) AppendKey(dst []byte, exporter string) []byte {
	dst = append(dst, exporter...)
	dst = append(dst, "/F/"...)
	return hex.AppendEncode(dst, f[:])
}

// String returns the OID as "<hpid>/<createTS>", the form it takes in Kafka keys.
func (o OID) String() string {
	b := make([]byte, 0, 32)
	b = strconv.AppendInt(b, o.HPID, 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, o.CreateTS, 10)
	return string(b)
}

// Key returns the Kafka key of process o of exporter: "<exporter>/P/<hpid>/<createTS>". Every
// record about the process (entity, events, flows, raw records) carries this key.
func (o OID) Key(exporter string) string {
	return exporter + "/P/" + o.String()
}

// ContainerKey returns the Kafka key of a container entity: "<exporter>/C/<container id>".
func ContainerKey(exporter, containerID string) string {
	return exporter + "/C/" + containerID
}

// HeaderKey returns the Kafka key of an exporter's header record: "<exporter>/H".
func HeaderKey(exporter string) string {
	return exporter + "/H"
}

// RecordKey returns the Kafka key of rec for exporter (DESIGN.md, "Identity and keys"):
// entities are keyed by their own identity, events and flows by their process. Pods and
// K8s events have no key in the contract; for them, and for nil, ok is false.
func RecordKey(exporter string, rec Record) (key string, ok bool) {
	switch r := rec.(type) {
	case *Header:
		return HeaderKey(exporter), true
	case *Container:
		return ContainerKey(exporter, r.ID), true
	case *Process:
		return r.OID.Key(exporter), true
	case *File:
		return r.OID.Key(exporter), true
	case *ProcessEvent:
		return r.ProcOID.Key(exporter), true
	case *NetworkFlow:
		return r.ProcOID.Key(exporter), true
	case *FileFlow:
		return r.ProcOID.Key(exporter), true
	case *FileEvent:
		return r.ProcOID.Key(exporter), true
	case *NetworkEvent:
		return r.ProcOID.Key(exporter), true
	case *ProcessFlow:
		return r.ProcOID.Key(exporter), true
	}
	return "", false
}
