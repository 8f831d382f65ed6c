package codec

import (
	"context"
	"fmt"

	"github.com/hamba/avro/v2"

	"github.com/sfstream/sfstream/schemas"
)

// Alert is one alert of the policy engine (schemas/alert.avsc), pinned by a round-trip test.
type Alert struct {
	Rule        string   `avro:"rule"`
	Priority    string   `avro:"priority"`
	Tags        []string `avro:"tags"`
	Output      string   `avro:"output"`
	Exporter    string   `avro:"exporter"`
	TS          int64    `avro:"ts"`
	Kind        string   `avro:"kind"`
	HPID        int64    `avro:"hpid"`
	CreateTS    int64    `avro:"createTS"`
	ContainerID *string  `avro:"containerId"`
	FilePath    *string  `avro:"filePath"`
	// Record is the triggering record as a sysflow.SysFlow union value in Avro binary
	// (sysflow.Encoder's bytes), without a wire header.
	Record []byte `avro:"record"`
}

// alertSchema is alert.avsc parsed; the embedded schema always parses (a test covers it).
var alertSchema = avro.MustParse(schemas.Alert())

// RegisterAlert registers the alert schema under topic's subject and returns its id, with the
// same retries as RegisterSysFlow.
func (s *Serde) RegisterAlert(ctx context.Context, topic string) (int, error) {
	return s.register(ctx, topic, schemas.Compact(schemas.Alert()))
}

// AppendAlert appends a in the wire format with schema id to dst. On error dst is returned
// unchanged.
func (s *Serde) AppendAlert(dst []byte, id int, a *Alert) ([]byte, error) {
	b, err := s.api.Marshal(alertSchema, a)
	if err != nil {
		return dst, fmt.Errorf("append alert value: %w", err)
	}
	return append(AppendHeader(dst, id), b...), nil
}

// DecodeAlert decodes a wire-format alert value by its writer schema (fetched from the
// registry), resolved against alert.avsc by field names.
func (s *Serde) DecodeAlert(ctx context.Context, b []byte) (*Alert, error) {
	id, body, err := ParseHeader(b)
	if err != nil {
		return nil, fmt.Errorf("decode alert: %w", err)
	}
	text, err := s.fetch(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("decode alert: %w", err)
	}
	writer, err := avro.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("decode alert: schema id %d: %w", id, err)
	}
	a := &Alert{}
	if err := s.api.Unmarshal(writer, body, a); err != nil {
		return nil, fmt.Errorf("decode alert: %w", err)
	}
	return a, nil
}
