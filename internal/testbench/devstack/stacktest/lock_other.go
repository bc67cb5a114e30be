//go:build !unix

package stacktest

import (
	"os"
	"time"
)

// lockFile does not lock where flock is missing: test processes that need the
// bridge then have to be run one at a time (go test -p 1).
func lockFile(path string, timeout time.Duration, waiting func()) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
}
