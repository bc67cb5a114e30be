package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// TestBatchCollect runs examples/collect-batch.asl.json on moto (issue 25):
// payloads resumed while the workflow is in its Wait state are stored and
// received in batches of at most maxBatch, in order, each once; a payload
// too large for a batch fails the batch await (HookBatchItemTooLargeError,
// caught) and is received by the example's await without maxBatch; a
// parked batch await is completed by the next resume with a batch of one.
func TestBatchCollect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := "batch-" + randomSuffix()
	big := `{"big":"` + strings.Repeat("b", hooks.MaxBatchItemBytes+1-len(`{"big":""}`)) + `"}`
	var sent []string
	for i := range 25 {
		sent = append(sent, fmt.Sprintf(`{"n":%d}`, i))
	}
	sent = slices.Insert(sent, 12, big)
	last := `{"n":"parked"}`
	arn := e.start("collect-batch", map[string]any{"token": token, "count": len(sent) + 1, "pauseSeconds": 4, "maxBatch": 10, "windowSeconds": 0})
	e.waitFor("the hook to be created", func() bool {
		_, err := e.hooks.GetHook(context.Background(), token)
		return err == nil
	})
	for i, p := range sent {
		if r := e.post(token, p, nil); r.Status != http.StatusOK {
			t.Fatalf("resume %d: status %d body %.200s", i, r.Status, r.Body)
		}
	}
	e.waitFor("every stored payload taken and the next batch await parked", func() bool {
		st, err := e.hooks.GetHook(context.Background(), token)
		if d, derr := e.sfn.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)}); derr == nil && d.Status != sfntypes.ExecutionStatusRunning {
			t.Fatalf("execution %s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		return err == nil && st.Waiting
	})
	if r := e.post(token, last, nil); r.Status != http.StatusOK {
		t.Fatalf("resume to the parked batch await: status %d body %.200s", r.Status, r.Body)
	}
	var out struct {
		Got     int `json:"got"`
		Batches int `json:"batches"`
	}
	e.succeeded(arn, &out)
	if out.Got != len(sent)+1 {
		t.Fatalf("output got %d, want %d", out.Got, len(sent)+1)
	}
	// What each await task received, from the execution's history.
	var got []string
	batches, tooLarge, lastBatch := 0, 0, 0
	in := &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), IncludeExecutionData: aws.Bool(true)}
	for {
		h, err := e.sfn.GetExecutionHistory(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range h.Events {
			switch {
			case ev.Type == sfntypes.HistoryEventTypeTaskSucceeded && strings.Contains(aws.ToString(ev.TaskSucceededEventDetails.Resource), "waitForTaskToken"):
				o := aws.ToString(ev.TaskSucceededEventDetails.Output)
				if len(o) > hooks.MaxPayloadBytes {
					t.Errorf("a task received %d bytes, over 256 KiB", len(o))
				}
				var b struct {
					Items []json.RawMessage `json:"items"`
				}
				if json.Unmarshal([]byte(o), &b) == nil && b.Items != nil {
					batches++
					lastBatch = len(b.Items)
					if len(b.Items) > 10 {
						t.Errorf("a batch of %d items, maxBatch 10", len(b.Items))
					}
					for _, it := range b.Items {
						got = append(got, string(compact(t, string(it))))
					}
				} else {
					got = append(got, string(compact(t, o))) // AwaitOne: the payload itself
				}
			case ev.Type == sfntypes.HistoryEventTypeTaskFailed && aws.ToString(ev.TaskFailedEventDetails.Error) == hooks.ErrorNameBatchItemTooLarge:
				tooLarge++
			}
		}
		if h.NextToken == nil {
			break
		}
		in.NextToken = h.NextToken
	}
	want := append(slices.Clone(sent), last)
	if !slices.Equal(got, want) {
		t.Fatalf("the awaits received %d payloads; want the %d resumed, in order, once each", len(got), len(want))
	}
	if tooLarge != 1 {
		t.Errorf("%d HookBatchItemTooLargeError, want 1", tooLarge)
	}
	if b := got[len(got)-1]; b != last || lastBatch != 1 {
		t.Errorf("the last await received %s in a batch of %d, want the parked await's batch of one", b, lastBatch)
	}
	if batches >= len(sent) {
		t.Errorf("%d batches for %d payloads stored: not batched", batches, len(sent))
	}
	t.Logf("%d payloads in %d batches", len(want), batches)
}
