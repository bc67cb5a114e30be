package hooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// The pending cap is S1's condition (seq < lim), not a read: 30 resumes at
// once on a hook with maxPending 5 all read the hook empty (their R1
// fails on the same Idle item), yet exactly 5 are stored and 25 refused
// with ErrTooManyPending. An await frees one slot (its task is scripted,
// faults.Tasks: no execution runs in this package's tests).
func TestPendingCapUnderConcurrency(t *testing.T) {
	t.Parallel()
	inj, tasks := faults.New(), faults.NewTasks()
	c, db, table := guaranteeClient(t, inj, tasks)
	ctx := context.Background()
	token := "cap-" + suffix()
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA, MaxPending: 5}); err != nil {
		t.Fatal(err)
	}
	var ok, refused int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.ResumeHook(ctx, token, json.RawMessage(strconv.Itoa(i)))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, hooks.ErrTooManyPending):
				refused++
			default:
				t.Errorf("resume %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	hook, payloads := hookItems(t, db, table, token)
	if ok != 5 || refused != 25 || len(payloads) != 5 {
		t.Fatalf("%d acknowledged, %d refused, %d stored; want 5, 25, 5", ok, refused, len(payloads))
	}
	if got := hook["seq"].(*types.AttributeValueMemberN).Value; got != "5" {
		t.Errorf("seq %s, want 5", got)
	}
	mustAwait(t, c, token, "task-1")
	if _, err := c.ResumeHook(ctx, token, 99); err != nil {
		t.Errorf("resume after an await took one: %v, want acknowledged", err)
	}
	if _, err := c.ResumeHook(ctx, token, 100); !errors.Is(err, hooks.ErrTooManyPending) {
		t.Errorf("resume beyond the cap again: %v, want ErrTooManyPending", err)
	}
}

// A hook created before the cap (no lim, no maxPending) is not refused;
// its next registration (create or await) gives it lim = dlv + cap. A
// keyed resume is capped too, but a key already applied is answered.
func TestPendingCapOldHookAndKeys(t *testing.T) {
	t.Parallel()
	c, db, _, table := testClient(t, func(o *hooks.Options) { o.MaxPending = 2 })
	ctx := context.Background()
	token := "old-" + suffix()
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA}); err != nil {
		t.Fatal(err)
	}
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &table,
		Key:              map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "HOOK#" + token}, "sk": &types.AttributeValueMemberS{Value: "HOOK"}},
		UpdateExpression: aws.String("REMOVE lim, maxPending"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := c.ResumeHook(ctx, token, i); err != nil {
			t.Fatalf("resume %d of a hook from before the cap: %v", i, err)
		}
	}
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResumeHook(ctx, token, 3); !errors.Is(err, hooks.ErrTooManyPending) {
		t.Errorf("resume after re-registration: %v, want ErrTooManyPending (3 pending, cap 2)", err)
	}
	if _, err := c.ResumeHook(ctx, token, 4, hooks.WithIdempotencyKey("k-new")); !errors.Is(err, hooks.ErrTooManyPending) {
		t.Errorf("keyed resume on a full hook: %v, want ErrTooManyPending", err)
	}
	if _, payloads := hookItems(t, db, table, token); len(payloads) != 3 {
		t.Errorf("%d stored, want 3", len(payloads))
	}

	// A key applied while there was room is answered once the hook is full.
	keyed := "keyed-" + suffix()
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: keyed, ExecutionARN: execA}); err != nil {
		t.Fatal(err)
	}
	for i, key := range []string{"a", "b"} {
		if _, err := c.ResumeHook(ctx, keyed, i, hooks.WithIdempotencyKey(key)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.ResumeHook(ctx, keyed, 0, hooks.WithIdempotencyKey("a")); err != nil {
		t.Errorf("replay of an applied key on a full hook: %v, want the first answer", err)
	}
}

// Bad webhook settings are refused before any AWS call: a header name that
// is not a token, a name both kept and dropped, a held-caller cap or a
// pending cap out of range.
func TestCreateWebhookRefusesBadLimits(t *testing.T) {
	t.Parallel()
	c, _, calls, _ := testClient(t)
	ctx := context.Background()
	for name, in := range map[string]hooks.CreateWebhookInput{
		"header name":      {Headers: &hooks.HeaderFilter{Drop: []string{"x secret"}}},
		"keep and drop":    {Headers: &hooks.HeaderFilter{Keep: []string{"Authorization"}, Drop: []string{"authorization"}}},
		"held cap":         {MaxHeldCallers: -1, RespondWith: &hooks.RespondWith{Manual: true}},
		"held cap too big": {MaxHeldCallers: hooks.MaxMaxHeldCallers + 1, RespondWith: &hooks.RespondWith{Manual: true}},
		"pending cap":      {MaxPending: -5},
	} {
		in.ExecutionARN = execA
		if _, err := c.CreateWebhook(ctx, in); !errors.Is(err, hooks.ErrInvalidRequest) {
			t.Errorf("%s: %v, want ErrInvalidRequest", name, err)
		}
	}
	if n := calls.Total(); n != 0 {
		t.Errorf("refused settings made %d AWS calls, want 0", n)
	}
}

// A held caller whose count leaked (its Lambda was killed while holding,
// or the SDK resent an H1 that DynamoDB had applied) refuses others for
// a bounded time, the deadline + 5 s, also while other callers keep
// coming: each of them must not extend the leaked count's life. Cap 2:
// once the leak is over, two callers are held at once, and a third is
// refused.
func TestHeldCallerLeakEndsUnderTraffic(t *testing.T) {
	t.Parallel()
	const deadline = 10 * time.Second
	for _, leak := range []string{"killed while holding", "H1 answer lost and resent"} {
		t.Run(leak, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := newTestClock()
			stk := stacktest.RequireStack(t)
			c, _, table := newTestClient(t, &awscalls.Counter{}, func(o *hooks.Options) { o.Now = clock.Now })
			h, err := c.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA, RespondWith: &hooks.RespondWith{Manual: true, Deadline: deadline}, MaxHeldCallers: 2})
			if err != nil {
				t.Fatal(err)
			}
			hold := func(c *hooks.Client, who string) func() {
				t.Helper()
				release, err := c.HoldCaller(ctx, h.Token, deadline)
				if err != nil {
					t.Fatalf("%s at %s: %v, want it held", who, clock.Now().Format(time.TimeOnly), err)
				}
				return release
			}
			switch leak {
			case "killed while holding":
				hold(c, "the caller that dies") // never released
			case "H1 answer lost and resent":
				// moto never loses an answer: faults.LoseAnswer makes the
				// SDK resend the applied H1, as on AWS.
				var once sync.Once
				lose := &faults.LoseAnswer{Match: func(target string) bool {
					hit := false
					if strings.HasSuffix(target, ".UpdateItem") {
						once.Do(func() { hit = true })
					}
					return hit
				}}
				cfg := devstack.AWSConfig(stk.MotoURL.String())
				lose.Inner = cfg.HTTPClient
				if lose.Inner == nil {
					lose.Inner = awshttp.NewBuildableClient()
				}
				cfg.HTTPClient = lose
				resent, err := hooks.New(cfg, func(o *hooks.Options) { o.TableName = table; o.Now = clock.Now })
				if err != nil {
					t.Fatal(err)
				}
				hold(resent, "the caller whose H1 was resent")()
				if lose.Lost() != 1 {
					t.Fatalf("lost %d answers, want 1", lose.Lost())
				}
			}
			// Steady traffic: one caller every 5 s, each held and gone.
			for range 4 {
				clock.Advance(5 * time.Second)
				hold(c, "a caller of the steady traffic")()
			}
			// 20 s on: the leak is past the deadline + 5 s.
			first := hold(c, "the first of two callers")
			second := hold(c, "the second of two callers")
			if _, err := c.HoldCaller(ctx, h.Token, deadline); !errors.Is(err, hooks.ErrTooManyWaiting) {
				t.Errorf("third caller with two held: %v, want ErrTooManyWaiting", err)
			}
			first()
			second()
			// Traffic stopped: the cap is back at rest.
			clock.Advance(time.Minute)
			a, b := hold(c, "a caller after the traffic"), hold(c, "its companion")
			a()
			b()
		})
	}
}

// The hook's data (metadata, respondWith, verify, schema, header filter)
// is bounded by MaxHookDataBytes as stored, not only per request: each
// create or await may give other attributes, and each attribute is kept
// from the first request that gives it. Three requests of 60 KB each must
// not store 180 KB, or a 250 KB payload in flight would pass DynamoDB's
// 400 KB item limit and every large resume would be refused. A later
// request that fits is still taken (its attributes set), one that does not
// is refused with ErrInvalidRequest and changes nothing.
func TestHookDataBoundedAsStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tasks := faults.NewTasks()
	c, db, table := guaranteeClient(t, faults.New(), tasks)
	const big = 60 * 1024
	metadata := json.RawMessage(`{"m":"` + strings.Repeat("m", big) + `"}`)
	schema := json.RawMessage(`{"description":"` + strings.Repeat("s", big) + `"}`)
	respond := &hooks.RespondWith{Response: &hooks.Response{Status: 200, Body: []byte(strings.Repeat("r", big))}}
	h, err := c.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA, Metadata: metadata})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateWebhook(ctx, hooks.CreateWebhookInput{Token: h.Token, ExecutionARN: execA, RespondWith: respond}); err != nil && !errors.Is(err, hooks.ErrInvalidRequest) {
		t.Fatalf("second create with 60 KB of respondWith: %v", err)
	}
	await := hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: h.Token, ExecutionARN: execA, Schema: schema}, TaskToken: "T1"}
	if err := c.Await(ctx, await); err != nil && !errors.Is(err, hooks.ErrInvalidRequest) {
		t.Fatalf("await with 60 KB of schema: %v", err)
	}
	mustAwait(t, c, h.Token, "T1")
	hook := getHookItem(t, db, table, h.Token)
	data := 0
	for _, attr := range []string{"metadata", "respond", "verify", "schema", "hdrs"} {
		if v, ok := hook[attr].(*types.AttributeValueMemberS); ok {
			data += len(v.Value)
		}
	}
	if data > hooks.MaxHookDataBytes {
		t.Errorf("the hook item stores %d bytes of metadata, respondWith and schema; the limit is %d", data, hooks.MaxHookDataBytes)
	}
	body := strings.Repeat("b", 250_000)
	req, _ := http.NewRequest(http.MethodPost, "https://hooks.example.test/webhooks/"+h.Token, strings.NewReader(body))
	if _, err := c.ResumeWebhook(ctx, h.Token, req); err != nil {
		t.Fatalf("a 250 KB request to the awaited webhook: %v", err)
	}
	if out, ok := tasks.Output("T1"); !ok || !strings.Contains(out, body) {
		t.Errorf("T1 did not get the request (%v)", ok)
	}

	// What fits is still added later: a hook created with small metadata
	// takes a schema from an await.
	token := "data-later-" + suffix()
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA, Metadata: json.RawMessage(`{"title":"t"}`)}); err != nil {
		t.Fatal(err)
	}
	later := hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA, Schema: json.RawMessage(`{"type":"object"}`)}, TaskToken: "T2"}
	if err := c.Await(ctx, later); err != nil {
		t.Fatalf("await that adds a small schema: %v", err)
	}
	var invalid *hooks.SchemaValidationError
	if _, err := c.ResumeHook(ctx, token, 1); !errors.As(err, &invalid) {
		t.Errorf("resume that fails the schema an await added: %v, want *SchemaValidationError", err)
	}
}

// A manual webhook whose item comes from before the holders map (a count
// in held and a heldUntil, no entries), or whose count was raised by such
// code during a deployment, is not stuck: its next caller starts the map
// or drops the counts that have no entry, and is held.
func TestHeldCallersOldItem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, db, _, table := testClient(t)
	for name, update := range map[string]string{
		"no holders map":          "SET held = :two, heldUntil = :future REMOVE holders",
		"counts without an entry": "SET held = :two, heldUntil = :future",
	} {
		h, err := c.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA, RespondWith: &hooks.RespondWith{Manual: true}, MaxHeldCallers: 2})
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:        &table,
			Key:              map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "HOOK#" + h.Token}, "sk": &types.AttributeValueMemberS{Value: "HOOK"}},
			UpdateExpression: aws.String(update),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":two": &types.AttributeValueMemberN{Value: "2"}, ":future": &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		release, err := c.HoldCaller(ctx, h.Token, time.Second)
		if err != nil {
			t.Fatalf("%s: %v, want the caller held", name, err)
		}
		release()
		hook := getHookItem(t, db, table, h.Token)
		if held, ok := hook["held"].(*types.AttributeValueMemberN); !ok || held.Value != "0" {
			t.Errorf("%s: held %v after the caller left, want 0", name, hook["held"])
		}
	}
}
