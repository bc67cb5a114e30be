package docs_test

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// errorCodes is every error code the code answers, with its status:
// hooks.ErrorFor of each sentinel, an unknown error (InternalError), and
// MethodNotAllowed (the adapters answer it themselves).
func errorCodes() map[string]int {
	codes := map[string]int{hooks.CodeMethodNotAllowed: http.StatusMethodNotAllowed}
	for _, err := range []error{
		hooks.ErrNotWaiting, hooks.ErrHookNotFound, hooks.ErrInvalidToken, hooks.ErrInvalidPayload,
		hooks.ErrInvalidRequest, hooks.ErrPayloadTooLarge, hooks.ErrIdempotencyMismatch, hooks.ErrSchemaValidation,
		hooks.ErrConflict, hooks.ErrContention, hooks.ErrResponseAlreadySent, hooks.ErrResponseTimeout,
		hooks.ErrWebhookGone, hooks.ErrInvalidSignature, hooks.ErrTooManyPending, hooks.ErrTooManyWaiting,
		hooks.ErrWeakWebhookToken, hooks.ErrEncryptionKey, hooks.ErrNotSealed, hooks.ErrOpenRefused,
		hooks.ErrLinkNotFound, hooks.ErrLinkGone, errors.New("an AWS call failed"),
	} {
		api := hooks.ErrorFor(err)
		codes[api.Code] = api.Status
	}
	return codes
}

// tableCodes reads the Markdown table rows of src: each backquoted code in
// a cell, with the status in the cell after it.
func tableCodes(src string) map[string][]int {
	out := map[string][]int{}
	for _, line := range strings.Split(src, "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := 0; i+1 < len(cells); i++ {
			status, err := strconv.Atoi(strings.TrimSpace(cells[i+1]))
			if err != nil {
				continue
			}
			for _, part := range strings.Split(cells[i], "`")[1:] {
				code, _, _ := strings.Cut(part, "`")
				if code != "" && !strings.ContainsAny(code, " -") {
					out[code] = append(out[code], status)
				}
			}
		}
	}
	return out
}

// TestErrorTables: the README's error table and docs/errors.md list every
// code the code answers, with the status it answers, and no other.
func TestErrorTables(t *testing.T) {
	want := errorCodes()
	for _, f := range []string{filepath.Join("..", "README.md"), "errors.md"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		body := string(src)
		if f != "errors.md" {
			start := strings.Index(body, "\n## Errors\n")
			if start < 0 {
				t.Fatalf("%s has no Errors section", f)
			}
			body = body[start:]
			if end := strings.Index(body[1:], "\n## "); end > 0 {
				body = body[:end+1]
			}
		}
		got := tableCodes(body)
		for code, status := range want {
			switch s := got[code]; {
			case len(s) == 0:
				t.Errorf("%s: no row for %s (%d)", f, code, status)
			case len(s) != 1 || s[0] != status:
				t.Errorf("%s: %s has status %v, the code answers %d", f, code, s, status)
			}
		}
		for code, s := range got {
			if _, ok := want[code]; !ok {
				t.Errorf("%s: %s (%v) is no code the code answers", f, code, s)
			}
		}
	}
}
