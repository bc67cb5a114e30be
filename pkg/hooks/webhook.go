package hooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// DefaultWebhookDeadline is how long a manual webhook holds its caller by
// default: below API Gateway HTTP API's 30 s integration timeout.
const DefaultWebhookDeadline = 25 * time.Second

// MaxResponseItemBytes is DynamoDB's item size limit (400 KB), which a
// webhook response item must fit.
const MaxResponseItemBytes = 400 * 1024

// Respond modes of a webhook (RespondWith in JSON: "mode").
const (
	RespondStatic = "static" // answer every request with a fixed response (default 202)
	RespondManual = "manual" // hold the caller until the workflow calls Respond
)

// Response is an HTTP response a webhook answers with: fixed at creation
// (static) or written by the workflow (manual). Write it to any Go
// http.ResponseWriter with Write.
//
// In JSON it is {"status", "headers", "body", "isBase64Encoded"}: each
// header value is a string or an array of strings; the body is text, or
// base64 when isBase64Encoded is true (it is marshalled so when the body is
// not valid UTF-8).
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

type headerValues []string

func (v *headerValues) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*v = headerValues{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("a header value is a string or an array of strings")
	}
	*v = many
	return nil
}

type responseJSON struct {
	Status          int                     `json:"status,omitempty"`
	Headers         map[string]headerValues `json:"headers,omitempty"`
	Body            string                  `json:"body"`
	IsBase64Encoded bool                    `json:"isBase64Encoded,omitempty"`
}

func (r *Response) toJSON() responseJSON {
	w := responseJSON{Status: r.Status}
	if len(r.Header) > 0 {
		w.Headers = make(map[string]headerValues, len(r.Header))
		for k, v := range r.Header {
			w.Headers[k] = v
		}
	}
	w.Body, w.IsBase64Encoded = EncodeBody(r.Body)
	return w
}

func (w *responseJSON) response() (*Response, error) {
	r := &Response{Status: w.Status}
	if len(w.Headers) > 0 {
		r.Header = make(http.Header, len(w.Headers))
		for k, vs := range w.Headers {
			for _, v := range vs {
				r.Header.Add(k, v)
			}
		}
	}
	if w.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(w.Body)
		if err != nil {
			return nil, fmt.Errorf("%w: response body is flagged base64 but does not decode: %v", ErrInvalidRequest, err)
		}
		r.Body = b
	} else if w.Body != "" {
		r.Body = []byte(w.Body)
	}
	return r, nil
}

// MarshalJSON implements json.Marshaler.
func (r Response) MarshalJSON() ([]byte, error) { return json.Marshal(r.toJSON()) }

// UnmarshalJSON implements json.Unmarshaler.
func (r *Response) UnmarshalJSON(b []byte) error {
	var w responseJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	got, err := w.response()
	if err != nil {
		return err
	}
	*r = *got
	return nil
}

func (r *Response) validate() error {
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	// A webhook's answer is a final response: 1xx statuses are interim
	// ones that API Gateway cannot send as the answer.
	if r.Status < 200 || r.Status > 599 {
		return fmt.Errorf("%w: response status %d is not a final HTTP status (200-599)", ErrInvalidRequest, r.Status)
	}
	return nil
}

// Write writes r to w: headers, status, body.
func (r *Response) Write(w http.ResponseWriter) {
	for k, vs := range r.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(r.Status)
	_, _ = w.Write(r.Body)
}

// ErrorResponse is err as a webhook caller sees it: ErrorFor's status and
// the JSON body {"error","message"}.
func ErrorResponse(err error) *Response {
	api := ErrorFor(err)
	b, _ := json.Marshal(api)
	r := &Response{Status: api.Status, Header: http.Header{"Content-Type": {"application/json"}}, Body: b}
	if api.RetryAfter > 0 {
		r.Header.Set("Retry-After", strconv.Itoa(api.RetryAfter))
	}
	return r
}

// EncodeBody returns b as text when it is valid UTF-8, else as standard
// base64 with isBase64 set: how bodies travel in JSON (webhook requests and
// responses, API Gateway payload 2.0 events).
func EncodeBody(b []byte) (body string, isBase64 bool) {
	if utf8.Valid(b) {
		return string(b), false
	}
	return base64.StdEncoding.EncodeToString(b), true
}

// RespondWith is how a webhook answers: a static Response (nil: 202
// Accepted, empty body), or Manual: the caller is held until the workflow
// calls Respond for its request, at most Deadline (zero:
// Options.WebhookDeadline).
//
// In JSON it is "manual" or "static", or an object {"mode": "static" |
// "manual", "deadlineMs", "status", "headers", "body", "isBase64Encoded"}.
type RespondWith struct {
	Manual   bool
	Deadline time.Duration
	Response *Response
}

type respondWithJSON struct {
	Mode       string `json:"mode,omitempty"`
	DeadlineMs int64  `json:"deadlineMs,omitempty"`
	responseJSON
}

// MarshalJSON implements json.Marshaler.
func (rw RespondWith) MarshalJSON() ([]byte, error) {
	w := respondWithJSON{Mode: RespondStatic}
	if rw.Manual {
		w.Mode, w.DeadlineMs = RespondManual, rw.Deadline.Milliseconds()
	} else if rw.Response != nil {
		w.responseJSON = rw.Response.toJSON()
	}
	return json.Marshal(w)
}

// UnmarshalJSON implements json.Unmarshaler.
func (rw *RespondWith) UnmarshalJSON(b []byte) error {
	var mode string
	if json.Unmarshal(b, &mode) == nil {
		b = []byte(`{"mode":` + string(b) + `}`)
	}
	var w respondWithJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*rw = RespondWith{}
	switch w.Mode {
	case RespondManual:
		if w.DeadlineMs < 0 {
			return errors.New("respondWith: deadlineMs is negative")
		}
		rw.Manual, rw.Deadline = true, time.Duration(w.DeadlineMs)*time.Millisecond
	case RespondStatic, "":
		if w.Status != 0 || len(w.Headers) > 0 || w.Body != "" {
			r, err := w.response()
			if err != nil {
				return err
			}
			rw.Response = r
		}
	default:
		return fmt.Errorf("respondWith: mode %q is neither %q nor %q", w.Mode, RespondStatic, RespondManual)
	}
	return nil
}

// staticResponse is the answer of a static webhook.
func (rw *RespondWith) staticResponse() *Response {
	if rw == nil || rw.Response == nil {
		return &Response{Status: http.StatusAccepted, Header: http.Header{}}
	}
	r := *rw.Response
	r.Header = rw.Response.Header.Clone()
	if r.Header == nil {
		r.Header = http.Header{}
	}
	return &r
}

// CreateWebhookInput names a webhook to create for an execution.
type CreateWebhookInput struct {
	// Token is generated (128 random bits, URL-safe) when empty. A given
	// token makes CreateWebhook idempotent for its execution, like Register.
	Token        string
	ExecutionARN string
	Metadata     json.RawMessage
	// RespondWith is nil for the default: 202 Accepted, empty body.
	RespondWith *RespondWith
	// Verify, when set, makes every request to the webhook carry a valid
	// signature (docs/webhook-signatures.md): others get 401
	// (ErrInvalidSignature) and are not stored. Like RespondWith, the
	// first configuration of a token stays.
	Verify *Verify
	// Encrypt makes the webhook sealed: each request it receives is sealed
	// by the resumer (docs/sealed.md).
	Encrypt *Encrypt
	// Schema, if set, is a JSON Schema each request must match, as
	// RegisterInput.Schema: it validates the WebhookRequest the workflow
	// receives (method, headers, body as text, …); a request that fails it
	// gets 422 and is not stored.
	Schema json.RawMessage
	// Tags label the webhook for operators, as RegisterInput.Tags.
	Tags []string

	// MaxPending caps the requests the webhook stores undelivered (0:
	// Options.MaxPending); one more is answered 429 TooManyPending.
	MaxPending int
	// MaxHeldCallers caps the callers a manual webhook holds at once (0:
	// Options.MaxHeldCallers); one more is answered 429 TooManyWaiting.
	MaxHeldCallers int
	// Headers names request headers to keep or drop from the request the
	// workflow receives (nil: drop DefaultDroppedHeaders).
	Headers *HeaderFilter
}

// DefaultDroppedHeaders are left out of the request a workflow receives
// (they would be stored in DynamoDB and land in Step Functions' history)
// unless a webhook keeps them (HeaderFilter.Keep). Dropping cookie also
// drops the cookies list. Headers whose names say they carry a credential
// (CredentialHeader) are left out too.
var DefaultDroppedHeaders = []string{"authorization", "proxy-authorization", "cookie"}

// CredentialHeader reports whether the header name (lower case) names a
// credential, which the request a workflow receives leaves out unless the
// webhook keeps it by name: x-api-key, api-key, apikey, and any name with
// token, secret, password or passwd in it (x-gitlab-token, private-token,
// x-amz-security-token, x-webhook-secret, …).
func CredentialHeader(name string) bool {
	switch name {
	case "x-api-key", "api-key", "apikey", "x-apikey":
		return true
	}
	for _, w := range []string{"token", "secret", "password", "passwd"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// MaxHeaderFilterNames bounds the names of a HeaderFilter.
const MaxHeaderFilterNames = 100

// HeaderFilter is a webhook's choice of request headers: Keep names
// headers of DefaultDroppedHeaders, or credential headers
// (CredentialHeader), to hand to the workflow after all;
// Drop names more headers to leave out. Names are case-insensitive; a name
// may not be in both. In JSON: {"keep": [...], "drop": [...]}.
type HeaderFilter struct {
	Keep []string `json:"keep,omitempty"`
	Drop []string `json:"drop,omitempty"`
}

// normalize lower-cases and checks the names; nil when it is the default.
func (f *HeaderFilter) normalize() (*HeaderFilter, error) {
	if f == nil || len(f.Keep)+len(f.Drop) == 0 {
		return nil, nil
	}
	if len(f.Keep)+len(f.Drop) > MaxHeaderFilterNames {
		return nil, fmt.Errorf("%w: headers names %d headers; the limit is %d", ErrInvalidRequest, len(f.Keep)+len(f.Drop), MaxHeaderFilterNames)
	}
	out := &HeaderFilter{}
	seen := map[string]string{}
	for _, l := range []struct {
		what  string
		names []string
		dst   *[]string
	}{{"keep", f.Keep, &out.Keep}, {"drop", f.Drop, &out.Drop}} {
		for _, name := range l.names {
			lk := strings.ToLower(name)
			if lk == "" || len(lk) > 256 || strings.Trim(lk, headerNameChars) != "" {
				return nil, fmt.Errorf("%w: headers.%s: %q is not an HTTP header name", ErrInvalidRequest, l.what, name)
			}
			if prev, ok := seen[lk]; ok && prev != l.what {
				return nil, fmt.Errorf("%w: header %q is in both headers.keep and headers.drop", ErrInvalidRequest, name)
			}
			seen[lk] = l.what
			*l.dst = append(*l.dst, lk)
		}
	}
	return out, nil
}

const headerNameChars = "abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~"

// dropped reports whether the filter f (nil: the default) leaves header
// name (lower case) out.
func (f *HeaderFilter) dropped(name string) bool {
	if f != nil {
		for _, d := range f.Drop {
			if d == name {
				return true
			}
		}
		for _, k := range f.Keep {
			if k == name {
				return false
			}
		}
	}
	for _, d := range DefaultDroppedHeaders {
		if d == name {
			return true
		}
	}
	return CredentialHeader(name)
}

// dropping returns f (nil: the default) that also drops names (lower case).
func (f *HeaderFilter) dropping(names ...string) *HeaderFilter {
	out := &HeaderFilter{}
	if f != nil {
		out.Keep = f.Keep
		out.Drop = append(out.Drop, f.Drop...)
	}
	out.Drop = append(out.Drop, names...)
	return out
}

// filtered returns a copy of req without the headers f drops.
func (req WebhookRequest) filtered(f *HeaderFilter) *WebhookRequest {
	hdr := make(map[string][]string, len(req.Headers))
	for k, v := range req.Headers {
		if !f.dropped(k) {
			hdr[k] = v
		}
	}
	req.Headers = hdr
	if f.dropped("cookie") {
		req.Cookies = map[string][]string{}
	}
	return &req
}

// CreateWebhook registers a webhook hook for in.ExecutionARN and returns it,
// with its public URL when Options.WebhookBaseURL is set. Await it like any
// hook; each HTTP request to its URL (ResumeWebhook) is one payload.
//
// A chosen token must carry 128 bits (checkWebhookToken). A manual webhook
// holds at most MaxHeldCallers callers at once; the request handed to the
// workflow leaves out the headers of in.Headers (default:
// DefaultDroppedHeaders). Both settings are fixed by the first creation.
//
// Errors: ErrInvalidToken, ErrWeakWebhookToken, ErrInvalidRequest (bad
// respondWith, verify, headers or limits, or the token
// is a plain hook of this execution), *ConflictError, or a wrapped AWS error.
func (c *Client) CreateWebhook(ctx context.Context, in CreateWebhookInput) (*Hook, error) {
	if err := checkWebhookToken(&in); err != nil {
		return nil, err
	}
	if in.Token == "" {
		in.Token = randomID()
	}
	reg := RegisterInput{Token: in.Token, ExecutionARN: in.ExecutionARN, Metadata: in.Metadata, Kind: KindWebhook, Encrypt: in.Encrypt, Schema: in.Schema, Tags: in.Tags,
		MaxPending: in.MaxPending}
	if in.MaxHeldCallers < 0 || in.MaxHeldCallers > MaxMaxHeldCallers {
		return nil, fmt.Errorf("%w: maxHeldCallers %d is out of range (1 to %d; 0 for the default)", ErrInvalidRequest, in.MaxHeldCallers, MaxMaxHeldCallers)
	}
	if in.RespondWith != nil && in.RespondWith.Manual {
		reg.maxHeld = in.MaxHeldCallers
		if reg.maxHeld == 0 {
			reg.maxHeld = c.opts.MaxHeldCallers
		}
	}
	f, err := in.Headers.normalize()
	if err != nil {
		return nil, err
	}
	if f != nil {
		b, _ := json.Marshal(f)
		reg.hdrs = string(b)
	}
	if rw := in.RespondWith; rw != nil {
		if rw.Response != nil {
			if err := rw.Response.validate(); err != nil {
				return nil, err
			}
		}
		if rw.Deadline < 0 {
			return nil, fmt.Errorf("%w: respondWith deadline is negative", ErrInvalidRequest)
		}
		b, err := json.Marshal(rw)
		if err != nil {
			return nil, fmt.Errorf("%w: respondWith: %v", ErrInvalidRequest, err)
		}
		reg.Respond = b
	}
	if in.Verify != nil {
		v := *in.Verify
		if err := v.validate(); err != nil {
			return nil, err
		}
		if err := c.checkSigningKeys(ctx, &v); err != nil {
			return nil, err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("%w: verify: %v", ErrInvalidRequest, err)
		}
		reg.Verify = b
	}
	h, err := c.Register(ctx, reg)
	if err != nil {
		return nil, err
	}
	if h.Kind != KindWebhook {
		return nil, fmt.Errorf("%w: token %s is a plain hook of this execution, not a webhook", ErrInvalidRequest, Redact(in.Token))
	}
	return h, nil
}

// checkSigningKeys reads v's secret and refuses one that holds a key
// shorter than MinSigningKeyBytes, or none (a secret that does not exist:
// ErrInvalidRequest; one that cannot be read otherwise: the AWS error).
func (c *Client) checkSigningKeys(ctx context.Context, v *Verify) error {
	secrets, err := c.secrets.get(ctx, v.SecretARN)
	if _, missing := errors.AsType[*smtypes.ResourceNotFoundException](err); missing {
		return fmt.Errorf("%w: verify: the secret %s does not exist", ErrInvalidRequest, v.SecretARN)
	}
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	for i, sec := range secrets {
		if why := weakKey(v.Scheme, sec); why != "" {
			return fmt.Errorf("%w: verify: secret %d of %s %s: %w", ErrInvalidRequest, i+1, v.SecretARN, why, ErrWeakSigningKey)
		}
	}
	return nil
}

// WebhookRequest is what a workflow receives when its webhook is called:
// the HTTP request as JSON. Header names are lower case; query, headers and
// cookies keep repeated values in order. Body is text when the request body
// is valid UTF-8, else base64 with IsBase64Encoded.
type WebhookRequest struct {
	RequestID       string              `json:"requestId"`
	Method          string              `json:"method"`
	URL             string              `json:"url"`
	Path            string              `json:"path"`
	Query           map[string][]string `json:"query"`
	Headers         map[string][]string `json:"headers"`
	Cookies         map[string][]string `json:"cookies"`
	Body            string              `json:"body"`
	IsBase64Encoded bool                `json:"isBase64Encoded"`
	// IsJSON is true when the body is one JSON value (States.StringToJson
	// of body then succeeds): a workflow checks it before parsing, so a
	// scanner's request cannot fail the execution.
	IsJSON bool `json:"isJson"`
}

// newWebhookRequest reads r into a WebhookRequest; body is r's body as
// received.
func (c *Client) newWebhookRequest(r *http.Request) (req *WebhookRequest, body []byte, err error) {
	limit := c.opts.MaxPayloadBytes
	if r.ContentLength > int64(limit) {
		return nil, nil, &PayloadTooLargeError{Size: int(r.ContentLength), Limit: limit}
	}
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: read body: %v", ErrInvalidPayload, err)
		}
		if len(b) > limit {
			return nil, nil, &PayloadTooLargeError{Size: len(b), Limit: limit}
		}
		body = b
	}
	u := *r.URL
	if !u.IsAbs() {
		u.Scheme = "http"
		if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
			u.Scheme = "https"
		}
		u.Host = r.Host
	}
	req = &WebhookRequest{
		RequestID: c.opts.NewID(),
		Method:    r.Method,
		URL:       u.String(),
		Path:      u.EscapedPath(),
		Query:     map[string][]string(u.Query()),
		Headers:   make(map[string][]string, len(r.Header)+1),
		Cookies:   map[string][]string{},
	}
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		req.Headers[lk] = append(req.Headers[lk], vs...)
	}
	if _, ok := req.Headers["host"]; !ok && r.Host != "" {
		req.Headers["host"] = []string{r.Host}
	}
	for _, ck := range r.Cookies() {
		req.Cookies[ck.Name] = append(req.Cookies[ck.Name], ck.Value)
	}
	req.Body, req.IsBase64Encoded = EncodeBody(body)
	req.IsJSON = !req.IsBase64Encoded && len(bytes.TrimSpace(body)) > 0 && json.Valid(body)
	return req, body, nil
}

// ResumeWebhook hands the HTTP request r to the webhook token and returns
// the response its caller gets. The request becomes a JSON payload
// (WebhookRequest) resumed through the same protocol as ResumeHook, so it is
// delivered to the waiting await or stored for the next one, in order, and
// never lost once acknowledged. A static webhook answers its fixed response
// (default 202, empty body) at once. A manual webhook holds the call until
// the workflow writes the response for this request (Respond), and returns
// exactly that; the wait polls with consistent reads, starting at
// Options.WebhookPollInterval for WebhookFastPoll (a workflow usually
// responds soon after the request reaches it), then doubling up to
// WebhookPollMaxInterval.
//
// A verified webhook (CreateWebhookInput.Verify) first checks r's
// signature on its body as received, before anything is written; a
// request with its provider's delivery id is resumed with that id as its
// idempotency key, so the provider's retries reach the workflow once
// (docs/protocol.md, "Verified webhooks").
//
// Errors: ErrHookNotFound for a token that is not a live webhook (unknown,
// disposed, a plain hook, or not a valid token: all alike, so the public
// route reveals nothing); *PayloadTooLargeError (ErrPayloadTooLarge, nothing
// stored); ErrInvalidSignature (a verified webhook's request is unsigned,
// wrongly signed or stale: nothing stored); ErrIdempotencyMismatch (a
// delivery id already used with another body); ErrTooManyPending,
// ErrTooManyWaiting (the webhook's caps; nothing stored); ErrContention;
// *NoResponseError when a manual webhook gave no
// response (ErrResponseTimeout: deadline passed; ErrWebhookGone: disposed
// while waiting) — the request was acknowledged in both cases; or a wrapped
// AWS error. Write an error with ErrorResponse.
func (c *Client) ResumeWebhook(ctx context.Context, token string, r *http.Request) (*Response, error) {
	if ValidateToken(token) != nil {
		return nil, ErrHookNotFound
	}
	req, body, err := c.newWebhookRequest(r)
	if err != nil {
		return nil, err
	}
	p, err := c.webhookPayload(req, nil)
	if err != nil {
		return nil, err
	}
	// A webhook without settings of its own (static, default headers, no
	// verification) is resumed at once; one with them (manual: the
	// held-caller cap; a header filter; a signature scheme) is found by R1's
	// condition and its settings read from the item it returns
	// (docs/protocol.md, "Resume a webhook"). unverified: no write of this
	// payload reaches a verified webhook.
	out := newOutgoing(p, "")
	out.gate = true
	out.unverified = true
	h, err := c.resume(ctx, token, "", KindWebhook, out)
	var cfg *configuredError
	if errors.As(err, &cfg) {
		var release func()
		h, out, release, err = c.resumeConfigured(ctx, cfg.h, req, r.Header, body)
		if release != nil {
			defer release()
		}
	}
	c.outcomeMetrics(ctx, out != nil && out.atOnce, err)
	if errors.Is(err, ErrHookNotFound) {
		return nil, ErrHookNotFound // the same error for every token
	}
	if errors.Is(err, ErrInvalidSignature) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("resume webhook %s: %w", Redact(token), err)
	}
	if h.RespondWith == nil || !h.RespondWith.Manual {
		return h.RespondWith.staticResponse(), nil
	}
	start := time.Now()
	resp, err := c.awaitResponse(ctx, h, req.RequestID)
	c.metric(ctx, MetricWebhookHoldTime, float64(time.Since(start).Milliseconds()))
	return resp, err
}

// resumeConfigured resumes the webhook h with its own settings: a verified
// webhook's request checked (header and body as received) before anything
// is written, the request filtered by its header filter, the caller
// counted against its held-caller cap (H1) before the payload is
// acknowledged. release (H2) is set once the caller is counted.
//
// A verified request with its provider's delivery id is resumed with it as
// idempotency key (docs/protocol.md, "Verified webhooks"), starting from
// the item h as the failed R1 found it.
func (c *Client) resumeConfigured(ctx context.Context, h *hookItem, req *WebhookRequest, header http.Header, body []byte) (hook *Hook, o *outgoing, release func(), err error) {
	var dk *deliveryKey
	if h.VerifyJSON != "" {
		if dk, err = c.verifyRequest(ctx, h, req, header, body); err != nil {
			return nil, nil, nil, err
		}
	}
	var f *HeaderFilter
	if h.Hdrs != "" {
		f = &HeaderFilter{}
		if err := json.Unmarshal([]byte(h.Hdrs), f); err != nil {
			return nil, nil, nil, fmt.Errorf("decode the webhook's header filter: %w", err)
		}
	}
	if h.Verify != nil {
		// The request with its signature would be a replayable
		// credential wherever the payload goes (table, history).
		f = f.dropping(signatureHeaders(h.Verify)...)
	}
	p, err := c.webhookPayload(req, f)
	if err != nil {
		return nil, nil, nil, err
	}
	if h.MaxHeld > 0 && h.RespondWith != nil && h.RespondWith.Manual {
		deadline := c.opts.WebhookDeadline
		if h.RespondWith.Deadline > 0 {
			deadline = h.RespondWith.Deadline
		}
		if release, err = c.hold(ctx, h, deadline); err != nil {
			return nil, nil, nil, err
		}
	}
	o = newOutgoing(p, "")
	if dk == nil {
		hook, err = c.resume(ctx, h.Token, h.HookID, KindWebhook, o)
		return hook, o, release, err
	}
	if !strings.HasPrefix(p, dk.prefix) {
		return nil, nil, release, fmt.Errorf("webhook payload does not begin with its requestId") // WebhookRequest's field order
	}
	o.delivery = dk
	hook, err = c.resumeIdempotent(ctx, h.Token, h.HookID, o, dk.key, KindWebhook, h)
	return c.withURL(hook), o, release, err
}

// webhookPayload is req, without the headers f drops (nil: the default),
// as a payload.
func (c *Client) webhookPayload(req *WebhookRequest, f *HeaderFilter) (string, error) {
	raw, err := json.Marshal(req.filtered(f))
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	return c.encodePayload(json.RawMessage(raw))
}

// verifyRequest checks the signature of req (its header and body as
// received) under the verified webhook h, as a failed write found it, so
// nothing has been written. A request that carries its provider's delivery
// id gets a request id derived from it, and the delivery key it is resumed
// with (nil without one), so a provider's retry reaches the workflow once
// (docs/protocol.md, "Verified webhooks").
func (c *Client) verifyRequest(ctx context.Context, h *hookItem, req *WebhookRequest, header http.Header, body []byte) (*deliveryKey, error) {
	v := h.Verify
	if v == nil || v.SecretARN == "" {
		return nil, errors.New("the webhook's verify configuration is unreadable")
	}
	if name := signatureHeader(v); header.Get(name) == "" {
		// Unsigned: refused without reading the secret, so a flood of
		// unsigned requests costs no Secrets Manager call, and answered as
		// an unknown token is, so the public route does not confirm that
		// the token exists.
		return nil, ErrHookNotFound
	}
	secrets, err := c.secrets.get(ctx, v.SecretARN)
	if err != nil {
		return nil, err
	}
	tolerance := c.opts.SignatureTolerance
	if v.ToleranceSeconds > 0 {
		tolerance = time.Duration(v.ToleranceSeconds) * time.Second
	}
	got, err := checkSignature(v, secrets, signedRequest{header: header, body: body, now: c.opts.Now(), tolerance: c.opts.SignatureTolerance})
	if err != nil {
		return nil, err
	}
	dk := &deliveryKey{key: "delivery:" + got.id, hash: sha256Hex("webhook-body\n" + string(body))}
	req.RequestID = deliveryRequestID(h.Token, got.id)
	if got.id == "" {
		// No signed delivery id (github, hmac; slack without event_id): the
		// request is known by what its signature covers, so a captured
		// request sent again, with a new unsigned delivery id or none, is
		// answered as the first and reaches the workflow once. A signature
		// that covers a timestamp is refused once stale; one that covers
		// none stays valid, so its key is kept as long as a webhook lives.
		signed := base64.RawURLEncoding.EncodeToString(got.mac)
		dk.key = "signed:" + signed
		dk.ttl = c.opts.HookTTL
		if got.timed {
			dk.ttl = max(c.opts.IdempotencyTTL, 2*tolerance)
		}
		req.RequestID = deliveryRequestID(h.Token, dk.key)
	}
	dk.prefix = `{"requestId":` + strconv.Quote(req.RequestID) + `,`
	if h.KMSKeyID != "" {
		// A sealed webhook: the record must not let a reader of the table
		// confirm a guessed body. HMAC keyed with the request's key, which
		// the table holds only as its sha256 (IDEM#…) and which carries a
		// delivery id or a MAC no reader has.
		m := hmac.New(sha256.New, []byte(dk.key))
		m.Write([]byte("webhook-body\n"))
		m.Write(body)
		dk.hash = "hmac:" + hex.EncodeToString(m.Sum(nil))
	}
	return dk, nil
}

// deliveryKey is how a verified webhook request with a delivery id is
// resumed with it as idempotency key (docs/protocol.md, "Verified
// webhooks").
type deliveryKey struct {
	// key is the idempotency key: "delivery:" + the signed delivery id, or
	// "signed:" + the MAC of a request whose signature covers no delivery id.
	key string
	// ttl, when set, is how long the key is remembered (instead of
	// IdempotencyTTL): as long as a replay of the request would pass.
	ttl time.Duration
	// hash is what the key stands for: the sha256 of the verified body (a
	// provider's retry has other headers: timestamp, signature); for a
	// sealed webhook an HMAC of it keyed with key.
	hash string
	// prefix is how a replay finds the first request in the history or
	// among the stored payloads: its beginning, {"requestId":"dlv-…",.
	prefix string
}

// verifyCond is the verification term of a write's condition (R1, S1,
// I2): an unverified payload only reaches a hook without verify.
func (o *outgoing) verifyCond(nm map[string]string) string {
	if !o.unverified {
		return ""
	}
	nm["#"+attrVerify] = attrVerify
	return " AND attribute_not_exists(#verify)"
}

// deliveryRequestID is the request id of the delivery deliveryID to token:
// the same for each retry of it, so a held retry waits for the response
// the workflow writes for the first.
func deliveryRequestID(token, deliveryID string) string {
	sum := sha256.Sum256([]byte(token + "\x00" + deliveryID))
	return "dlv-" + base64.RawURLEncoding.EncodeToString(sum[:16])
}

// awaitResponse polls the response item of requestID until it exists, the
// hook goes away, or the deadline passes. The hook is checked about once a
// second; a hook gone is confirmed by one more read of the response, which
// the workflow may have written just before disposing.
func (c *Client) awaitResponse(ctx context.Context, h *Hook, requestID string) (*Response, error) {
	deadline := c.opts.WebhookDeadline
	if h.RespondWith.Deadline > 0 {
		deadline = h.RespondWith.Deadline
	}
	end := time.Now().Add(deadline)
	if d, ok := ctx.Deadline(); ok && d.Add(-250*time.Millisecond).Before(end) {
		end = d.Add(-250 * time.Millisecond) // leave time to answer
	}
	noResponse := &NoResponseError{RequestID: requestID, Deadline: deadline}
	wait := c.opts.WebhookPollInterval
	begin := time.Now()
	lastCheck := begin
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		resp, err := c.readResponse(ctx, h.Token, requestID)
		if err != nil || resp != nil {
			return resp, err
		}
		if time.Since(lastCheck) >= time.Second {
			lastCheck = time.Now()
			gone, err := c.hookGone(ctx, h)
			if err != nil {
				return nil, err
			}
			if gone {
				if resp, err := c.readResponse(ctx, h.Token, requestID); err != nil || resp != nil {
					return resp, err
				}
				noResponse.Gone = true
				return nil, noResponse
			}
		}
		left := time.Until(end)
		if left <= 0 {
			return nil, noResponse
		}
		timer.Reset(min(wait, left))
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("await webhook response: %w", ctx.Err())
		case <-timer.C:
		}
		if time.Since(begin) >= c.opts.WebhookFastPoll {
			wait = min(2*wait, c.opts.WebhookPollMaxInterval)
		}
	}
}

func respSK(requestID string) string { return "RESP#" + requestID }

// readResponse reads the response item (consistent; nil: not yet).
func (c *Client) readResponse(ctx context.Context, token, requestID string) (*Response, error) {
	key := itemKey(token, respSK(requestID))
	out, err := c.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &c.table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("read webhook response: %w", err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	resp := &Response{Status: int(getN(out.Item, attrStatus)), Header: http.Header{}}
	if hj := getS(out.Item, attrHeaders); hj != "" {
		if err := json.Unmarshal([]byte(hj), &resp.Header); err != nil {
			return nil, fmt.Errorf("decode webhook response headers: %w", err)
		}
	}
	if b, ok := out.Item[attrBody].(*types.AttributeValueMemberB); ok {
		resp.Body = b.Value
	}
	// The item stays until its TTL: while it exists, a second Respond with
	// another response is refused and a repeated one is answered as applied.
	return resp, nil
}

// hookGone reports whether the hook h no longer lives (disposed, or its
// token now names another hook).
func (c *Client) hookGone(ctx context.Context, h *Hook) (bool, error) {
	out, err := c.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                &c.table,
		Key:                      hookKey(h.Token),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#hookId"),
		ExpressionAttributeNames: names(attrHookID),
	})
	if err != nil {
		return false, fmt.Errorf("check webhook: %w", err)
	}
	return getS(out.Item, attrHookID) != h.HookID, nil
}

// Respond writes the response of a manual webhook to the request
// requestID (WebhookRequest.RequestID) for the execution executionARN,
// which must hold the webhook token; the caller held by ResumeWebhook gets
// it. A Status of 0 is 200. Each request is answered once: the first
// write stands; writing the same response again succeeds (a task retried
// after a crash), another one fails with ErrResponseAlreadySent. The
// response item expires after Options.ResponseTTL.
//
// The write is one transaction whose condition check ties it to the
// execution: executionARN must hold token (hook-task is the trust boundary,
// docs/operations.md).
//
// Errors: ErrInvalidToken, ErrInvalidRequest (no execution or request id,
// bad status), ErrHookNotFound (no hook has the token), *ConflictError
// (another execution holds it), ErrResponseAlreadySent (wrapped),
// *ResponseTooLargeError (ErrPayloadTooLarge) when the item would exceed
// DynamoDB's 400 KB, ErrContention, or a wrapped AWS error.
func (c *Client) Respond(ctx context.Context, token, executionARN, requestID string, resp Response) error {
	if err := ValidateToken(token); err != nil {
		return err
	}
	if executionARN == "" {
		return fmt.Errorf("%w: executionArn is required ($$.Execution.Id): a response is written for the execution that holds the webhook", ErrInvalidRequest)
	}
	if requestID == "" || len(requestID) > MaxTokenLength {
		return fmt.Errorf("%w: requestId is required (at most %d bytes)", ErrInvalidRequest, MaxTokenLength)
	}
	if err := resp.validate(); err != nil {
		return err
	}
	hdr := resp.Header
	if hdr == nil {
		hdr = http.Header{}
	}
	hj, err := json.Marshal(hdr)
	if err != nil {
		return fmt.Errorf("%w: response headers: %v", ErrInvalidRequest, err)
	}
	item := map[string]types.AttributeValue{
		attrPK:        s(hookPK(token)),
		attrSK:        s(respSK(requestID)),
		attrStatus:    n(int64(resp.Status)),
		attrHeaders:   s(string(hj)),
		attrExpiresAt: n(c.opts.Now().Add(c.opts.ResponseTTL).Unix()),
	}
	if len(resp.Body) > 0 {
		item[attrBody] = &types.AttributeValueMemberB{Value: resp.Body}
	}
	// The digest makes a repeated Respond with the same response (a retried
	// task after a crash) succeed; another response is refused.
	item[attrDigest] = s(sha256Hex(strconv.Itoa(resp.Status) + "\n" + string(hj) + "\n" + string(resp.Body)))
	if size := itemSize(item); size > MaxResponseItemBytes {
		return &ResponseTooLargeError{Size: size, Limit: MaxResponseItemBytes}
	}
	in := &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{
			TableName:                           &c.table,
			Key:                                 hookKey(token),
			ConditionExpression:                 aws.String("#executionArn = :exec"),
			ExpressionAttributeNames:            names(attrExec),
			ExpressionAttributeValues:           map[string]types.AttributeValue{":exec": s(executionARN)},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		{Put: &types.Put{
			TableName:                 &c.table,
			Item:                      item,
			ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #digest = :digest"),
			ExpressionAttributeNames:  names(attrPK, attrDigest),
			ExpressionAttributeValues: map[string]types.AttributeValue{":digest": item[attrDigest]},
		}},
	}}
	for r := c.retrier(c.opts.ContentionTimeout); r.next(ctx); {
		_, err = c.transact(ctx, in)
		codes, canceled := canceledReasons(err)
		switch {
		case err == nil:
			return nil
		case conditionCanceled(codes, 0):
			var tce *types.TransactionCanceledException
			errors.As(err, &tce)
			holder := getS(tce.CancellationReasons[0].Item, attrExec)
			if holder == "" {
				return fmt.Errorf("respond to request %s: %w", requestID, ErrHookNotFound)
			}
			return &ConflictError{Token: token, ExecutionARN: holder}
		case conditionCanceled(codes, 1):
			return fmt.Errorf("respond to request %s: %w", requestID, ErrResponseAlreadySent)
		case canceled && slices.Contains(codes, "TransactionConflict"), transactionConflict(err):
			continue // the hook item is in another transaction (a hot webhook's appends): again
		default:
			return fmt.Errorf("respond to request %s: %w", requestID, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("respond to request %s: %w", requestID, err)
	}
	return fmt.Errorf("respond to request %s: %w", requestID, ErrContention)
}

// itemSize is the size DynamoDB counts for item: attribute names plus
// values (numbers are counted generously at their text length + 1).
func itemSize(item map[string]types.AttributeValue) int {
	size := 0
	for k, v := range item {
		size += len(k)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			size += len(v.Value)
		case *types.AttributeValueMemberB:
			size += len(v.Value)
		case *types.AttributeValueMemberN:
			size += len(v.Value) + 1
		}
	}
	return size
}
