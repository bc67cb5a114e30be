package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sfnhooks/sfnhooks/internal/adapter/resumewebhook"
	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// webhookRoute is the real resume-webhook handler on the env's table, with
// a client of its own whose AWS calls are counted apart from the
// workflow's (which runs concurrently in manual mode).
type webhookRoute struct {
	e       *env
	handler lambda.Handler
	calls   *awscalls.Counter
}

func (e *env) webhookRoute(optFns ...func(*hooks.Options)) *webhookRoute {
	e.t.Helper()
	stk := stacktest.RequireStack(e.t)
	calls := &awscalls.Counter{}
	cfg := devstack.AWSConfig(stk.MotoURL.String()) // the route invokes no Lambda
	cfg.APIOptions = append(cfg.APIOptions, awscalls.Middleware(calls))
	client, err := hooks.New(cfg, append([]func(*hooks.Options){func(o *hooks.Options) {
		o.TableName = e.table
		o.WebhookBaseURL = "https://hooks.example.test"
	}}, optFns...)...)
	if err != nil {
		e.t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(testWriter{e.t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return &webhookRoute{e: e, handler: devstack.NewHandler(resumewebhook.New(client, log).Handle), calls: calls}
}

// webhookCall is an HTTP request to /webhooks/{token}. A call to a
// verified webhook is signed like its provider would (signPayment) unless
// Unsigned.
type webhookCall struct {
	Method  string
	Query   string // raw query string
	Header  map[string]string
	Cookies []string
	Body    []byte
	Binary  bool // API Gateway sends the body base64

	Unsigned   bool
	DeliveryID string    // webhook-id of a signed call (default: a new one)
	SignedAt   time.Time // webhook-timestamp of a signed call (default: now)
}

// webhookAnswer is what API Gateway sends back, body decoded.
type webhookAnswer struct {
	Status  int
	Header  map[string]string
	Cookies []string
	Body    []byte
	Base64  bool
	Err     error
}

// event is the payload 2.0 event API Gateway makes of c on ANY /webhooks/{token}.
func (w *webhookRoute) event(token string, c webhookCall) events.APIGatewayV2HTTPRequest {
	w.e.t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "apigw-v2-post-hook.json"))
	if err != nil {
		w.e.t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		w.e.t.Fatal(err)
	}
	if c.Method == "" {
		c.Method = http.MethodPost
	}
	path := "/webhooks/" + url.PathEscape(token)
	ev.RawPath, ev.RequestContext.HTTP.Path = path, path
	ev.RawQueryString = c.Query
	ev.RequestContext.HTTP.Method = c.Method
	ev.RouteKey = "ANY /webhooks/{token}"
	ev.RequestContext.RouteKey = ev.RouteKey
	ev.PathParameters = map[string]string{"token": token}
	delete(ev.Headers, "content-length")
	delete(ev.Headers, "content-type")
	for k, v := range c.Header {
		ev.Headers[strings.ToLower(k)] = v
	}
	if st, err := w.e.hooks.GetHook(context.Background(), token); err == nil && st.Verify != nil && !c.Unsigned {
		for k, v := range w.e.signPayment(c) {
			ev.Headers[k] = v
		}
	}
	ev.Cookies = c.Cookies
	if c.Binary {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(c.Body), true
	} else {
		ev.Body = string(c.Body)
	}
	return ev
}

// call sends c through the handler. It does not fail the test itself (it
// may run in a goroutine): the answer carries any error.
func (w *webhookRoute) call(ev events.APIGatewayV2HTTPRequest) webhookAnswer {
	in, _ := json.Marshal(ev)
	out, err := w.handler.Invoke(context.Background(), in)
	if err != nil {
		return webhookAnswer{Err: err}
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return webhookAnswer{Err: err}
	}
	a := webhookAnswer{Status: resp.StatusCode, Header: resp.Headers, Cookies: resp.Cookies, Body: []byte(resp.Body), Base64: resp.IsBase64Encoded}
	if resp.IsBase64Encoded {
		a.Body, a.Err = base64.StdEncoding.DecodeString(resp.Body)
	}
	return a
}

// do is call on the test's goroutine; a failed invocation fails the test.
func (w *webhookRoute) do(token string, c webhookCall) webhookAnswer {
	w.e.t.Helper()
	a := w.call(w.event(token, c))
	if a.Err != nil {
		w.e.t.Fatalf("resume-webhook invocation: %v", a.Err)
	}
	return a
}

// webhookToken waits for the webhook that execution arn created and returns
// its token, found through the byExecution index, as a provider would get
// it from the URL the workflow handed out.
func (e *env) webhookToken(arn string) string {
	e.t.Helper()
	var token string
	e.waitFor("the webhook of "+arn, func() bool {
		out, err := e.db.Query(context.Background(), &dynamodb.QueryInput{
			TableName:                 &e.table,
			IndexName:                 aws.String(hooks.IndexByExecution),
			KeyConditionExpression:    aws.String("executionArn = :e"),
			ExpressionAttributeValues: map[string]dbtypes.AttributeValue{":e": &dbtypes.AttributeValueMemberS{Value: arn}},
		})
		if err != nil || len(out.Items) == 0 {
			return false
		}
		pk, _ := out.Items[0]["pk"].(*dbtypes.AttributeValueMemberS)
		token = strings.TrimPrefix(pk.Value, "HOOK#")
		return true
	})
	return token
}

// webhookOutput is the output of examples/webhook.asl.json.
type webhookOutput struct {
	Token   string               `json:"token"`
	Request hooks.WebhookRequest `json:"request"`
}

// webhookInput is the input of examples/webhook.asl.json.
func webhookInput(respondWith any, pause, respondAfter int, response any) map[string]any {
	return map[string]any{
		"respondWith": respondWith, "pauseSeconds": pause, "respondAfterSeconds": respondAfter,
		"respond": response != nil, "response": response,
	}
}

// The seed's payment example: webhook created, URL handed out, the provider
// POSTs JSON, the workflow reads it, answers 200 OK, and the provider gets
// exactly that.
func TestPaymentWebhook(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.webhookRoute()
	checkout := "c-" + randomSuffix()
	arn := e.start("payment", map[string]string{"checkoutId": checkout})
	token := e.webhookToken(arn)
	st, err := e.hooks.GetHook(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := base64.RawURLEncoding.DecodeString(token); len(raw) < 16 {
		t.Errorf("token %q: want at least 128 random bits, URL-safe", token)
	}
	if st.Kind != hooks.KindWebhook || st.URL != "https://hooks.example.test/webhooks/"+token || st.RespondWith == nil || !st.RespondWith.Manual {
		t.Errorf("webhook %+v: want kind webhook, its URL, respondWith manual", st)
	}
	e.waiting(token)

	a := w.do(token, webhookCall{Header: map[string]string{"Content-Type": "application/json"}, Body: []byte(`{"paid": true, "amount": 4200}`)})
	if a.Status != http.StatusOK || string(a.Body) != "OK" || a.Header["content-type"] != "text/plain" || a.Base64 {
		t.Fatalf("provider got %d %v %q, want 200 text/plain OK", a.Status, a.Header, a.Body)
	}
	e.paymentPaid(arn, checkout)
	// Only the response item stays, until its TTL: while it exists a second,
	// different response to the request is refused (docs/protocol.md,
	// Respond); and the idempotency record of the provider's delivery id
	// (the example verifies signatures: docs/protocol.md, Verified webhooks).
	for _, item := range e.items(token) {
		sk, _ := item["sk"].(*dbtypes.AttributeValueMemberS)
		exp, _ := item[hooks.TTLAttribute].(*dbtypes.AttributeValueMemberN)
		if sk == nil || !(strings.HasPrefix(sk.Value, "RESP#") || strings.HasPrefix(sk.Value, "IDEM#")) || exp == nil {
			t.Errorf("item %v left for the token after dispose: want only the response item and the delivery's idempotency record, with %s", item, hooks.TTLAttribute)
		}
	}
	if a := w.do(token, webhookCall{Body: []byte(`{}`)}); a.Status != http.StatusNotFound {
		t.Errorf("call after dispose: %d, want 404", a.Status)
	}
}

// Default respondWith: 202, empty body, at once, in two AWS calls.
func TestWebhookDefault202(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.webhookRoute()
	arn := e.start("webhook", webhookInput(nil, 0, 0, nil))
	token := e.webhookToken(arn)
	e.waiting(token)
	a := w.do(token, webhookCall{Query: "x=1", Header: map[string]string{"Content-Type": "text/plain"}, Body: []byte("hello")})
	if a.Status != http.StatusAccepted || len(a.Body) != 0 {
		t.Fatalf("got %d %q, want 202 and an empty body", a.Status, a.Body)
	}
	if got := w.calls.Total(); got != 2 {
		t.Errorf("static webhook request with a parked await made %d AWS calls (%s), want 2", got, w.calls)
	}
	var out webhookOutput
	e.succeeded(arn, &out)
	if out.Token != token {
		t.Errorf("output token %q, want %q", out.Token, token)
	}
	r := out.Request
	wantURL := "https://abcdef1234.execute-api.us-east-1.amazonaws.com/webhooks/" + token + "?x=1"
	if r.RequestID == "" || r.Method != "POST" || r.URL != wantURL || r.Path != "/webhooks/"+token || r.Body != "hello" || r.IsBase64Encoded ||
		!reflect.DeepEqual(r.Headers["content-type"], []string{"text/plain"}) || !reflect.DeepEqual(r.Query["x"], []string{"1"}) {
		t.Errorf("workflow received %+v", r)
	}
}

// A static response fixed at creation: custom status, headers, body.
func TestWebhookStaticCustom(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.webhookRoute()
	rw := map[string]any{"status": 201, "headers": map[string]any{"content-type": "application/json", "x-multi": []string{"a", "b"}}, "body": `{"ok":true}`}
	arn := e.start("webhook", webhookInput(rw, 0, 0, nil))
	token := e.webhookToken(arn)
	e.waiting(token)
	a := w.do(token, webhookCall{Body: []byte("{}")})
	want := map[string]string{"content-type": "application/json", "x-multi": "a, b"}
	if a.Status != http.StatusCreated || string(a.Body) != `{"ok":true}` || !reflect.DeepEqual(a.Header, want) {
		t.Fatalf("got %d %v %q, want 201 %v {\"ok\":true}", a.Status, a.Header, a.Body, want)
	}
	var out webhookOutput
	e.succeeded(arn, &out)
	r := out.Request
	if out.Token != token || r.RequestID == "" || r.Method != "POST" || r.Path != "/webhooks/"+token || r.Body != "{}" || r.IsBase64Encoded {
		t.Errorf("output %+v, want token %q and the POST of {} to /webhooks/%s", out, token, token)
	}
}

// Manual: the caller is held until the workflow responds, then gets exactly
// its status, headers (repeated values kept; Set-Cookie as cookies) and
// body. The request's repeated query keys and headers reach the workflow.
func TestWebhookManualRepeatedHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.webhookRoute()
	resp := map[string]any{
		"status":  207,
		"headers": map[string]any{"content-type": "text/plain", "x-multi": []string{"1", "2"}, "set-cookie": []string{"a=1; Path=/", "b=2"}},
		"body":    "done",
	}
	arn := e.start("webhook", webhookInput("manual", 0, 0, resp))
	token := e.webhookToken(arn)
	e.waiting(token)

	done := make(chan webhookAnswer, 1)
	ev := w.event(token, webhookCall{Method: "PUT", Query: "a=1&a=2&b=3", Header: map[string]string{"X-Req": "p"}, Cookies: []string{"c=x", "c=y", "d=z"}, Body: []byte("ping")})
	start := time.Now()
	go func() { done <- w.call(ev) }()
	// The route answers by its deadline at the latest (a 504); waiting
	// longer than that, with room for a loaded machine, means it hangs.
	var a webhookAnswer
	select {
	case a = <-done:
	case <-time.After(2 * hooks.DefaultWebhookDeadline):
		t.Fatalf("the caller was not answered within %s, twice the route's deadline", 2*hooks.DefaultWebhookDeadline)
	}
	if a.Err != nil {
		t.Fatal(a.Err)
	}
	t.Logf("manual answer after %s; route made %s", time.Since(start), w.calls)
	wantHeader := map[string]string{"content-type": "text/plain", "x-multi": "1, 2"}
	if a.Status != 207 || string(a.Body) != "done" || !reflect.DeepEqual(a.Header, wantHeader) || !reflect.DeepEqual(a.Cookies, []string{"a=1; Path=/", "b=2"}) {
		t.Fatalf("got %d %v cookies %v %q, want 207 %v cookies [a=1; Path=/ b=2] done", a.Status, a.Header, a.Cookies, a.Body, wantHeader)
	}
	var out webhookOutput
	e.succeeded(arn, &out)
	r := out.Request
	// Cookies are left out by default (issue 11; TestWebhookHeaderFilter
	// checks a webhook that keeps them, repeated values included).
	if r.Method != "PUT" || !reflect.DeepEqual(r.Query, map[string][]string{"a": {"1", "2"}, "b": {"3"}}) ||
		len(r.Cookies) != 0 || r.Headers["cookie"] != nil || !reflect.DeepEqual(r.Headers["x-req"], []string{"p"}) {
		t.Errorf("workflow received %+v", r)
	}
}

// A binary request body reaches the workflow as base64 and a binary
// response reaches the caller, both byte for byte.
func TestWebhookBinaryRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.webhookRoute()
	reqBody, respBody := make([]byte, 4096), make([]byte, 3000)
	_, _ = rand.Read(reqBody)
	_, _ = rand.Read(respBody)
	reqBody[0], respBody[0] = 0xff, 0xfe // never valid UTF-8
	resp := map[string]any{
		"status": 200, "headers": map[string]string{"content-type": "application/octet-stream"},
		"body": base64.StdEncoding.EncodeToString(respBody), "isBase64Encoded": true,
	}
	arn := e.start("webhook", webhookInput(map[string]any{"mode": "manual"}, 0, 0, resp))
	token := e.webhookToken(arn)
	e.waiting(token)
	a := w.do(token, webhookCall{Header: map[string]string{"Content-Type": "application/octet-stream"}, Body: reqBody, Binary: true})
	if a.Status != http.StatusOK || !a.Base64 || !bytes.Equal(a.Body, respBody) {
		t.Fatalf("got %d base64=%v %d bytes, want 200 and the %d response bytes base64", a.Status, a.Base64, len(a.Body), len(respBody))
	}
	var out webhookOutput
	e.succeeded(arn, &out)
	got, err := base64.StdEncoding.DecodeString(out.Request.Body)
	if !out.Request.IsBase64Encoded || err != nil || !bytes.Equal(got, reqBody) {
		t.Errorf("workflow received body base64=%v (%v), %d bytes; want the %d request bytes", out.Request.IsBase64Encoded, err, len(got), len(reqBody))
	}
}

// No response before the deadline: 504 naming the request id, and the
// request still reaches the workflow.
func TestWebhookManualDeadline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.webhookRoute()
	arn := e.start("webhook", webhookInput(map[string]any{"mode": "manual", "deadlineMs": 1500}, 0, 4, nil))
	token := e.webhookToken(arn)
	e.waiting(token)
	start := time.Now()
	a := w.do(token, webhookCall{Body: []byte(`{"late": true}`)})
	took := time.Since(start)
	// A 504, not the 502 of the webhook disposed after the workflow's 4s
	// pause: the deadline ended the wait. Not before the deadline, and by
	// the webhook's own deadline, not the default one (the workflow never
	// responds). No wall-clock bound tighter than that: a loaded machine
	// may answer late.
	if a.Status != http.StatusGatewayTimeout {
		t.Fatalf("got %d %q, want 504", a.Status, a.Body)
	}
	if took < 1500*time.Millisecond || took >= hooks.DefaultWebhookDeadline {
		t.Errorf("answered after %s, want after the webhook's 1.5s deadline and before the default %s", took, hooks.DefaultWebhookDeadline)
	}
	code, msg := errorBody(t, httpResponse{Status: a.Status, Header: a.Header, Body: string(a.Body)})
	if code != hooks.CodeResponseTimeout || !strings.Contains(msg, "delivered") {
		t.Errorf("error %s %q, want %s saying the request was delivered", code, msg, hooks.CodeResponseTimeout)
	}
	var out webhookOutput
	e.succeeded(arn, &out)
	if out.Request.RequestID == "" || !strings.Contains(msg, out.Request.RequestID) || out.Request.Body != `{"late": true}` {
		t.Errorf("workflow received %+v; the 504 said %q: want the same request id, and the body", out.Request, msg)
	}
}

// A request before the workflow awaits is stored (the static answer is
// given at once) and delivered at the await.
func TestWebhookPostBeforeAwait(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.webhookRoute()
	const pause = 3 * time.Second
	start := time.Now() // the execution's Pause ends no earlier than start+pause
	arn := e.start("webhook", webhookInput(nil, int(pause/time.Second), 0, nil))
	token := e.webhookToken(arn)
	a := w.do(token, webhookCall{Body: []byte("early")})
	if a.Status != http.StatusAccepted {
		t.Fatalf("got %d %q, want 202", a.Status, a.Body)
	}
	if got := w.calls.Total(); got != 2 {
		t.Errorf("stored static webhook request made %d AWS calls (%s), want 2", got, w.calls)
	}
	st, err := e.hooks.GetHook(context.Background(), token)
	inPause := time.Since(start) < pause
	switch {
	case err == nil && !st.Waiting && st.Pending == 1: // stored, not delivered yet
	case inPause:
		t.Fatalf("after an early request: %+v, %v; want the hook not waiting, 1 pending (the execution is still in its Pause)", st, err)
	default: // not evidence: a loaded machine got here after the Pause
		t.Logf("inconclusive: the hook was read back %s after the start, past the workflow's %s pause (%+v, %v); checking the delivery only", time.Since(start), pause, st, err)
	}
	var out webhookOutput
	e.succeeded(arn, &out)
	if out.Request.Body != "early" {
		t.Errorf("workflow received %+v, want the early request", out.Request)
	}
}

// A plain hook's token (even with an await parked), an unknown token, a
// disposed webhook and an invalid token all get the same 404 on the
// webhook route, and nothing is stored or delivered.
func TestWebhookNotFoundIsUniform(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.webhookRoute()
	ctx := context.Background()
	plain := "plain-" + randomSuffix()
	if err := e.hooks.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: plain, ExecutionARN: "arn:exec:plain"}, TaskToken: "task-token-of-a-parked-await"}); err != nil {
		t.Fatal(err)
	}
	gone, err := e.hooks.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: "arn:exec:gone"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.hooks.Dispose(ctx, gone.Token, "arn:exec:gone"); err != nil {
		t.Fatal(err)
	}
	before := e.items(plain)
	var first webhookAnswer
	for i, token := range []string{plain, "unknown-" + randomSuffix(), gone.Token, "bad token"} {
		a := w.do(token, webhookCall{Body: []byte(`{"x":1}`)})
		if a.Status != http.StatusNotFound {
			t.Fatalf("%q: got %d %q, want 404", token, a.Status, a.Body)
		}
		if i == 0 {
			first = a
			continue
		}
		if !reflect.DeepEqual(a, first) {
			t.Errorf("%q: answer %d %v %q differs from the plain hook's %d %v %q", token, a.Status, a.Header, a.Body, first.Status, first.Header, first.Body)
		}
	}
	if code, _ := errorBody(t, httpResponse{Status: first.Status, Header: first.Header, Body: string(first.Body)}); code != hooks.CodeHookNotFound {
		t.Errorf("code %q, want %q", code, hooks.CodeHookNotFound)
	}
	if after := e.items(plain); !reflect.DeepEqual(before, after) {
		t.Errorf("the webhook route changed the plain hook:\nbefore %v\nafter  %v", before, after)
	}
	if n := e.itemCount(); n != 1 {
		t.Errorf("table holds %d items, want 1 (the plain hook)", n)
	}
}

// An oversized request is refused with 413 naming the limit; nothing is
// stored. The limit is on the request as the workflow receives it, so a
// binary body under 256 KiB whose base64 is over it is refused too.
func TestWebhookOversized(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.webhookRoute()
	h, err := e.hooks.CreateWebhook(context.Background(), hooks.CreateWebhookInput{ExecutionARN: "arn:exec:big"})
	if err != nil {
		t.Fatal(err)
	}
	before := e.items(h.Token)
	binary := make([]byte, 200*1024)
	_, _ = rand.Read(binary)
	binary[0] = 0xff
	for name, c := range map[string]webhookCall{
		"text 300 KiB":   {Body: bytes.Repeat([]byte("a"), 300*1024)},
		"binary 200 KiB": {Body: binary, Binary: true},
	} {
		a := w.do(h.Token, c)
		if a.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("%s: got %d %q, want 413", name, a.Status, a.Body)
		}
		if code, msg := errorBody(t, httpResponse{Status: a.Status, Header: a.Header, Body: string(a.Body)}); code != hooks.CodePayloadTooLarge || !strings.Contains(msg, "262144") {
			t.Errorf("%s: error %s %q, want %s naming the limit 262144", name, code, msg, hooks.CodePayloadTooLarge)
		}
	}
	if after := e.items(h.Token); !reflect.DeepEqual(before, after) {
		t.Errorf("a refused request changed the table:\nbefore %v\nafter  %v", before, after)
	}
}

// newPaymentSecret creates the env's payment signing secret in moto: the
// payment example's webhook verifies Standard Webhooks signatures with it.
func (e *env) newPaymentSecret() {
	e.t.Helper()
	key := make([]byte, 24)
	_, _ = rand.Read(key)
	e.paymentSecret = "whsec_" + base64.StdEncoding.EncodeToString(key)
	cfg := devstack.AWSConfig(stacktest.RequireStack(e.t).MotoURL.String())
	out, err := secretsmanager.NewFromConfig(cfg).CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name:         aws.String("sfnhooks/e2e-payment-" + e.funcName),
		SecretString: aws.String(e.paymentSecret),
	})
	if err != nil {
		e.t.Fatalf("create the payment secret: %v", err)
	}
	e.paymentSecretARN = aws.ToString(out.ARN)
}

// signPayment returns the Standard Webhooks headers that sign c with the
// env's payment secret: HMAC-SHA256 of "id.timestamp.body", as a provider
// (Svix, …) sends them.
func (e *env) signPayment(c webhookCall) map[string]string {
	id, at := c.DeliveryID, c.SignedAt
	if id == "" {
		id = "msg_" + randomSuffix()
	}
	if at.IsZero() {
		at = time.Now()
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(e.paymentSecret, "whsec_"))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(c.Body)
	return map[string]string{"webhook-id": id, "webhook-timestamp": ts, "webhook-signature": "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))}
}
