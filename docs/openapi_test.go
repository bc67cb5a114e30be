// Package docs_test holds the documentation's checks: docs/openapi.yaml
// against what the handlers actually answer.
package docs_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"gopkg.in/yaml.v3"

	"github.com/sfnhooks/sfnhooks/internal/adapter/resumehook"
	"github.com/sfnhooks/sfnhooks/internal/testbench/apigwlocal"
	"github.com/sfnhooks/sfnhooks/internal/testbench/awsstub"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

type response struct {
	Ref        string   `yaml:"$ref"`
	ErrorCodes []string `yaml:"x-error-codes"`
}

type spec struct {
	OpenAPI string                                  `yaml:"openapi"`
	Paths   map[string]map[string]yaml.Node         `yaml:"paths"`
	Comps   struct{ Responses map[string]response } `yaml:"components"`
}

// documented returns status → allowed error codes (nil for a success) of
// method on path.
func documented(t *testing.T, s *spec, path, method string) map[int][]string {
	t.Helper()
	node, ok := s.Paths[path][method]
	if !ok {
		t.Fatalf("openapi.yaml: no %s %s", method, path)
	}
	var op struct {
		Responses map[string]response `yaml:"responses"`
	}
	if err := node.Decode(&op); err != nil {
		t.Fatal(err)
	}
	out := map[int][]string{}
	for code, r := range op.Responses {
		status, err := strconv.Atoi(code)
		if err != nil {
			t.Fatalf("%s %s: response %q is not a status", method, path, code)
		}
		if r.Ref != "" {
			name := strings.TrimPrefix(r.Ref, "#/components/responses/")
			ref, ok := s.Comps.Responses[name]
			if !ok {
				t.Fatalf("%s %s %d: dangling $ref %s", method, path, status, r.Ref)
			}
			r = ref
		}
		if status >= 400 && len(r.ErrorCodes) == 0 {
			t.Errorf("%s %s %d: documents no x-error-codes", method, path, status)
		}
		out[status] = r.ErrorCodes
	}
	return out
}

func loadSpec(t *testing.T) *spec {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var s spec
	if err := yaml.Unmarshal(b, &s); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(s.OpenAPI, "3.1") {
		t.Fatalf("openapi.yaml: openapi %q, want 3.1.x", s.OpenAPI)
	}
	return &s
}

// faulty makes the real client's answers fail with err (the faults no
// emulator offers: contention, an unexpected AWS error).
type faulty struct {
	resumehook.Resumer
	err error
}

func (f faulty) ResumeHook(context.Context, string, any, ...hooks.ResumeOption) (*hooks.Hook, error) {
	return nil, f.err
}

func (f faulty) GetHook(context.Context, string, ...hooks.GetOption) (*hooks.HookStatus, error) {
	return nil, f.err
}

func (f faulty) ListHooks(context.Context, hooks.ListHooksInput) (*hooks.ListHooksOutput, error) {
	return nil, f.err
}

func (f faulty) RejectHook(context.Context, string, string, string, ...hooks.ResumeOption) (*hooks.Hook, error) {
	return nil, f.err
}

func (f faulty) Heartbeat(context.Context, string) error { return f.err }

func (f faulty) ListStateMachineHooks(context.Context, hooks.ListStateMachineHooksInput) (*hooks.ListStateMachineHooksOutput, error) {
	return nil, f.err
}

func (f faulty) DisposeHook(context.Context, string, string, ...hooks.DisposeOption) error {
	return f.err
}

// TestOpenAPIHooksRoutes drives the real resume-hook handler, behind the
// local API Gateway conversion, against the emulator, and requires that the
// statuses of POST and GET /hooks/{token} are exactly the documented ones,
// each error with a documented code, and that each case gets its own
// expected status and code.
func TestOpenAPIHooksRoutes(t *testing.T) {
	s := loadSpec(t)
	stk := stacktest.RequireStack(t)
	ctx := context.Background()
	cfg := devstack.AWSConfig(stk.MotoURL.String()) // DynamoDB only: no bridge needed
	var r [6]byte
	_, _ = rand.Read(r[:])
	table := "sfnhooks-openapi-" + hex.EncodeToString(r[:])
	db := dynamodb.NewFromConfig(cfg)
	if _, err := db.CreateTable(ctx, hooks.TableDefinition(table)); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() { _, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &table}) })
	// Step Functions accepts every task token here (awsstub): a heartbeat
	// and a rejection need an await parked with a made-up one.
	client, err := hooks.New(cfg, func(o *hooks.Options) { o.TableName = table; o.StepFunctions = awsstub.AcceptingSFN{} })
	if err != nil {
		t.Fatal(err)
	}
	const token, parked, schemaHook = "openapi-doc-1", "openapi-doc-parked", "openapi-doc-schema"
	const exec = "arn:aws:states:us-east-1:123456789012:execution:doc:x"
	if _, err := client.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: exec}); err != nil {
		t.Fatalf("register: %v", err)
	}
	if err := client.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: parked, ExecutionARN: exec}, TaskToken: "task-1"}); err != nil {
		t.Fatalf("await: %v", err)
	}
	if _, err := client.Register(ctx, hooks.RegisterInput{Token: schemaHook, ExecutionARN: exec, Schema: json.RawMessage(`{"type":"object"}`)}); err != nil {
		t.Fatalf("register: %v", err)
	}

	const capped = "openapi-doc-capped"
	if _, err := client.Register(ctx, hooks.RegisterInput{Token: capped, MaxPending: 1,
		ExecutionARN: "arn:aws:states:us-east-1:123456789012:execution:doc:x"}); err != nil {
		t.Fatalf("register: %v", err)
	}
	wh, err := client.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: "arn:aws:states:us-east-1:123456789012:execution:doc:x"})
	if err != nil {
		t.Fatalf("create webhook: %v", err)
	}

	log := slog.New(slog.DiscardHandler)
	server := func(res resumehook.Resumer) *httptest.Server {
		h := devstack.NewHandler(resumehook.New(res, log).Handle)
		api, err := apigwlocal.New([]apigwlocal.Route{
			{Key: "POST /hooks/{token}", Function: h, FunctionName: "resume-hook"},
			{Key: "GET /hooks/{token}", Function: h, FunctionName: "resume-hook"},
			{Key: "POST /hooks/{token}/reject", Function: h, FunctionName: "resume-hook"},
			{Key: "POST /hooks/{token}/heartbeat", Function: h, FunctionName: "resume-hook"},
			{Key: "DELETE /hooks/{token}", Function: h, FunctionName: "resume-hook"},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(api)
		t.Cleanup(srv.Close)
		return srv
	}
	real := server(client)
	contention := server(faulty{client, hooks.ErrContention})
	broken := server(faulty{client, errors.New("dynamodb: connection reset")})

	longToken := strings.Repeat("x", hooks.MaxTokenLength+1)
	big := `{"blob":"` + strings.Repeat("a", hooks.MaxPayloadBytes) + `"}`
	// Each case names the one status and error code it must get: a handler
	// that answers another documented status fails the case.
	cases := []struct {
		name, method, path, body string
		header                   map[string]string
		srv                      *httptest.Server
		status                   int
		code                     string // the error code; "" for a success
	}{
		{name: "resume", method: "POST", path: "/hooks/" + token, body: `{"approved":true}`, status: http.StatusOK},
		{name: "idempotent first", method: "POST", path: "/hooks/" + token, body: `{"n":1}`, header: map[string]string{"Idempotency-Key": "k1"}, status: http.StatusOK},
		{name: "idempotent other payload", method: "POST", path: "/hooks/" + token, body: `{"n":2}`, header: map[string]string{"Idempotency-Key": "k1"},
			status: http.StatusUnprocessableEntity, code: hooks.CodeIdempotencyMismatch},
		{name: "bad JSON", method: "POST", path: "/hooks/" + token, body: `{nope`, status: http.StatusBadRequest, code: hooks.CodeInvalidPayload},
		{name: "bad token", method: "POST", path: "/hooks/" + longToken, body: `{}`, status: http.StatusBadRequest, code: hooks.CodeInvalidToken},
		{name: "unknown encryption key", method: "POST", path: "/hooks/" + token, body: `{}`, header: map[string]string{"X-Sfnhooks-Encryption-Key": "alias/no-such-key"},
			status: http.StatusBadRequest, code: hooks.CodeEncryptionKey},
		{name: "unknown", method: "POST", path: "/hooks/no-such-hook", body: `{}`, status: http.StatusNotFound, code: hooks.CodeHookNotFound},
		{name: "too large", method: "POST", path: "/hooks/" + token, body: big, status: http.StatusRequestEntityTooLarge, code: hooks.CodePayloadTooLarge},
		{name: "webhook token", method: "POST", path: "/hooks/" + wh.Token, body: `{}`, status: http.StatusNotFound, code: hooks.CodeHookNotFound},
		{name: "fill the cap", method: "POST", path: "/hooks/" + capped, body: `{}`, status: http.StatusOK},
		{name: "pending cap", method: "POST", path: "/hooks/" + capped, body: `{}`, status: http.StatusTooManyRequests, code: hooks.CodeTooManyPending},
		{name: "contention", method: "POST", path: "/hooks/" + token, body: `{}`, srv: contention, status: http.StatusServiceUnavailable, code: hooks.CodeContention},
		{name: "internal", method: "POST", path: "/hooks/" + token, body: `{}`, srv: broken, status: http.StatusInternalServerError, code: hooks.CodeInternal},
		{name: "get", method: "GET", path: "/hooks/" + token, status: http.StatusOK},
		{name: "get unknown", method: "GET", path: "/hooks/no-such-hook", status: http.StatusNotFound, code: hooks.CodeHookNotFound},
		{name: "get webhook token", method: "GET", path: "/hooks/" + wh.Token, status: http.StatusNotFound, code: hooks.CodeHookNotFound},
		{name: "get bad token", method: "GET", path: "/hooks/" + longToken, status: http.StatusBadRequest, code: hooks.CodeInvalidToken},
		{name: "get internal", method: "GET", path: "/hooks/" + token, srv: broken, status: http.StatusInternalServerError, code: hooks.CodeInternal},
		{name: "schema", method: "POST", path: "/hooks/" + schemaHook, body: `[1]`, status: http.StatusUnprocessableEntity, code: hooks.CodeSchemaValidation},

		{name: "reject", method: "POST", path: "/hooks/" + token + "/reject", body: `{"error":"Rejected","cause":"no"}`, status: http.StatusOK},
		{name: "reject bad body", method: "POST", path: "/hooks/" + token + "/reject", body: `{"cause":"no error"}`, status: http.StatusBadRequest, code: hooks.CodeInvalidPayload},
		{name: "reject bad token", method: "POST", path: "/hooks/" + longToken + "/reject", body: `{"error":"E"}`, status: http.StatusBadRequest, code: hooks.CodeInvalidToken},
		{name: "reject unknown", method: "POST", path: "/hooks/no-such-hook/reject", body: `{"error":"E"}`, status: http.StatusNotFound, code: hooks.CodeHookNotFound},
		{name: "reject key reused", method: "POST", path: "/hooks/" + token + "/reject", body: `{"error":"E"}`, header: map[string]string{"Idempotency-Key": "k1"},
			status: http.StatusUnprocessableEntity, code: hooks.CodeIdempotencyMismatch},
		{name: "reject pending cap", method: "POST", path: "/hooks/" + capped + "/reject", body: `{"error":"E"}`, status: http.StatusTooManyRequests, code: hooks.CodeTooManyPending},
		{name: "reject webhook token", method: "POST", path: "/hooks/" + wh.Token + "/reject", body: `{"error":"E"}`, status: http.StatusNotFound, code: hooks.CodeHookNotFound},
		{name: "reject contention", method: "POST", path: "/hooks/" + token + "/reject", body: `{"error":"E"}`, srv: contention, status: http.StatusServiceUnavailable, code: hooks.CodeContention},
		{name: "reject internal", method: "POST", path: "/hooks/" + token + "/reject", body: `{"error":"E"}`, srv: broken, status: http.StatusInternalServerError, code: hooks.CodeInternal},

		{name: "heartbeat", method: "POST", path: "/hooks/" + parked + "/heartbeat", status: http.StatusOK},
		{name: "heartbeat not waiting", method: "POST", path: "/hooks/" + token + "/heartbeat", status: http.StatusNotFound, code: hooks.CodeHookNotWaiting},
		{name: "heartbeat unknown", method: "POST", path: "/hooks/no-such-hook/heartbeat", status: http.StatusNotFound, code: hooks.CodeHookNotFound},
		{name: "heartbeat bad token", method: "POST", path: "/hooks/" + longToken + "/heartbeat", status: http.StatusBadRequest, code: hooks.CodeInvalidToken},
		{name: "heartbeat internal", method: "POST", path: "/hooks/" + parked + "/heartbeat", srv: broken, status: http.StatusInternalServerError, code: hooks.CodeInternal},

		{name: "dispose by another execution", method: "DELETE", path: "/hooks/" + schemaHook + "?executionArn=" + exec + "-other", status: http.StatusConflict, code: hooks.CodeHookConflict},
		{name: "dispose another hook id", method: "DELETE", path: "/hooks/" + schemaHook + "?executionArn=" + exec + "&hookId=00000000000000000000000000000000", status: http.StatusConflict, code: hooks.CodeHookConflict},
		{name: "dispose hook id too long", method: "DELETE", path: "/hooks/" + schemaHook + "?executionArn=" + exec + "&hookId=" + strings.Repeat("0", 129), status: http.StatusBadRequest, code: hooks.CodeInvalidRequest},
		{name: "dispose", method: "DELETE", path: "/hooks/" + capped + "?executionArn=" + exec, status: http.StatusOK},
		{name: "dispose no execution", method: "DELETE", path: "/hooks/" + token, status: http.StatusBadRequest, code: hooks.CodeInvalidRequest},
		{name: "dispose bad token", method: "DELETE", path: "/hooks/" + longToken + "?executionArn=" + exec, status: http.StatusBadRequest, code: hooks.CodeInvalidToken},
		{name: "dispose contention", method: "DELETE", path: "/hooks/" + token + "?executionArn=" + exec, srv: contention, status: http.StatusServiceUnavailable, code: hooks.CodeContention},
		{name: "dispose internal", method: "DELETE", path: "/hooks/" + token + "?executionArn=" + exec, srv: broken, status: http.StatusInternalServerError, code: hooks.CodeInternal},
	}
	// route is the documented path of a request path.
	route := func(p string) string {
		for _, suffix := range []string{"/reject", "/heartbeat"} {
			if strings.HasSuffix(p, suffix) {
				return "/hooks/{token}" + suffix
			}
		}
		return "/hooks/{token}"
	}
	produced := map[string]map[int]bool{}
	for _, c := range cases {
		srv := c.srv
		if srv == nil {
			srv = real
		}
		req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range c.header {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		method, path := strings.ToLower(c.method), route(strings.Split(c.path, "?")[0])
		docs := documented(t, s, path, method)
		codes, ok := docs[res.StatusCode]
		if !ok {
			t.Errorf("%s: %s %s answered %d (%s), which openapi.yaml does not document", c.name, c.method, path, res.StatusCode, body)
			continue
		}
		key := method + " " + path
		if produced[key] == nil {
			produced[key] = map[int]bool{}
		}
		produced[key][res.StatusCode] = true
		if res.StatusCode != c.status {
			t.Errorf("%s: %s %s answered %d (%s), want %d", c.name, c.method, path, res.StatusCode, body, c.status)
			continue
		}
		if res.StatusCode < 400 {
			continue
		}
		if res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") != strconv.Itoa(hooks.RetryAfterSeconds) {
			t.Errorf("%s: 429 with Retry-After %q, want %d", c.name, res.Header.Get("Retry-After"), hooks.RetryAfterSeconds)
		}
		var e struct{ Error, Message string }
		if err := json.Unmarshal(body, &e); err != nil || e.Error == "" || e.Message == "" {
			t.Errorf("%s: %d body %s: want {\"error\",\"message\"}", c.name, res.StatusCode, body)
			continue
		}
		if !slices.Contains(codes, e.Error) {
			t.Errorf("%s: %d error %q: documented codes %v", c.name, res.StatusCode, e.Error, codes)
		}
		if e.Error != c.code {
			t.Errorf("%s: %d error %q, want %q", c.name, res.StatusCode, e.Error, c.code)
		}
	}
	for _, key := range []string{"post /hooks/{token}", "get /hooks/{token}", "post /hooks/{token}/reject", "post /hooks/{token}/heartbeat", "delete /hooks/{token}"} {
		method, path, _ := strings.Cut(key, " ")
		got := produced[key]
		for status := range documented(t, s, path, method) {
			if !got[status] {
				t.Errorf("%s %s: documented status %d is produced by no case", strings.ToUpper(method), path, status)
			}
		}
		var seen []int
		for st := range got {
			seen = append(seen, st)
		}
		sort.Ints(seen)
		t.Logf("%s %s: produced %v", strings.ToUpper(method), path, seen)
	}
}

// TestOpenAPIListHooks: GET /hooks answers exactly the documented
// statuses, through the real handler on the emulator, each case its own.
func TestOpenAPIListHooks(t *testing.T) {
	s := loadSpec(t)
	stk := stacktest.RequireStack(t)
	ctx := context.Background()
	cfg := devstack.AWSConfig(stk.MotoURL.String())
	var r [6]byte
	_, _ = rand.Read(r[:])
	table := "sfnhooks-openapi-" + hex.EncodeToString(r[:])
	db := dynamodb.NewFromConfig(cfg)
	if _, err := db.CreateTable(ctx, hooks.TableDefinition(table)); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() { _, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &table}) })
	client, err := hooks.New(cfg, func(o *hooks.Options) { o.TableName = table })
	if err != nil {
		t.Fatal(err)
	}
	const exec = "arn:aws:states:us-east-1:123456789012:execution:doc:list"
	if _, err := client.Register(ctx, hooks.RegisterInput{Token: "openapi-list-1", ExecutionARN: exec}); err != nil {
		t.Fatalf("register: %v", err)
	}
	server := func(res resumehook.Resumer) string {
		h := devstack.NewHandler(resumehook.New(res, slog.New(slog.DiscardHandler)).Handle)
		api, err := apigwlocal.New([]apigwlocal.Route{{Key: "GET /hooks", Function: h, FunctionName: "resume-hook"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(api)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	real, broken := server(client), server(faulty{client, errors.New("dynamodb: connection reset")})
	docs := documented(t, s, "/hooks", "get")
	produced := map[int]bool{}
	for _, c := range []struct {
		name, base, query string
		status            int
		code              string
	}{
		{"list", real, "executionArn=" + exec, http.StatusOK, ""},
		{"waiting", real, "executionArn=" + exec + "&state=waiting&limit=10", http.StatusOK, ""},
		{"no execution", real, "state=waiting", http.StatusBadRequest, hooks.CodeInvalidRequest},
		{"bad limit", real, "executionArn=" + exec + "&limit=1000", http.StatusBadRequest, hooks.CodeInvalidRequest},
		{"bad nextToken", real, "executionArn=" + exec + "&nextToken=xyz", http.StatusBadRequest, hooks.CodeInvalidRequest},
		{"internal", broken, "executionArn=" + exec, http.StatusInternalServerError, hooks.CodeInternal},
		{"state machine", real, "stateMachineArn=arn:aws:states:us-east-1:123456789012:stateMachine:doc&state=idle&tag=a:b&order=oldest&limit=50", http.StatusOK, ""},
		{"state machine and execution", real, "stateMachineArn=arn:aws:states:us-east-1:123456789012:stateMachine:doc&executionArn=" + exec, http.StatusBadRequest, hooks.CodeInvalidRequest},
		{"bad state machine", real, "stateMachineArn=doc", http.StatusBadRequest, hooks.CodeInvalidRequest},
		{"bad cursor", real, "stateMachineArn=arn:aws:states:us-east-1:123456789012:stateMachine:doc&cursor=xyz", http.StatusBadRequest, hooks.CodeInvalidRequest},
		{"state machine internal", broken, "stateMachineArn=arn:aws:states:us-east-1:123456789012:stateMachine:doc", http.StatusInternalServerError, hooks.CodeInternal},
	} {
		res, err := http.Get(c.base + "/hooks?" + c.query)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		codes, ok := docs[res.StatusCode]
		if !ok {
			t.Errorf("%s: GET /hooks answered %d (%s), which openapi.yaml does not document", c.name, res.StatusCode, body)
			continue
		}
		produced[res.StatusCode] = true
		if res.StatusCode != c.status {
			t.Errorf("%s: GET /hooks answered %d (%s), want %d", c.name, res.StatusCode, body, c.status)
			continue
		}
		if res.StatusCode == http.StatusOK {
			var page hooks.ListHooksOutput
			if err := json.Unmarshal(body, &page); err != nil || page.Hooks == nil {
				t.Errorf("%s: body %s: want {\"hooks\":[…]}", c.name, body)
			}
			continue
		}
		var e struct{ Error, Message string }
		if err := json.Unmarshal(body, &e); err != nil || e.Error != c.code || e.Message == "" || !slices.Contains(codes, e.Error) {
			t.Errorf("%s: %d body %s: want error %q, documented %v", c.name, res.StatusCode, body, c.code, codes)
		}
	}
	for status := range docs {
		if !produced[status] {
			t.Errorf("GET /hooks: documented status %d is produced by no case", status)
		}
	}
}
