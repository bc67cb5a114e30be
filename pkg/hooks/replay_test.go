package hooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// hmacHex is HMAC-SHA256 of content keyed with key, hex.
func hmacHex(key, content string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(content))
	return hex.EncodeToString(m.Sum(nil))
}

// Replays of captured signed requests (issue 21). GitHub and hmac without
// a timestamp header sign no time, and their delivery ids (X-GitHub-Delivery,
// the hmac idHeader) are not signed; Slack without event_id replays within
// the tolerance. A captured request sent again, with a new delivery id or
// with none, is the same signed request: it is answered as the first was and
// reaches the workflow once. The signature headers are not handed to the
// workflow (it would hold a replayable request). Before: every replay was
// stored.
func TestSignatureReplayRefused(t *testing.T) {
	t.Parallel()
	const secret = "replay-test-secret-0123456789"
	body := `{"action":"opened","number":42}`
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	for _, tc := range []struct {
		name      string
		verify    hooks.Verify
		signed    map[string]string // the captured request's signature headers
		sigHeader string            // lower case
		idHeader  string            // a header the attacker sets anew on each replay ("": none)
		window    time.Duration     // at least how long the request is remembered
	}{
		{name: "github", verify: hooks.Verify{Scheme: hooks.SchemeGitHub},
			signed:    map[string]string{"X-Hub-Signature-256": "sha256=" + hmacHex(secret, body), "X-Hub-Signature": "sha1=ffff"},
			sigHeader: "x-hub-signature-256", idHeader: "X-GitHub-Delivery", window: 399 * 24 * time.Hour}, // no time signed: as long as a webhook lives (HookTTL)
		{name: "hmac without timestamp", verify: hooks.Verify{Scheme: hooks.SchemeHMAC, Header: "X-Shopify-Hmac-Sha256", Encoding: "base64", IDHeader: "X-Shopify-Webhook-Id"},
			signed:    map[string]string{"X-Shopify-Hmac-Sha256": hexToB64(t, hmacHex(secret, body))},
			sigHeader: "x-shopify-hmac-sha256", idHeader: "X-Shopify-Webhook-Id", window: 399 * 24 * time.Hour},
		{name: "slack without event_id", verify: hooks.Verify{Scheme: hooks.SchemeSlack},
			signed:    map[string]string{"X-Slack-Signature": "v0=" + hmacHex(secret, "v0:"+ts+":"+body), "X-Slack-Request-Timestamp": ts},
			sigHeader: "x-slack-signature", window: 23 * time.Hour}, // past the tolerance a replay is stale
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newWebhookPair(t)
			ctx := context.Background()
			v := tc.verify
			v.SecretARN = newSecret(t, secret)
			h, err := p.workflow.CreateWebhook(ctx, hooks.CreateWebhookInput{ExecutionARN: execA, Verify: &v})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 4 { // the provider's request, then three replays of it
				r := httptest.NewRequest("POST", "/webhooks/"+h.Token, strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				for k, v := range tc.signed {
					r.Header.Set(k, v)
				}
				if tc.idHeader != "" && i < 3 {
					r.Header.Set(tc.idHeader, "delivery-"+strconv.Itoa(i)) // a new id each time; the last: none
				}
				resp, err := p.caller.ResumeWebhook(ctx, h.Token, r)
				if err != nil || resp.Status != http.StatusAccepted {
					t.Fatalf("request %d: %v %v, want 202 (the first stored, replays answered as it was)", i, resp, err)
				}
			}
			st, err := p.workflow.GetHook(ctx, h.Token)
			if err != nil || st.Pending != 1 {
				t.Fatalf("after a signed request and 3 replays: %+v %v, want 1 pending", st, err)
			}
			idem := 0
			for _, it := range scanAll(t, p.db, p.table) {
				if sk := it["sk"].(*types.AttributeValueMemberS).Value; strings.HasPrefix(sk, "IDEM#") {
					idem++
					exp, _ := strconv.ParseInt(it["expiresAt"].(*types.AttributeValueMemberN).Value, 10, 64)
					if left := time.Until(time.Unix(exp, 0)); left < tc.window {
						t.Errorf("the request is remembered for %s, want at least %s", left.Round(time.Hour), tc.window)
					}
				}
			}
			if idem != 1 {
				t.Errorf("%d idempotency records, want 1 (the signed request)", idem)
			}
			if err := p.workflow.Await(ctx, awaitIn(h.Token, 0)); err != nil {
				t.Fatal(err)
			}
			out, err := nextOutput(p.outputs, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			req, err := request(out)
			if err != nil {
				t.Fatal(err)
			}
			for name := range req.Headers {
				if name == tc.sigHeader || strings.Contains(name, "signature") || strings.Contains(name, "hmac") {
					t.Errorf("the workflow received the signature header %q: %v", name, req.Headers[name])
				}
			}
			if req.Body != body {
				t.Errorf("delivered body %q, want %q", req.Body, body)
			}
		})
	}
}

func hexToB64(t *testing.T, h string) string {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}
