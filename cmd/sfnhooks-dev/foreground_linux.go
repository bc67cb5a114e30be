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
// it. Without a controlling terminal, or when this process is not in the
// foreground (started in the background, under a test), it does nothing.
func takeTerminal() (restore func()) {
	noop := func() {}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return noop
	}
	var fg int32
	if ioctl(tty, syscall.TIOCGPGRP, &fg) != nil || int(fg) != syscall.Getpgrp() {
		tty.Close()
		return noop
	}
	// A background group that sets the foreground gets SIGTTOU: ignore it
	// for the hand-over and the hand-back.
	signal.Ignore(syscall.SIGTTOU)
	if syscall.Setpgid(0, 0) != nil {
		tty.Close()
		return noop
	}
	me := int32(syscall.Getpid())
	if ioctl(tty, syscall.TIOCSPGRP, &me) != nil {
		_ = syscall.Setpgid(0, int(fg))
		tty.Close()
		return noop
	}
	return func() {
		_ = ioctl(tty, syscall.TIOCSPGRP, &fg)
		tty.Close()
	}
}

func ioctl(f *os.File, req uintptr, pgid *int32) error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), req, uintptr(unsafe.Pointer(pgid))); errno != 0 {
		return errno
	}
	return nil
}
