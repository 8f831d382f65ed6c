package raw

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/sfstream/sfstream/schemas"
)

// Batch is events of one process, in capture order: one Kafka record value.
type Batch struct {
	Exporter string  `avro:"exporter"`
	HPID     int64   `avro:"hpid"`
	CreateTS int64   `avro:"createTS"`
	Events   []Event `avro:"events"`
}

// Event is one raw syscall (or snapshot, drop or end notice). Fields an op does not use keep
// their defaults (fd -1, dirfd -100, uid -1, the rest zero).
type Event struct {
	Op     Op     `avro:"op"`
	TS     int64  `avro:"ts"`
	TID    int64  `avro:"tid"`
	Ret    int64  `avro:"ret"`
	FD     int32  `avro:"fd"`
	DirFD  int32  `avro:"dirfd"`
	Path   string `avro:"path"`
	DirFD2 int32  `avro:"dirfd2"`
	Path2  string `avro:"path2"`
	Flags  int64  `avro:"flags"`
	Mode   int32  `avro:"mode"`
	UID    int32  `avro:"uid"`
	Sock   *Sock  `avro:"sock"`
	Proc   *Proc  `avro:"proc"`
	FDs    []FD   `avro:"fds"`
}

// NewEvent returns an event with op, ts and tid set and every other field at its default.
func NewEvent(op Op, ts, tid int64) Event {
	return Event{Op: op, TS: ts, TID: tid, FD: NoFD, DirFD: AtFDCWD, DirFD2: AtFDCWD, UID: -1}
}

// Sock is a socket's local and remote addresses as this process sees them.
type Sock struct {
	Family int32  `avro:"family"`
	Proto  int32  `avro:"proto"`
	LAddr  []byte `avro:"laddr"`
	LPort  int32  `avro:"lport"`
	RAddr  []byte `avro:"raddr"`
	RPort  int32  `avro:"rport"`
	Path   string `avro:"path"`
}

// Address families and protocols used in Sock.
const (
	AFUnix  = 1
	AFInet  = 2
	AFInet6 = 10

	ProtoICMP = 1
	ProtoTCP  = 6
	ProtoUDP  = 17
)

// Proc carries a process's attributes.
type Proc struct {
	PPID      int64      `avro:"ppid"`
	PCreateTS int64      `avro:"pcreateTS"`
	Exe       string     `avro:"exe"`
	Args      []string   `avro:"args"`
	Comm      string     `avro:"comm"`
	Cwd       string     `avro:"cwd"`
	Env       []string   `avro:"env"`
	UID       int32      `avro:"uid"`
	GID       int32      `avro:"gid"`
	UserName  string     `avro:"userName"`
	GroupName string     `avro:"groupName"`
	TTY       int32      `avro:"tty"`
	VPID      int64      `avro:"vpid"`
	Container *Container `avro:"container"`
}

// Container is what the producer knows of a process's container.
type Container struct {
	ID         string `avro:"id"`
	Name       string `avro:"name"`
	Image      string `avro:"image"`
	ImageID    string `avro:"imageid"`
	Runtime    int32  `avro:"runtime"`
	Privileged bool   `avro:"privileged"`
	PodID      string `avro:"podId"` // the pod's uid ("" when not in a pod)
}

// FD is one fd table entry.
type FD struct {
	FD    int32  `avro:"fd"`
	Kind  int32  `avro:"kind"`
	Path  string `avro:"path"`
	Flags int64  `avro:"flags"`
	Sock  *Sock  `avro:"sock"`
}

// Schema is the parsed raw batch schema.
var Schema = avro.MustParse(schemas.Raw())

// ErrInvalid marks a batch that decoded but breaks the raw contract (impossible values).
var ErrInvalid = errors.New("invalid raw batch")

// Key returns the Kafka key of a process: <exporter>/P/<hpid>/<createTS>.
func Key(exporter string, hpid, createTS int64) []byte {
	b := make([]byte, 0, len(exporter)+24)
	b = append(b, exporter...)
	b = append(b, "/P/"...)
	b = strconv.AppendInt(b, hpid, 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, createTS, 10)
	return b
}

// ParseKey parses a process key as Key writes it; ok is false for any other string.
func ParseKey(key string) (exporter string, hpid, createTS int64, ok bool) {
	i := strings.LastIndex(key, "/P/")
	if i < 0 {
		return "", 0, 0, false
	}
	h, c, found := strings.Cut(key[i+3:], "/")
	hp, err1 := strconv.ParseInt(h, 10, 64)
	ct, err2 := strconv.ParseInt(c, 10, 64)
	if !found || err1 != nil || err2 != nil {
		return "", 0, 0, false
	}
	return key[:i], hp, ct, true
}

// Marshal appends the Avro binary encoding of b to dst.
func Marshal(b *Batch) ([]byte, error) {
	out, err := avro.Marshal(Schema, b)
	if err != nil {
		return nil, fmt.Errorf("encode raw batch: %w", err)
	}
	return out, nil
}

// Unmarshal decodes an Avro binary raw batch and validates it.
func Unmarshal(data []byte, b *Batch) error {
	if err := avro.Unmarshal(Schema, data, b); err != nil {
		return fmt.Errorf("decode raw batch: %w", err)
	}
	return b.Validate()
}

// Validate checks the values no producer may send: a batch without a process (unless it holds
// only drop, end and container notices, which are addressed to a partition, not a process), unknown ops,
// negative thread ids or timestamps.
func (b *Batch) Validate() error {
	if b.HPID <= 0 && !b.Notices() {
		return fmt.Errorf("%w: hpid %d", ErrInvalid, b.HPID)
	}
	if b.CreateTS < 0 {
		return fmt.Errorf("%w: createTS %d", ErrInvalid, b.CreateTS)
	}
	for i := range b.Events {
		e := &b.Events[i]
		if !e.Op.Known() {
			return fmt.Errorf("%w: event %d: unknown op %d", ErrInvalid, i, int32(e.Op))
		}
		if e.TS < 0 || e.TID < 0 {
			return fmt.Errorf("%w: event %d (%s): ts %d tid %d", ErrInvalid, i, e.Op, e.TS, e.TID)
		}
	}
	return nil
}

// Notices reports whether every event of b is a drop, end or container notice: such a batch
// concerns the whole exporter and is sent to every partition.
func (b *Batch) Notices() bool {
	for i := range b.Events {
		if op := b.Events[i].Op; op != OpDrop && op != OpEnd && op != OpContainer {
			return false
		}
	}
	return len(b.Events) > 0
}
