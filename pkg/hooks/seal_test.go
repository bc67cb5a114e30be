package hooks_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/sfnhooks/sfnhooks/internal/testbench/awsstub"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Sealed payloads (docs/sealed.md) against moto's KMS, which really
// encrypts data keys under the key and binds them to the encryption
// context (moto/kms/utils.py: AES-GCM with the context as additional data).

// kmsKey creates a symmetric key in moto and returns its ARN.
func kmsKey(tb testing.TB) string {
	tb.Helper()
	stk := stacktest.RequireStack(tb)
	out, err := kms.NewFromConfig(devstack.AWSConfig(stk.MotoURL.String())).CreateKey(context.Background(), &kms.CreateKeyInput{
		Description: aws.String("sfnhooks test " + tb.Name()),
	})
	if err != nil {
		tb.Fatalf("create KMS key: %v", err)
	}
	return aws.ToString(out.KeyMetadata.Arn)
}

func kmsClient(tb testing.TB) *kms.Client {
	tb.Helper()
	return kms.NewFromConfig(devstack.AWSConfig(stacktest.RequireStack(tb).MotoURL.String()))
}

// storedPayloads returns the payload attribute of every stored payload
// (MSG#) of token, oldest first.
func storedPayloads(tb testing.TB, db *dynamodb.Client, table, token string) []string {
	tb.Helper()
	out, err := db.Query(context.Background(), &dynamodb.QueryInput{
		TableName:              &table,
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :msg)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: "HOOK#" + token}, ":msg": &types.AttributeValueMemberS{Value: "MSG#"},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		tb.Fatal(err)
	}
	var ps []string
	for _, it := range out.Items {
		ps = append(ps, it["payload"].(*types.AttributeValueMemberS).Value)
	}
	return ps
}

// itemsText is every item of the table as text, to search for plaintext.
func itemsText(tb testing.TB, db *dynamodb.Client, table string) string {
	tb.Helper()
	b, err := json.Marshal(scanAll(tb, db, table))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestSealedHookStoresOnlyTheEnvelope(t *testing.T) {
	t.Parallel()
	key := kmsKey(t)
	c, db, calls, table := testClient(t)
	ctx := context.Background()
	token := "sealed-" + suffix()
	h, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA, Encrypt: &hooks.Encrypt{KMSKeyID: key}})
	if err != nil {
		t.Fatal(err)
	}
	if h.Encrypt == nil || h.Encrypt.KMSKeyID != key {
		t.Fatalf("registered hook: encrypt %+v, want key %s", h.Encrypt, key)
	}
	const marker = "PLAINTEXT-MARKER-7f3a"
	calls.Reset()
	if _, err := c.ResumeHook(ctx, token, map[string]any{"card": marker}); err != nil {
		t.Fatal(err)
	}
	// Not waiting: R1 (refused: the hook is sealed, the item comes back),
	// GenerateDataKey, S1.
	if got, want := calls.String(), "DynamoDB.TransactWriteItems=1 DynamoDB.UpdateItem=1 KMS.GenerateDataKey=1"; got != want {
		t.Errorf("calls of a sealed resume: got %v, want %v", got, want)
	}
	if text := itemsText(t, db, table); strings.Contains(text, marker) {
		t.Fatalf("the table holds the plaintext: %s", text)
	}
	ps := storedPayloads(t, db, table, token)
	if len(ps) != 1 {
		t.Fatalf("stored payloads: got %d, want 1", len(ps))
	}
	env, err := hooks.ParseEnvelope([]byte(ps[0]))
	if err != nil {
		t.Fatalf("stored payload is not an envelope: %v: %s", err, ps[0])
	}
	if want := (hooks.SealContext{Token: token, HookID: h.HookID, ExecutionARN: execA}); env.Context != want {
		t.Errorf("envelope context: got %+v, want %+v", env.Context, want)
	}
	if env.KeyID != key {
		t.Errorf("envelope key: got %s, want %s", env.KeyID, key)
	}
	pt, err := hooks.Open(ctx, kmsClient(t), []byte(ps[0]))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"card":"` + marker + `"}`; string(pt) != want {
		t.Errorf("opened: got %s, want %s", pt, want)
	}
	// Client.Open checks the execution before asking KMS.
	for _, in := range []hooks.OpenInput{
		{Envelope: json.RawMessage(ps[0]), ExecutionARN: execA + "-other"},
		{Envelope: json.RawMessage(ps[0]), ExecutionARN: execA, Token: token + "-other"},
	} {
		if _, err := c.Open(ctx, in); !errors.Is(err, hooks.ErrOpenRefused) {
			t.Errorf("open %+v: got %v, want ErrOpenRefused", in, err)
		}
	}
	if pt, err := c.Open(ctx, hooks.OpenInput{Envelope: json.RawMessage(ps[0]), ExecutionARN: execA, Token: token}); err != nil || !strings.Contains(string(pt), marker) {
		t.Errorf("open for its execution and hook: got %s, %v", pt, err)
	}
}

// A changed key or context, or a tampered ciphertext, is refused.
func TestOpenRefusesWrongKeyOrContext(t *testing.T) {
	t.Parallel()
	key, other := kmsKey(t), kmsKey(t)
	c, db, _, table := testClient(t)
	ctx := context.Background()
	token := "sealed-open-" + suffix()
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA, Encrypt: &hooks.Encrypt{KMSKeyID: key}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResumeHook(ctx, token, map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	raw := storedPayloads(t, db, table, token)[0]
	api := kmsClient(t)
	if _, err := hooks.Open(ctx, api, []byte(raw)); err != nil {
		t.Fatalf("the untouched envelope: %v", err)
	}
	edit := func(f func(e *hooks.Envelope)) []byte {
		e, err := hooks.ParseEnvelope([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		f(e)
		b, _ := json.Marshal(e)
		return b
	}
	for _, tc := range []struct {
		name string
		env  []byte
		want error
	}{
		{"other key", edit(func(e *hooks.Envelope) { e.KeyID = other }), hooks.ErrOpenRefused},
		{"other execution in the context", edit(func(e *hooks.Envelope) { e.Context.ExecutionARN += "x" }), hooks.ErrOpenRefused},
		{"other hook id in the context", edit(func(e *hooks.Envelope) { e.Context.HookID = "forged" }), hooks.ErrOpenRefused},
		{"tampered ciphertext", edit(func(e *hooks.Envelope) {
			ct, err := base64.StdEncoding.DecodeString(e.CT)
			if err != nil {
				t.Fatal(err)
			}
			ct[0] ^= 1
			e.CT = base64.StdEncoding.EncodeToString(ct)
		}), hooks.ErrOpenRefused},
		{"not sealed", []byte(`{"n":1}`), hooks.ErrNotSealed},
		{"unknown version", edit(func(e *hooks.Envelope) { e.Version = 3 }), hooks.ErrNotSealed},
		{"version 1 (the token in the KMS context)", edit(func(e *hooks.Envelope) { e.Version = 1 }), hooks.ErrOpenRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pt, err := hooks.Open(ctx, api, tc.env)
			if !errors.Is(err, tc.want) {
				t.Fatalf("%q: got %s, %v; want %v", tc.name, pt, err, tc.want)
			}
		})
	}
}

// WithEncryptionKey: a plain hook's payload is sealed end to end; a sealed
// hook allows its own key only; without the option a sealed hook's key is
// used.
func TestResumeWithEncryptionKey(t *testing.T) {
	t.Parallel()
	key, other := kmsKey(t), kmsKey(t)
	c, db, calls, table := testClient(t)
	ctx := context.Background()
	plain, sealed := "plain-"+suffix(), "sealed-"+suffix()
	hp, err := c.Register(ctx, hooks.RegisterInput{Token: plain, ExecutionARN: execA})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: sealed, ExecutionARN: execA, Encrypt: &hooks.Encrypt{KMSKeyID: key}}); err != nil {
		t.Fatal(err)
	}

	calls.Reset()
	if _, err := c.ResumeHook(ctx, plain, "secret-1", hooks.WithEncryptionKey(other)); err != nil {
		t.Fatal(err)
	}
	if got, want := calls.String(), "DynamoDB.GetItem=1 DynamoDB.TransactWriteItems=1 DynamoDB.UpdateItem=1 KMS.GenerateDataKey=1"; got != want {
		t.Errorf("calls of a resume WithEncryptionKey: got %v, want %v", got, want)
	}
	ps := storedPayloads(t, db, table, plain)
	env, err := hooks.ParseEnvelope([]byte(ps[0]))
	if err != nil || env.KeyID != other || env.Context.HookID != hp.HookID {
		t.Fatalf("plain hook resumed with a key: stored %s (%v), want an envelope of %s for %s", ps[0], err, other, hp.HookID)
	}
	// A later plain resume of the plain hook stays plain.
	if _, err := c.ResumeHook(ctx, plain, "open-2"); err != nil {
		t.Fatal(err)
	}
	if ps := storedPayloads(t, db, table, plain); len(ps) != 2 || ps[1] != `"open-2"` {
		t.Errorf("plain resume of a plain hook: stored %q", ps)
	}

	_, err = c.ResumeHook(ctx, sealed, "secret-3", hooks.WithEncryptionKey(other))
	if !errors.Is(err, hooks.ErrEncryptionKey) || hooks.ErrorFor(err).Status != 400 {
		t.Fatalf("sealed hook resumed with another key: got %v, want ErrEncryptionKey (400)", err)
	}
	if n := len(storedPayloads(t, db, table, sealed)); n != 0 {
		t.Fatalf("refused resume stored %d payloads", n)
	}
	for _, opts := range [][]hooks.ResumeOption{{hooks.WithEncryptionKey(key)}, nil} {
		if _, err := c.ResumeHook(ctx, sealed, "secret-4", opts...); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range storedPayloads(t, db, table, sealed) {
		if env, err := hooks.ParseEnvelope([]byte(p)); err != nil || env.KeyID != key {
			t.Errorf("sealed hook: stored %s (%v), want an envelope of its key %s", p, err, key)
		}
	}

	_, err = c.ResumeHook(ctx, plain, 1, hooks.WithEncryptionKey("alias/no-such-key"))
	if !errors.Is(err, hooks.ErrEncryptionKey) {
		t.Errorf("unknown key: got %v, want ErrEncryptionKey", err)
	}
	if strings.Contains(itemsText(t, db, table), "secret-") {
		t.Error("the table holds a sealed plaintext")
	}
}

// The limit (256 KiB) applies to the sealed envelope, which base64 makes
// about 4/3 of the plaintext.
func TestSealedPayloadTooLarge(t *testing.T) {
	t.Parallel()
	key := kmsKey(t)
	c, db, _, table := testClient(t)
	ctx := context.Background()
	token := "sealed-big-" + suffix()
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA, Encrypt: &hooks.Encrypt{KMSKeyID: key}}); err != nil {
		t.Fatal(err)
	}
	big := `"` + strings.Repeat("x", 200*1024) + `"` // under the limit as plaintext
	_, err := c.ResumeHook(ctx, token, json.RawMessage(big))
	var tooLarge *hooks.PayloadTooLargeError
	if !errors.As(err, &tooLarge) || tooLarge.Plaintext != len(big) || tooLarge.Size <= hooks.MaxPayloadBytes {
		t.Fatalf("got %v, want a PayloadTooLargeError on the envelope", err)
	}
	if api := hooks.ErrorFor(err); api.Status != 413 || !strings.Contains(api.Message, "sealed envelope") {
		t.Errorf("got %d %q, want 413 naming the sealed envelope", api.Status, api.Message)
	}
	if n := len(storedPayloads(t, db, table, token)); n != 0 {
		t.Errorf("stored %d payloads", n)
	}
}

// reseatKMS is KMS whose first GenerateDataKey first disposes the hook
// and registers the token again (a new hookId): the interleaving of a
// sealed resume's read and write that moto cannot be made to produce.
type reseatKMS struct {
	hooks.KMSAPI
	reseat func()
	calls  int
}

func (k *reseatKMS) GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, o ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	k.calls++
	if k.calls == 1 {
		k.reseat()
	}
	return k.KMSAPI.GenerateDataKey(ctx, in, o...)
}

// A payload is sealed for the incarnation it is delivered to: if the token
// was registered again between the read and the write, the write's
// condition fails and the payload is sealed again for the new hook; with
// an await parked on the new hook (R1's term) or without (S1's).
func TestSealedResumeFollowsANewIncarnation(t *testing.T) {
	t.Parallel()
	for _, waiting := range []bool{false, true} {
		t.Run(map[bool]string{false: "stored", true: "await parked"}[waiting], func(t *testing.T) {
			t.Parallel()
			key := kmsKey(t)
			ctx := context.Background()
			token := "sealed-reseat-" + suffix()
			reg := hooks.RegisterInput{Token: token, ExecutionARN: execA, Encrypt: &hooks.Encrypt{KMSKeyID: key}}
			var first, second *hooks.Hook
			var c *hooks.Client
			rk := &reseatKMS{KMSAPI: kmsClient(t)}
			rk.reseat = func() {
				if err := c.Dispose(ctx, token, execA); err != nil {
					t.Error(err)
				}
				var err error
				if waiting {
					err = c.Await(ctx, hooks.AwaitInput{RegisterInput: reg, TaskToken: "task-2"})
				} else {
					_, err = c.Register(ctx, reg)
				}
				if err != nil {
					t.Error(err)
				}
				st, err := c.GetHook(ctx, token)
				if err != nil {
					t.Error(err)
					return
				}
				second = &st.Hook
			}
			c, db, _, table := testClient(t, func(o *hooks.Options) {
				o.KMS = rk
				o.StepFunctions = awsstub.AcceptingSFN{}
			})
			var err error
			if first, err = c.Register(ctx, reg); err != nil {
				t.Fatal(err)
			}
			if _, err := c.ResumeHook(ctx, token, "p"); err != nil {
				t.Fatal(err)
			}
			if rk.calls != 2 || second == nil || second.HookID == first.HookID {
				t.Fatalf("GenerateDataKey calls %d (want 2: sealed again), hooks %v → %v", rk.calls, first, second)
			}
			var got string
			if waiting {
				out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: map[string]types.AttributeValue{
					"pk": &types.AttributeValueMemberS{Value: "HOOK#" + token}, "sk": &types.AttributeValueMemberS{Value: "HOOK"}}})
				if err != nil {
					t.Fatal(err)
				}
				f, ok := out.Item["inflight"].(*types.AttributeValueMemberM)
				if !ok {
					t.Fatalf("no delivery in flight to the new hook's await: %v", out.Item)
				}
				got = f.Value["payload"].(*types.AttributeValueMemberS).Value
			} else {
				ps := storedPayloads(t, db, table, token)
				if len(ps) != 1 {
					t.Fatalf("stored %d payloads, want 1", len(ps))
				}
				got = ps[0]
			}
			env, err := hooks.ParseEnvelope([]byte(got))
			if err != nil || env.Context.HookID != second.HookID {
				t.Fatalf("delivered %s (%v): want it sealed for the new hook %s", got, err, second.HookID)
			}
		})
	}
}

// An idempotent sealed resume is applied once; the record keeps the
// envelope, and no hash of the plaintext alone.
func TestSealedResumeIdempotent(t *testing.T) {
	t.Parallel()
	key := kmsKey(t)
	c, db, _, table := testClient(t)
	ctx := context.Background()
	token := "sealed-idem-" + suffix()
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA, Encrypt: &hooks.Encrypt{KMSKeyID: key}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := c.ResumeHook(ctx, token, "secret-idem", hooks.WithIdempotencyKey("k1")); err != nil {
			t.Fatal(err)
		}
	}
	if ps := storedPayloads(t, db, table, token); len(ps) != 1 || !hooks.IsSealed([]byte(ps[0])) {
		t.Fatalf("stored %q, want one envelope", ps)
	}
	if _, err := c.ResumeHook(ctx, token, "other", hooks.WithIdempotencyKey("k1")); !errors.Is(err, hooks.ErrIdempotencyMismatch) {
		t.Errorf("same key, other payload: got %v, want ErrIdempotencyMismatch", err)
	}
	text := itemsText(t, db, table)
	if strings.Contains(text, "secret-idem") || strings.Contains(text, plainHash(`"secret-idem"`)) {
		t.Errorf("the table holds the plaintext or its bare hash: %s", text)
	}
}

func plainHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
