//go:build !linux

package main

// takeTerminal does nothing here: Ctrl-C reaches make too (see the Linux
// version).
func takeTerminal() (restore func()) { return func() {} }
