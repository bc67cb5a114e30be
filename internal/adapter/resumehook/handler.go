// Package resumehook adapts Lambda events to hooks.Client.ResumeHook and
// GetHook: API Gateway HTTP API routes POST and GET /hooks/{token}, and
// direct invocation with {"token","payload","idempotencyKey"}.
package resumehook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sfnhooks/sfnhooks/internal/adapter/httpapi"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Resumer is what the handler needs of hooks.Client.
type Resumer interface {
	ResumeHook(ctx context.Context, token string, payload any, opts ...hooks.ResumeOption) (*hooks.Hook, error)
	GetHook(ctx context.Context, token string) (*hooks.HookStatus, error)
	ListHooks(ctx context.Context, in hooks.ListHooksInput) (*hooks.ListHooksOutput, error)
}

var _ Resumer = (*hooks.Client)(nil)

// Handler handles resume-hook invocations.
type Handler struct {
	hooks Resumer
	log   *slog.Logger
}

// New returns a Handler.
func New(r Resumer, log *slog.Logger) *Handler { return &Handler{hooks: r, log: log} }

// DirectRequest is the event of a direct invocation.
type DirectRequest struct {
	Token          string          `json:"token"`
	Payload        json.RawMessage `json:"payload"`
	IdempotencyKey string          `json:"idempotencyKey,omitempty"`
	// EncryptionKeyID seals the payload with this KMS key
	// (hooks.WithEncryptionKey; docs/sealed.md).
	EncryptionKeyID string `json:"encryptionKeyId,omitempty"`
}

// HeaderEncryptionKey is the HTTP header that asks for
// hooks.WithEncryptionKey (lower case: API Gateway's payload 2.0).
const HeaderEncryptionKey = "x-sfnhooks-encryption-key"

// Handle dispatches an HTTP API event or a direct invocation. HTTP outcomes,
// errors included, are returned as responses; a direct invocation returns
// the hook or an error whose errorType names the failure.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	if httpapi.IsHTTPEvent(raw) {
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, fmt.Errorf("decode HTTP API event: %w", err)
		}
		return h.HandleHTTP(ctx, req)
	}
	return h.HandleDirect(ctx, raw)
}

// HandleHTTP serves POST /hooks/{token} (body: the JSON payload; optional
// Idempotency-Key header), GET /hooks/{token} and GET /hooks (list.go).
func (h *Handler) HandleHTTP(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	start := time.Now()
	if isList(&req) {
		return h.handleList(ctx, req, start), nil
	}
	method := req.RequestContext.HTTP.Method
	token, err := httpapi.Token(&req, "hooks")
	var resp events.APIGatewayV2HTTPResponse
	var hook *hooks.Hook
	switch {
	case err != nil:
	case method == http.MethodPost:
		var body []byte
		if body, err = httpapi.Body(&req); err == nil {
			if hook, err = h.hooks.ResumeHook(ctx, token, json.RawMessage(body), resumeOptions(req.Headers["idempotency-key"], req.Headers[HeaderEncryptionKey])...); err == nil {
				resp = httpapi.JSON(http.StatusOK, hook)
			}
		}
	case method == http.MethodGet:
		var st *hooks.HookStatus
		if st, err = h.hooks.GetHook(ctx, token); err == nil {
			hook = &st.Hook
			resp = httpapi.JSON(http.StatusOK, st)
		}
	default:
		resp = httpapi.MethodNotAllowed(method, http.MethodGet, http.MethodPost)
	}
	if err != nil {
		resp = httpapi.Error(err)
	}
	h.logOutcome(ctx, "http", token, hook, resp.StatusCode, err, start)
	return resp, nil
}

// HandleDirect serves a direct invocation.
func (h *Handler) HandleDirect(ctx context.Context, raw json.RawMessage) (*hooks.Hook, error) {
	start := time.Now()
	var req DirectRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("the event is more than one JSON object")
		}
	}
	if err != nil {
		err = fmt.Errorf("%w: %v", hooks.ErrInvalidRequest, err)
	} else if len(req.Payload) == 0 {
		err = fmt.Errorf("%w: payload is required (use null for no data)", hooks.ErrInvalidPayload)
	}
	var hook *hooks.Hook
	if err == nil {
		hook, err = h.hooks.ResumeHook(ctx, req.Token, req.Payload, resumeOptions(req.IdempotencyKey, req.EncryptionKeyID)...)
	}
	status := http.StatusOK
	if err != nil {
		status = hooks.ErrorFor(err).Status
	}
	h.logOutcome(ctx, "invoke", req.Token, hook, status, err, start)
	if err != nil {
		return nil, httpapi.InvokeError(err)
	}
	return hook, nil
}

func resumeOptions(idemKey, encKey string) []hooks.ResumeOption {
	var opts []hooks.ResumeOption
	if idemKey != "" {
		opts = append(opts, hooks.WithIdempotencyKey(idemKey))
	}
	if encKey != "" {
		opts = append(opts, hooks.WithEncryptionKey(encKey))
	}
	return opts
}

func (h *Handler) logOutcome(ctx context.Context, via, token string, hook *hooks.Hook, status int, err error, start time.Time) {
	attrs := []slog.Attr{
		slog.String("via", via),
		slog.Any("token", hooks.Secret(token)),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
	}
	if hook != nil {
		attrs = append(attrs, slog.String("hookId", hook.HookID), slog.String("executionArn", hook.ExecutionARN))
	}
	level := slog.LevelInfo
	if err != nil {
		attrs = append(attrs, slog.Any("err", err))
		if status >= 500 {
			level = slog.LevelError
		}
	}
	h.log.LogAttrs(ctx, level, "resume-hook", attrs...)
}
