package hooks_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/internal/testbench/awsstub"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
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
	"BenchmarkAwaitParks":              4, // after a resume's delivery: A1 refused, SendTaskHeartbeat (own task open?), SendTaskFailure, A1 (invariant T)
	"BenchmarkWebhookStatic":           2,
	// A hook with a JSON Schema (docs/performance.md, "Schemas").
	"BenchmarkResumeWaitingSchema":     2,
	"BenchmarkResumeWaitingSchemaCold": 3,
	"BenchmarkResumeStoredSchema":      2,
	// Verified webhooks (docs/protocol.md, "Verified webhooks").
	"BenchmarkWebhookVerified":           3,
	"BenchmarkWebhookVerifiedColdSecret": 4,
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
// The previous await's delivery is not known to have reached it, so each
// await but the first tells it before dropping it (docs/protocol.md,
// invariant T), once its own task is known to be open: 4 calls.
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

// schemaIn is awaitIn for a hook with a JSON Schema.
func schemaIn(token string, i int) hooks.AwaitInput {
	in := awaitIn(token, i)
	in.Schema = json.RawMessage(`{"type":"object","required":["n"],"properties":{"n":{"type":"integer"}}}`)
	return in
}

// BenchmarkResumeWaitingSchema: the fast path for a hook with a schema on
// a warm client, which knows the hook's schema from its last resume: the
// payload is validated before R1, and R1 is conditioned on that schema.
func BenchmarkResumeWaitingSchema(b *testing.B) {
	c, calls := benchClient(b)
	ctx := context.Background()
	token := "bench-" + suffix()
	// Warm the client: its first resume of the hook learns the schema (the
	// cold case, BenchmarkResumeWaitingSchemaCold).
	if err := c.Await(ctx, schemaIn(token, -1)); err != nil {
		b.Fatal(err)
	}
	if _, err := c.ResumeHook(ctx, token, map[string]int{"n": -1}); err != nil {
		b.Fatal(err)
	}
	measure(b, calls,
		func(i int) {
			if err := c.Await(ctx, schemaIn(token, i)); err != nil {
				b.Fatal(err)
			}
		},
		func(i int) error { _, err := c.ResumeHook(ctx, token, map[string]int{"n": i}); return err })
}

// BenchmarkResumeWaitingSchemaCold: the first resume of a hook with a
// schema on a client that has not seen it: R1 (condition "no schema")
// fails and returns the schema, the payload is validated, R1 again, R2.
func BenchmarkResumeWaitingSchemaCold(b *testing.B) {
	calls := &awscalls.Counter{}
	c, _, table := newTestClient(b, calls, func(o *hooks.Options) { o.StepFunctions = awsstub.AcceptingSFN{Calls: calls} })
	ctx := context.Background()
	token := "bench-" + suffix()
	var cold *hooks.Client
	measure(b, calls,
		func(i int) {
			if err := c.Await(ctx, schemaIn(token, i)); err != nil {
				b.Fatal(err)
			}
			cold = peerClient(b, calls, table) // a new Lambda instance
		},
		func(i int) error { _, err := cold.ResumeHook(ctx, token, map[string]int{"n": i}); return err })
}

// BenchmarkResumeStoredSchema: nobody waits, a hook with a schema: R1 fails
// and returns the schema (as it returns the hook anyway), S1 stores.
func BenchmarkResumeStoredSchema(b *testing.B) {
	c, calls := benchClient(b)
	ctx := context.Background()
	token := "bench-" + suffix()
	in := schemaIn(token, 0)
	if _, err := c.Register(ctx, in.RegisterInput); err != nil {
		b.Fatal(err)
	}
	measure(b, calls, func(int) {},
		func(i int) error { _, err := c.ResumeHook(ctx, token, map[string]int{"n": i}); return err })
}

// peerClient is another Client (a new process: empty caches) on table,
// its calls counted in calls.
func peerClient(tb testing.TB, calls *awscalls.Counter, table string) *hooks.Client {
	tb.Helper()
	cfg := devstack.AWSConfig(stacktest.RequireStack(tb).MotoURL.String())
	cfg.APIOptions = append(cfg.APIOptions, awscalls.Middleware(calls))
	c, err := hooks.New(cfg, func(o *hooks.Options) {
		o.TableName = table
		o.StepFunctions = awsstub.AcceptingSFN{Calls: calls}
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
