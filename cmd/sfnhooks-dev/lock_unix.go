//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// tryLock takes the exclusive flock the tests take on the bridge's lock file
// (internal/testbench/devstack/stacktest), without waiting. It is released when the
// file is closed or the process exits.
func tryLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errors.New("the Lambda bridge is in use")
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
