package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// The payment example verifies Standard Webhooks signatures (secret in
// moto's Secrets Manager). Through the real resume-webhook handler:
// an unsigned request gets the 404 of an unknown token; tampered, wrongly
// signed and stale requests get 401; none stores
// nothing; the signed request (its body base64 from API Gateway) reaches
// the workflow, which answers 200 OK; the provider's retry of it (same
// webhook-id, new timestamp and signature) gets the same 200 OK without
// storing anything, and the execution received the payment once.
func TestPaymentVerified(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.webhookRoute()
	ctx := context.Background()
	checkout := "c-" + randomSuffix()
	arn := e.start("payment", map[string]string{"checkoutId": checkout})
	token := e.webhookToken(arn)
	e.waiting(token)
	st, err := e.hooks.GetHook(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if st.Verify == nil || st.Verify.Scheme != hooks.SchemeStandardWebhooks || st.Verify.SecretARN != e.paymentSecretARN {
		t.Fatalf("payment webhook verify %+v, want standard-webhooks with the secret %s", st.Verify, e.paymentSecretARN)
	}

	body := []byte(`{"paid": true, "amount": 4200}`)
	jsonCT := map[string]string{"Content-Type": "application/json"}
	signedWith := func(secret string, signed, sent []byte) webhookCall {
		saved := e.paymentSecret
		e.paymentSecret = secret
		h := e.signPayment(webhookCall{Body: signed})
		e.paymentSecret = saved
		maps.Copy(h, jsonCT)
		return webhookCall{Header: h, Body: sent, Unsigned: true}
	}
	if a := w.do(token, webhookCall{Header: jsonCT, Body: body, Unsigned: true}); a.Status != http.StatusNotFound || !strings.Contains(string(a.Body), hooks.CodeHookNotFound) {
		t.Fatalf("unsigned: got %d %s, want the 404 of an unknown token", a.Status, a.Body)
	}
	for _, tc := range []struct {
		name string
		call webhookCall
	}{
		{"tampered body", signedWith(e.paymentSecret, body, []byte(`{"paid": true, "amount": 1}`))},
		{"wrong secret", signedWith("whsec_c2ZuaG9va3MtYW5vdGhlci1zZWNyZXQ=", body, body)},
		{"stale", webhookCall{Header: jsonCT, Body: body, SignedAt: time.Now().Add(-10 * time.Minute)}},
	} {
		a := w.do(token, tc.call)
		var apiErr struct{ Error, Message string }
		if a.Status != http.StatusUnauthorized || json.Unmarshal(a.Body, &apiErr) != nil || apiErr.Error != hooks.CodeInvalidSignature {
			t.Fatalf("%q: got %d %s, want 401 %s", tc.name, a.Status, a.Body, hooks.CodeInvalidSignature)
		}
	}
	if st, err := e.hooks.GetHook(ctx, token); err != nil || !st.Waiting || st.Pending != 0 || st.Delivered != 0 {
		t.Fatalf("after the refused requests: %+v %v, want the await still parked, nothing stored or delivered", st, err)
	}
	for _, item := range e.items(token) {
		if sk, _ := item["sk"].(*dbtypes.AttributeValueMemberS); sk == nil || sk.Value != "HOOK" {
			t.Fatalf("refused requests left item %v: want only the hook item", item)
		}
	}

	// The provider's delivery, its body base64 in the event (API Gateway
	// does so for binary media types): verified on the decoded bytes; and
	// its retry (the provider timed out while the workflow had not answered
	// yet): a new timestamp and signature, the same webhook-id, sent at the
	// same time. Both events are signed now, while the webhook lives.
	deliveryID := "msg_pay_" + checkout
	events := []events.APIGatewayV2HTTPRequest{
		w.event(token, webhookCall{Header: jsonCT, Body: body, Binary: true, DeliveryID: deliveryID}),
		w.event(token, webhookCall{Header: jsonCT, Body: body, DeliveryID: deliveryID, SignedAt: time.Now().Add(time.Second)}),
	}
	answers := make(chan webhookAnswer, len(events))
	for _, ev := range events {
		go func() { answers <- w.call(ev) }()
	}
	for range events {
		if a := <-answers; a.Err != nil || a.Status != http.StatusOK || string(a.Body) != "OK" {
			t.Errorf("the delivery or its retry: got %d %q (%v) %v, want 200 OK for both", a.Status, a.Body, a.Err, a.Header)
		}
	}
	e.paymentPaid(arn, checkout)
	hist, err := e.sfn.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: &arn, IncludeExecutionData: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	deliveries := 0
	for _, ev := range hist.Events {
		if ev.Type == sfntypes.HistoryEventTypeTaskSucceeded && strings.Contains(aws.ToString(ev.TaskSucceededEventDetails.Output), deliveryID) {
			deliveries++
		}
	}
	if deliveries != 1 {
		t.Errorf("the delivery %s reached %d tasks, want 1", deliveryID, deliveries)
	}
	// A retry after the workflow disposed the webhook finds no webhook, and
	// so no configuration to verify it with: 404, like any request to a
	// disposed webhook (docs/webhooks.md, "Verified webhooks").
	if a := w.do(token, signedWith(e.paymentSecret, body, body)); a.Status != http.StatusNotFound {
		t.Errorf("retry after dispose: got %d %q, want 404", a.Status, a.Body)
	}
}

// The hook-task function refuses a createWebhook whose verify is wrong
// (InvalidRequestError, a state machine can Catch it) and creates nothing.
func TestCreateWebhookVerifyRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	stk := stacktest.RequireStack(t)
	ctx := context.Background()
	const secret = `"secretArn":"arn:aws:secretsmanager:us-east-1:123456789012:secret:sfnhooks/x"`
	for _, tc := range []struct{ name, verify string }{
		{"unknown scheme", `{"scheme":"paypal",` + secret + `}`},
		{"no secret", `{"scheme":"stripe"}`},
		{"hmac without header", `{"scheme":"hmac",` + secret + `}`},
		{"unknown field", `{"scheme":"github",` + secret + `,"secret":"plain text"}`},
	} {
		token := "verify-" + randomSuffix() + "-aaaaaaaaaaaaaaaaaaaaaa"
		_, fnErr, body := invokeDirect(t, stk, e.funcName, `{"action":"createWebhook","token":"`+token+`","executionArn":"arn:exec:verify","verify":`+tc.verify+`}`)
		var got struct {
			ErrorType, ErrorMessage string
		}
		if fnErr == "" || json.Unmarshal([]byte(body), &got) != nil || got.ErrorType != "InvalidRequestError" {
			t.Errorf("%q: function error %q body %s, want errorType InvalidRequestError", tc.name, fnErr, body)
		}
		if _, err := e.hooks.GetHook(ctx, token); !errors.Is(err, hooks.ErrHookNotFound) {
			t.Errorf("%q: GetHook after the refused create: %v, want ErrHookNotFound", tc.name, err)
		}
	}
}
