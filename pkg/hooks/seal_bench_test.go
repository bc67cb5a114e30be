package hooks_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Sealed resumes (docs/sealed.md, "AWS calls"): moto's DynamoDB and KMS,
// Step Functions stubbed as in bench_test.go.

func init() {
	documentedCalls["BenchmarkResumeSealedWaiting"] = 4
	documentedCalls["BenchmarkResumeSealedStored"] = 3
	documentedCalls["BenchmarkResumeWithKeyWaiting"] = 4
	documentedCalls["BenchmarkResumeSealedIdempotentWaiting"] = 4
}

func sealedAwaitIn(token, key string, i int) hooks.AwaitInput {
	in := awaitIn(token, i)
	in.Encrypt = &hooks.Encrypt{KMSKeyID: key}
	return in
}

// BenchmarkResumeSealedWaiting: a sealed hook with an await parked: R1
// (refused: the hook is sealed), GenerateDataKey, R1, SendTaskSuccess.
func BenchmarkResumeSealedWaiting(b *testing.B) {
	c, calls := benchClient(b)
	key := kmsKey(b)
	ctx := context.Background()
	token := "bench-sealed-" + suffix()
	measure(b, calls,
		func(i int) {
			if err := c.Await(ctx, sealedAwaitIn(token, key, i)); err != nil {
				b.Fatal(err)
			}
		},
		func(i int) error { _, err := c.ResumeHook(ctx, token, map[string]int{"n": i}); return err })
}

// BenchmarkResumeSealedStored: a sealed hook, nobody waiting: R1 (refused),
// GenerateDataKey, S1.
func BenchmarkResumeSealedStored(b *testing.B) {
	c, calls := benchClient(b)
	key := kmsKey(b)
	ctx := context.Background()
	token := "bench-sealed-" + suffix()
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA, Encrypt: &hooks.Encrypt{KMSKeyID: key}}); err != nil {
		b.Fatal(err)
	}
	measure(b, calls, func(int) {},
		func(i int) error { _, err := c.ResumeHook(ctx, token, map[string]int{"n": i}); return err })
}

// BenchmarkResumeWithKeyWaiting: a plain hook resumed WithEncryptionKey:
// GetItem, GenerateDataKey, R1, SendTaskSuccess.
func BenchmarkResumeWithKeyWaiting(b *testing.B) {
	c, calls := benchClient(b)
	key := kmsKey(b)
	ctx := context.Background()
	token := "bench-key-" + suffix()
	measure(b, calls,
		func(i int) {
			if err := c.Await(ctx, awaitIn(token, i)); err != nil {
				b.Fatal(err)
			}
		},
		func(i int) error {
			_, err := c.ResumeHook(ctx, token, map[string]int{"n": i}, hooks.WithEncryptionKey(key))
			return err
		})
}

// BenchmarkResumeSealedIdempotentWaiting: I1 GetItem, GenerateDataKey, I2,
// SendTaskSuccess.
func BenchmarkResumeSealedIdempotentWaiting(b *testing.B) {
	c, calls := benchClient(b)
	key := kmsKey(b)
	ctx := context.Background()
	token := "bench-sealed-" + suffix()
	measure(b, calls,
		func(i int) {
			if err := c.Await(ctx, sealedAwaitIn(token, key, i)); err != nil {
				b.Fatal(err)
			}
		},
		func(i int) error {
			_, err := c.ResumeHook(ctx, token, map[string]int{"n": i}, hooks.WithIdempotencyKey("key-"+strconv.Itoa(i)))
			return err
		})
}
