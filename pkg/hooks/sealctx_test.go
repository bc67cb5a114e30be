package hooks_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// contextRecorder is the real KMS client (moto) that records the
// encryption contexts it is asked for: CloudTrail logs them in clear.
type contextRecorder struct {
	*kms.Client
	mu       sync.Mutex
	contexts []map[string]string
}

func (r *contextRecorder) GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, o ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	r.mu.Lock()
	r.contexts = append(r.contexts, in.EncryptionContext)
	r.mu.Unlock()
	return r.Client.GenerateDataKey(ctx, in, o...)
}

// The KMS encryption context of a sealed payload holds no hook token
// (issue 21): CloudTrail logs contexts in clear, and a webhook's token is
// its URL's credential. The context is {hookId, executionArn}; the token is
// still bound to the ciphertext (AES-GCM additional data). Envelopes of the
// previous format (version 1, the token in the KMS context) still open.
func TestSealContextHoldsNoToken(t *testing.T) {
	t.Parallel()
	key := kmsKey(t)
	rec := &contextRecorder{Client: kmsClient(t)}
	c, db, _, table := testClient(t, func(o *hooks.Options) { o.KMS = rec })
	ctx := context.Background()
	wh, err := c.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA, Encrypt: &hooks.Encrypt{KMSKeyID: key}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResumeWebhook(ctx, wh.Token, httptest.NewRequest("POST", "/webhooks/"+wh.Token, strings.NewReader(`{"card":"4242"}`))); err != nil {
		t.Fatal(err)
	}
	if len(rec.contexts) != 1 {
		t.Fatalf("%d GenerateDataKey calls, want 1", len(rec.contexts))
	}
	for k, v := range rec.contexts[0] {
		if k == "token" || strings.Contains(v, wh.Token) {
			t.Errorf("the KMS encryption context holds the webhook token: %s=%q", k, v)
		}
	}
	if rec.contexts[0]["hookId"] != wh.HookID || rec.contexts[0]["executionArn"] != execA {
		t.Errorf("KMS encryption context %v, want hookId %s and executionArn %s", rec.contexts[0], wh.HookID, execA)
	}
	ps := storedPayloads(t, db, table, wh.Token)
	if len(ps) != 1 {
		t.Fatalf("%d stored payloads, want 1", len(ps))
	}
	env, err := hooks.ParseEnvelope([]byte(ps[0]))
	if err != nil || env.Version != hooks.SealedVersion {
		t.Fatalf("envelope %v %v, want version %d", env, err, hooks.SealedVersion)
	}
	if pt, err := c.Open(ctx, hooks.OpenInput{Envelope: json.RawMessage(ps[0]), ExecutionARN: execA, Token: wh.Token}); err != nil || !strings.Contains(string(pt), "4242") {
		t.Fatalf("open: %s %v", pt, err)
	}
	// The token is authenticated all the same: an envelope whose context
	// names another token does not open.
	var tampered map[string]any
	_ = json.Unmarshal([]byte(ps[0]), &tampered)
	tampered["ctx"].(map[string]any)["token"] = wh.Token + "x"
	b, _ := json.Marshal(tampered)
	if _, err := c.Open(ctx, hooks.OpenInput{Envelope: b, ExecutionARN: execA}); err == nil {
		t.Errorf("an envelope whose context names another token opened")
	}

	// Version 1 (docs/sealed.md): KMS context {token, hookId, executionArn},
	// AES-GCM additional data the canonical JSON of the same.
	v1ctx := map[string]string{"token": "approval-1", "hookId": "h1", "executionArn": execA}
	dk, err := kmsClient(t).GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(key), KeySpec: kmstypes.DataKeySpecAes256, EncryptionContext: v1ctx})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(dk.Plaintext)
	gcm, _ := cipher.NewGCM(block)
	iv := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(iv)
	var aad bytes.Buffer
	enc := json.NewEncoder(&aad)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v1ctx)
	ct := gcm.Seal(nil, iv, []byte(`{"approved":true}`), bytes.TrimSuffix(aad.Bytes(), []byte("\n")))
	b64 := base64.StdEncoding.EncodeToString
	v1, _ := json.Marshal(map[string]any{"sfnhooks:sealed": 1, "alg": "AES256GCM", "keyId": aws.ToString(dk.KeyId),
		"edk": b64(dk.CiphertextBlob), "iv": b64(iv), "ct": b64(ct), "ctx": v1ctx})
	if pt, err := c.Open(ctx, hooks.OpenInput{Envelope: v1, ExecutionARN: execA, Token: "approval-1"}); err != nil || string(pt) != `{"approved":true}` {
		t.Errorf("a version 1 envelope: %s %v, want it opened", pt, err)
	}
}
