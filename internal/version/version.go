// Package version holds the version the binaries report: the CLI's
// `sfnhooks version`, and each function's init log line. The Makefile sets
// it at build time:
//
//	go build -ldflags "-X github.com/sfnhooks/sfnhooks/internal/version.Version=v1.2.3"
package version

// Version is "dev" unless the build set it.
var Version = "dev"
