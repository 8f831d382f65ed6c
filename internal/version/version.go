// Package version holds the build version, set with -ldflags
// "-X github.com/sfstream/sfstream/internal/version.Version=...".
package version

// Version is the build's version; "dev" when not set at link time.
var Version = "dev"
