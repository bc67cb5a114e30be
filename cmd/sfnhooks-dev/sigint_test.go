//go:build linux

package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
)

// Ctrl-C ends `make dev` with exit status 0 and no make error. A real
// terminal: util-linux script(1) runs make dev on a pseudo-terminal, and
// the test types ^C into it once the server is ready; the terminal sends
// SIGINT to its foreground process group. Before, that group held make
// and go run, and the session ended "make: *** [Makefile: dev] Error 1",
// status 130.
func TestMakeDevCtrlC(t *testing.T) {
	stacktest.RequireStack(t)
	for _, tool := range []string{"make", "script"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed: %v", tool, err)
		}
	}
	cmd := exec.Command("script", "--quiet", "--return", "--flush", "--command", "make --no-print-directory dev", "/dev/null")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "SFNHOOKS_DEV_ADDR=127.0.0.1:0", "ASL=")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill() }()

	for deadline := time.Now().Add(3 * time.Minute); !strings.Contains(out.String(), "make dev is ready"); time.Sleep(100 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("make dev ended before it was ready (%v):\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("make dev not ready within 3 minutes:\n%s", out.String())
		}
	}
	if _, err := io.WriteString(stdin, "\x03"); err != nil { // ^C
		t.Fatal(err)
	}
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("make dev still runs 30 s after ^C:\n%s", out.String())
	}
	if err != nil || strings.Contains(out.String(), "make: ***") || !strings.Contains(out.String(), "stopping") {
		t.Fatalf("make dev after ^C: %v, want exit status 0, stopped, and no make error:\n%s", err, out.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
