package hooks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
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
func BenchmarkWebhookManual(b *testing.B) {
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
						start = time.Now()
						err = p.workflow.Respond(ctx, h.Token, req.RequestID, hooks.Response{Status: 200, Body: []byte("OK")})
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
