// Package resumewebhook adapts API Gateway HTTP API events (payload format
// 2.0) on ANY /webhooks/{token} to hooks.Client.ResumeWebhook, and its
// response back to the event API Gateway sends to the caller.
package resumewebhook

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sfnhooks/sfnhooks/internal/adapter/httpapi"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Resumer is what the handler needs of hooks.Client. (The approval links,
// the other public routes, are their own function: approvallink.)
type Resumer interface {
	ResumeWebhook(ctx context.Context, token string, r *http.Request) (*hooks.Response, error)
}

var _ Resumer = (*hooks.Client)(nil)

// EnvEdgeSecret names the environment variable with the edge secret
// (Handler.EdgeSecret; template.yaml sets it when PublicEdgeRateLimit is on).
const EnvEdgeSecret = httpapi.EnvEdgeSecret

// Handler handles resume-webhook invocations.
type Handler struct {
	hooks Resumer
	log   *slog.Logger
	// EdgeSecret, when set, is the value of httpapi.HeaderEdge a request
	// must carry (the template's per-client limits put CloudFront in
	// front): others get 403 before any AWS call.
	EdgeSecret string
}

// New returns a Handler.
func New(r Resumer, log *slog.Logger) *Handler { return &Handler{hooks: r, log: log} }

// Handle serves ANY /webhooks/{token}. Every outcome, errors included, is a
// response: the webhook's answer, or the JSON error of hooks.ErrorFor
// (404 for any token that is not a live webhook, 413, 502, 504, …).
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	start := time.Now()
	token, err := httpapi.Token(&req, "webhooks")
	var resp *hooks.Response
	if !httpapi.ViaEdge(&req, h.EdgeSecret) {
		out := Response(hooks.ErrorResponse(&hooks.APIError{Status: http.StatusForbidden, Code: CodeNotViaEdge,
			Message: "send this request to the URL the webhook was given"}))
		h.logOutcome(ctx, token, &req, out.StatusCode, errNotViaEdge, start)
		return out, nil
	}
	if err != nil {
		err = hooks.ErrHookNotFound // an invalid token is just a token no webhook has
	} else {
		var r *http.Request
		if r, err = Request(ctx, &req); err == nil {
			resp, err = h.hooks.ResumeWebhook(ctx, token, r)
		}
	}
	if err != nil {
		resp = hooks.ErrorResponse(err)
	}
	out := Response(resp)
	h.logOutcome(ctx, token, &req, out.StatusCode, err, start)
	return out, nil
}

// CodeNotViaEdge is the error code of a request that went around the
// distribution in front of the public routes (403).
const CodeNotViaEdge = "NotViaEdge"

var errNotViaEdge = &hooks.APIError{Status: http.StatusForbidden, Code: CodeNotViaEdge, Message: "request without the edge header"}

// Request is the http.Request of an API Gateway payload 2.0 event: its full
// URL (https://domainName + rawPath + rawQueryString), headers (API Gateway
// joins repeated headers with commas; each arrives as one value), cookies
// (the cookies field, as one Cookie header) and body (base64-decoded when
// flagged).
func Request(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	body, err := httpapi.Body(req)
	if err != nil {
		return nil, err
	}
	host := req.RequestContext.DomainName
	if host == "" {
		host = req.Headers["host"]
	}
	// An HTTP API hands rawPath over percent-decoded ("/webhooks/a b"):
	// encode it again for the URL.
	u := (&url.URL{Scheme: "https", Host: host, Path: req.RawPath, RawQuery: req.RawQueryString}).String()
	r, err := http.NewRequestWithContext(ctx, req.RequestContext.HTTP.Method, u, bytes.NewReader(body))
	if err != nil {
		return nil, hooks.ErrHookNotFound // an unparseable path names no webhook
	}
	for k, v := range req.Headers {
		r.Header.Add(k, v)
	}
	if len(req.Cookies) > 0 {
		r.Header.Set("Cookie", strings.Join(req.Cookies, "; "))
	}
	return r, nil
}

// Response is resp as the event API Gateway turns into the HTTP answer:
// header names lower case, repeated values joined with ", " except
// Set-Cookie, whose values go to the cookies field; a body that is not valid
// UTF-8 is sent base64 with isBase64Encoded.
func Response(resp *hooks.Response) events.APIGatewayV2HTTPResponse {
	out := events.APIGatewayV2HTTPResponse{StatusCode: resp.Status, Headers: map[string]string{}}
	for k, vs := range resp.Header {
		lk := strings.ToLower(k)
		if lk == "set-cookie" {
			out.Cookies = append(out.Cookies, vs...)
			continue
		}
		out.Headers[lk] = strings.Join(vs, ", ")
	}
	out.Body, out.IsBase64Encoded = hooks.EncodeBody(resp.Body)
	return out
}

func (h *Handler) logOutcome(ctx context.Context, token string, req *events.APIGatewayV2HTTPRequest, status int, err error, start time.Time) {
	outcome := "ok"
	level := slog.LevelInfo
	attrs := []slog.Attr{
		slog.Any("token", hooks.Secret(token)),
		slog.String("method", req.RequestContext.HTTP.Method),
		slog.String("apiRequestId", req.RequestContext.RequestID),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
	}
	if err != nil {
		api := hooks.ErrorFor(err)
		outcome = api.Code
		attrs = append(attrs, slog.Any("err", err))
		if api.Status >= 500 {
			level = slog.LevelError
		}
	}
	attrs = append(attrs, slog.String("outcome", outcome))
	h.log.LogAttrs(ctx, level, "resume-webhook", attrs...)
}
