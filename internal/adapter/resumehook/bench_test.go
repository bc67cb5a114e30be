package resumehook_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sfnhooks/sfnhooks/internal/adapter/resumehook"
	"github.com/sfnhooks/sfnhooks/internal/testbench/awsstub"
)

// BenchmarkHandleHTTPResume is the whole resume-hook path of one POST
// /hooks/{token} with an await parked, with the AWS clients stubbed out
// (awsstub): the event's JSON decoded, the token and body read, the resume
// (its conditional write and SendTaskSuccess answered in memory), the
// response encoded, the outcome logged. What is left is the handler's own
// cost, to set beside the two network round trips of a real resume.
func BenchmarkHandleHTTPResume(b *testing.B) {
	c, err := awsstub.ParkedClient("approval-42", "hook", "")
	if err != nil {
		b.Fatal(err)
	}
	h := resumehook.New(c, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /hooks/{token}", RawPath: "/hooks/approval-42",
		Headers:        map[string]string{"content-type": "application/json", "idempotency-key": ""},
		PathParameters: map[string]string{"token": "approval-42"},
		Body:           `{"approved": true, "by": "alice"}`,
	}
	ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = "POST", ev.RawPath
	raw, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		out, err := h.Handle(ctx, raw)
		if err != nil {
			b.Fatal(err)
		}
		if resp := out.(events.APIGatewayV2HTTPResponse); resp.StatusCode != 200 {
			b.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
	}
}
