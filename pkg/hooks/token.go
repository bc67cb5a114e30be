package hooks

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"unicode"
	"unicode/utf8"
)

// MaxTokenLength is the longest token accepted, in bytes.
const MaxTokenLength = 256

// ValidateToken reports whether token can name a hook: 1 to MaxTokenLength
// bytes of valid UTF-8, without control characters, white space or '/',
// and not "." or ".." (a token is one path segment of the HTTP routes, and
// HTTP clients and servers remove dot segments from a path). It returns an
// error that wraps ErrInvalidToken.
func ValidateToken(token string) error {
	switch {
	case token == "":
		return fmt.Errorf("%w: token is empty", ErrInvalidToken)
	case len(token) > MaxTokenLength:
		return fmt.Errorf("%w: token is %d bytes; the limit is %d", ErrInvalidToken, len(token), MaxTokenLength)
	case !utf8.ValidString(token):
		return fmt.Errorf("%w: token is not valid UTF-8", ErrInvalidToken)
	case token == "." || token == "..":
		return fmt.Errorf("%w: token %q is a dot segment, which no HTTP path can carry", ErrInvalidToken, token)
	}
	for _, r := range token {
		if r == '/' || unicode.IsControl(r) || unicode.IsSpace(r) {
			return fmt.Errorf("%w: token may not contain %q", ErrInvalidToken, r)
		}
	}
	return nil
}

// Redact returns a short, stable fingerprint of a secret (a hook token or a
// Step Functions task token) that is safe to log: "sha256:" and the first 12
// hex digits of its SHA-256.
func Redact(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:6])
}

// Secret is a string that logs as its fingerprint (see Redact), never in full.
type Secret string

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redact(string(s))) }
