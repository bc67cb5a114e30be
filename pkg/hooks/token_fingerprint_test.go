package hooks

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// Log fingerprints are keyed per deployment (issue 21): 48 bits of an
// unsalted SHA-256 of a predictable token (approval-order-734911) were
// reversed in 0.14 s by trying order numbers. With the key (the template's
// HOOKS_FINGERPRINT_KEY, or a random one per process) nobody who lacks it
// can test a guess against a log line; with it, fingerprints stay stable,
// so a deployment's log lines still correlate.
func TestFingerprintIsKeyed(t *testing.T) {
	const token = "approval-order-734911"
	sum := sha256.Sum256([]byte(token))
	unkeyed := hex.EncodeToString(sum[:6])
	if got := Redact(token); strings.Contains(got, unkeyed) {
		t.Fatalf("Redact(%q) = %q: the unkeyed SHA-256 prefix anyone can compute", token, got)
	}
	if Redact(token) != Redact(token) {
		t.Fatalf("Redact is not stable within a process")
	}
	saved := fingerprintKey()
	t.Cleanup(func() { SetFingerprintKey(saved) })
	SetFingerprintKey([]byte("deployment-key-one-0123456789"))
	a := Redact(token)
	SetFingerprintKey([]byte("deployment-key-two-0123456789"))
	if b := Redact(token); a == b {
		t.Errorf("two deployments' keys give the same fingerprint %q", a)
	}
	SetFingerprintKey([]byte("deployment-key-one-0123456789"))
	if c := Redact(token); c != a {
		t.Errorf("the same key gives %q, then %q", a, c)
	}
}
