// Package schemas embeds the Avro schemas that are sfstream's contract: every byte sent to
// Kafka or written to S3 is defined here.
//
//   - sysflow.avsc: the SysFlow v5 union record sysflow.SysFlow, with the reference collector's
//     record names, namespaces, field order, defaults and union order.
//   - raw.avsc: sfstream's raw syscall batch (sfstream.raw.Batch), producer to processors.
//   - alert.avsc: sfstream's alert (sfstream.alert.Alert), sf-policy to sysflow.alerts.
package schemas

import (
	"bytes"
	_ "embed"
	"encoding/json"
)

//go:embed sysflow.avsc
var sysflowText string

//go:embed raw.avsc
var rawText string

//go:embed alert.avsc
var alertText string

// Alert returns the alert schema as written in alert.avsc.
func Alert() string { return alertText }

// SysFlow returns the SysFlow v5 schema as written in sysflow.avsc.
func SysFlow() string { return sysflowText }

// Raw returns the raw batch schema as written in raw.avsc.
func Raw() string { return rawText }

// Compact returns s with insignificant whitespace removed, keeping key order. For sysflow.avsc
// this is byte for byte the avro.schema text the reference collector embeds in its files.
func Compact(s string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		panic("schemas: embedded schema is not valid JSON: " + err.Error())
	}
	return b.String()
}
