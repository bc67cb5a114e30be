package resumewebhook_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sfnhooks/sfnhooks/internal/adapter/resumewebhook"
	"github.com/sfnhooks/sfnhooks/internal/testbench/awsstub"
)

// BenchmarkHandleStaticWebhook is the whole resume-webhook path of one
// request to a static webhook with an await parked, with the AWS clients
// stubbed out (awsstub): the event turned into an *http.Request, the request
// into the JSON payload, the resume answered in memory, the static 202
// encoded, the outcome logged.
func BenchmarkHandleStaticWebhook(b *testing.B) {
	c, err := awsstub.ParkedClient("wh-42", "webhook", `{"mode":"static"}`)
	if err != nil {
		b.Fatal(err)
	}
	h := resumewebhook.New(c, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "ANY /webhooks/{token}", RawPath: "/webhooks/wh-42", RawQueryString: "source=psp",
		Headers:        map[string]string{"content-type": "application/json", "host": "hooks.example.test", "x-signature": "t=1,v1=abc"},
		PathParameters: map[string]string{"token": "wh-42"},
		Body:           `{"paid": true, "amount": 4200}`,
	}
	ev.RequestContext.HTTP.Method, ev.RequestContext.HTTP.Path = "POST", ev.RawPath
	ev.RequestContext.DomainName = "hooks.example.test"
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := h.Handle(ctx, ev)
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode != 202 {
			b.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
	}
}
