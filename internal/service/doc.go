// Package service is what every sfstream binary shares around its component: flags that fall
// back to SFSTREAM_* environment variables and a YAML config file, the common Kafka and
// registry flags, slog setup, and the HTTP server for /metrics, /healthz and /readyz.
//
// Precedence of a setting: command line, then the environment variable SFSTREAM_<FLAG> (the
// flag name upper-cased, dashes as underscores), then the --config file, then the default. An
// empty environment variable counts as unset: to turn the metrics server off, pass
// --metrics-addr= on the command line.
package service
