// Command mutate is mutation testing for the hook protocol (make mutate):
// it applies each mutant of mutants.go, one at a time, to a copy of the
// repository, runs the tests that matter against the offline AWS stack, and
// requires each mutant to be killed (a test fails). It prints a table:
// mutant, result, killing test (the first failing test that holds, see
// below), time.
//
// Why a table of hand-written mutants and not a mutation tool: the tools
// for Go (go-mutesting and its forks) are unmaintained and mutate blindly
// (swap operators, drop statements) into thousands of mutants, most of them
// equivalent or meaningless for a protocol whose correctness lives in the
// text of DynamoDB condition expressions, which such tools never touch. Each
// mutant here is one plausible protocol bug (docs/protocol.md names the
// steps), small enough to review, and the run takes minutes, not hours.
//
// A mutant is exact text replacements in one file; an original snippet
// that is not found exactly once is an error, so the mutants are kept in
// step with the code. The working tree is never modified: the commit HEAD
// (with -worktree: the working tree, without .git and .state) is copied to
// a temporary directory once, and each mutant is written there and undone
// after its run. The first test to fail is the candidate killer (the run
// stops there); it kills the mutant only if, run alone, it fails again
// with the mutant (-confirm times) and passes without it. Otherwise it is
// reported as a flake, skipped, and the package runs again for another
// killer; a mutant that only flakes failed is FLAKY, not killed (a timing
// flake once passed for a kill: issue 20).
//
// The stack must be up (make mutate starts it): the tests read
// SFNHOOKS_MOTO_PORT and SFNHOOKS_BRIDGE_PORT from the environment, and run
// with SFNHOOKS_REQUIRE_STACK=1.
//
//	go run ./cmd/mutate [-only M1,M2] [-pkgs ./pkg/hooks/] [-confirm 1] [-skip TestX] [-list] [-check] [-keep] [-worktree]
//
// Exit status: 0 when every mutant run was killed; 1 when one survived, was
// killed only by flakes, or was invalid (does not compile); 2 on a usage or
// setup error.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// A mutant is one plausible bug: each edit replaces text that occurs
// exactly once in File.
type mutant struct {
	Name  string
	Desc  string
	File  string // relative to the repository root
	Edits []edit
	// Pkgs are the packages to test, in order; the next one runs only if
	// the mutant survived the previous. Default: defaultPkgs.
	Pkgs []string
	// Equivalent, when set, says why no test can kill the mutant (the
	// code behaves the same with it): its snippets are still checked, but
	// it is not run.
	Equivalent string
}

type edit struct{ Old, New string }

var defaultPkgs = []string{"./pkg/hooks/", "./e2e/"}

type result struct {
	m      mutant
	status string // killed, SURVIVED, FLAKY, INVALID, ERROR
	killer string
	flakes []string // candidate killers that did not hold (see run)
	took   time.Duration
	detail string
}

func main() {
	only := flag.String("only", os.Getenv("MUTANTS"), "comma-separated mutant names to run (default: all; env MUTANTS)")
	list := flag.Bool("list", false, "list the mutants and exit")
	check := flag.Bool("check", false, "only check that every snippet is found exactly once")
	keep := flag.Bool("keep", false, "keep the temporary copy of the repository")
	worktree := flag.Bool("worktree", false, "copy the working tree (uncommitted changes, yours and others') instead of HEAD")
	pkgsFlag := flag.String("pkgs", "", "comma-separated packages to test instead of each mutant's own list")
	timeout := flag.Duration("timeout", 5*time.Minute, "go test -timeout for each package run")
	confirm := flag.Int("confirm", 1, "how many times a killing test, run alone, must fail again with the mutant")
	skipFlag := flag.String("skip", "", "go test -skip pattern: leave these tests out of the package runs (to see what else kills a mutant)")
	flag.Parse()
	if *confirm < 1 {
		fatal(errors.New("-confirm must be at least 1"))
	}

	root, err := repoRoot()
	if err != nil {
		fatal(err)
	}
	selected, err := selectMutants(mutants, *only)
	if err != nil {
		fatal(err)
	}
	if *pkgsFlag != "" {
		for i := range selected {
			selected[i].Pkgs = strings.Split(*pkgsFlag, ",")
		}
	}
	if *list {
		for _, m := range selected {
			fmt.Printf("%-28s %-28s %s\n", m.Name, m.File, m.Desc)
		}
		return
	}
	dir, err := os.MkdirTemp("", "sfnhooks-mutate-")
	if err != nil {
		fatal(err)
	}
	if *keep {
		fmt.Fprintf(os.Stderr, "mutate: copy in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	// Interrupted (Ctrl-C, make killed): stop the running tests and remove
	// the copy.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		if pid := running.Load(); pid != 0 {
			_ = syscall.Kill(-int(pid), syscall.SIGKILL)
		}
		if !*keep {
			os.RemoveAll(dir)
		}
		os.Exit(2)
	}()
	if *worktree {
		err = copyTree(root, dir)
	} else {
		err = exportHEAD(root, dir)
	}
	if err != nil {
		os.RemoveAll(dir)
		fatal(fmt.Errorf("copy the repository: %w", err))
	}

	// Every snippet of the selected mutants must be found exactly once
	// before anything runs.
	originals := map[string][]byte{}
	var bad []string
	for _, m := range selected {
		src, ok := originals[m.File]
		if !ok {
			src, err = os.ReadFile(filepath.Join(dir, m.File))
			if err != nil {
				os.RemoveAll(dir)
				fatal(err)
			}
			originals[m.File] = src
		}
		if _, err := apply(src, m.Edits); err != nil {
			bad = append(bad, fmt.Sprintf("%s (%s): %v", m.Name, m.File, err))
		}
	}
	if len(bad) > 0 {
		os.RemoveAll(dir)
		fatal(fmt.Errorf("mutants out of step with the code:\n  %s", strings.Join(bad, "\n  ")))
	}
	if *check {
		fmt.Printf("%d mutants match the code\n", len(selected))
		return
	}

	start := time.Now()
	var results []result
	for _, m := range selected {
		r := run(dir, m, originals[m.File], *timeout, *confirm, *skipFlag)
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "mutate: %-28s %-10s %-60s %5.1fs\n", m.Name, r.status, r.killer, r.took.Seconds())
		if r.status != "killed" && r.detail != "" {
			fmt.Fprintf(os.Stderr, "%s\n", indent(r.detail))
		}
	}

	fmt.Printf("\n%-28s %-10s %-60s %s\n", "MUTANT", "RESULT", "KILLED BY", "TIME")
	failed, equivalent, flaky := 0, 0, 0
	for _, r := range results {
		killer := r.killer
		if killer == "" {
			killer = "-"
		}
		switch r.status {
		case "killed":
		case "equivalent":
			equivalent++
			killer = "- (not run: " + r.m.Equivalent + ")"
		case "FLAKY":
			flaky++
			failed++
		default:
			failed++
		}
		if len(r.flakes) > 0 {
			killer += fmt.Sprintf(" (%d flake(s) set aside)", len(r.flakes))
		}
		fmt.Printf("%-28s %-10s %-60s %5.1fs\n", r.m.Name, r.status, killer, r.took.Seconds())
	}
	for _, r := range results {
		for _, f := range r.flakes {
			fmt.Printf("flake  %-28s %s\n", r.m.Name, strings.SplitN(f, "\n", 2)[0])
		}
	}
	fmt.Printf("%d mutants: %d killed, %d equivalent (not run), %d not killed (%d of them only by flakes); %s\n",
		len(results), len(results)-failed-equivalent, equivalent, failed, flaky, time.Since(start).Round(time.Second))
	if failed > 0 {
		if !*keep {
			os.RemoveAll(dir)
		}
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "mutate: %v\n", err)
	os.Exit(2)
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 30 {
		lines = append(lines[:30], "…")
	}
	return "    " + strings.Join(lines, "\n    ")
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("find the module root: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func selectMutants(all []mutant, only string) ([]mutant, error) {
	seen := map[string]bool{}
	for _, m := range all {
		if seen[m.Name] {
			return nil, fmt.Errorf("mutant %s is defined twice", m.Name)
		}
		seen[m.Name] = true
	}
	if strings.TrimSpace(only) == "" {
		return all, nil
	}
	var out []mutant
	for _, want := range strings.Split(only, ",") {
		want = strings.TrimSpace(want)
		found := false
		for _, m := range all {
			// M3 selects "M3-requeue-no-put"; the full name works too.
			if m.Name == want || strings.HasPrefix(m.Name, want+"-") {
				out = append(out, m)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("no mutant %q (go run ./cmd/mutate -list)", want)
		}
	}
	return out, nil
}

// apply returns src with each edit applied; each Old must occur exactly
// once (in src as the earlier edits left it).
func apply(src []byte, edits []edit) ([]byte, error) {
	if len(edits) == 0 {
		return nil, errors.New("no edits")
	}
	out := src
	for i, e := range edits {
		if e.Old == "" || e.Old == e.New {
			return nil, fmt.Errorf("edit %d: empty or no-op", i+1)
		}
		if n := bytes.Count(out, []byte(e.Old)); n != 1 {
			return nil, fmt.Errorf("edit %d: original snippet found %d times, want exactly 1: %q", i+1, n, e.Old)
		}
		out = bytes.Replace(out, []byte(e.Old), []byte(e.New), 1)
	}
	return out, nil
}

// stackPause is how long a rerun without the mutant waits before its
// second try.
var stackPause = 5 * time.Second

// maxFlakes bounds the candidate killers a mutant's run may set aside as
// flakes before it gives up looking for a test that kills it for sure.
const maxFlakes = 3

// run applies m in the copy dir and tests m's packages in order (stopping
// at the first that kills it), then restores the file.
//
// A test counts as the killer only when it is proven to depend on the
// mutant: it failed in the package run, fails again when run alone with
// the mutant (confirm times), and passes when run alone without it. A
// candidate that does not hold is a flake: it is reported, skipped (go test
// -skip), and the package is run again for another killer.
func run(dir string, m mutant, orig []byte, timeout time.Duration, confirm int, skipPattern string) (r result) {
	r.m = m
	if m.Equivalent != "" {
		r.status = "equivalent"
		return r
	}
	start := time.Now()
	defer func() { r.took = time.Since(start) }()
	path := filepath.Join(dir, m.File)
	mutated, err := apply(orig, m.Edits)
	if err != nil {
		r.status, r.detail = "ERROR", err.Error()
		return r
	}
	write := func(b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			fatal(fmt.Errorf("write %s in the copy: %w", m.File, err))
		}
	}
	defer write(orig)
	pkgs := m.Pkgs
	if len(pkgs) == 0 {
		pkgs = defaultPkgs
	}
	for _, pkg := range pkgs {
		var flakes []string // set aside in this package
		for {
			write(mutated)
			o := goTest(dir, pkg, timeout, "", skipOf(skipPattern, flakes))
			switch {
			case o.killer != "":
				fl := confirmKill(dir, pkg, o.killer, timeout, confirm, func() { write(mutated) }, func() { write(orig) })
				if fl == "" {
					r.status, r.killer = "killed", pkg+" "+o.killer
					return r
				}
				r.flakes = append(r.flakes, pkg+" "+o.killer+": "+fl)
				fmt.Fprintf(os.Stderr, "mutate: %s: flake: %s %s: %s\n", m.Name, pkg, o.killer, fl)
				if len(r.flakes) >= maxFlakes {
					r.status = "FLAKY"
					r.detail = "no test killed it for sure; flakes:\n" + strings.Join(r.flakes, "\n")
					return r
				}
				flakes = append(flakes, o.killer)
				continue
			case o.buildFailed:
				// A mutant that does not compile proves nothing: it is invalid.
				r.status, r.detail = "INVALID", o.output
				return r
			case o.err != nil:
				r.status, r.detail = "ERROR", fmt.Sprintf("go test %s: %v\n%s", pkg, o.err, o.output)
				return r
			}
			break // every test of pkg passed (but the flakes skipped)
		}
	}
	r.status = "SURVIVED"
	if len(r.flakes) > 0 {
		// Only flakes failed: not a kill.
		r.status = "FLAKY"
		r.detail = "no test killed it for sure; flakes:\n" + strings.Join(r.flakes, "\n")
	}
	return r
}

// confirmKill checks the candidate killer test of pkg: run alone, it must
// fail again with the mutant (confirm times), and pass without it (the
// stack may be disturbed for a moment by another process: one more try
// after a pause). mutate and restore write the mutated and the original
// file. It returns "" when the kill holds, else why the candidate is a
// flake.
func confirmKill(dir, pkg, test string, timeout time.Duration, confirm int, mutate, restore func()) string {
	pattern := runPattern(test)
	mutate()
	for i := 1; i <= confirm; i++ {
		c := goTest(dir, pkg, timeout, pattern, "")
		switch {
		case c.buildFailed || (c.err != nil && c.killer == ""):
			return fmt.Sprintf("its rerun with the mutant did not run (%v):\n%s", c.err, tail(c.output))
		case c.killer == "" && c.passed[test]:
			return fmt.Sprintf("failed once with the mutant, then passed alone with it (rerun %d of %d)", i, confirm)
		case c.killer == "":
			return fmt.Sprintf("its rerun with the mutant ran no test %s", test)
		}
	}
	restore()
	var c testOutcome
	for try := 0; try < 2; try++ {
		if try > 0 {
			time.Sleep(stackPause)
		}
		c = goTest(dir, pkg, timeout, pattern, "")
		if c.killer == "" && !c.buildFailed && c.err == nil && c.passed[test] {
			return ""
		}
	}
	if c.killer == "" && c.err == nil && !c.buildFailed {
		return fmt.Sprintf("its rerun without the mutant ran no test %s", test)
	}
	return fmt.Sprintf("fails without the mutant too (twice):\n%s", tail(c.output))
}

// tail is the end of a test output, for a report.
func tail(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// runPattern is the go test -run pattern of exactly the test name
// (TestX/sub/case).
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// running is the process group of the go test running now (0: none).
var running atomic.Int64

type testOutcome struct {
	killer      string          // the first test that failed
	passed      map[string]bool // the tests that passed
	buildFailed bool
	output      string // the text output, for diagnosis
	err         error  // go test failed without a failing test or a build failure
}

// testEvent is a line of go test -json (cmd/test2json).
type testEvent struct {
	Action string
	Test   string
	Output string
}

// skipOf is the go test -skip pattern that leaves out what pattern
// matches and the tests named in tests (a top-level | separates whole test
// paths: testing's splitRegexp).
func skipOf(pattern string, tests []string) string {
	var pats []string
	if pattern != "" {
		pats = append(pats, pattern)
	}
	for _, t := range tests {
		pats = append(pats, runPattern(t))
	}
	return strings.Join(pats, "|")
}

// goTest runs the tests of pkg (those run selects, without those skip
// matches) with go test -json and stops at the first failing test
// (-failfast does not stop tests already running in parallel, and a killed
// mutant's tests often wait for their deadlines): that test is the killer.
func goTest(dir, pkg string, timeout time.Duration, run, skip string) (o testOutcome) {
	o.passed = map[string]bool{}
	args := []string{"test", "-json", "-p", "1", "-parallel", "8", "-count=1", "-failfast", "-timeout", timeout.String()}
	if run != "" {
		args = append(args, "-run", run)
	}
	if skip != "" {
		args = append(args, "-skip", skip)
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SFNHOOKS_REQUIRE_STACK=1")
	// Its own process group, so the test binary goes with go test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		o.err = err
		return o
	}
	if err := cmd.Start(); err != nil {
		o.err = err
		return o
	}
	running.Store(int64(cmd.Process.Pid))
	defer running.Store(0)
	kill := func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	watchdog := time.AfterFunc(timeout+time.Minute, kill)
	defer watchdog.Stop()
	var text strings.Builder
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev testEvent
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			text.Write(sc.Bytes())
			text.WriteByte('\n')
			continue
		}
		text.WriteString(ev.Output)
		if ev.Action == "build-fail" {
			o.buildFailed = true
		}
		if ev.Action == "pass" && ev.Test != "" {
			o.passed[ev.Test] = true
		}
		if ev.Action == "fail" && ev.Test != "" && o.killer == "" {
			o.killer = ev.Test
			kill()
		}
	}
	werr := cmd.Wait()
	text.Write(stderr.Bytes())
	o.output = text.String()
	if o.killer != "" {
		return o
	}
	if strings.Contains(o.output, "[build failed]") || strings.Contains(o.output, "[setup failed]") {
		o.buildFailed = true
	}
	if werr != nil && !o.buildFailed {
		o.err = werr
	}
	return o
}

// exportHEAD writes the files of the commit HEAD of the repository at root
// into dst: what is committed, not the edits in progress in the working
// tree (another engineer's half-done test would kill every mutant).
func exportHEAD(root, dst string) error {
	archive := exec.Command("git", "-C", root, "archive", "--format=tar", "HEAD")
	extract := exec.Command("tar", "-x", "-C", dst)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return err
	}
	extract.Stdin = pipe
	var stderr bytes.Buffer
	archive.Stderr, extract.Stderr = &stderr, &stderr
	if err := extract.Start(); err != nil {
		return err
	}
	if err := archive.Run(); err != nil {
		return fmt.Errorf("git archive HEAD: %w: %s", err, stderr.String())
	}
	if err := extract.Wait(); err != nil {
		return fmt.Errorf("tar: %w: %s", err, stderr.String())
	}
	return nil
}

// copyTree copies the regular files of the repository at src into dst,
// leaving out version control, local state and build output.
func copyTree(src, dst string) error {
	skip := map[string]bool{".git": true, ".state": true, "bin": true, ".aws-sam": true}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel != "." && (skip[rel] || d.Name() == "node_modules" || d.Name() == "__pycache__") {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		info, err := in.Stat()
		if err != nil {
			return err
		}
		out, err := os.OpenFile(filepath.Join(dst, rel), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}
