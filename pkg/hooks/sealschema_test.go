package hooks_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// A hook both sealed and with a schema (moto's DynamoDB and KMS; Step
// Functions scripted by faults.Tasks): the plaintext is validated before it
// is sealed, a refused payload leaves nothing behind, an accepted one is
// stored and delivered only as an envelope, and a rejection is queued in
// order, neither sealed nor validated.
func TestSealedHookWithSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key := kmsKey(t)
	tasks := faults.NewTasks()
	c, db, table := guaranteeClient(t, faults.New(), tasks)
	token := "sealed-schema-" + suffix()
	const marker = "PLAINTEXT-MARKER-5c1e"
	await := func(task string) {
		t.Helper()
		in := schemaAwait(token, task)
		in.Encrypt = &hooks.Encrypt{KMSKeyID: key}
		if err := c.Await(ctx, in); err != nil {
			t.Fatalf("await %s: %v", task, err)
		}
	}
	opened := func(what, env string) string {
		t.Helper()
		if strings.Contains(env, marker) {
			t.Fatalf("%s carries the plaintext: %s", what, env)
		}
		pt, err := hooks.Open(ctx, kmsClient(t), []byte(env))
		if err != nil {
			t.Fatalf("%s: open: %v (%s)", what, err, env)
		}
		return string(pt)
	}

	await("T1")
	before := len(scanAll(t, db, table))
	_, err := c.ResumeHook(ctx, token, json.RawMessage(`{"approved":"`+marker+`"}`))
	wantSchemaError(t, "parked, sealed", err)
	if after := len(scanAll(t, db, table)); after != before {
		t.Fatalf("%d items after a refused resume, want %d", after, before)
	}
	if _, ok := tasks.Output("T1"); ok {
		t.Fatal("T1 got a refused payload")
	}
	good := `{"approved":true,"by":"` + marker + `"}`
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(good)); err != nil {
		t.Fatal(err)
	}
	out, _ := tasks.Output("T1")
	if got := opened("T1's output", out); got != good {
		t.Fatalf("T1 opened %s, want %s", got, good)
	}

	// Nothing parked: refused (also with a key), or stored sealed.
	before = len(scanAll(t, db, table))
	_, err = c.ResumeHook(ctx, token, json.RawMessage(`{"approved":1}`))
	wantSchemaError(t, "stored path, sealed", err)
	_, err = c.ResumeHook(ctx, token, json.RawMessage(`{"approved":1}`), hooks.WithIdempotencyKey("k1"))
	wantSchemaError(t, "stored path, sealed, keyed", err)
	_, err = c.ResumeHook(ctx, token, json.RawMessage(`{"approved":1}`), hooks.WithEncryptionKey(key))
	wantSchemaError(t, "stored path, WithEncryptionKey", err)
	if after := len(scanAll(t, db, table)); after != before {
		t.Fatalf("%d items after refused resumes, want %d", after, before)
	}
	if _, err := c.ResumeHook(ctx, token, json.RawMessage(good), hooks.WithIdempotencyKey("k2")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RejectHook(ctx, token, "Rejected", "no stock"); err != nil {
		t.Fatalf("reject a sealed hook with a schema: %v", err)
	}
	if text := itemsText(t, db, table); strings.Contains(text, marker) {
		t.Fatalf("the table holds the plaintext: %s", text)
	}
	await("T2")
	out, _ = tasks.Output("T2")
	if got := opened("T2's output", out); got != good {
		t.Fatalf("T2 opened %s, want %s", got, good)
	}
	await("T3")
	wantFailure(t, tasks, "T3", "Rejected", "no stock")
}
