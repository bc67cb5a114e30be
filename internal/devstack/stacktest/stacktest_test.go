package stacktest_test

import (
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sfnhooks/sfnhooks/internal/devstack/stacktest"
)

func TestRequired(t *testing.T) {
	for _, tc := range []struct {
		ci, require string
		want        bool
	}{
		{"", "", false},
		{"true", "", true},
		{"", "1", true},
		{"", "0", false},
	} {
		t.Setenv("CI", tc.ci)
		t.Setenv(stacktest.EnvRequireStack, tc.require)
		if got := stacktest.Required(); got != tc.want {
			t.Errorf("CI=%q %s=%q: Required() = %v, want %v", tc.ci, stacktest.EnvRequireStack, tc.require, got, tc.want)
		}
	}
}

func TestRequireStackSkipsWhenMissing(t *testing.T) {
	// A port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	t.Setenv("SFNHOOKS_MOTO_PORT", strconv.Itoa(port))
	t.Setenv("CI", "")
	t.Setenv(stacktest.EnvRequireStack, "")

	reached := false
	t.Run("missing stack", func(t *testing.T) {
		stacktest.RequireStack(t)
		reached = true
	})
	if reached {
		t.Error("RequireStack returned without a stack")
	}
}

func TestUniqueName(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
	seen := map[string]bool{}
	for range 100 {
		name := stacktest.UniqueName(t, "prefix")
		if !valid.MatchString(name) || !strings.HasPrefix(name, "prefix-TestUniqueName-") {
			t.Fatalf("UniqueName = %q: want prefix-TestUniqueName-…, at most 64 letters, digits and hyphens", name)
		}
		if seen[name] {
			t.Fatalf("UniqueName repeated %q", name)
		}
		seen[name] = true
	}
	t.Run(strings.Repeat("a very long subtest name ", 10), func(t *testing.T) {
		if name := stacktest.UniqueName(t, "fn"); !valid.MatchString(name) {
			t.Errorf("UniqueName = %q (%d characters)", name, len(name))
		}
	})
}
