package hooks_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// BenchmarkWebhookStatic: one request to a static webhook with an await
// parked, as the caller's AWS calls (UpdateItem + SendTaskSuccess).
func BenchmarkWebhookStatic(b *testing.B) {
	p := newWebhookPair(b)
	ctx := context.Background()
	h, err := p.workflow.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA})
	if err != nil {
		b.Fatal(err)
	}
	measure(b, p.calls,
		func(i int) {
			if err := p.workflow.Await(ctx, awaitIn(h.Token, i)); err != nil {
				b.Fatal(err)
			}
		},
		func(i int) error {
			resp, err := p.caller.ResumeWebhook(ctx, h.Token, httptest.NewRequest("POST", "/webhooks/"+h.Token, strings.NewReader(`{"i":`+strconv.Itoa(i)+`}`)))
			if err == nil && resp.Status != http.StatusAccepted {
				b.Fatalf("status %d, want 202", resp.Status)
			}
			if _, err := nextOutput(p.outputs, hooks.DefaultWebhookDeadline); err != nil {
				b.Fatal(err)
			}
			return err
		})
}

// BenchmarkWebhookManual: one request to a manual webhook with an await
// parked; the workflow responds as soon as the request is delivered.
// Reports the caller's AWS calls per request and the latency from the
// start of the workflow's response write (Respond) to the caller
// receiving the response: write-p50-ms, write-p99-ms.
func BenchmarkWebhookManual(b *testing.B) { benchManual(b, 0) }

// BenchmarkWebhookManualDelayed is BenchmarkWebhookManual with a workflow
// that responds 250 ms after the request was delivered, about what a
// Step Functions round trip to a respond task takes: by then the caller
// polls at its slowest (WebhookPollMaxInterval), the worst case for the
// latency.
func BenchmarkWebhookManualDelayed(b *testing.B) { benchManual(b, 250*time.Millisecond) }

// benchManual: the workflow responds delay after each request reaches it.
func benchManual(b *testing.B, delay time.Duration) {
	p := newWebhookPair(b)
	ctx := context.Background()
	h, err := p.workflow.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA, RespondWith: &hooks.RespondWith{Manual: true}})
	if err != nil {
		b.Fatal(err)
	}
	var latencies []time.Duration
	written := make(chan time.Time, 1)
	measure(b, p.calls,
		func(i int) {
			if err := p.workflow.Await(ctx, awaitIn(h.Token, i)); err != nil {
				b.Fatal(err)
			}
		},
		func(i int) error {
			go func() { // the workflow: no b.Fatal here
				start := time.Now()
				out, err := nextOutput(p.outputs, hooks.DefaultWebhookDeadline)
				if err == nil {
					var req hooks.WebhookRequest
					if req, err = request(out); err == nil {
						time.Sleep(delay)
						start = time.Now()
						err = p.workflow.Respond(ctx, h.Token, execA, req.RequestID, hooks.Response{Status: 200, Body: []byte("OK")})
					}
				}
				if err != nil {
					b.Error(err)
				}
				written <- start // buffered: never blocks
			}()
			resp, err := p.caller.ResumeWebhook(ctx, h.Token, httptest.NewRequest("POST", "/webhooks/"+h.Token, strings.NewReader(`{"i":`+strconv.Itoa(i)+`}`)))
			got := time.Now()
			start := <-written // the workflow always sends, within the deadline
			if err != nil {
				return err
			}
			if resp.Status != 200 || string(resp.Body) != "OK" {
				b.Fatalf("got %d %q, want 200 OK", resp.Status, resp.Body)
			}
			latencies = append(latencies, got.Sub(start))
			return nil
		})
	slices.Sort(latencies)
	pct := func(q float64) float64 {
		return float64(latencies[int(q*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "write-p50-ms")
	b.ReportMetric(pct(0.99), "write-p99-ms")
}

// BenchmarkWebhookHeld: a caller of a manual webhook held until its
// deadline (SFNHOOKS_HELD_SECONDS, default 2; 25 is API Gateway's budget)
// without a response. Reports the caller's DynamoDB reads while it waits,
// per wait and per second of waiting: the cost of holding a caller.
func BenchmarkWebhookHeld(b *testing.B) {
	held := 2 * time.Second
	if v := os.Getenv("SFNHOOKS_HELD_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("SFNHOOKS_HELD_SECONDS=%q: want a positive number of seconds", v)
		}
		held = time.Duration(n) * time.Second
	}
	p := newWebhookPair(b)
	ctx := context.Background()
	h, err := p.workflow.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA, RespondWith: &hooks.RespondWith{Manual: true, Deadline: held}})
	if err != nil {
		b.Fatal(err)
	}
	reads, waits := 0, 0
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		if err := p.workflow.Await(ctx, awaitIn(h.Token, i)); err != nil {
			b.Fatal(err)
		}
		before := p.calls.Count("DynamoDB.GetItem")
		b.StartTimer()
		_, err := p.caller.ResumeWebhook(ctx, h.Token, httptest.NewRequest("POST", "/webhooks/"+h.Token, strings.NewReader(`{}`)))
		if !errors.Is(err, hooks.ErrResponseTimeout) {
			b.Fatalf("held caller: %v, want ErrResponseTimeout", err)
		}
		reads += p.calls.Count("DynamoDB.GetItem") - before
		waits++
		if _, err := nextOutput(p.outputs, time.Second); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(reads)/float64(waits), "reads/wait")
	b.ReportMetric(float64(reads)/float64(waits)/held.Seconds(), "reads/s")
}

// BenchmarkWebhookVerified: one signed request (Standard Webhooks, with a
// delivery id) to a verified static webhook with an await parked, secret
// cached: the failed conditional write that reads the verify
// configuration, the keyed write, SendTaskSuccess.
func BenchmarkWebhookVerified(b *testing.B) { benchVerified(b, false) }

// BenchmarkWebhookVerifiedColdSecret is BenchmarkWebhookVerified on a
// new Client each time (a cold container): + GetSecretValue.
func BenchmarkWebhookVerifiedColdSecret(b *testing.B) { benchVerified(b, true) }

func benchVerified(b *testing.B, cold bool) {
	p := newWebhookPair(b)
	ctx := context.Background()
	arn := newSecret(b, swNew)
	h, err := p.workflow.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA,
		Verify: &hooks.Verify{Scheme: hooks.SchemeStandardWebhooks, SecretARN: arn}})
	if err != nil {
		b.Fatal(err)
	}
	caller := p.caller
	// Warm the secret cache with a request signed with another secret (it
	// reads the secret, then is refused and stores nothing).
	if _, err := caller.ResumeWebhook(ctx, h.Token, swRequest(b, h.Token, swOld, "msg_warm", time.Now(), `{}`)); !errors.Is(err, hooks.ErrInvalidSignature) {
		b.Fatalf("unsigned warm-up request: %v, want ErrInvalidSignature", err)
	}
	measure(b, p.calls,
		func(i int) {
			if err := p.workflow.Await(ctx, awaitIn(h.Token, i)); err != nil {
				b.Fatal(err)
			}
			if cold {
				caller = p.newCaller(b)
			}
		},
		func(i int) error {
			body := `{"i":` + strconv.Itoa(i) + `}`
			resp, err := caller.ResumeWebhook(ctx, h.Token, swRequest(b, h.Token, swNew, "msg_"+strconv.Itoa(i), time.Now(), body))
			if err == nil && resp.Status != http.StatusAccepted {
				b.Fatalf("status %d, want 202", resp.Status)
			}
			if _, err := nextOutput(p.outputs, hooks.DefaultWebhookDeadline); err != nil {
				b.Fatal(err)
			}
			return err
		})
}
