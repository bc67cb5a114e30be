//go:build !unix

package main

import "os"

// tryLock does not lock where flock is missing; binding the bridge port then
// fails if another process holds it.
func tryLock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
}
