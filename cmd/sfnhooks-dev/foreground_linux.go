package main

import (
	"os"
	"os/signal"
	"syscall"
	"unsafe"
)

// takeTerminal moves this process into a process group of its own and
// makes that group the terminal's foreground, so that Ctrl-C reaches the
// dev server alone. make, which runs it, would otherwise get the SIGINT
// too and, whatever the server's exit status, re-raise it and die of it
// (GNU make: "make: *** [Makefile: dev] Interrupt", or "Error 1" with go
// run). The returned func gives the terminal back to the group that had
// it. Only when standard input is the terminal and this process is in its
// foreground (make dev typed in a shell): started with another stdin (a
// test, a pipe) or in the background, it does nothing.
func takeTerminal() (restore func()) {
	noop := func() {}
	tty := os.Stdin
	var fg int32
	if ioctl(tty, syscall.TIOCGPGRP, &fg) != nil || int(fg) != syscall.Getpgrp() {
		return noop
	}
	// A background group that sets the foreground gets SIGTTOU: ignore it
	// for the hand-over and the hand-back.
	signal.Ignore(syscall.SIGTTOU)
	if syscall.Setpgid(0, 0) != nil {
		return noop
	}
	me := int32(syscall.Getpid())
	if ioctl(tty, syscall.TIOCSPGRP, &me) != nil {
		_ = syscall.Setpgid(0, int(fg))
		return noop
	}
	return func() { _ = ioctl(tty, syscall.TIOCSPGRP, &fg) }
}

func ioctl(f *os.File, req uintptr, pgid *int32) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), req, uintptr(unsafe.Pointer(pgid))); errno != 0 {
		return errno
	}
	return nil
}
