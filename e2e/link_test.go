package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnhooks/sfnhooks/internal/adapter/approvallink"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Approval links (docs/protocol.md, "Links") through the real
// approval-link handler, which serves GET and POST /links/{id}, on the
// emulator.

// linkRoute is the approval-link handler on the env's table; its client's
// clock is now() (a test moves it past a link's expiry).
func (e *env) linkRoute(now func() time.Time) lambda.Handler {
	e.t.Helper()
	stk := stacktest.RequireStack(e.t)
	client, err := hooks.New(devstack.AWSConfig(stk.MotoURL.String()), func(o *hooks.Options) {
		o.TableName = e.table
		o.WebhookBaseURL = "https://hooks.example.test"
		o.Now = now
	})
	if err != nil {
		e.t.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(testWriter{e.t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return devstack.NewHandler(approvallink.New(client, log).Handle)
}

// linkCall sends method /links/{id} (id as it stands in the URL) with a
// form body and extra headers, as API Gateway would.
func linkCall(t *testing.T, h lambda.Handler, method, id, form string, header map[string]string) httpResponse {
	t.Helper()
	path := "/links/" + id
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: method + " /links/{id}", RawPath: path,
		Headers: map[string]string{
			"host": "hooks.example.test", "content-type": "application/x-www-form-urlencoded",
			"user-agent": "e2e",
		},
		PathParameters: map[string]string{"id": id},
		Body:           form,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			DomainName: "hooks.example.test", RouteKey: method + " /links/{id}", RequestID: "req-" + randomSuffix(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
		},
	}
	for k, v := range header {
		ev.Headers[strings.ToLower(k)] = v
	}
	in, _ := json.Marshal(ev)
	out, err := h.Invoke(context.Background(), in)
	if err != nil {
		t.Fatalf("resume-webhook invocation: %v", err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("answer %s: %v", out, err)
	}
	return httpResponse{Status: resp.StatusCode, Header: resp.Headers, Body: resp.Body}
}

func linkID(t *testing.T, l *hooks.Link) string {
	t.Helper()
	u, err := url.Parse(l.URL)
	if err != nil || !strings.HasPrefix(u.Path, "/links/") {
		t.Fatalf("link URL %q", l.URL)
	}
	return strings.TrimPrefix(u.Path, "/links/")
}

// wantPage checks the status and that the body contains each of texts.
func wantPage(t *testing.T, what string, r httpResponse, status int, texts ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.Status, status, r.Body)
	}
	for _, s := range texts {
		if !strings.Contains(r.Body, s) {
			t.Errorf("%s: page lacks %q:\n%s", what, s, r.Body)
		}
	}
	for k, v := range map[string]string{
		"content-type": "text/html; charset=utf-8", "referrer-policy": "no-referrer",
		"cache-control": "no-store", "x-content-type-options": "nosniff",
	} {
		if r.Header[k] != v {
			t.Errorf("%s: header %s = %q, want %q", what, k, r.Header[k], v)
		}
	}
	if csp := r.Header["content-security-policy"]; !strings.HasPrefix(csp, "default-src 'none'; style-src 'sha256-") ||
		!strings.Contains(csp, "form-action 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s: content-security-policy %q", what, csp)
	}
}

// The approval-links example on the emulator: the links the SendLinks
// state "emails" show a page that resumes nothing; Approve's button
// resumes the execution with {"approved": true, "comment": …} once,
// however often it is pressed; Reject, of the same group, is then retired.
func TestLinkApprovalExample(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	route := e.linkRoute(time.Now)
	order := randomSuffix()
	token := "approval-links-" + order
	arn := e.start("approval-links", map[string]string{"orderId": order})
	e.waiting(token)
	sent := sentLinks(t, e.sfn, arn)
	approve, reject := idOf(t, sent.Approve), idOf(t, sent.Reject)

	// A mail scanner's GET (and a second one) shows the page and resumes nothing.
	for range 2 {
		wantPage(t, "GET approve", linkCall(t, route, "GET", approve, "", nil), 200,
			"<title>Approve order "+order+"?</title>", "Order "+order+" waits for your decision.",
			`<button type="submit">Approve</button>`, `<form method="post">`, `name="comment"`)
	}
	if st, err := e.hooks.GetHook(context.Background(), token); err != nil || !st.Waiting || st.Pending != 0 || st.Delivered != 0 {
		t.Fatalf("after two GETs: %+v %v, want still waiting, nothing delivered", st, err)
	}

	// A double click: two POSTs at once, then one more.
	var wg sync.WaitGroup
	answers := make([]httpResponse, 2)
	for i := range answers {
		wg.Go(func() { answers[i] = linkCall(t, route, "POST", approve, "comment=ship+it", nil) })
	}
	wg.Wait()
	for i, r := range answers {
		if r.Status != 200 && r.Status != 410 {
			t.Errorf("double click %d: status %d %s", i, r.Status, r.Body)
		}
	}
	if answers[0].Status != 200 && answers[1].Status != 200 {
		t.Fatalf("double click: neither POST was answered Done: %d, %d", answers[0].Status, answers[1].Status)
	}
	var out struct {
		Decision map[string]any `json:"decision"`
		Outcome  string         `json:"outcome"`
	}
	e.succeeded(arn, &out)
	if out.Outcome != "approved" || out.Decision["approved"] != true || out.Decision["comment"] != "ship it" || len(out.Decision) != 2 {
		t.Errorf("execution output: %+v, want approved with comment %q", out, "ship it")
	}
	wantPage(t, "POST approve again", linkCall(t, route, "POST", approve, "", nil), 410, "already used")
	wantPage(t, "GET approve after use", linkCall(t, route, "GET", approve, "", nil), 410, "already used")
	wantPage(t, "POST reject (retired)", linkCall(t, route, "POST", reject, "", nil), 410, "Another link for the same request")
	wantPage(t, "GET reject (retired)", linkCall(t, route, "GET", reject, "", nil), 410, "Another link for the same request")
}

// sent is the SendLinks state's "email" of an approval-links execution.
type sent struct {
	Approve string `json:"approve"`
	Reject  string `json:"reject"`
}

func sentLinks(t *testing.T, c *sfn.Client, arn string) sent {
	t.Helper()
	out, err := c.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range out.Events {
		if d := ev.StateExitedEventDetails; d != nil && aws.ToString(d.Name) == "SendLinks" {
			var o struct {
				Email sent `json:"email"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(d.Output)), &o); err != nil || o.Email.Approve == "" || o.Email.Reject == "" {
				t.Fatalf("SendLinks output %s: %v", aws.ToString(d.Output), err)
			}
			return o.Email
		}
	}
	t.Fatalf("execution %s has no SendLinks state exit", arn)
	return sent{}
}

func idOf(t *testing.T, u string) string {
	t.Helper()
	return linkID(t, &hooks.Link{URL: u})
}

// The link protocol on a hook that no execution awaits (resumes are
// stored, so the pending count shows each delivery): a double POST stores
// the payload once; a used group retires its other links; expired,
// unknown, hook-gone and cross-site requests change nothing.
func TestLinkProtocol(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	route := e.linkRoute(time.Now)
	register := func(t *testing.T) string {
		t.Helper()
		token := "links-" + randomSuffix()
		if _, err := e.hooks.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: "arn:exec:links",
			Metadata: json.RawMessage(`{"title":"Deploy <b>v2</b>?","description":"Friday & late"}`)}); err != nil {
			t.Fatal(err)
		}
		return token
	}
	link := func(t *testing.T, token string, payload any, group string, expiry time.Duration) string {
		t.Helper()
		l, err := e.hooks.CreateLink(ctx, hooks.CreateLinkInput{Token: token, ExecutionARN: "arn:exec:links", Payload: payload,
			Label: "Go", Group: group, Expiry: expiry})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.ID) < 22 || l.URL != "https://hooks.example.test/links/"+l.ID {
			t.Fatalf("link %+v: want a 128-bit id and its URL", l)
		}
		return linkID(t, l)
	}
	pending := func(t *testing.T, token string, want int64) {
		t.Helper()
		st, err := e.hooks.GetHook(ctx, token)
		if err != nil || st.Pending != want {
			t.Fatalf("hook: %+v %v, want %d pending", st, err, want)
		}
	}

	t.Run("double POST stores once", func(t *testing.T) {
		t.Parallel()
		token := register(t)
		id := link(t, token, map[string]bool{"go": true}, "", 0)
		wantPage(t, "GET", linkCall(t, route, "GET", id, "", nil), 200,
			"<h1>Deploy &lt;b&gt;v2&lt;/b&gt;?</h1>", "Friday &amp; late", "This link will: <strong>Go</strong>")
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				if r := linkCall(t, route, "POST", id, "", nil); r.Status != 200 && r.Status != 410 {
					t.Errorf("POST: %d %s", r.Status, r.Body)
				}
			})
		}
		wg.Wait()
		wantPage(t, "POST after", linkCall(t, route, "POST", id, "", nil), 410, "already used")
		pending(t, token, 1)
		msgs := 0
		for _, it := range e.items(token) {
			if sk, ok := it["sk"].(*dbtypes.AttributeValueMemberS); ok && strings.HasPrefix(sk.Value, "MSG#") {
				msgs++
			}
		}
		if msgs != 1 {
			t.Errorf("stored payloads: %d, want 1", msgs)
		}
	})

	t.Run("group retirement", func(t *testing.T) {
		t.Parallel()
		token := register(t)
		approve := link(t, token, map[string]bool{"approved": true}, "decision", 0)
		reject := link(t, token, map[string]bool{"approved": false}, "decision", 0)
		other := link(t, token, map[string]string{"note": "another group"}, "", 0)
		wantPage(t, "POST approve", linkCall(t, route, "POST", approve, "", nil), 200, "<h1>Done</h1>", "Go")
		wantPage(t, "POST reject", linkCall(t, route, "POST", reject, "comment=no", nil), 410, "Another link for the same request")
		wantPage(t, "GET reject", linkCall(t, route, "GET", reject, "", nil), 410, "Another link for the same request")
		pending(t, token, 1)
		wantPage(t, "POST other (no group)", linkCall(t, route, "POST", other, "", nil), 200, "<h1>Done</h1>")
		pending(t, token, 2)
	})

	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		token := register(t)
		id := link(t, token, true, "", time.Hour)
		later := e.linkRoute(func() time.Time { return time.Now().Add(time.Hour + time.Second) })
		wantPage(t, "GET expired", linkCall(t, later, "GET", id, "", nil), 410, "It has expired")
		wantPage(t, "POST expired", linkCall(t, later, "POST", id, "", nil), 410, "It has expired")
		pending(t, token, 0)
		// Not a JSON object: no comment field, and a comment is refused.
		wantPage(t, "GET in time", linkCall(t, route, "GET", id, "", nil), 200, `<button type="submit">Go</button>`)
		if r := linkCall(t, route, "GET", id, "", nil); strings.Contains(r.Body, "<textarea") {
			t.Errorf("a link whose payload is not an object offers a comment field")
		}
		wantPage(t, "POST with comment", linkCall(t, route, "POST", id, "comment=hi", nil), 400, "Not sent")
		pending(t, token, 0)
	})

	t.Run("unknown, hook gone, cross-site, bad comment", func(t *testing.T) {
		t.Parallel()
		token := register(t)
		id := link(t, token, map[string]int{"n": 1}, "", 0)
		for _, bad := range []string{"AAAAAAAAAAAAAAAAAAAAAA", "not.a.link", strings.Repeat("a", 200)} {
			wantPage(t, "GET unknown", linkCall(t, route, "GET", bad, "", nil), 404, "This link is not valid")
			wantPage(t, "POST unknown", linkCall(t, route, "POST", bad, "", nil), 404, "This link is not valid")
		}
		for _, h := range []map[string]string{
			{"sec-fetch-site": "cross-site"},
			{"sec-fetch-site": "same-site"},
			{"origin": "https://evil.example"},
		} {
			wantPage(t, "cross-site POST", linkCall(t, route, "POST", id, "", h), 403, "Not sent")
		}
		wantPage(t, "long comment", linkCall(t, route, "POST", id, "comment="+strings.Repeat("x", hooks.MaxLinkCommentLength+1), nil), 400)
		pending(t, token, 0)
		// Same-origin browser headers are accepted (Origin: null is what a
		// no-referrer page sends).
		wantPage(t, "same-origin POST", linkCall(t, route, "POST", id, "comment="+strings.Repeat("é", hooks.MaxLinkCommentLength),
			map[string]string{"sec-fetch-site": "same-origin", "origin": "null"}), 200, "<h1>Done</h1>")
		pending(t, token, 1)

		token2 := register(t)
		id2 := link(t, token2, map[string]int{"n": 2}, "g", 0)
		if err := e.hooks.Dispose(ctx, token2, "arn:exec:links"); err != nil {
			t.Fatal(err)
		}
		wantPage(t, "GET hook gone", linkCall(t, route, "GET", id2, "", nil), 404, "This request is closed")
		wantPage(t, "POST hook gone", linkCall(t, route, "POST", id2, "", nil), 404, "This request is closed")
		if _, err := e.hooks.GetHook(ctx, token2); !errors.Is(err, hooks.ErrHookNotFound) {
			t.Errorf("hook gone: a POST brought it back: %v", err)
		}
		if n := len(e.items(token2)); n != 0 {
			t.Errorf("hook gone: %d items under its token after the POST, want 0", n)
		}
	})

	t.Run("create refused", func(t *testing.T) {
		t.Parallel()
		token := register(t)
		for _, tc := range []struct {
			name string
			in   hooks.CreateLinkInput
			want error
		}{
			{"no execution", hooks.CreateLinkInput{Token: token, Payload: 1}, hooks.ErrInvalidRequest},
			{"unknown hook", hooks.CreateLinkInput{Token: "no-such-" + randomSuffix(), ExecutionARN: "arn:exec:links", Payload: 1}, hooks.ErrHookNotFound},
			{"other execution", hooks.CreateLinkInput{Token: token, ExecutionARN: "arn:exec:other", Payload: 1}, hooks.ErrConflict},
			{"bad payload", hooks.CreateLinkInput{Token: token, ExecutionARN: "arn:exec:links", Payload: json.RawMessage(`{`)}, hooks.ErrInvalidPayload},
			{"payload too large", hooks.CreateLinkInput{Token: token, ExecutionARN: "arn:exec:links", Payload: strings.Repeat("x", hooks.MaxLinkPayloadBytes)}, hooks.ErrPayloadTooLarge},
			{"long label", hooks.CreateLinkInput{Token: token, ExecutionARN: "arn:exec:links", Payload: 1, Label: strings.Repeat("l", 201)}, hooks.ErrInvalidRequest},
			{"negative expiry", hooks.CreateLinkInput{Token: token, ExecutionARN: "arn:exec:links", Payload: 1, Expiry: -time.Second}, hooks.ErrInvalidRequest},
		} {
			if _, err := e.hooks.CreateLink(ctx, tc.in); !errors.Is(err, tc.want) {
				t.Errorf("%q: %v, want %v", tc.name, err, tc.want)
			}
		}
		// The hook-task action refuses what a state machine may get wrong.
		stk, _ := stacktest.Bridge(t)
		for _, tc := range []struct{ name, body, errorType string }{
			{"no payload", `{"action":"link","token":"` + token + `","label":"Go","executionArn":"arn:exec:links"}`, "InvalidRequestError"},
			{"negative expiry", `{"action":"link","token":"` + token + `","payload":1,"expirySeconds":-1,"executionArn":"arn:exec:links"}`, "InvalidRequestError"},
			{"unknown hook", `{"action":"link","token":"nobody-` + randomSuffix() + `","payload":1,"executionArn":"arn:exec:links"}`, "HookNotFoundError"},
			{"unknown field", `{"action":"link","token":"` + token + `","payload":1,"labels":"x","executionArn":"arn:exec:links"}`, "InvalidRequestError"},
			{"no execution", `{"action":"link","token":"` + token + `","payload":1}`, "InvalidRequestError"},
		} {
			_, fnErr, body := invokeDirect(t, stk, e.funcName, tc.body)
			var got struct {
				ErrorType string `json:"errorType"`
			}
			if fnErr == "" || json.Unmarshal([]byte(body), &got) != nil || got.ErrorType != tc.errorType {
				t.Errorf("link task %q: function error %q body %s, want errorType %s", tc.name, fnErr, body, tc.errorType)
			}
		}
		_, fnErr, body := invokeDirect(t, stk, e.funcName, `{"action":"link","token":"`+token+`","payload":{"a":1},"label":"Approve","group":"g","expirySeconds":60,"executionArn":"arn:exec:links"}`)
		var res struct {
			Link hooks.Link `json:"link"`
		}
		if fnErr != "" || json.Unmarshal([]byte(body), &res) != nil || res.Link.Label != "Approve" || res.Link.Group != "g" ||
			!strings.HasPrefix(res.Link.URL, "https://hooks.example.test/links/") || time.Until(res.Link.ExpiresAt) > time.Minute {
			t.Errorf("link task: %q %s, want the link", fnErr, body)
		}
		if n := len(e.items(token)); n != 1 {
			t.Errorf("refused creates: %d items under the token, want the hook only", n)
		}
		if http.StatusGone != hooks.ErrorFor(&hooks.LinkGoneError{Reason: hooks.LinkGoneUsed}).Status {
			t.Errorf("LinkGoneError does not map to 410")
		}
	})
}

// A link used by a process that dies before or after any one of its AWS
// calls (internal/testbench/faults: moto cannot kill a Lambda): pressing the button
// again resumes the hook once, or answers 410 "used" when the first
// attempt got as far as marking the link used; the other link of the
// group stays retired, and exactly one payload is stored.
func TestLinkCrashes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	stk := stacktest.RequireStack(t)
	cfg := devstack.AWSConfig(stk.MotoURL.String())
	inj := faults.New()
	victim, err := hooks.New(cfg, func(o *hooks.Options) {
		o.TableName = e.table
		o.DynamoDB = inj.DynamoDB(dynamodb.NewFromConfig(cfg))
		o.StepFunctions = inj.StepFunctions(sfn.NewFromConfig(cfg))
	})
	if err != nil {
		t.Fatal(err)
	}
	// UseLink of a link of a hook nobody awaits: L0 GetItem, L1
	// TransactWriteItems, the keyed resume's GetItem and
	// TransactWriteItems, L3 UpdateItem.
	const calls = 5
	for n := 1; n <= calls; n++ {
		for _, when := range []faults.When{faults.Before, faults.After} {
			token := "link-crash-" + randomSuffix()
			if _, err := e.hooks.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: "arn:exec:crash"}); err != nil {
				t.Fatal(err)
			}
			mk := func(v bool) string {
				l, err := e.hooks.CreateLink(ctx, hooks.CreateLinkInput{Token: token, ExecutionARN: "arn:exec:crash", Payload: map[string]bool{"approved": v}, Group: "decision"})
				if err != nil {
					t.Fatal(err)
				}
				return l.ID
			}
			approve, reject := mk(true), mk(false)
			inj.CrashAt(n, when)
			crash := faults.Recover(func() { _, _ = victim.UseLink(ctx, approve, "") })
			inj.Reset()
			if crash == nil {
				t.Fatalf("crash %s call %d: no crash (UseLink made fewer calls?)", when, n)
			}
			_, err := e.hooks.UseLink(ctx, approve, "")
			var gone *hooks.LinkGoneError
			switch {
			case err == nil:
			case n == calls && when == faults.After && errors.As(err, &gone) && gone.Reason == hooks.LinkGoneUsed:
				// the crashed attempt finished everything but its answer
			default:
				t.Fatalf("%s: the retry: %v", crash, err)
			}
			if _, err := e.hooks.UseLink(ctx, reject, ""); !errors.As(err, &gone) || gone.Reason != hooks.LinkGoneRetired {
				t.Errorf("%s: the sibling: %v, want retired", crash, err)
			}
			if st, err := e.hooks.GetHook(ctx, token); err != nil || st.Pending != 1 {
				t.Errorf("%s: hook %+v %v, want exactly 1 payload stored", crash, st, err)
			}
		}
	}
}
