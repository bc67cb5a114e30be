package hooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"unicode"
	"unicode/utf8"
)

// MaxTokenLength is the longest token accepted, in bytes.
const MaxTokenLength = 256

// ValidateToken reports whether token can name a hook: 1 to MaxTokenLength
// bytes (the length is measured in bytes of UTF-8, not characters) of valid
// UTF-8 without control characters (Unicode category Cc: U+0000–U+001F,
// U+007F–U+009F). Spaces, '/', '%' and any other printable character are
// allowed, so the seed's `approval-${orderId}` works for any order id.
// "." and ".." alone are refused: HTTP clients and servers remove dot
// segments from a path, so no request to /hooks/{token} could name them,
// and a hook no HTTP caller can reach is a trap. It returns an error that
// wraps ErrInvalidToken.
//
// Over the HTTP API a token travels percent-encoded in one path segment;
// API Gateway decodes the path before routing, so a token with '/' cannot
// be reached over HTTP (docs/resuming.md, "Tokens in URLs"): the Go API, the direct
// invocation and the CLI take it as it is.
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
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: token may not contain the control character %q", ErrInvalidToken, r)
		}
	}
	return nil
}

// EnvFingerprintKey names the environment variable with the key of log
// fingerprints (Redact): the template sets one per deployment.
const EnvFingerprintKey = "HOOKS_FINGERPRINT_KEY"

// fingerprint is the key of Redact: EnvFingerprintKey's value when it has
// at least 16 bytes, else 32 random bytes chosen once per process (then
// fingerprints compare within that process only).
var fingerprint struct {
	mu  sync.Mutex
	key []byte
}

func fingerprintKey() []byte {
	fingerprint.mu.Lock()
	defer fingerprint.mu.Unlock()
	if fingerprint.key == nil {
		if k := os.Getenv(EnvFingerprintKey); len(k) >= 16 {
			fingerprint.key = []byte(k)
		} else {
			fingerprint.key = make([]byte, 32)
			_, _ = rand.Read(fingerprint.key) // crypto/rand.Read never fails (Go 1.24+)
		}
	}
	return fingerprint.key
}

// SetFingerprintKey sets the key of Redact's fingerprints (instead of
// EnvFingerprintKey): processes that log about the same hooks and share a
// key give them the same fingerprints.
func SetFingerprintKey(key []byte) {
	fingerprint.mu.Lock()
	defer fingerprint.mu.Unlock()
	fingerprint.key = append([]byte(nil), key...)
}

// Redact returns a short, stable fingerprint of a secret (a hook token, a
// link id or a Step Functions task token) that is safe to log: "fp:" and 12
// hex digits of its HMAC-SHA256 under the deployment's key
// (EnvFingerprintKey). Unkeyed, 48 bits of a hash of a predictable token
// (approval-order-734911) are reversed by trying candidates; keyed, only a
// holder of the key can test a guess.
func Redact(secret string) string {
	m := hmac.New(sha256.New, fingerprintKey())
	m.Write([]byte(secret))
	return "fp:" + hex.EncodeToString(m.Sum(nil)[:6])
}

// Secret is a string that logs as its fingerprint (see Redact), never in full.
type Secret string

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redact(string(s))) }
