package docs_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// TestDocLinks checks every link of README.md, CHANGELOG.md and docs/*.md
// (make lint runs it): a relative link names a file or directory of the
// repository, and its #anchor a heading of the Markdown file it names (or
// of the page itself). External http(s) links are checked for syntax only:
// the check runs offline.
func TestDocLinks(t *testing.T) {
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("..", "README.md"), filepath.Join("..", "CHANGELOG.md"))
	checked := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range checkLinks(f, string(src), os.ReadFile) {
			t.Error(p)
		}
		checked++
	}
	if checked < 3 {
		t.Fatalf("checked %d files, want README.md, CHANGELOG.md and the docs pages", checked)
	}
}

// TestDocLinksCanFail: the checker reports what it should, on a page of
// its own.
func TestDocLinksCanFail(t *testing.T) {
	page := "# Title\n\n## A section\n\n## `make dev`\n\n" +
		"[ok](#a-section) [ok](#make-dev) [ok](#title) [ok](other.md#deep-heading) [ok](https://example.com/x)\n" +
		"[bad anchor](#nowhere) [missing file](missing.md) [bad deep](other.md#nope) [bad url](https://)\n" +
		"`[in code](missing2.md)`\n\n```\n[in a block](missing3.md)\n```\n"
	read := func(name string) ([]byte, error) {
		if filepath.Base(name) == "other.md" {
			return []byte("# Other\n\n### Deep heading\n"), nil
		}
		return nil, os.ErrNotExist
	}
	got := checkLinks("page.md", page, read)
	want := []string{"#nowhere", "missing.md", "other.md#nope", "https://"}
	if len(got) != len(want) {
		t.Fatalf("problems %q, want one for each of %q", got, want)
	}
	for i, w := range want {
		if !strings.Contains(got[i], "("+w+")") {
			t.Errorf("problem %d: %q, want it about %q", i, got[i], w)
		}
	}
}

var (
	inlineLink = regexp.MustCompile(`\]\(([^()\s]+)\)`)
	refLink    = regexp.MustCompile(`(?m)^\[[^\]]+\]:\s*(\S+)`)
	codeSpan   = regexp.MustCompile("`[^`\n]*`")
	heading    = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*#*\s*$`)
)

// checkLinks returns one problem per broken link of the Markdown file
// name (its text src); read reads the files links name.
func checkLinks(name, src string, read func(string) ([]byte, error)) []string {
	text := stripCode(src)
	var targets []string
	for _, m := range inlineLink.FindAllStringSubmatch(text, -1) {
		targets = append(targets, m[1])
	}
	for _, m := range refLink.FindAllStringSubmatch(text, -1) {
		targets = append(targets, m[1])
	}
	var problems []string
	bad := func(target, why string) {
		problems = append(problems, fmt.Sprintf("%s: link (%s): %s", name, target, why))
	}
	for _, target := range targets {
		if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
			if u, err := url.Parse(target); err != nil || u.Host == "" {
				bad(target, "not a URL with a host")
			}
			continue
		}
		if strings.HasPrefix(target, "mailto:") {
			continue
		}
		path, anchor, _ := strings.Cut(target, "#")
		file := name
		if path != "" {
			file = filepath.Join(filepath.Dir(name), filepath.FromSlash(path))
			if _, err := os.Stat(file); err != nil {
				if _, rerr := read(file); rerr != nil {
					bad(target, "no such file")
					continue
				}
			}
		}
		if anchor == "" {
			continue
		}
		if !strings.HasSuffix(file, ".md") {
			bad(target, "an anchor into a file that is not Markdown")
			continue
		}
		body := src
		if path != "" {
			b, err := read(file)
			if err != nil {
				bad(target, err.Error())
				continue
			}
			body = string(b)
		}
		if !anchors(body)[anchor] {
			bad(target, "no heading with that anchor in "+filepath.Base(file))
		}
	}
	return problems
}

// stripCode blanks fenced code blocks and code spans.
func stripCode(src string) string { return codeSpan.ReplaceAllString(stripFences(src), "``") }

// stripFences blanks fenced code blocks.
func stripFences(src string) string {
	var b strings.Builder
	fenced := false
	for _, line := range strings.SplitAfter(src, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			b.WriteString("\n")
			continue
		}
		if fenced {
			b.WriteString("\n")
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

// anchors returns the anchors GitHub gives the headings of a Markdown
// text: lower case, punctuation dropped but '-' and '_', spaces as '-',
// a repeated one suffixed -1, -2, …
func anchors(src string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, m := range heading.FindAllStringSubmatch(stripFences(src), -1) {
		text := strings.NewReplacer("`", "", "*", "").Replace(m[1])
		// Links in a heading keep their text only.
		text = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`).ReplaceAllString(text, "$1")
		var slug strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				slug.WriteRune(r)
			case r == ' ':
				slug.WriteRune('-')
			}
		}
		s := slug.String()
		if n := seen[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}
