package stacktest_test

import (
	"fmt"
	"net"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
)

func TestMissingPolicy(t *testing.T) {
	for _, tc := range []struct {
		ci, require string
		want        stacktest.Policy
		invalid     bool
	}{
		{"", "", stacktest.FailUnlessShort, false},
		{"true", "", stacktest.Fail, false},
		{"1", "", stacktest.Fail, false},
		{"anything", "", stacktest.Fail, false},
		{"false", "", stacktest.FailUnlessShort, false},
		{"0", "", stacktest.FailUnlessShort, false},
		{"", "1", stacktest.Fail, false},
		{"", "true", stacktest.Fail, false},
		{"", "TRUE", stacktest.Fail, false},
		{"", "True", stacktest.Fail, false},
		{"", "yes", stacktest.Fail, false},
		{"", " Yes ", stacktest.Fail, false},
		{"", "0", stacktest.Skip, false},
		{"", "false", stacktest.Skip, false},
		{"", "No", stacktest.Skip, false},
		{"true", "0", stacktest.Skip, false}, // the explicit setting wins over CI
		{"", "2", stacktest.Fail, true},
		{"", "on", stacktest.Fail, true},
		{"", "ture", stacktest.Fail, true},
	} {
		t.Setenv("CI", tc.ci)
		t.Setenv(stacktest.EnvRequireStack, tc.require)
		got, err := stacktest.MissingPolicy()
		if got != tc.want || (err != nil) != tc.invalid {
			t.Errorf("CI=%q %s=%q: MissingPolicy() = %v, %v; want %v, error %v", tc.ci, stacktest.EnvRequireStack, tc.require, got, err, tc.want, tc.invalid)
		}
		if err != nil && !strings.Contains(err.Error(), stacktest.EnvRequireStack) {
			t.Errorf("%s=%q: error %q does not name the variable", stacktest.EnvRequireStack, tc.require, err)
		}
		if r := stacktest.Required(); r != (tc.want == stacktest.Fail) {
			t.Errorf("CI=%q %s=%q: Required() = %v", tc.ci, stacktest.EnvRequireStack, tc.require, r)
		}
	}
}

func TestMustFail(t *testing.T) {
	for _, tc := range []struct {
		p     stacktest.Policy
		short bool
		want  bool
	}{
		{stacktest.FailUnlessShort, false, true},
		{stacktest.FailUnlessShort, true, false},
		{stacktest.Fail, false, true},
		{stacktest.Fail, true, true},
		{stacktest.Skip, false, false},
		{stacktest.Skip, true, false},
	} {
		if got := stacktest.MustFail(tc.p, tc.short); got != tc.want {
			t.Errorf("policy %v, short %v: fail %v, want %v", tc.p, tc.short, got, tc.want)
		}
	}
}

// outcomeTB records how a test ended: Fatal and Skip end the goroutine, as
// the testing package's do, without touching the real test.
type outcomeTB struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (o *outcomeTB) Helper() {}

func (o *outcomeTB) Fatal(args ...any) { o.Fatalf("%s", fmt.Sprint(args...)) }

func (o *outcomeTB) Fatalf(format string, args ...any) {
	o.failed, o.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (o *outcomeTB) Skipf(format string, args ...any) {
	o.skipped, o.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// requireMissing runs RequireStack with the given -short flag against a
// port nothing listens on, and reports how the test ended.
func requireMissing(t *testing.T, short bool) *outcomeTB {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	t.Setenv("SFNHOOKS_MOTO_PORT", strconv.Itoa(port))
	o := &outcomeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		stacktest.RequireStackShort(o, short)
		o.msg = "returned"
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("RequireStack did not return within 30s")
	}
	return o
}

// Without the stack a plain go test fails, go test -short skips; CI or
// SFNHOOKS_REQUIRE_STACK=1 fails even with -short, =0 skips even without.
func TestRequireStackWhenMissing(t *testing.T) {
	for _, tc := range []struct {
		ci, require string
		short       bool
		fail        bool
		say         string
	}{
		{"", "", false, true, "-short"},
		{"", "", true, false, "-short"},
		{"true", "", true, true, "required"},
		{"", "yes", true, true, "required"},
		{"", "false", false, false, stacktest.EnvRequireStack + " is false"},
		{"", "maybe", true, true, "maybe"},
	} {
		t.Setenv("CI", tc.ci)
		t.Setenv(stacktest.EnvRequireStack, tc.require)
		o := requireMissing(t, tc.short)
		what := fmt.Sprintf("CI=%q %s=%q short=%v", tc.ci, stacktest.EnvRequireStack, tc.require, tc.short)
		if o.failed != tc.fail || o.skipped == tc.fail {
			t.Errorf("%s: failed %v skipped %v (%s), want failed %v", what, o.failed, o.skipped, o.msg, tc.fail)
		}
		for _, want := range []string{"the AWS stack is not running", "scripts/stack.sh up", "make test", tc.say} {
			if !strings.Contains(o.msg, want) {
				t.Errorf("%s: message %q does not say %q", what, o.msg, want)
			}
		}
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
