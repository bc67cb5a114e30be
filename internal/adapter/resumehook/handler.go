// Package resumehook adapts Lambda events to hooks.Client.ResumeHook,
// RejectHook, Heartbeat and GetHook: API Gateway HTTP API routes POST and
// GET /hooks/{token}, POST /hooks/{token}/reject and POST
// /hooks/{token}/heartbeat, and direct invocation with
// {"token","payload","idempotencyKey"} (resume), {"action":"reject",
// "token","error","cause","idempotencyKey"} or {"action":"heartbeat","token"}.
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
	GetHook(ctx context.Context, token string, opts ...hooks.GetOption) (*hooks.HookStatus, error)
	ListHooks(ctx context.Context, in hooks.ListHooksInput) (*hooks.ListHooksOutput, error)
	ListStateMachineHooks(ctx context.Context, in hooks.ListStateMachineHooksInput) (*hooks.ListStateMachineHooksOutput, error)
	DisposeHook(ctx context.Context, token, executionARN string, opts ...hooks.DisposeOption) error
	RejectHook(ctx context.Context, token, errorName, cause string, opts ...hooks.ResumeOption) (*hooks.Hook, error)
	Heartbeat(ctx context.Context, token string) error
}

var _ Resumer = (*hooks.Client)(nil)

// Handler handles resume-hook invocations.
type Handler struct {
	hooks Resumer
	log   *slog.Logger
}

// New returns a Handler.
func New(r Resumer, log *slog.Logger) *Handler { return &Handler{hooks: r, log: log} }

// Actions of a direct invocation.
const (
	ActionResume    = "resume"    // the default: deliver payload
	ActionReject    = "reject"    // fail the await with error and cause
	ActionHeartbeat = "heartbeat" // SendTaskHeartbeat to the parked await
)

// DirectRequest is the event of a direct invocation. Action is "resume"
// when empty (payload required); "reject" takes error (required) and cause;
// "heartbeat" takes the token alone.
type DirectRequest struct {
	Action         string          `json:"action,omitempty"`
	Token          string          `json:"token"`
	Payload        json.RawMessage `json:"payload,omitempty"`
	IdempotencyKey string          `json:"idempotencyKey,omitempty"`
	// EncryptionKeyID seals the payload with this KMS key
	// (hooks.WithEncryptionKey; docs/sealed.md).
	EncryptionKeyID string `json:"encryptionKeyId,omitempty"`
	Error           string `json:"error,omitempty"`
	Cause           string `json:"cause,omitempty"`
}

// RejectBody is the body of POST /hooks/{token}/reject.
type RejectBody struct {
	Error string `json:"error"`
	Cause string `json:"cause"`
}

// DisposeAnswer is the answer to DELETE /hooks/{token}.
type DisposeAnswer struct {
	Disposed bool `json:"disposed"`
}

// HeartbeatAnswer is the answer to a heartbeat: the await is still parked.
type HeartbeatAnswer struct {
	Waiting bool `json:"waiting"`
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
// Idempotency-Key header), GET /hooks/{token}, GET /hooks (list.go), POST
// /hooks/{token}/reject (body {"error","cause"}; optional Idempotency-Key),
// POST /hooks/{token}/heartbeat and DELETE /hooks/{token}?executionArn=
// (an operator's dispose). They serve plain hooks only: a
// webhook's token answers the 404 of an unknown token.
func (h *Handler) HandleHTTP(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	start := time.Now()
	if isList(&req) {
		return h.handleList(ctx, req, start), nil
	}
	method := req.RequestContext.HTTP.Method
	token, action, err := httpapi.TokenAndAction(&req, "hooks")
	var resp events.APIGatewayV2HTTPResponse
	var hook *hooks.Hook
	switch {
	case err != nil:
	case action != "" && action != ActionReject && action != ActionHeartbeat:
		err = fmt.Errorf("%w: no route /hooks/{token}/%s", hooks.ErrHookNotFound, action)
	case action != "" && method != http.MethodPost:
		resp = httpapi.MethodNotAllowed(method, http.MethodPost)
	case action == ActionReject:
		var body []byte
		if body, err = httpapi.Body(&req); err == nil {
			var rb RejectBody
			if rb, err = decodeReject(body); err == nil {
				if hook, err = h.hooks.RejectHook(ctx, token, rb.Error, rb.Cause, resumeOptions(req.Headers["idempotency-key"], "")...); err == nil {
					resp = httpapi.JSON(http.StatusOK, hook)
				}
			}
		}
	case action == ActionHeartbeat:
		if err = h.hooks.Heartbeat(ctx, token); err == nil {
			resp = httpapi.JSON(http.StatusOK, HeartbeatAnswer{Waiting: true})
		}
	case method == http.MethodPost:
		var body []byte
		if body, err = httpapi.Body(&req); err == nil {
			if hook, err = h.hooks.ResumeHook(ctx, token, json.RawMessage(body), resumeOptions(req.Headers["idempotency-key"], req.Headers[HeaderEncryptionKey])...); err == nil {
				resp = httpapi.JSON(http.StatusOK, hook)
			}
		}
	case method == http.MethodDelete:
		// An operator's dispose (AWS_IAM, like GET /hooks): the hook of
		// that execution, whatever its kind; gone already is success. With
		// hookId, only while the token is still that hook (409 otherwise).
		exec := req.QueryStringParameters["executionArn"]
		if exec == "" {
			err = fmt.Errorf("%w: executionArn is required (the hook is disposed only while that execution holds it)", hooks.ErrInvalidRequest)
		} else if err = h.hooks.DisposeHook(ctx, token, exec, hooks.IfHookID(req.QueryStringParameters["hookId"])); err == nil {
			resp = httpapi.JSON(http.StatusOK, DisposeAnswer{Disposed: true})
		}
	case method == http.MethodGet:
		var st *hooks.HookStatus
		// Plain hooks only, as POST: a webhook's token is not found.
		if st, err = h.hooks.GetHook(ctx, token, hooks.OnlyKind(hooks.KindHook)); err == nil {
			hook = &st.Hook
			resp = httpapi.JSON(http.StatusOK, st)
		}
	default:
		resp = httpapi.MethodNotAllowed(method, http.MethodGet, http.MethodPost, http.MethodDelete)
	}
	if err != nil {
		resp = httpapi.Error(err)
	}
	h.logOutcome(ctx, "http", token, hook, resp.StatusCode, err, start)
	return resp, nil
}

// decodeReject reads a reject body: one JSON object {"error","cause"}, no
// other fields.
func decodeReject(body []byte) (RejectBody, error) {
	var rb RejectBody
	if err := decodeStrict(body, &rb); err != nil {
		return rb, fmt.Errorf("%w: the body must be {\"error\": …, \"cause\": …}: %v", hooks.ErrInvalidPayload, err)
	}
	return rb, nil
}

// decodeStrict decodes exactly one JSON object of known fields.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("the event is more than one JSON object")
	}
	return nil
}

// HandleDirect serves a direct invocation: the hook for a resume or a
// rejection, HeartbeatAnswer for a heartbeat. Like the routes, it serves
// plain hooks only: a webhook is resumed through its own URL.
func (h *Handler) HandleDirect(ctx context.Context, raw json.RawMessage) (any, error) {
	start := time.Now()
	var req DirectRequest
	err := decodeStrict(raw, &req)
	if err != nil {
		err = fmt.Errorf("%w: %v", hooks.ErrInvalidRequest, err)
	}
	var hook *hooks.Hook
	var out any
	switch {
	case err != nil:
	case req.Action == "" || req.Action == ActionResume:
		if len(req.Payload) == 0 {
			err = fmt.Errorf("%w: payload is required (use null for no data)", hooks.ErrInvalidPayload)
		} else if req.Error != "" || req.Cause != "" {
			err = fmt.Errorf("%w: error and cause belong to action %q", hooks.ErrInvalidRequest, ActionReject)
		} else {
			hook, err = h.hooks.ResumeHook(ctx, req.Token, req.Payload, resumeOptions(req.IdempotencyKey, req.EncryptionKeyID)...)
			out = hook
		}
	case req.Action == ActionReject:
		if len(req.Payload) > 0 || req.EncryptionKeyID != "" {
			err = fmt.Errorf("%w: a rejection has error and cause, not a payload or an encryption key", hooks.ErrInvalidRequest)
		} else {
			hook, err = h.hooks.RejectHook(ctx, req.Token, req.Error, req.Cause, resumeOptions(req.IdempotencyKey, "")...)
			out = hook
		}
	case req.Action == ActionHeartbeat:
		if len(req.Payload) > 0 || req.Error != "" || req.Cause != "" || req.IdempotencyKey != "" || req.EncryptionKeyID != "" {
			err = fmt.Errorf("%w: a heartbeat takes the token alone", hooks.ErrInvalidRequest)
		} else if err = h.hooks.Heartbeat(ctx, req.Token); err == nil {
			out = HeartbeatAnswer{Waiting: true}
		}
	default:
		err = fmt.Errorf("%w: unknown action %q (resume, reject or heartbeat)", hooks.ErrInvalidRequest, req.Action)
	}
	status := http.StatusOK
	if err != nil {
		status = hooks.ErrorFor(err).Status
	}
	h.logOutcome(ctx, "invoke", req.Token, hook, status, err, start)
	if err != nil {
		return nil, httpapi.InvokeError(err)
	}
	return out, nil
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
	h.logResult(ctx, attrs, status, err)
}

// logResult logs one request's outcome: attrs and, if it failed, the
// error, at error level for a 5xx.
func (h *Handler) logResult(ctx context.Context, attrs []slog.Attr, status int, err error) {
	level := slog.LevelInfo
	if err != nil {
		attrs = append(attrs, slog.Any("err", err))
		if status >= 500 {
			level = slog.LevelError
		}
	}
	h.log.LogAttrs(ctx, level, "resume-hook", attrs...)
}
