package hooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Signature schemes of a verified webhook (Verify.Scheme).
// docs/webhook-signatures.md describes each, with the providers' examples.
const (
	// SchemeStandardWebhooks: the Standard Webhooks spec (Svix, and many
	// providers): webhook-id, webhook-timestamp, webhook-signature
	// "v1,<base64>" (several, space-separated); secret "whsec_<base64>";
	// HMAC-SHA256 of "id.timestamp.body". Delivery id: webhook-id.
	SchemeStandardWebhooks = "standard-webhooks"
	// SchemeStripe: Stripe-Signature "t=<unix>,v1=<hex>[,v1=<hex>…]";
	// HMAC-SHA256 of "t.body" keyed with the whole "whsec_…" secret.
	// Delivery id: the event's "id" in the JSON body.
	SchemeStripe = "stripe"
	// SchemeGitHub: X-Hub-Signature-256 "sha256=<hex>", HMAC-SHA256 of the
	// body. No timestamp. Delivery id: X-GitHub-Delivery.
	SchemeGitHub = "github"
	// SchemeSlack: X-Slack-Signature "v0=<hex>", X-Slack-Request-Timestamp;
	// HMAC-SHA256 of "v0:timestamp:body". Delivery id: the Events API's
	// "event_id" in the JSON body, when there is one.
	SchemeSlack = "slack"
	// SchemeHMAC: a configurable HMAC (Verify.Header, Algorithm, Encoding,
	// Prefix, TimestampHeader, IDHeader), e.g. Shopify's
	// X-Shopify-Hmac-Sha256 (base64 HMAC-SHA256 of the body) with
	// IDHeader X-Shopify-Webhook-Id.
	SchemeHMAC = "hmac"
)

// DefaultSignatureTolerance is how far a signed timestamp may be from the
// clock before the request is refused (Options.SignatureTolerance).
const DefaultSignatureTolerance = 5 * time.Minute

// Verify configures the signature verification of a webhook: each request
// is checked on its raw body before anything is stored, and one that fails
// gets 401 (ErrInvalidSignature). In JSON (the createWebhook action's
// "verify", the hook item's "verify" attribute):
//
//	{"scheme": "standard-webhooks", "secretArn": "arn:aws:secretsmanager:…",
//	 "toleranceSeconds": 300,
//	 "header", "algorithm", "encoding", "prefix", "timestampHeader", "idHeader"}
//
// The last six configure SchemeHMAC only. The secret's SecretString holds
// one or more secrets separated by whitespace (newlines): a request signed
// with any of them is accepted, so a secret is rotated by adding the new
// one, switching the provider over, then removing the old one.
type Verify struct {
	Scheme    string `json:"scheme"`
	SecretARN string `json:"secretArn"`
	// ToleranceSeconds overrides Options.SignatureTolerance for the
	// schemes that sign a timestamp (0: the default).
	ToleranceSeconds int `json:"toleranceSeconds,omitempty"`

	// Header is the signature header (hmac: required).
	Header string `json:"header,omitempty"`
	// Algorithm is "sha256" (default) or "sha512" (hmac).
	Algorithm string `json:"algorithm,omitempty"`
	// Encoding of the signature: "hex" (default) or "base64" (hmac).
	Encoding string `json:"encoding,omitempty"`
	// Prefix before the encoded signature in the header, e.g. "sha256=" (hmac).
	Prefix string `json:"prefix,omitempty"`
	// TimestampHeader, when set, names a header with a Unix time in
	// seconds; the signed content is then "timestamp.body" (as Stripe's)
	// and the timestamp must be within the tolerance (hmac).
	TimestampHeader string `json:"timestampHeader,omitempty"`
	// IDHeader names the header with the provider's delivery id (hmac;
	// e.g. X-Shopify-Webhook-Id). It is not signed, so it is not what a
	// retry or a replay is recognized by (the request's MAC is); the
	// workflow receives it with the other headers.
	IDHeader string `json:"idHeader,omitempty"`
}

// MaxToleranceSeconds bounds Verify.ToleranceSeconds (one day).
const MaxToleranceSeconds = 86400

// MinSigningKeyBytes is the shortest signing key a verified webhook
// accepts (128 bits): the secret's bytes, or for Standard Webhooks the
// bytes its base64 after "whsec_" decodes to. A shorter one is refused at
// creation and never used to verify (ErrWeakSigningKey).
const MinSigningKeyBytes = 16

// signingKey returns the HMAC key secret stands for under scheme; false
// when it stands for none (not base64 after "whsec_").
func signingKey(scheme, secret string) ([]byte, bool) {
	if scheme == SchemeStandardWebhooks {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		return key, err == nil
	}
	return []byte(secret), true
}

// weakKey describes why secret is not a usable key under scheme, or "".
func weakKey(scheme, secret string) string {
	key, ok := signingKey(scheme, secret)
	switch {
	case !ok:
		return "is not base64 after whsec_"
	case len(key) < MinSigningKeyBytes:
		return fmt.Sprintf("is a key of %d bytes; keys must be at least %d bytes", len(key), MinSigningKeyBytes)
	}
	return ""
}

// strongSecrets returns the secrets whose keys are long enough to verify
// with; ErrWeakSigningKey when none is.
func strongSecrets(scheme string, secrets []string) ([]string, error) {
	var strong []string
	for _, sec := range secrets {
		if weakKey(scheme, sec) == "" {
			strong = append(strong, sec)
		}
	}
	if len(strong) == 0 {
		return nil, fmt.Errorf("%w: the webhook's secret holds no signing key of at least %d bytes; nothing was accepted", ErrWeakSigningKey, MinSigningKeyBytes)
	}
	return strong, nil
}

// validate checks v as a webhook's configuration and fills the defaults of
// the hmac scheme.
func (v *Verify) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: verify: %s", ErrInvalidRequest, fmt.Sprintf(format, a...))
	}
	switch v.Scheme {
	case SchemeStandardWebhooks, SchemeStripe, SchemeGitHub, SchemeSlack:
		if v.Header != "" || v.Algorithm != "" || v.Encoding != "" || v.Prefix != "" || v.TimestampHeader != "" || v.IDHeader != "" {
			return bad("header, algorithm, encoding, prefix, timestampHeader and idHeader configure the %q scheme only", SchemeHMAC)
		}
	case SchemeHMAC:
		if v.Header == "" {
			return bad("the %q scheme needs a header (the request header that carries the signature)", SchemeHMAC)
		}
		switch strings.ToLower(v.Algorithm) {
		case "", "sha256":
			v.Algorithm = "sha256"
		case "sha512":
			v.Algorithm = "sha512"
		default:
			return bad("algorithm %q is neither sha256 nor sha512", v.Algorithm)
		}
		switch strings.ToLower(v.Encoding) {
		case "", "hex":
			v.Encoding = "hex"
		case "base64":
			v.Encoding = "base64"
		default:
			return bad("encoding %q is neither hex nor base64", v.Encoding)
		}
	case "":
		return bad("scheme is required (%s)", schemeList)
	default:
		return bad("unknown scheme %q (want %s)", v.Scheme, schemeList)
	}
	if !strings.HasPrefix(v.SecretARN, "arn:") || !strings.Contains(v.SecretARN, ":secretsmanager:") {
		return bad("secretArn is required: the ARN of a Secrets Manager secret (got %q)", v.SecretARN)
	}
	if v.ToleranceSeconds < 0 || v.ToleranceSeconds > MaxToleranceSeconds {
		return bad("toleranceSeconds %d is not between 0 and %d", v.ToleranceSeconds, MaxToleranceSeconds)
	}
	return nil
}

const schemeList = SchemeStandardWebhooks + ", " + SchemeStripe + ", " + SchemeGitHub + ", " + SchemeSlack + " or " + SchemeHMAC

// signedRequest is what a scheme checks: the request's headers and its
// body exactly as received.
type signedRequest struct {
	header http.Header
	body   []byte
	now    time.Time
	// tolerance is how far a signed timestamp may be from now, unless
	// the webhook sets its own (Verify.ToleranceSeconds).
	tolerance time.Duration
}

// verified is what a valid signature tells about a request.
type verified struct {
	// id is the provider's delivery id when the signature covers it
	// (webhook-id, Stripe's and Slack's event ids in the signed body), "" otherwise.
	id string
	// mac is the MAC that matched: a keyed hash of everything the
	// signature covers. Sending the same request again repeats it.
	mac []byte
	// timed reports that the signature covers a timestamp checked
	// against the tolerance: a replay is refused once it is stale.
	timed bool
}

// checkSignature verifies req under v with any of secrets. Every failure
// is ErrInvalidSignature with a message that says what was wrong, never
// which secret or what signature was expected.
func checkSignature(v *Verify, secrets []string, req signedRequest) (verified, error) {
	// A weak key (an empty one: anyone can sign) is never used.
	secrets, err := strongSecrets(v.Scheme, secrets)
	if err != nil {
		return verified{}, err
	}
	if v.ToleranceSeconds > 0 {
		req.tolerance = time.Duration(v.ToleranceSeconds) * time.Second
	}
	switch v.Scheme {
	case SchemeStandardWebhooks:
		return checkStandardWebhooks(secrets, req)
	case SchemeStripe:
		return checkStripe(secrets, req)
	case SchemeGitHub:
		return checkGitHub(secrets, req)
	case SchemeSlack:
		return checkSlack(secrets, req)
	case SchemeHMAC:
		return checkHMAC(v, secrets, req)
	}
	return verified{}, invalidSignature("the webhook's verification scheme %q is unknown", v.Scheme)
}

// signatureHeaders are the headers that carry a request's signature under
// v (lower case): they are not handed to the workflow, where the request
// with them would be a replayable credential.
func signatureHeaders(v *Verify) []string {
	switch v.Scheme {
	case SchemeGitHub:
		return []string{"x-hub-signature-256", "x-hub-signature"} // GitHub also sends an HMAC-SHA1 of the same body
	case SchemeHMAC:
		return []string{strings.ToLower(v.Header)}
	}
	return []string{strings.ToLower(signatureHeader(v))}
}

// signatureHeader is the header that carries a request's signature under
// v: a request without it is refused before the secret is read.
func signatureHeader(v *Verify) string {
	switch v.Scheme {
	case SchemeStandardWebhooks:
		return "Webhook-Signature"
	case SchemeStripe:
		return "Stripe-Signature"
	case SchemeGitHub:
		return "X-Hub-Signature-256"
	case SchemeSlack:
		return "X-Slack-Signature"
	}
	return v.Header
}

func invalidSignature(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidSignature, fmt.Sprintf(format, a...))
}

func mac(h func() hash.Hash, key []byte, parts ...[]byte) []byte {
	m := hmac.New(h, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// anyMatch returns the first expected MAC that equals one of the candidate
// signatures, or nil (hmac.Equal: constant time for equal lengths).
func anyMatch(expected, candidates [][]byte) []byte {
	var match []byte
	for _, e := range expected {
		for _, c := range candidates {
			if hmac.Equal(e, c) {
				if match == nil {
					match = e // no early exit: the time does not tell which matched
				}
			}
		}
	}
	return match
}

// checkTimestamp parses a Unix time in seconds and checks it is within the
// tolerance of now, either way.
func checkTimestamp(ts string, req signedRequest) error {
	sec, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil {
		return invalidSignature("the signature timestamp %q is not a Unix time in seconds", ts)
	}
	d := req.now.Sub(time.Unix(sec, 0))
	if d > req.tolerance || d < -req.tolerance {
		return invalidSignature("the signature timestamp is %s away from now; the tolerance is %s", d.Round(time.Second), req.tolerance)
	}
	return nil
}

func checkStandardWebhooks(secrets []string, req signedRequest) (verified, error) {
	id, ts, sigs := req.header.Get("Webhook-Id"), req.header.Get("Webhook-Timestamp"), req.header.Get("Webhook-Signature")
	if id == "" || ts == "" || sigs == "" {
		return verified{}, invalidSignature("missing webhook-id, webhook-timestamp or webhook-signature header")
	}
	if err := checkTimestamp(ts, req); err != nil {
		return verified{}, err
	}
	var candidates [][]byte
	for _, f := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(f, ",")
		if !ok || version != "v1" {
			continue // other versions (v1a: asymmetric) are not ours to check
		}
		if b, err := base64.StdEncoding.DecodeString(sig); err == nil {
			candidates = append(candidates, b)
		}
	}
	var expected [][]byte
	for _, s := range secrets {
		key, ok := signingKey(SchemeStandardWebhooks, s)
		if !ok {
			continue // not a Standard Webhooks secret (strongSecrets keeps none)
		}
		expected = append(expected, mac(sha256.New, key, []byte(id), []byte("."), []byte(ts), []byte("."), req.body))
	}
	mac := anyMatch(expected, candidates)
	if mac == nil {
		return verified{}, invalidSignature("no v1 signature in webhook-signature matches the request")
	}
	return verified{id: id, mac: mac, timed: true}, nil
}

func checkStripe(secrets []string, req signedRequest) (verified, error) {
	header := req.header.Get("Stripe-Signature")
	var ts string
	var candidates [][]byte
	for _, kv := range strings.Split(header, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch k {
		case "t":
			ts = val
		case "v1":
			if b, err := hex.DecodeString(val); err == nil {
				candidates = append(candidates, b)
			}
		}
	}
	if ts == "" || len(candidates) == 0 {
		return verified{}, invalidSignature("missing or malformed Stripe-Signature header (want t=<timestamp>,v1=<signature>)")
	}
	if err := checkTimestamp(ts, req); err != nil {
		return verified{}, err
	}
	var expected [][]byte
	for _, s := range secrets {
		expected = append(expected, mac(sha256.New, []byte(s), []byte(ts), []byte("."), req.body))
	}
	mac := anyMatch(expected, candidates)
	if mac == nil {
		return verified{}, invalidSignature("no v1 signature in Stripe-Signature matches the request")
	}
	return verified{id: jsonString(req.body, "id"), mac: mac, timed: true}, nil
}

func checkGitHub(secrets []string, req signedRequest) (verified, error) {
	sig, ok := strings.CutPrefix(req.header.Get("X-Hub-Signature-256"), "sha256=")
	got, err := hex.DecodeString(sig)
	if !ok || err != nil || len(got) == 0 {
		return verified{}, invalidSignature("missing or malformed X-Hub-Signature-256 header (want sha256=<hex>)")
	}
	var expected [][]byte
	for _, s := range secrets {
		expected = append(expected, mac(sha256.New, []byte(s), req.body))
	}
	mac := anyMatch(expected, [][]byte{got})
	if mac == nil {
		return verified{}, invalidSignature("X-Hub-Signature-256 does not match the request")
	}
	// X-GitHub-Delivery is not signed: anyone holding a captured request
	// can set a new one. The request is known by its MAC instead.
	return verified{mac: mac}, nil
}

func checkSlack(secrets []string, req signedRequest) (verified, error) {
	ts := req.header.Get("X-Slack-Request-Timestamp")
	sig, ok := strings.CutPrefix(req.header.Get("X-Slack-Signature"), "v0=")
	got, err := hex.DecodeString(sig)
	if ts == "" || !ok || err != nil || len(got) == 0 {
		return verified{}, invalidSignature("missing X-Slack-Request-Timestamp, or missing or malformed X-Slack-Signature header (want v0=<hex>)")
	}
	if err := checkTimestamp(ts, req); err != nil {
		return verified{}, err
	}
	var expected [][]byte
	for _, s := range secrets {
		expected = append(expected, mac(sha256.New, []byte(s), []byte("v0:"), []byte(ts), []byte(":"), req.body))
	}
	mac := anyMatch(expected, [][]byte{got})
	if mac == nil {
		return verified{}, invalidSignature("X-Slack-Signature does not match the request")
	}
	return verified{id: jsonString(req.body, "event_id"), mac: mac, timed: true}, nil
}

func checkHMAC(v *Verify, secrets []string, req signedRequest) (verified, error) {
	sig, ok := strings.CutPrefix(strings.TrimSpace(req.header.Get(v.Header)), v.Prefix)
	var got []byte
	var err error
	if v.Encoding == "base64" {
		got, err = base64.StdEncoding.DecodeString(sig)
	} else {
		got, err = hex.DecodeString(sig)
	}
	if !ok || err != nil || len(got) == 0 {
		return verified{}, invalidSignature("missing or malformed %s header", v.Header)
	}
	var parts [][]byte
	if v.TimestampHeader != "" {
		ts := req.header.Get(v.TimestampHeader)
		if ts == "" {
			return verified{}, invalidSignature("missing %s header", v.TimestampHeader)
		}
		if err := checkTimestamp(ts, req); err != nil {
			return verified{}, err
		}
		parts = append(parts, []byte(ts), []byte("."))
	}
	parts = append(parts, req.body)
	h := sha256.New
	if v.Algorithm == "sha512" {
		h = sha512.New
	}
	var expected [][]byte
	for _, s := range secrets {
		expected = append(expected, mac(h, []byte(s), parts...))
	}
	mac := anyMatch(expected, [][]byte{got})
	if mac == nil {
		return verified{}, invalidSignature("%s does not match the request", v.Header)
	}
	// The idHeader (X-Shopify-Webhook-Id, …) is not signed: the request is
	// known by its MAC, which is the same for the provider's retries.
	return verified{mac: mac, timed: v.TimestampHeader != ""}, nil
}

// jsonString returns the top-level string field name of the JSON object
// body, or "" (not JSON, no such field, not a string).
func jsonString(body []byte, name string) string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(obj[name], &s) != nil {
		return ""
	}
	return s
}
