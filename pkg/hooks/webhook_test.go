package hooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/internal/testbench/awsstub"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

func TestRespondWithJSON(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     hooks.RespondWith
		err      bool
	}{
		{"manual shorthand", `"manual"`, hooks.RespondWith{Manual: true}, false},
		{"manual deadline", `{"mode":"manual","deadlineMs":5000}`, hooks.RespondWith{Manual: true, Deadline: 5 * time.Second}, false},
		{"static default", `"static"`, hooks.RespondWith{}, false},
		{"static", `{"status":201,"headers":{"x-a":"1","x-b":["2","3"]},"body":"hi"}`, hooks.RespondWith{Response: &hooks.Response{
			Status: 201, Header: http.Header{"X-A": {"1"}, "X-B": {"2", "3"}}, Body: []byte("hi")}}, false},
		{"static base64", `{"status":200,"body":"/w==","isBase64Encoded":true}`, hooks.RespondWith{Response: &hooks.Response{Status: 200, Body: []byte{0xff}}}, false},
		{"bad mode", `{"mode":"later"}`, hooks.RespondWith{}, true},
		{"bad header", `{"headers":{"a":1}}`, hooks.RespondWith{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got hooks.RespondWith
			err := json.Unmarshal([]byte(tc.in), &got)
			if (err != nil) != tc.err {
				t.Fatalf("%q: error %v, want error %v", tc.in, err, tc.err)
			}
			if err != nil {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("%q: got %+v, want %+v", tc.in, got, tc.want)
			}
			// It survives the round trip through the hook item.
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			var again hooks.RespondWith
			if err := json.Unmarshal(b, &again); err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("%q: round trip %s gave %+v (%v), want %+v", tc.in, b, again, err, got)
			}
		})
	}
}

// capturingSFN completes any task token and hands each output to outputs.
// It never blocks: with outputs full (the test stopped reading) the call
// fails, and says so.
type capturingSFN struct {
	awsstub.AcceptingSFN
	outputs chan string
}

func (s capturingSFN) SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, o ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	select {
	case s.outputs <- *in.Output:
	default:
		return nil, fmt.Errorf("capturingSFN: %d outputs not taken by the test; dropping %s", len(s.outputs), *in.Output)
	}
	return s.AcceptingSFN.SendTaskSuccess(ctx, in, o...)
}

// nextOutput waits up to d for the next output delivered to a task. It
// does not fail the test itself, so it may run on any goroutine.
func nextOutput(ch <-chan string, d time.Duration) (string, error) {
	select {
	case out := <-ch:
		return out, nil
	case <-time.After(d):
		return "", fmt.Errorf("no payload delivered within %s", d)
	}
}

// webhookPair is two clients on one table: the caller's (ResumeWebhook,
// counted in calls, with Step Functions stood in by capturingSFN) and the
// workflow's (Await, Respond, Dispose).
type webhookPair struct {
	caller, workflow *hooks.Client
	calls            *awscalls.Counter
	outputs          chan string
	// newCaller returns another caller's Client (a new container: cold
	// caches), counted in calls.
	newCaller func(testing.TB) *hooks.Client
	// db and table: the table both use, for tests that read its items.
	db    *dynamodb.Client
	table string
}

func newWebhookPair(tb testing.TB, optFns ...func(*hooks.Options)) *webhookPair {
	tb.Helper()
	p := &webhookPair{calls: &awscalls.Counter{}, outputs: make(chan string, 16)}
	sfnStandIn := capturingSFN{awsstub.AcceptingSFN{Calls: p.calls}, p.outputs}
	var table string
	p.caller, p.db, table = newTestClient(tb, p.calls, append(optFns, func(o *hooks.Options) { o.StepFunctions = sfnStandIn })...)
	p.table = table
	cfg := devstack.AWSConfig(stacktest.RequireStack(tb).MotoURL.String())
	// The workflow's own Step Functions calls are not the caller's: not counted.
	wf, err := hooks.New(cfg, func(o *hooks.Options) { o.TableName = table; o.StepFunctions = capturingSFN{outputs: p.outputs} })
	if err != nil {
		tb.Fatal(err)
	}
	p.workflow = wf
	p.newCaller = func(tb testing.TB) *hooks.Client {
		counted := cfg.Copy()
		counted.APIOptions = append(counted.APIOptions, awscalls.Middleware(p.calls))
		c, err := hooks.New(counted, append(optFns, func(o *hooks.Options) { o.TableName = table; o.StepFunctions = sfnStandIn })...)
		if err != nil {
			tb.Fatal(err)
		}
		return c
	}
	return p
}

// request decodes a delivered payload. It does not fail the test itself,
// so it may run on any goroutine.
func request(output string) (hooks.WebhookRequest, error) {
	var r hooks.WebhookRequest
	if err := json.Unmarshal([]byte(output), &r); err != nil {
		return r, fmt.Errorf("delivered payload %q: %v", output, err)
	}
	return r, nil
}

// ResumeWebhook serves any Go HTTP server: a manual webhook behind
// httptest, answered by the workflow while the caller waits.
func TestResumeWebhookFromGoServer(t *testing.T) {
	t.Parallel()
	p := newWebhookPair(t)
	ctx := context.Background()
	h, err := p.workflow.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA, RespondWith: &hooks.RespondWith{Manual: true}})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.workflow.Await(ctx, hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: h.Token, ExecutionARN: execA}, TaskToken: "tt-1"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, err := p.caller.ResumeWebhook(r.Context(), strings.TrimPrefix(r.URL.Path, "/webhooks/"), r)
		if err != nil {
			resp = hooks.ErrorResponse(err)
		}
		resp.Write(w)
	}))
	defer srv.Close()

	var wg sync.WaitGroup
	defer wg.Wait() // also when the test fails below: the workflow uses t
	wg.Go(func() {  // the workflow: no t.Fatal here
		out, err := nextOutput(p.outputs, hooks.DefaultWebhookDeadline)
		if err != nil {
			t.Error(err)
			return
		}
		req, err := request(out)
		if err != nil {
			t.Error(err)
			return
		}
		if req.Method != "POST" || req.Body != `{"a":1}` || !reflect.DeepEqual(req.Query["k"], []string{"1", "2"}) || !reflect.DeepEqual(req.Headers["x-r"], []string{"a", "b"}) {
			t.Errorf("workflow received %+v", req)
		}
		made := hooks.Response{Status: 201, Header: http.Header{"X-M": {"1", "2"}}, Body: []byte("made")}
		if err := p.workflow.Respond(ctx, h.Token, execA, req.RequestID, made); err != nil {
			t.Error(err)
		}
		// A retried respond task writes the same response again: applied once, no error.
		if err := p.workflow.Respond(ctx, h.Token, execA, req.RequestID, made); err != nil {
			t.Errorf("the same response again: %v, want nil", err)
		}
		err = p.workflow.Respond(ctx, h.Token, execA, req.RequestID, hooks.Response{Status: 200})
		if !errors.Is(err, hooks.ErrResponseAlreadySent) || hooks.ErrorFor(err).Code != hooks.CodeResponseAlreadySent {
			t.Errorf("second response: %v, want ErrResponseAlreadySent", err)
		}
	})
	hr, _ := http.NewRequest("POST", srv.URL+"/webhooks/"+h.Token+"?k=1&k=2", strings.NewReader(`{"a":1}`))
	hr.Header.Add("X-R", "a")
	hr.Header.Add("X-R", "b")
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || string(body) != "made" || !reflect.DeepEqual(resp.Header.Values("X-M"), []string{"1", "2"}) {
		t.Errorf("caller got %d %v %q, want 201 X-M [1 2] made", resp.StatusCode, resp.Header, body)
	}
}

// A response over DynamoDB's item limit is refused, saying the limit.
func TestRespondTooLarge(t *testing.T) {
	t.Parallel()
	c, db, _, table := testClient(t)
	err := c.Respond(context.Background(), "wh-"+suffix(), execA, "req-1", hooks.Response{Body: bytes.Repeat([]byte("x"), 401*1024)})
	var tooLarge *hooks.ResponseTooLargeError
	if !errors.As(err, &tooLarge) || !errors.Is(err, hooks.ErrPayloadTooLarge) || !strings.Contains(err.Error(), "409600") {
		t.Fatalf("got %v, want *ResponseTooLargeError naming 409600", err)
	}
	if items := scanAll(t, db, table); len(items) != 0 {
		t.Errorf("%d items stored, want 0", len(items))
	}
}

// A response status that is not a final HTTP status (1xx, or out of range)
// is refused with InvalidRequest, and nothing is written.
func TestRespondStatusOutOfRange(t *testing.T) {
	t.Parallel()
	c, db, _, table := testClient(t)
	for _, status := range []int{-1, 101, 199, 600} {
		err := c.Respond(context.Background(), "wh-"+suffix(), execA, "req-1", hooks.Response{Status: status})
		if !errors.Is(err, hooks.ErrInvalidRequest) || hooks.ErrorFor(err).Status != 400 {
			t.Errorf("status %d: %v, want ErrInvalidRequest (400)", status, err)
		}
	}
	if items := scanAll(t, db, table); len(items) != 0 {
		t.Errorf("%d items stored, want 0", len(items))
	}
}

// A manual webhook disposed while its caller waits: the caller stops
// waiting with ErrWebhookGone (502) instead of running into the deadline
// (ErrResponseTimeout), and not before the dispose.
func TestManualWebhookGone(t *testing.T) {
	t.Parallel()
	p := newWebhookPair(t)
	ctx := context.Background()
	h, err := p.workflow.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA, RespondWith: &hooks.RespondWith{Manual: true}})
	if err != nil {
		t.Fatal(err)
	}
	// The workflow disposes the webhook once the caller's request is stored
	// (no await is parked), that is once the caller waits for its answer.
	var disposing atomic.Bool
	wctx, cancel := context.WithTimeout(ctx, hooks.DefaultWebhookDeadline)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { // no t.Fatal here
		for {
			if st, err := p.workflow.GetHook(wctx, h.Token); err == nil && st.Pending == 1 {
				break
			}
			select {
			case <-wctx.Done():
				t.Errorf("the request was not stored within %s", hooks.DefaultWebhookDeadline)
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
		disposing.Store(true)
		if err := p.workflow.Dispose(wctx, h.Token, execA); err != nil {
			t.Errorf("dispose: %v", err)
		}
	})
	r := httptest.NewRequest("POST", "/webhooks/"+h.Token, strings.NewReader("x"))
	_, err = p.caller.ResumeWebhook(ctx, h.Token, r)
	if !errors.Is(err, hooks.ErrWebhookGone) || hooks.ErrorFor(err).Status != http.StatusBadGateway {
		t.Fatalf("got %v, want ErrWebhookGone (502)", err)
	}
	if !disposing.Load() {
		t.Errorf("the caller got ErrWebhookGone before the webhook was disposed")
	}
}
