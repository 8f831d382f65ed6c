package hourly

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// Key identifies one object of the archive.
type Key struct {
	// Exporter is the exporter id, as in the records' keys.
	Exporter string
	// Hour is the start of the UTC hour, in seconds since the epoch.
	Hour int64
	// Partition is the sysflow.events partition.
	Partition int32
	// Variant is 0 for the hour's object and n ≥ 1 for its n-th late object.
	Variant int
}

// HourOf returns the start (seconds since the epoch) of the UTC hour holding ts (ns).
func HourOf(ts int64) int64 {
	const hourNS = int64(time.Hour)
	h := ts / hourNS
	if ts%hourNS < 0 {
		h--
	}
	return h * 3600
}

// SafeExporter returns exporter with every character outside [A-Za-z0-9._-] replaced by '_',
// and "", "." and ".." replaced by "_", so that it is one path element.
func SafeExporter(exporter string) string {
	b := []byte(exporter)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	s := string(b)
	if s == "" || s == "." || s == ".." {
		return "_"
	}
	return s
}

// Stem returns the object name of k without its variant suffix:
// <prefix>/<exporter>/<YYYY-MM-DD>/<HH>/<exporter>.<YYYYMMDDHH>.p<N>. Every object of the
// hour and partition, late ones included, starts with it.
func (k Key) Stem(prefix string) string {
	t := time.Unix(k.Hour, 0).UTC()
	exp := SafeExporter(k.Exporter)
	base := exp + "." + t.Format("2006010215") + ".p" + strconv.FormatInt(int64(k.Partition), 10) + "."
	dir := path.Join(exp, t.Format("2006-01-02"), t.Format("15"))
	if p := strings.Trim(prefix, "/"); p != "" {
		dir = p + "/" + dir
	}
	return dir + "/" + base
}

// Name returns the object name of k under prefix.
func (k Key) Name(prefix string) string {
	return k.Stem(prefix) + variantSuffix(k.Variant)
}

// ParquetName returns the name of the Parquet file beside the object of k, in a Hive-style
// layout: <prefix>/parquet/exporter=<exporter>/date=<YYYY-MM-DD>/hour=<HH>/<base>.parquet,
// where <base> is the object's base name without ".sf" (late files keep .late, .late.<n>).
func (k Key) ParquetName(prefix string) string {
	t := time.Unix(k.Hour, 0).UTC()
	base := strings.TrimSuffix(path.Base(k.Name("")), ".sf")
	dir := "parquet/exporter=" + SafeExporter(k.Exporter) + "/date=" + t.Format("2006-01-02") + "/hour=" + t.Format("15")
	if p := strings.Trim(prefix, "/"); p != "" {
		dir = p + "/" + dir
	}
	return dir + "/" + base + ".parquet"
}

func variantSuffix(v int) string {
	switch {
	case v <= 0:
		return "sf"
	case v == 1:
		return "late.sf"
	}
	return "late." + strconv.Itoa(v) + ".sf"
}

// ParseVariant returns the variant of an object name that starts with stem (Key.Stem), or
// false when the rest of the name is not a variant suffix.
func ParseVariant(stem, name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, stem)
	if !ok {
		return 0, false
	}
	switch rest {
	case "sf":
		return 0, true
	case "late.sf":
		return 1, true
	}
	n, ok := strings.CutPrefix(rest, "late.")
	if !ok {
		return 0, false
	}
	n, ok = strings.CutSuffix(n, ".sf")
	if !ok {
		return 0, false
	}
	v, err := strconv.Atoi(n)
	if err != nil || v < 2 || strconv.Itoa(v) != n {
		return 0, false
	}
	return v, true
}

// String describes k for logs.
func (k Key) String() string {
	return fmt.Sprintf("%s %s p%d v%d", k.Exporter, time.Unix(k.Hour, 0).UTC().Format("2006-01-02T15"), k.Partition, k.Variant)
}
