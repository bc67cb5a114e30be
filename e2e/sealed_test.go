package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnhooks/sfnhooks/internal/adapter/hooktask"
	"github.com/sfnhooks/sfnhooks/internal/adapter/resumehook"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Sealed payloads end to end (docs/sealed.md) on moto's KMS, whose Decrypt
// really checks the key and the encryption context (moto/kms/utils.py
// decrypt: AES-GCM with the context as additional data; models.py: a KeyId
// other than the ciphertext's is AccessDeniedException).

const sealMarker = "SEALED-PLAINTEXT-MARKER-91c2"

func (e *env) kmsKey() string {
	e.t.Helper()
	out, err := kms.NewFromConfig(devstack.AWSConfig(stacktest.RequireStack(e.t).MotoURL.String())).CreateKey(context.Background(), &kms.CreateKeyInput{
		Description: aws.String("sfnhooks e2e " + e.t.Name()),
	})
	if err != nil {
		e.t.Fatalf("create KMS key: %v", err)
	}
	return aws.ToString(out.KeyMetadata.Arn)
}

// sealedMachine creates examples/sealed.asl.json bound to this env's
// function and key, as template.yaml's DefinitionSubstitutions do.
func (e *env) sealedMachine(key string) string {
	e.t.Helper()
	def, err := os.ReadFile(filepath.Join("..", "examples", "sealed.asl.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	fnARN := "arn:aws:lambda:" + devstack.DefaultRegion + ":" + account + ":function:" + e.funcName
	text := bindExample(string(def), "${HookTaskFunctionArn}", fnARN, "${HooksKmsKeyArn}", key)
	out, err := e.sfn.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name:       aws.String("sealed-" + e.funcName),
		Definition: aws.String(text),
		RoleArn:    aws.String("arn:aws:iam::" + account + ":role/sfnhooks-example"),
	})
	if err != nil {
		e.t.Fatalf("create sealed state machine: %v", err)
	}
	return aws.ToString(out.StateMachineArn)
}

// taskOutputs returns the output of every TaskSucceeded event of arn.
func (e *env) taskOutputs(arn string) []string {
	e.t.Helper()
	out, err := e.sfn.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: &arn})
	if err != nil {
		e.t.Fatal(err)
	}
	var outs []string
	for _, ev := range out.Events {
		if ev.Type == sfntypes.HistoryEventTypeTaskSucceeded && ev.TaskSucceededEventDetails != nil {
			outs = append(outs, aws.ToString(ev.TaskSucceededEventDetails.Output))
		}
	}
	return outs
}

// hookTask invokes the real hook-task handler with req, as a Task state does.
func (e *env) hookTask(req any) (json.RawMessage, error) {
	e.t.Helper()
	raw, _ := json.Marshal(req)
	log := slog.New(slog.NewJSONHandler(testWriter{e.t}, &slog.HandlerOptions{Level: slog.LevelError}))
	res, err := hooktask.New(e.hooks, log).Handle(context.Background(), raw)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(res)
	if err != nil {
		e.t.Fatal(err)
	}
	return b, nil
}

// A sealed hook through a real execution: created sealed by the await,
// resumed by the real resume-hook handler without a key (so with the
// hook's), the await's output is the envelope, the stored item never holds
// the plaintext, and the workflow's open action returns it.
func TestSealedApprovalRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.kmsKey()
	machine := e.sealedMachine(key)
	order := randomSuffix()
	start, err := e.sfn.StartExecution(context.Background(), &sfn.StartExecutionInput{
		StateMachineArn: &machine, Name: aws.String("sealed-" + order), Input: aws.String(`{"orderId":"` + order + `"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(start.ExecutionArn)
	token := "approval-" + order
	e.waiting(token)

	e.calls.Reset()
	resp := e.post(token, `{"approved":true,"note":"`+sealMarker+`"}`, nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("resume: %d %s", resp.Status, resp.Body)
	}
	// A waiting sealed hook: R1 refused (the hook is sealed; its item comes
	// back), GenerateDataKey, R1, SendTaskSuccess.
	if got, want := e.calls.String(), "DynamoDB.UpdateItem=2 KMS.GenerateDataKey=1 SFN.SendTaskSuccess=1"; got != want {
		t.Errorf("AWS calls of a sealed resume: got %s, want %s", got, want)
	}
	var hook hooks.Hook
	if err := json.Unmarshal([]byte(resp.Body), &hook); err != nil || hook.Encrypt == nil || hook.Encrypt.KMSKeyID != key {
		t.Fatalf("resume answered %s (%v): want the hook with its key", resp.Body, err)
	}
	// The hook item holds the delivery in flight: sealed.
	items, _ := json.Marshal(e.items(token))
	if strings.Contains(string(items), sealMarker) {
		t.Fatalf("the hook's items hold the plaintext: %s", items)
	}
	// The delivery may still be in flight (the hook item holds it, sealed)
	// or already committed and the hook disposed by the workflow: the
	// envelope is checked in the execution's output below.
	if strings.Contains(string(items), `"inflight"`) && !strings.Contains(string(items), `sfnhooks:sealed`) {
		t.Errorf("the hook item holds a delivery in flight that is not an envelope: %s", items)
	}

	var out struct {
		Sealed  json.RawMessage `json:"sealed"`
		Opened  struct{ Payload map[string]any }
		Outcome string `json:"outcome"`
	}
	e.succeeded(arn, &out)
	if out.Outcome != "approved" || out.Opened.Payload["note"] != sealMarker {
		t.Errorf("execution output: outcome %q, opened %v; want approved with the note", out.Outcome, out.Opened.Payload)
	}
	env, err := hooks.ParseEnvelope(out.Sealed)
	if err != nil {
		t.Fatalf("the await's output is not an envelope: %v: %s", err, out.Sealed)
	}
	if want := (hooks.SealContext{Token: token, HookID: hook.HookID, ExecutionARN: arn}); env.Context != want || env.KeyID != key {
		t.Errorf("envelope: context %+v key %s; want %+v key %s", env.Context, env.KeyID, want, key)
	}
	awaitOut := e.taskOutputs(arn)
	if len(awaitOut) == 0 || !strings.Contains(awaitOut[0], "sfnhooks:sealed") || strings.Contains(awaitOut[0], sealMarker) {
		t.Errorf("the await's TaskSucceeded output: %q; want the envelope, no plaintext", awaitOut)
	}

	// The open action refuses an envelope of another execution, or one
	// whose context or key was changed.
	edit := func(f func(*hooks.Envelope)) json.RawMessage {
		c := *env
		f(&c)
		b, _ := json.Marshal(c)
		return b
	}
	other := e.kmsKey()
	for _, tc := range []struct {
		name     string
		envelope json.RawMessage
		exec     string
		token    string
		want     string
	}{
		{"the execution it was sealed for", out.Sealed, arn, "", ""},
		{"the execution and hook it was sealed for", out.Sealed, arn, token, ""},
		{"another execution", out.Sealed, arn + "-other", "", "SealedPayloadRefusedError"},
		{"another hook of the execution", out.Sealed, arn, token + "-other", "SealedPayloadRefusedError"},
		{"context rewritten to another execution", edit(func(c *hooks.Envelope) { c.Context.ExecutionARN = arn + "-x" }), arn + "-x", "", "SealedPayloadRefusedError"},
		{"context rewritten to another hook", edit(func(c *hooks.Envelope) { c.Context.Token = "approval-x" }), arn, "approval-x", "SealedPayloadRefusedError"},
		{"another key", edit(func(c *hooks.Envelope) { c.KeyID = other }), arn, "", "SealedPayloadRefusedError"},
		{"not sealed", json.RawMessage(`{"approved":true}`), arn, "", "NotSealedError"},
	} {
		got, err := e.hookTask(map[string]any{"action": "open", "envelope": tc.envelope, "executionArn": tc.exec, "token": tc.token})
		var errType string
		var ie messages.InvokeResponse_Error
		if errors.As(err, &ie) {
			errType = ie.Type
		} else if err != nil {
			errType = err.Error()
		}
		if errType != tc.want {
			t.Errorf("open, %s: got %s %s, want error %q", tc.name, got, errType, tc.want)
		}
		if tc.want == "" && !strings.Contains(string(got), sealMarker) {
			t.Errorf("open, %s: got %s, want the plaintext", tc.name, got)
		}
	}
}

// A plain hook resumed with a key over HTTP (X-Sfnhooks-Encryption-Key)
// stays sealed end to end: the workflow receives the envelope, which only
// the open action turns back into the payload.
func TestPlainHookResumedWithKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.kmsKey()
	order := randomSuffix()
	arn := e.start("approval", map[string]string{"orderId": order})
	token := "approval-" + order
	e.waiting(token)
	e.calls.Reset()
	resp := e.post(token, `{"approved":true,"note":"`+sealMarker+`"}`, map[string]string{resumehook.HeaderEncryptionKey: key})
	if resp.Status != http.StatusOK {
		t.Fatalf("resume: %d %s", resp.Status, resp.Body)
	}
	// The key is given: the hook is read first, then sealed, R1, sent.
	if got, want := e.calls.String(), "DynamoDB.GetItem=1 DynamoDB.UpdateItem=1 KMS.GenerateDataKey=1 SFN.SendTaskSuccess=1"; got != want {
		t.Errorf("AWS calls of a resume with a key: got %s, want %s", got, want)
	}
	var out struct {
		Decision json.RawMessage `json:"decision"`
		Outcome  string          `json:"outcome"`
	}
	e.succeeded(arn, &out)
	if strings.Contains(string(out.Decision), sealMarker) || out.Outcome != "rejected" {
		t.Fatalf("the plain workflow got %s (%s): want the envelope, which it cannot read", out.Decision, out.Outcome)
	}
	env, err := hooks.ParseEnvelope(out.Decision)
	if err != nil || env.KeyID != key {
		t.Fatalf("decision %s (%v): want an envelope of %s", out.Decision, err, key)
	}
	got, err := e.hookTask(map[string]any{"action": "open", "envelope": out.Decision, "executionArn": arn})
	if err != nil || !strings.Contains(string(got), sealMarker) {
		t.Errorf("open: got %s, %v; want the payload", got, err)
	}
}

// A sealed webhook: each request is sealed by the resume-webhook function.
func TestSealedWebhookRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := e.kmsKey()
	w := e.webhookRoute()
	exec := "arn:aws:states:" + devstack.DefaultRegion + ":" + account + ":execution:sealed-webhook:" + randomSuffix()
	created, err := e.hookTask(map[string]any{"action": "createWebhook", "executionArn": exec, "encrypt": map[string]string{"kmsKeyId": key}})
	if err != nil {
		t.Fatal(err)
	}
	var hook hooks.Hook
	if err := json.Unmarshal(created, &hook); err != nil || hook.Encrypt == nil {
		t.Fatalf("createWebhook answered %s (%v): want a sealed webhook", created, err)
	}
	if a := w.do(hook.Token, webhookCall{Body: []byte(sealMarker)}); a.Status != http.StatusAccepted {
		t.Fatalf("webhook call: %d %s", a.Status, a.Body)
	}
	items, _ := json.Marshal(e.items(hook.Token))
	if strings.Contains(string(items), sealMarker) || !strings.Contains(string(items), "sfnhooks:sealed") {
		t.Fatalf("stored webhook request: want only its envelope: %s", items)
	}
}

// A direct invocation of resume-hook asks for the override with
// "encryptionKeyId"; a sealed hook refuses another key than its own.
func TestDirectInvokeWithKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key, other := e.kmsKey(), e.kmsKey()
	exec := "arn:aws:states:" + devstack.DefaultRegion + ":" + account + ":execution:direct:" + randomSuffix()
	plain, sealed := "direct-plain-"+randomSuffix(), "direct-sealed-"+randomSuffix()
	for _, req := range []map[string]any{
		{"action": "create", "token": plain, "executionArn": exec},
		{"action": "create", "token": sealed, "executionArn": exec, "encrypt": map[string]string{"kmsKeyId": key}},
	} {
		if _, err := e.hookTask(req); err != nil {
			t.Fatal(err)
		}
	}
	invoke := func(token, keyID string) error {
		in, _ := json.Marshal(map[string]any{"token": token, "payload": map[string]string{"note": sealMarker}, "encryptionKeyId": keyID})
		_, err := e.resume.Invoke(context.Background(), in)
		return err
	}
	if err := invoke(plain, other); err != nil {
		t.Fatalf("plain hook with a key: %v", err)
	}
	if err := invoke(sealed, other); err == nil || !strings.Contains(err.Error(), "EncryptionKeyRefused") {
		t.Fatalf("sealed hook with another key: got %v, want EncryptionKeyRefusedError", err)
	}
	items, _ := json.Marshal(append(e.items(plain), e.items(sealed)...))
	if strings.Contains(string(items), sealMarker) || strings.Count(string(items), "sfnhooks:sealed") != 1 {
		t.Fatalf("want exactly one envelope (the plain hook's) and no plaintext: %s", items)
	}
}
