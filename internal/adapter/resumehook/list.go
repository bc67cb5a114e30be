package resumehook

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sfnhooks/sfnhooks/internal/adapter/httpapi"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// isList reports a request of the collection route, /hooks (GET /hooks
// lists): by its route key, or, under a catch-all route ($default), by its
// exact path. "/hooks/" is the token route with an empty token.
func isList(req *events.APIGatewayV2HTTPRequest) bool {
	if _, path, ok := strings.Cut(req.RouteKey, " "); ok {
		return path == "/hooks"
	}
	return req.RawPath == "/hooks"
}

// handleList serves GET /hooks?executionArn=…&state=…&limit=…&nextToken=…:
// one page of hooks.Client.ListHooks. Unknown query parameters are ignored.
func (h *Handler) handleList(ctx context.Context, req events.APIGatewayV2HTTPRequest, start time.Time) events.APIGatewayV2HTTPResponse {
	q := req.QueryStringParameters
	if q["stateMachineArn"] != "" {
		return h.handleListStateMachine(ctx, req, start)
	}
	method := req.RequestContext.HTTP.Method
	in := hooks.ListHooksInput{ExecutionARN: q["executionArn"], State: hooks.State(q["state"]), NextToken: q["nextToken"]}
	var (
		resp events.APIGatewayV2HTTPResponse
		out  *hooks.ListHooksOutput
		err  error
	)
	switch {
	case method != http.MethodGet:
		resp = httpapi.MethodNotAllowed(method, http.MethodGet)
	case q["limit"] != "":
		in.Limit, err = listLimit(q["limit"], hooks.MaxListLimit)
	}
	if err == nil && resp.StatusCode == 0 {
		if out, err = h.hooks.ListHooks(ctx, in); err == nil {
			resp = httpapi.JSON(http.StatusOK, out)
		}
	}
	if err != nil {
		resp = httpapi.Error(err)
	}
	attrs := []slog.Attr{
		slog.String("via", "http"),
		slog.String("route", "list"),
		slog.String("executionArn", in.ExecutionARN),
		slog.Int("status", resp.StatusCode),
		slog.Duration("duration", time.Since(start)),
	}
	if out != nil {
		attrs = append(attrs, slog.Int("hooks", len(out.Hooks)), slog.Bool("more", out.NextToken != ""))
	}
	h.logResult(ctx, attrs, resp.StatusCode, err)
	return resp
}

// handleListStateMachine serves GET
// /hooks?stateMachineArn=…&state=…&tag=…&order=…&limit=…&cursor=…: one page
// of hooks.Client.ListStateMachineHooks.
func (h *Handler) handleListStateMachine(ctx context.Context, req events.APIGatewayV2HTTPRequest, start time.Time) events.APIGatewayV2HTTPResponse {
	method := req.RequestContext.HTTP.Method
	q := req.QueryStringParameters
	in := hooks.ListStateMachineHooksInput{StateMachineARN: q["stateMachineArn"], State: hooks.State(q["state"]), Tag: q["tag"],
		Order: hooks.Order(q["order"]), Cursor: q["cursor"]}
	var (
		resp events.APIGatewayV2HTTPResponse
		out  *hooks.ListStateMachineHooksOutput
		err  error
	)
	switch {
	case method != http.MethodGet:
		resp = httpapi.MethodNotAllowed(method, http.MethodGet)
	case q["executionArn"] != "":
		err = fmt.Errorf("%w: give executionArn or stateMachineArn, not both", hooks.ErrInvalidRequest)
	case q["limit"] != "":
		in.Limit, err = listLimit(q["limit"], hooks.MaxStateMachineListLimit)
	}
	if err == nil && resp.StatusCode == 0 {
		if out, err = h.hooks.ListStateMachineHooks(ctx, in); err == nil {
			resp = httpapi.JSON(http.StatusOK, out)
		}
	}
	if err != nil {
		resp = httpapi.Error(err)
	}
	attrs := []slog.Attr{
		slog.String("via", "http"),
		slog.String("route", "list"),
		slog.String("stateMachineArn", in.StateMachineARN),
		slog.Int("status", resp.StatusCode),
		slog.Duration("duration", time.Since(start)),
	}
	if out != nil {
		attrs = append(attrs, slog.Int("hooks", len(out.Hooks)), slog.Bool("more", out.Cursor != ""))
	}
	h.logResult(ctx, attrs, resp.StatusCode, err)
	return resp
}

// listLimit reads a listing's limit parameter: an integer of at least 1
// (the library bounds it above, as max says).
func listLimit(v string, max int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%w: limit %q: want an integer from 1 to %d", hooks.ErrInvalidRequest, v, max)
	}
	return n, nil
}
