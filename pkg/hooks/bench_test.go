package hooks_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/internal/awsstub"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// The benchmarks park awaits with made-up task tokens, so Step Functions
// is stood in for by awsstub.AcceptingSFN (the e2e tests run the real one
// and check the same call counts); its calls are counted like the SDK's.

// benchClient is a Client on moto's DynamoDB with acceptingSFN, both
// counted in calls.
func benchClient(b *testing.B) (*hooks.Client, *awscalls.Counter) {
	calls := &awscalls.Counter{}
	c, _, _ := newTestClient(b, calls, func(o *hooks.Options) { o.StepFunctions = awsstub.AcceptingSFN{Calls: calls} })
	return c, calls
}

// measure runs op b.N times with setup before each (not timed, not
// counted) and reports the AWS calls op made per run.
func measure(b *testing.B, calls *awscalls.Counter, setup func(i int), op func(i int) error) {
	b.Helper()
	counted := 0
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		setup(i)
		before := calls.Total()
		b.StartTimer()
		if err := op(i); err != nil {
			b.Fatal(err)
		}
		counted += calls.Total() - before
	}
	perOp := float64(counted) / float64(b.N)
	b.ReportMetric(perOp, "awscalls/op")
	if want, ok := documentedCalls[b.Name()]; ok && perOp > want {
		b.Fatalf("%s made %.3f AWS calls per operation; docs/protocol.md (Cost per operation) says %v", b.Name(), perOp, want)
	}
}

// documentedCalls is the "Cost per operation" table of docs/protocol.md:
// a benchmark that makes more calls than documented fails.
var documentedCalls = map[string]float64{
	"BenchmarkResumeWaiting":           2,
	"BenchmarkResumeStored":            2,
	"BenchmarkResumeIdempotentWaiting": 3,
	"BenchmarkAwaitStored":             5,
	"BenchmarkAwaitParks":              1,
	"BenchmarkWebhookStatic":           2,
}

func awaitIn(token string, i int) hooks.AwaitInput {
	return hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: token, ExecutionARN: execA}, TaskToken: "task-" + strconv.Itoa(i)}
}

// BenchmarkResumeWaiting: resume finds an await parked (the fast path).
func BenchmarkResumeWaiting(b *testing.B) {
	c, calls := benchClient(b)
	ctx := context.Background()
	token := "bench-" + suffix()
	measure(b, calls,
		func(i int) {
			if err := c.Await(ctx, awaitIn(token, i)); err != nil {
				b.Fatal(err)
			}
		},
		func(i int) error { _, err := c.ResumeHook(ctx, token, map[string]int{"n": i}); return err })
}

// BenchmarkResumeStored: nobody waits, the payload is stored.
func BenchmarkResumeStored(b *testing.B) {
	c, calls := benchClient(b)
	ctx := context.Background()
	token := "bench-" + suffix()
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA}); err != nil {
		b.Fatal(err)
	}
	measure(b, calls, func(int) {},
		func(i int) error { _, err := c.ResumeHook(ctx, token, map[string]int{"n": i}); return err })
}

// BenchmarkResumeIdempotentWaiting: resume with an idempotency key, an
// await parked.
func BenchmarkResumeIdempotentWaiting(b *testing.B) {
	c, calls := benchClient(b)
	ctx := context.Background()
	token := "bench-" + suffix()
	measure(b, calls,
		func(i int) {
			if err := c.Await(ctx, awaitIn(token, i)); err != nil {
				b.Fatal(err)
			}
		},
		func(i int) error {
			_, err := c.ResumeHook(ctx, token, map[string]int{"n": i}, hooks.WithIdempotencyKey("key-"+strconv.Itoa(i)))
			return err
		})
}

// BenchmarkAwaitStored: an await finds a payload stored and takes it.
func BenchmarkAwaitStored(b *testing.B) {
	c, calls := benchClient(b)
	ctx := context.Background()
	token := "bench-" + suffix()
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA}); err != nil {
		b.Fatal(err)
	}
	measure(b, calls,
		func(i int) {
			if _, err := c.ResumeHook(ctx, token, json.RawMessage(`{"n":1}`)); err != nil {
				b.Fatal(err)
			}
		},
		func(i int) error { return c.Await(ctx, awaitIn(token, i)) })
}

// BenchmarkAwaitParks: an await with nothing stored parks its task token
// (the setup resumes the previous await, as a loop in a workflow does).
func BenchmarkAwaitParks(b *testing.B) {
	c, calls := benchClient(b)
	ctx := context.Background()
	token := "bench-" + suffix()
	measure(b, calls,
		func(i int) {
			if i > 0 {
				if _, err := c.ResumeHook(ctx, token, i); err != nil {
					b.Fatal(err)
				}
			}
		},
		func(i int) error { return c.Await(ctx, awaitIn(token, i)) })
}

// BenchmarkResumeWaitingCPU is BenchmarkResumeWaiting without the network:
// ns/op and allocs/op of the library on the fast path.
func BenchmarkResumeWaitingCPU(b *testing.B) {
	c, err := awsstub.ParkedClient("approval-42", "hook", "")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	payload := map[string]any{"approved": true, "by": "alice"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ResumeHook(ctx, "approval-42", payload); err != nil {
			b.Fatal(err)
		}
	}
}
