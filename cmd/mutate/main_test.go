package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A module of its own in a temporary directory, whose tests are made to
// kill, flake or fail without the mutant, run through run (go test -json,
// as for the real mutants).
const (
	fakeMod  = "module fake\n\ngo 1.22\n"
	fakeCode = "package fake\n\nconst Bug = false\n"
)

// fakeTests are the test files of the module: killer fails when the
// mutant (Bug = true) is in; flaky fails the first time it ever runs (the
// marker file named by FAKE_MARKER does not exist yet); broken always
// fails.
const (
	killerTest = `package fake

import "testing"

func TestKiller(t *testing.T) {
	if Bug {
		t.Fatal("the bug is in")
	}
}
`
	flakyTest = `package fake

import (
	"os"
	"testing"
)

func TestAFlaky(t *testing.T) {
	m := os.Getenv("FAKE_MARKER")
	if _, err := os.Stat(m); err != nil {
		_ = os.WriteFile(m, nil, 0o644)
		t.Fatal("first run: a timing flake")
	}
}
`
	brokenTest = `package fake

import "testing"

func TestABroken(t *testing.T) { t.Fatal("always") }
`
)

func fakeRepo(t *testing.T, tests ...string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"go.mod": fakeMod, "fake.go": fakeCode}
	for i, src := range tests {
		files[filepath.Join("t"+string(rune('0'+i))+"_test.go")] = src
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("FAKE_MARKER", filepath.Join(t.TempDir(), "ran"))
	t.Setenv("GOFLAGS", "-mod=mod")
	return dir
}

func TestRunCountsOnlyKillsThatHold(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test several times")
	}
	stackPause = 0
	bug := mutant{Name: "MX", File: "fake.go", Edits: []edit{{Old: "Bug = false", New: "Bug = true"}}, Pkgs: []string{"./"}}
	noop := mutant{Name: "MY", File: "fake.go", Edits: []edit{{Old: "package fake", New: "package fake // mutated"}}, Pkgs: []string{"./"}}
	for _, tc := range []struct {
		name       string
		m          mutant
		tests      []string
		wantStatus string
		wantKiller string
		wantFlakes []string // substrings of the flakes reported, in order
		skip       string
	}{
		{"killed", bug, []string{killerTest}, "killed", "./ TestKiller", nil, ""},
		{"flake only", noop, []string{flakyTest, killerTest}, "FLAKY", "", []string{"TestAFlaky: failed once with the mutant, then passed alone with it"}, ""},
		{"flake then a kill", bug, []string{flakyTest, killerTest}, "killed", "./ TestKiller", []string{"TestAFlaky: failed once with the mutant"}, ""},
		{"fails without the mutant", bug, []string{brokenTest, killerTest}, "killed", "./ TestKiller", []string{"TestABroken: fails without the mutant too"}, ""},
		{"survived", noop, []string{killerTest}, "SURVIVED", "", nil, ""},
		{"killer skipped", bug, []string{killerTest}, "SURVIVED", "", nil, "TestKiller"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fakeRepo(t, tc.tests...)
			orig, err := os.ReadFile(filepath.Join(dir, tc.m.File))
			if err != nil {
				t.Fatal(err)
			}
			r := run(dir, tc.m, orig, time.Minute, 1, tc.skip)
			if r.status != tc.wantStatus || r.killer != tc.wantKiller {
				t.Fatalf("%s: status %s killer %q, want %s %q; flakes %q; detail:\n%s", tc.name, r.status, r.killer, tc.wantStatus, tc.wantKiller, r.flakes, r.detail)
			}
			if len(r.flakes) != len(tc.wantFlakes) {
				t.Fatalf("%s: flakes %q, want %d like %q", tc.name, r.flakes, len(tc.wantFlakes), tc.wantFlakes)
			}
			for i, f := range tc.wantFlakes {
				if !strings.Contains(r.flakes[i], f) {
					t.Errorf("%s: flake %d is %q, want it to say %q", tc.name, i, r.flakes[i], f)
				}
			}
			if got, _ := os.ReadFile(filepath.Join(dir, tc.m.File)); string(got) != string(orig) {
				t.Errorf("%s: %s left mutated: %q", tc.name, tc.m.File, got)
			}
		})
	}
}
