package hooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// newSecret creates a Secrets Manager secret in moto holding value and
// returns its ARN.
func newSecret(tb testing.TB, value string) string {
	tb.Helper()
	cfg := devstack.AWSConfig(stacktest.RequireStack(tb).MotoURL.String())
	sm := secretsmanager.NewFromConfig(cfg)
	out, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name:         aws.String("sfnhooks/test-" + suffix()),
		SecretString: aws.String(value),
	})
	if err != nil {
		tb.Fatalf("create secret: %v", err)
	}
	return *out.ARN
}

// Two Standard Webhooks secrets (base64 after "whsec_"): a rotation holds both.
const (
	swOld = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	swNew = "whsec_c2ZuaG9va3MtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q="
)

// swRequest is a Standard Webhooks request to /webhooks/token signed with
// secret at ts ("" secret: unsigned).
func swRequest(tb testing.TB, token, secret, id string, ts time.Time, body string) *http.Request {
	tb.Helper()
	r := httptest.NewRequest("POST", "/webhooks/"+token, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Webhook-Id", id)
	t := strconv.FormatInt(ts.Unix(), 10)
	r.Header.Set("Webhook-Timestamp", t)
	if secret != "" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if err != nil {
			tb.Fatal(err)
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(id + "." + t + "." + body))
		r.Header.Set("Webhook-Signature", "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	return r
}

// A verified webhook on moto (DynamoDB and Secrets Manager): bad requests
// get 401 and change nothing; a good one is delivered; a provider's retry
// of it (same webhook-id, new timestamp and signature) is answered like
// the first and not delivered again; a rotated secret accepts both keys.
func TestVerifiedWebhook(t *testing.T) {
	t.Parallel()
	p := newWebhookPair(t)
	ctx := context.Background()
	arn := newSecret(t, swNew+"\n"+swOld) // rotation: the new and the old secret
	h, err := p.workflow.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA,
		Verify: &hooks.Verify{Scheme: hooks.SchemeStandardWebhooks, SecretARN: arn}})
	if err != nil {
		t.Fatal(err)
	}
	if h.Verify == nil || h.Verify.Scheme != hooks.SchemeStandardWebhooks {
		t.Fatalf("created hook's verify: got %+v", h.Verify)
	}
	if err := p.workflow.Await(ctx, awaitIn(h.Token, 0)); err != nil {
		t.Fatal(err)
	}
	body := `{"type":"payment.succeeded","amount":42}`
	now := time.Now()
	for _, tc := range []struct {
		name string
		r    *http.Request
	}{
		{"wrong secret", swRequest(t, h.Token, "whsec_"+base64.StdEncoding.EncodeToString([]byte("not the secret")), "msg_a", now, body)},
		{"tampered body", func() *http.Request {
			r := swRequest(t, h.Token, swNew, "msg_a", now, body)
			r.Body = httptest.NewRequest("POST", "/", strings.NewReader(strings.Replace(body, "42", "4200", 1))).Body
			return r
		}()},
		{"stale", swRequest(t, h.Token, swNew, "msg_a", now.Add(-6*time.Minute), body)},
	} {
		_, err := p.caller.ResumeWebhook(ctx, h.Token, tc.r)
		if !errors.Is(err, hooks.ErrInvalidSignature) || hooks.ErrorFor(err).Status != http.StatusUnauthorized {
			t.Fatalf("%q: got %v, want ErrInvalidSignature (401)", tc.name, err)
		}
	}
	st, err := p.workflow.GetHook(ctx, h.Token)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Waiting || st.Pending != 0 || st.Delivered != 0 {
		t.Fatalf("after refused requests: waiting %v pending %d delivered %d, want an untouched hook", st.Waiting, st.Pending, st.Delivered)
	}
	select {
	case out := <-p.outputs:
		t.Fatalf("a refused request reached the workflow: %s", out)
	default:
	}

	// The good request (signed with the old secret, still valid during the
	// rotation): one failed conditional write that reads the configuration,
	// then the keyed write and SendTaskSuccess; the secret is cached.
	p.calls.Reset()
	resp, err := p.caller.ResumeWebhook(ctx, h.Token, swRequest(t, h.Token, swOld, "msg_a", now, body))
	if err != nil || resp.Status != http.StatusAccepted {
		t.Fatalf("signed request: %v %v, want 202", resp, err)
	}
	if got := p.calls.Total(); got > 3 {
		t.Errorf("signed request, warm secret cache: %d AWS calls (%s), want at most 3", got, p.calls)
	}
	out, err := nextOutput(p.outputs, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	req, err := request(out)
	if err != nil {
		t.Fatal(err)
	}
	if req.Body != body || req.Headers["webhook-id"][0] != "msg_a" || !strings.HasPrefix(req.RequestID, "dlv-") {
		t.Fatalf("delivered %+v, want the signed body with a delivery request id", req)
	}

	// A provider's retry (same id, new timestamp, new signature: here the
	// new secret) is answered like the first and reaches the workflow once.
	// With Step Functions stubbed, the retry of a delivery that went to a
	// waiter cannot be settled (the stub keeps no history; e2e's
	// TestPaymentVerified does it on moto): here the delivery is stored
	// (no await parked), retried, awaited, retried again.
	for i, retry := range []time.Duration{0, time.Second, 2 * time.Second} {
		resp, err := p.caller.ResumeWebhook(ctx, h.Token, swRequest(t, h.Token, swNew, "msg_b", now.Add(retry), body))
		if err != nil || resp.Status != http.StatusAccepted {
			t.Fatalf("delivery msg_b, attempt %d: %v %v, want 202", i, resp, err)
		}
		if i == 1 {
			if err := p.workflow.Await(ctx, awaitIn(h.Token, 1)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := nextOutput(p.outputs, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if out, err := nextOutput(p.outputs, 300*time.Millisecond); err == nil {
		t.Fatalf("a retried delivery reached the workflow again: %s", out)
	}
	if st, err := p.workflow.GetHook(ctx, h.Token); err != nil || st.Pending != 0 || st.Delivered != 2 {
		t.Fatalf("after msg_a and three attempts of msg_b: %+v %v, want 2 delivered, none pending", st, err)
	}
	// The same id with another body is not the provider's retry.
	_, err = p.caller.ResumeWebhook(ctx, h.Token, swRequest(t, h.Token, swNew, "msg_b", now, `{"type":"other"}`))
	if !errors.Is(err, hooks.ErrIdempotencyMismatch) {
		t.Fatalf("same delivery id, other body: got %v, want ErrIdempotencyMismatch", err)
	}

	// Only a verified request reaches a verified webhook: ResumeHook (the
	// POST /hooks route) does not find it, with or without a key.
	for _, opts := range [][]hooks.ResumeOption{nil, {hooks.WithIdempotencyKey("k")}} {
		if _, err := p.caller.ResumeHook(ctx, h.Token, json.RawMessage(`{}`), opts...); !errors.Is(err, hooks.ErrHookNotFound) || strings.Contains(err.Error(), "verif") {
			t.Fatalf("ResumeHook of a verified webhook: got %v, want a bare ErrHookNotFound", err)
		}
	}
	if _, err := p.caller.RejectHook(ctx, h.Token, "PaymentFailed", "forged"); !errors.Is(err, hooks.ErrHookNotFound) || strings.Contains(err.Error(), "verif") {
		t.Fatalf("RejectHook of a verified webhook: got %v, want a bare ErrHookNotFound", err)
	}
	if st, err := p.workflow.GetHook(ctx, h.Token); err != nil || st.Pending != 0 {
		t.Fatalf("after the refused ResumeHook and RejectHook: %+v %v, want nothing stored", st, err)
	}
	// Re-creating the webhook without verify keeps the verification.
	again, err := p.workflow.CreateWebhook(ctx, hooks.CreateWebhookInput{Token: h.Token, ExecutionARN: execA})
	if err != nil || again.Verify == nil {
		t.Fatalf("re-create without verify: %+v %v, want the verification kept", again, err)
	}
}

// A cold cache reads the secret once; a missing secret is an error (500),
// not a 401, and stores nothing.
func TestVerifiedWebhookSecretCache(t *testing.T) {
	t.Parallel()
	p := newWebhookPair(t)
	ctx := context.Background()
	arn := newSecret(t, swNew)
	h, err := p.workflow.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA,
		Verify: &hooks.Verify{Scheme: hooks.SchemeStandardWebhooks, SecretARN: arn}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := p.caller.ResumeWebhook(ctx, h.Token, swRequest(t, h.Token, swNew, "msg_"+strconv.Itoa(i), time.Now(), `{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.calls.Count("Secrets Manager.GetSecretValue"); got != 1 {
		t.Fatalf("3 requests: %d GetSecretValue (%s), want 1", got, p.calls)
	}
	// A cold container refuses an unsigned request without reading the secret.
	cold := p.newCaller(t)
	p.calls.Reset()
	if _, err := cold.ResumeWebhook(ctx, h.Token, swRequest(t, h.Token, "", "msg_u", time.Now(), `{}`)); !errors.Is(err, hooks.ErrHookNotFound) {
		t.Fatalf("unsigned request: %v, want ErrHookNotFound (as an unknown token)", err)
	}
	if got := p.calls.Count("Secrets Manager.GetSecretValue"); got != 0 {
		t.Fatalf("unsigned request on a cold cache: %d GetSecretValue (%s), want 0", got, p.calls)
	}
	// A secret deleted after the webhook was created (create refuses one
	// that does not exist), read by a cold container.
	gone := newSecret(t, swNew)
	missing, err := p.workflow.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA,
		Verify: &hooks.Verify{Scheme: hooks.SchemeStandardWebhooks, SecretARN: gone}})
	if err != nil {
		t.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String()))
	if _, err := sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: &gone, ForceDeleteWithoutRecovery: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = p.newCaller(t).ResumeWebhook(ctx, missing.Token, swRequest(t, missing.Token, swNew, "msg_x", time.Now(), `{}`))
	if api := hooks.ErrorFor(err); api.Status != http.StatusInternalServerError {
		t.Fatalf("missing secret: got %v (%d), want 500", err, api.Status)
	}
	if st, err := p.workflow.GetHook(ctx, missing.Token); err != nil || st.Pending != 0 {
		t.Fatalf("missing secret: %+v %v, want nothing stored", st, err)
	}
}

func TestCreateWebhookVerifyRefused(t *testing.T) {
	t.Parallel()
	p := newWebhookPair(t)
	for _, v := range []hooks.Verify{
		{Scheme: "paypal", SecretARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:sfnhooks/x"},
		{Scheme: hooks.SchemeStripe},
	} {
		_, err := p.workflow.CreateWebhook(context.Background(), hooks.CreateWebhookInput{ExecutionARN: execA, Verify: &v})
		if !errors.Is(err, hooks.ErrInvalidRequest) || hooks.ErrorFor(err).Status != http.StatusBadRequest {
			t.Fatalf("verify %+v: got %v, want ErrInvalidRequest (400)", v, err)
		}
	}
}

// A verified webhook needs the same token strength as any webhook, and an
// unsigned request to it is answered exactly as one to an unknown token
// (issue 21): with a short chosen token (payment-<id>) and 401 for
// unsigned requests, the public route confirmed which tokens exist. A
// request with a signature that fails still gets 401 (the provider's
// secret is wrong): only whoever has the URL can tell.
func TestVerifiedWebhookTokenAndUnsignedAnswer(t *testing.T) {
	t.Parallel()
	p := newWebhookPair(t)
	ctx := context.Background()
	arn := newSecret(t, swNew)
	verify := &hooks.Verify{Scheme: hooks.SchemeStandardWebhooks, SecretARN: arn}
	if _, err := p.workflow.CreateWebhook(ctx, hooks.CreateWebhookInput{Token: "payment-" + suffix(), ExecutionARN: execA, Verify: verify}); !errors.Is(err, hooks.ErrWeakWebhookToken) {
		t.Fatalf("verified webhook with a short chosen token: %v, want ErrWeakWebhookToken", err)
	}
	h, err := p.workflow.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA, Verify: verify})
	if err != nil {
		t.Fatal(err)
	}
	_, unsigned := p.caller.ResumeWebhook(ctx, h.Token, swRequest(t, h.Token, "", "msg_1", time.Now(), `{}`))
	unknownToken := "unknown-" + suffix() + "-0123456789abcdef"
	_, unknown := p.caller.ResumeWebhook(ctx, unknownToken, swRequest(t, unknownToken, "", "msg_1", time.Now(), `{}`))
	a, b := hooks.ErrorResponse(unsigned), hooks.ErrorResponse(unknown)
	if !errors.Is(unsigned, hooks.ErrHookNotFound) || a.Status != b.Status || string(a.Body) != string(b.Body) {
		t.Fatalf("unsigned request to a verified webhook: %d %s; to an unknown token: %d %s; want the same 404", a.Status, a.Body, b.Status, b.Body)
	}
	if _, err := p.caller.ResumeWebhook(ctx, h.Token, swRequest(t, h.Token, "whsec_"+base64.StdEncoding.EncodeToString([]byte("not the secret, 16+ bytes")), "msg_1", time.Now(), `{}`)); !errors.Is(err, hooks.ErrInvalidSignature) {
		t.Fatalf("wrongly signed request: %v, want ErrInvalidSignature (401)", err)
	}
	if _, err := p.caller.ResumeWebhook(ctx, h.Token, swRequest(t, h.Token, swNew, "msg_1", time.Now(), `{}`)); err != nil {
		t.Fatalf("signed request: %v", err)
	}
}

// A sealed, verified webhook: the signature is checked on the plaintext
// request, then the request is sealed; a provider's retry finds the first
// request by the envelope its idempotency record keeps, and nothing is
// stored twice.
func TestVerifiedSealedWebhook(t *testing.T) {
	t.Parallel()
	p := newWebhookPair(t)
	ctx := context.Background()
	arn := newSecret(t, swNew)
	h, err := p.workflow.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA,
		Encrypt: &hooks.Encrypt{KMSKeyID: kmsKey(t)},
		Verify:  &hooks.Verify{Scheme: hooks.SchemeStandardWebhooks, SecretARN: arn}})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"card":"4242 4242 4242 4242"}`
	if _, err := p.caller.ResumeWebhook(ctx, h.Token, swRequest(t, h.Token, "", "msg_s", time.Now(), body)); !errors.Is(err, hooks.ErrHookNotFound) {
		t.Fatalf("unsigned request: %v, want ErrHookNotFound (as an unknown token)", err)
	}
	for i := range 3 { // the delivery and two retries, nobody waiting
		if _, err := p.caller.ResumeWebhook(ctx, h.Token, swRequest(t, h.Token, swNew, "msg_s", time.Now().Add(time.Duration(i)*time.Second), body)); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	st, err := p.workflow.GetHook(ctx, h.Token)
	if err != nil || st.Pending != 1 {
		t.Fatalf("after a delivery and two retries: %+v %v, want 1 pending", st, err)
	}
	if err := p.workflow.Await(ctx, awaitIn(h.Token, 0)); err != nil {
		t.Fatal(err)
	}
	out, err := nextOutput(p.outputs, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "4242") {
		t.Fatalf("the delivered payload holds the plaintext: %s", out)
	}
	if _, err := p.caller.ResumeWebhook(ctx, h.Token, swRequest(t, h.Token, swNew, "msg_s", time.Now(), body)); err != nil {
		t.Fatalf("retry after the delivery: %v", err)
	}
	if out, err := nextOutput(p.outputs, 300*time.Millisecond); err == nil {
		t.Fatalf("a retried delivery reached the workflow again: %s", out)
	}
}

// A signing key shorter than 16 bytes is refused when the webhook is
// created (InvalidRequest, nothing created), and at verification when the
// secret was weakened afterwards (500, nothing stored): "whsec_" is an
// empty HMAC key with which anyone can sign (issue 21).
func TestWeakSigningKeyOnMoto(t *testing.T) {
	t.Parallel()
	p := newWebhookPair(t)
	ctx := context.Background()
	weak := newSecret(t, "whsec_")
	_, err := p.workflow.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA,
		Verify: &hooks.Verify{Scheme: hooks.SchemeStandardWebhooks, SecretARN: weak}})
	if !errors.Is(err, hooks.ErrInvalidRequest) || !errors.Is(err, hooks.ErrWeakSigningKey) || !strings.Contains(err.Error(), "16 bytes") {
		t.Fatalf("create with the secret whsec_: %v, want ErrInvalidRequest and ErrWeakSigningKey saying 16 bytes", err)
	}
	missing := strings.Replace(weak, "sfnhooks/test-", "sfnhooks/none-", 1)
	_, err = p.workflow.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA,
		Verify: &hooks.Verify{Scheme: hooks.SchemeStandardWebhooks, SecretARN: missing}})
	if !errors.Is(err, hooks.ErrInvalidRequest) {
		t.Fatalf("create with a secret that does not exist: %v, want ErrInvalidRequest", err)
	}

	arn := newSecret(t, swNew)
	h, err := p.workflow.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA,
		Verify: &hooks.Verify{Scheme: hooks.SchemeStandardWebhooks, SecretARN: arn}})
	if err != nil {
		t.Fatal(err)
	}
	sm := secretsmanager.NewFromConfig(devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String()))
	if _, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: &arn, SecretString: aws.String("whsec_")}); err != nil {
		t.Fatal(err)
	}
	cold := p.newCaller(t) // reads the weakened secret
	m := hmac.New(sha256.New, nil)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	m.Write([]byte("msg_w." + ts + ".{}"))
	r := httptest.NewRequest("POST", "/webhooks/"+h.Token, strings.NewReader(`{}`))
	r.Header.Set("Webhook-Id", "msg_w")
	r.Header.Set("Webhook-Timestamp", ts)
	r.Header.Set("Webhook-Signature", "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	resp, err := cold.ResumeWebhook(ctx, h.Token, r)
	if api := hooks.ErrorFor(err); err == nil || api.Status != http.StatusInternalServerError || !errors.Is(err, hooks.ErrWeakSigningKey) {
		t.Fatalf("a request signed with the empty key: %v %v, want ErrWeakSigningKey (500)", resp, err)
	}
	if st, err := p.workflow.GetHook(ctx, h.Token); err != nil || st.Pending != 0 {
		t.Fatalf("after the request signed with the empty key: %+v %v, want nothing stored", st, err)
	}
}

// A sealed webhook's idempotency record keeps a keyed hash of the verified
// body, not its sha256 (issue 21): anyone reading the table could otherwise
// confirm a guessed payload ("4242 4242 4242 4242") against it, which
// sealing is meant to prevent (docs/sealed.md). A retry still matches.
func TestSealedWebhookRecordHashIsKeyed(t *testing.T) {
	t.Parallel()
	p := newWebhookPair(t)
	ctx := context.Background()
	h, err := p.workflow.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA,
		Encrypt: &hooks.Encrypt{KMSKeyID: kmsKey(t)},
		Verify:  &hooks.Verify{Scheme: hooks.SchemeStandardWebhooks, SecretARN: newSecret(t, swNew)}})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"card":"4242 4242 4242 4242"}`
	for i := range 2 { // the delivery and its retry
		if _, err := p.caller.ResumeWebhook(ctx, h.Token, swRequest(t, h.Token, swNew, "msg_k", time.Now().Add(time.Duration(i)*time.Second), body)); err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	unkeyed := map[string]bool{}
	for _, v := range []string{body, "webhook-body\n" + body} {
		sum := sha256.Sum256([]byte(v))
		unkeyed[hex.EncodeToString(sum[:])] = true
	}
	records := 0
	for _, it := range scanAll(t, p.db, p.table) {
		if sk := it["sk"].(*types.AttributeValueMemberS).Value; strings.HasPrefix(sk, "IDEM#") {
			records++
			if hash := it["hash"].(*types.AttributeValueMemberS).Value; unkeyed[hash] {
				t.Errorf("the idempotency record keeps the unkeyed sha256 of the plaintext body: %s", hash)
			}
		}
	}
	if st, err := p.workflow.GetHook(ctx, h.Token); err != nil || records != 1 || st.Pending != 1 {
		t.Fatalf("%d records, %+v %v: want the delivery stored once", records, st, err)
	}
}
