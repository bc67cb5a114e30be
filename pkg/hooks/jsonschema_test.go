package hooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Hook schemas (issue 13, item 4) on moto's DynamoDB; Step Functions is
// faults.Tasks (made-up task tokens), which records what each task got.

const approvalSchema = `{"type":"object","required":["approved"],"properties":{"approved":{"type":"boolean"},"by":{"type":"string"}}}`

func schemaAwait(token, task string) hooks.AwaitInput {
	return hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA, Schema: json.RawMessage(approvalSchema)}, TaskToken: task}
}

// wantSchemaError requires a 422 SchemaValidation with details.
func wantSchemaError(t *testing.T, what string, err error) {
	t.Helper()
	var sv *hooks.SchemaValidationError
	api := hooks.ErrorFor(err)
	if !errors.As(err, &sv) || !errors.Is(err, hooks.ErrSchemaValidation) || api.Status != http.StatusUnprocessableEntity ||
		api.Code != hooks.CodeSchemaValidation || len(api.Details) == 0 || api.Details[0].Error == "" {
		t.Fatalf("%s: %v (%+v), want a 422 SchemaValidation with details", what, err, api)
	}
}

// A payload that fails the hook's schema is refused with the validation
// errors, with an await parked or not, with an idempotency key or not, and
// nothing is stored or sent; one that passes is delivered.
func TestSchemaRefusesBadPayloads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tasks := faults.NewTasks()
	c, db, table := guaranteeClient(t, faults.New(), tasks)
	token := "schema-" + suffix()
	if err := c.Await(ctx, schemaAwait(token, "T1")); err != nil {
		t.Fatal(err)
	}
	before := len(scanAll(t, db, table))
	for _, p := range []string{`{"approved":"yes"}`, `{}`, `[true]`, `{"approved":true,"by":7}`} {
		_, err := c.ResumeHook(ctx, token, json.RawMessage(p))
		wantSchemaError(t, "parked, "+p, err)
		_, err = c.ResumeHook(ctx, token, json.RawMessage(p), hooks.WithIdempotencyKey("k-"+p))
		wantSchemaError(t, "parked, keyed, "+p, err)
	}
	_, err := c.ResumeHook(ctx, token, json.RawMessage(`{"approved":"yes","by":1}`))
	var sv *hooks.SchemaValidationError
	if !errors.As(err, &sv) || len(sv.Details) != 2 || !strings.Contains(hooks.ErrorFor(err).Message, "/approved") {
		t.Fatalf("two violations: %+v, want both, with where they are", sv)
	}
	if after := len(scanAll(t, db, table)); after != before {
		t.Fatalf("%d items after refused resumes, want %d: something was stored", after, before)
	}
	if st, _ := c.GetHook(ctx, token); !st.Waiting {
		t.Fatal("the await is no longer parked after refused resumes")
	}
	if _, ok := tasks.Output("T1"); ok {
		t.Fatal("T1 got a refused payload")
	}
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"approved":true,"by":"alice"}`)); err != nil {
		t.Fatal(err)
	}
	if out, _ := tasks.Output("T1"); out != `{"approved":true,"by":"alice"}` {
		t.Fatalf("T1 got %q", out)
	}
	// Nothing parked: refused, not stored; a good one is stored.
	before = len(scanAll(t, db, table))
	_, err = c.ResumeHook(ctx, token, json.RawMessage(`{"approved":1}`))
	wantSchemaError(t, "stored path", err)
	_, err = c.ResumeHook(ctx, token, json.RawMessage(`{"approved":1}`), hooks.WithIdempotencyKey("k2"))
	wantSchemaError(t, "stored path, keyed", err)
	if after := len(scanAll(t, db, table)); after != before {
		t.Fatalf("%d items after refused resumes, want %d", after, before)
	}
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"approved":false}`), hooks.WithIdempotencyKey("k3")); err != nil {
		t.Fatal(err)
	}
	if n := pending(t, c, token); n != 1 {
		t.Fatalf("%d pending, want the valid payload stored", n)
	}
	// A rejection is not a payload: the schema does not apply.
	if _, err := c.RejectHook(ctx, token, "Rejected", "no"); err != nil {
		t.Fatalf("reject of a hook with a schema: %v", err)
	}
}

// A client that has not seen the hook (a new Lambda instance) learns the
// schema from R1's failed condition: 3 calls with an await parked; the
// next resume on the same client takes the 2-call fast path. A hook
// without a schema keeps 2 calls on a cold client.
func TestSchemaCallsColdAndWarm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tasks := faults.NewTasks()
	calls := &awscalls.Counter{}
	c, _, table := newTestClient(t, &awscalls.Counter{}, func(o *hooks.Options) { o.StepFunctions = tasks })
	cold := peerClient(t, calls, table)
	token := "schema-calls-" + suffix()
	for i, want := range []int{3, 2} {
		if err := c.Await(ctx, schemaAwait(token, "T"+string(rune('1'+i)))); err != nil {
			t.Fatal(err)
		}
		calls.Reset()
		if _, err := cold.ResumeHook(ctx, token, json.RawMessage(`{"approved":true}`)); err != nil {
			t.Fatal(err)
		}
		if got := calls.Total(); got != want {
			t.Errorf("resume %d of a hook with a schema: %d calls (%s), want %d", i+1, got, calls, want)
		}
	}
	plain := "plain-" + suffix()
	mustAwait(t, c, plain, "P1")
	calls.Reset()
	if _, err := peerClient(t, calls, table).ResumeHook(ctx, plain, json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	if got := calls.Total(); got != 2 {
		t.Errorf("cold resume of a hook without a schema: %d calls (%s), want 2", got, calls)
	}
}

// An invalid schema at creation is a 400 and creates nothing; the schema
// counts toward MaxHookDataBytes; a remote $ref is refused, not fetched.
func TestSchemaAtCreation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, db, table := guaranteeClient(t, faults.New(), faults.NewTasks())
	big := `{"description":"` + strings.Repeat("x", hooks.MaxHookDataBytes) + `"}`
	for name, schema := range map[string]string{
		"not JSON":        `{"type":`,
		"bad keyword":     `{"type":"nonsense"}`,
		"not a schema":    `[1,2]`,
		"remote $ref":     `{"$ref":"https://example.com/s.json"}`,
		"over 64 KiB":     big,
		"bad minimum":     `{"minimum":"3"}`,
		"unknown $schema": `{"$schema":"https://example.com/draft/99"}`,
	} {
		_, err := c.Register(ctx, hooks.RegisterInput{Token: "schema-bad-" + suffix(), ExecutionARN: execA, Schema: json.RawMessage(schema)})
		if !errors.Is(err, hooks.ErrInvalidRequest) || hooks.ErrorFor(err).Status != 400 {
			t.Errorf("%s: %v, want a 400 InvalidRequest", name, err)
		}
		_, err = c.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA, Schema: json.RawMessage(schema)})
		if !errors.Is(err, hooks.ErrInvalidRequest) {
			t.Errorf("webhook, %s: %v, want InvalidRequest", name, err)
		}
	}
	if n := len(scanAll(t, db, table)); n != 0 {
		t.Fatalf("%d items after refused creations", n)
	}
	// A webhook's schema validates the request the workflow receives.
	wh, err := c.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA, Schema: json.RawMessage(`{"properties":{"method":{"const":"POST"}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "https://h.example/webhooks/"+wh.Token, nil)
	resp, err := c.ResumeWebhook(ctx, wh.Token, req)
	wantSchemaError(t, "webhook GET", err)
	if resp != nil {
		t.Fatalf("webhook answered %+v to a refused request", resp)
	}
	req, _ = http.NewRequest(http.MethodPost, "https://h.example/webhooks/"+wh.Token, strings.NewReader("{}"))
	if resp, err := c.ResumeWebhook(ctx, wh.Token, req); err != nil || resp.Status != http.StatusAccepted {
		t.Fatalf("webhook POST: %+v %v, want 202", resp, err)
	}
}

// The public webhook route reveals nothing about a plain hook: a request
// to a plain hook's token with a schema answers the uniform 404, never a
// 422 that would tell the hook exists.
func TestSchemaOfPlainHookNotRevealedToWebhooks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _, _ := guaranteeClient(t, faults.New(), faults.NewTasks())
	token := "schema-plain-" + suffix()
	if err := c.Await(ctx, schemaAwait(token, "T1")); err != nil {
		t.Fatal(err)
	}
	for range 2 { // cold, then with the token's schema known to the client
		req, _ := http.NewRequest(http.MethodPost, "https://h.example/webhooks/"+token, strings.NewReader("{}"))
		if _, err := c.ResumeWebhook(ctx, token, req); !errors.Is(err, hooks.ErrHookNotFound) || errors.Is(err, hooks.ErrSchemaValidation) {
			t.Fatalf("webhook request to a plain hook with a schema: %v, want the uniform 404", err)
		}
		_, _ = c.ResumeHook(ctx, token, json.RawMessage(`{"approved":"no"}`)) // teaches the client the schema
	}
}

// Schema errors report locations and keywords only, never the payload's
// values (issue 21): a 422 body or a log line must not repeat a card number
// that failed a pattern, nor a key that failed additionalProperties. Sealed
// hooks included (the plaintext is checked before it is sealed).
func TestSchemaErrorsHoldNoPayloadValues(t *testing.T) {
	t.Parallel()
	c, _, _, _ := testClient(t)
	ctx := context.Background()
	token := "schema-values-" + suffix()
	schema := `{"type":"object","additionalProperties":false,"properties":{"card":{"type":"string","pattern":"^4[0-9]{3}$"},"n":{"type":"integer","maximum":5},"e":{"enum":["a","b"]}}}`
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA, Schema: json.RawMessage(schema)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.ResumeHook(ctx, token, json.RawMessage(`{"card":"4111111111111111","n":987654,"e":"c0nf1dential","s3cret-key":1}`))
	wantSchemaError(t, "values", err)
	body, _ := json.Marshal(hooks.ErrorFor(err))
	for _, v := range []string{"4111111111111111", "987654", "987,654", "c0nf1dential", "s3cret-key"} {
		if strings.Contains(err.Error(), v) || strings.Contains(string(body), v) {
			t.Errorf("the schema error repeats the payload's %q:\n%v\n%s", v, err, body)
		}
	}
	for _, kw := range []string{"pattern", "maximum", "enum", "additionalProperties"} {
		if !strings.Contains(string(body), kw) {
			t.Errorf("the schema error does not name the keyword %q: %s", kw, body)
		}
	}
}
