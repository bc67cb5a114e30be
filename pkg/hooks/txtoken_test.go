package hooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Every TransactWriteItems pkg/hooks sends carries a ClientRequestToken of
// its own logical attempt (docs/protocol.md, "Retries"): the SDK's resend
// of an attempt carries the same one (DynamoDB answers it as the attempt
// that applied), and the library's own retry after a cancellation a new
// one. moto ignores the token, so a resend there is canceled on what the
// first attempt wrote: S1 must take a cancellation on its own MSG put for
// the first attempt's success.

// wireTokens records, on the wire, the ClientRequestToken and the SDK's
// attempt number of each TransactWriteItems request.
type wireTokens struct {
	Inner aws.HTTPClient
	mu    sync.Mutex
	seen  []string // "token attempt=n"
}

func (w *wireTokens) Do(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".TransactWriteItems") && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		var in struct{ ClientRequestToken string }
		_ = json.Unmarshal(body, &in)
		attempt, _, _ := strings.Cut(r.Header.Get("Amz-Sdk-Request"), ";")
		w.mu.Lock()
		w.seen = append(w.seen, in.ClientRequestToken+" "+attempt)
		w.mu.Unlock()
	}
	return w.Inner.Do(r)
}

// TestS1ResendStoresOnce: S1's answer is lost (faults.LoseAnswer: moto
// never loses one) and the SDK resends it with the same token. moto, which
// ignores the token, cancels the resend on the MSG item the first attempt
// put: the resume is acknowledged, and the payload stored once.
func TestS1ResendStoresOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _, table := newTestClient(t, &awscalls.Counter{})
	token := "s1-resend-" + suffix()
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA}); err != nil {
		t.Fatal(err)
	}
	cfg := devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String())
	inner := cfg.HTTPClient
	if inner == nil {
		inner = awshttp.NewBuildableClient()
	}
	var once sync.Once
	lose := &faults.LoseAnswer{Inner: inner, Match: func(target string) bool {
		hit := false
		if strings.HasSuffix(target, ".TransactWriteItems") {
			once.Do(func() { hit = true })
		}
		return hit
	}}
	wire := &wireTokens{Inner: lose}
	cfg.HTTPClient = wire
	resumer, err := hooks.New(cfg, func(o *hooks.Options) { o.TableName = table })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resumer.ResumeHook(ctx, token, json.RawMessage(`{"p":1}`)); err != nil {
		t.Fatalf("resume whose S1 answer was lost and resent: %v", err)
	}
	if lose.Lost() != 1 {
		t.Fatalf("lost %d answers, want 1", lose.Lost())
	}
	if n := pending(t, c, token); n != 1 {
		t.Errorf("%d pending, want 1: the resend's cancellation on its own MSG put was not taken for the first attempt's success", n)
	}
	if len(wire.seen) != 2 {
		t.Fatalf("TransactWriteItems on the wire: %q, want the attempt and its resend", wire.seen)
	}
	first, _, _ := strings.Cut(wire.seen[0], " ")
	if first == "" || wire.seen[0] != first+" attempt=1" || wire.seen[1] != first+" attempt=2" {
		t.Errorf("TransactWriteItems on the wire: %q, want one ClientRequestToken for the attempt and its resend", wire.seen)
	}
}

// apiTokens records the ClientRequestToken of each TransactWriteItems call
// pkg/hooks makes.
type apiTokens struct {
	hooks.DynamoDBAPI
	mu     sync.Mutex
	tokens []string
}

func (a *apiTokens) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	a.mu.Lock()
	a.tokens = append(a.tokens, aws.ToString(in.ClientRequestToken))
	a.mu.Unlock()
	return a.DynamoDBAPI.TransactWriteItems(ctx, in, o...)
}

// TestTransactRetryNewToken: respond sends its transaction again after a
// TransactionConflict cancellation (the injector answers it: moto
// serializes requests and never does), with the same items but a new
// token: a new attempt, not a resend of one that applied.
func TestTransactRetryNewToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inj, tasks := faults.New(), faults.NewTasks()
	moto := dynamodb.NewFromConfig(devstack.AWSConfig(stacktest.RequireStack(t).MotoURL.String()))
	rec := &apiTokens{DynamoDBAPI: inj.DynamoDB(moto)}
	c, _, _ := newTestClient(t, &awscalls.Counter{}, func(o *hooks.Options) {
		o.DynamoDB = rec
		o.StepFunctions = inj.StepFunctions(tasks)
	})
	token := "respond-retry-" + suffix()
	if _, err := c.CreateWebhook(ctx, hooks.CreateWebhookInput{Token: token, ExecutionARN: execA}); err != nil {
		t.Fatal(err)
	}
	conflicts := 0
	inj.FailWith(func(call faults.Call) error {
		if call.Op == "DynamoDB.TransactWriteItems" && conflicts == 0 {
			conflicts++
			return &types.TransactionCanceledException{Message: aws.String("Transaction cancelled [None, TransactionConflict]"),
				CancellationReasons: []types.CancellationReason{{Code: aws.String("None")}, {Code: aws.String("TransactionConflict")}}}
		}
		return nil
	})
	if err := c.Respond(ctx, token, execA, "req-1", hooks.Response{Status: 200}); err != nil {
		t.Fatalf("respond after a TransactionConflict: %v", err)
	}
	if len(rec.tokens) != 2 || rec.tokens[0] == "" || rec.tokens[1] == "" || rec.tokens[0] == rec.tokens[1] {
		t.Errorf("respond's attempts carried the tokens %q, want two different ones", rec.tokens)
	}
}
