// Package hooktask is the workflow side: the function a state machine's
// Task states call to create, await and dispose hooks, and the target of
// the EventBridge rule that disposes the hooks of ended executions. It also
// creates webhooks and writes their manual responses (respondWith).
package hooktask

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/sfnhooks/sfnhooks/internal/adapter/httpapi"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Hooks is what the handler needs of hooks.Client.
type Hooks interface {
	Register(ctx context.Context, in hooks.RegisterInput) (*hooks.Hook, error)
	Await(ctx context.Context, in hooks.AwaitInput) error
	Dispose(ctx context.Context, token, executionARN string) error
	DisposeExecution(ctx context.Context, executionARN string) (int, error)
	CreateWebhook(ctx context.Context, in hooks.CreateWebhookInput) (*hooks.Hook, error)
	Respond(ctx context.Context, token, executionARN, requestID string, resp hooks.Response) error
	Open(ctx context.Context, in hooks.OpenInput) (json.RawMessage, error)
	CreateLink(ctx context.Context, in hooks.CreateLinkInput) (*hooks.Link, error)
}

var _ Hooks = (*hooks.Client)(nil)

// Handler handles hook-task invocations.
type Handler struct {
	hooks Hooks
	log   *slog.Logger
}

// New returns a Handler.
func New(h Hooks, log *slog.Logger) *Handler { return &Handler{hooks: h, log: log} }

// Actions of a Request.
const (
	ActionCreate  = "create"  // register the hook; returns it (lambda:invoke)
	ActionAwait   = "await"   // register and await (lambda:invoke.waitForTaskToken)
	ActionDispose = "dispose" // dispose the hook (lambda:invoke)
	// ActionCreateWebhook registers a webhook (token generated unless
	// given) with respondWith; returns the hook with its token and url
	// (lambda:invoke). Await it with ActionAwait.
	ActionCreateWebhook = "createWebhook"
	// ActionRespond writes the response to a manual webhook's request
	// (token, requestId, response) (lambda:invoke). A second response to the
	// same request fails with ResponseAlreadySentError.
	ActionRespond = "respond"
	// ActionOpen opens a sealed payload (envelope, as the await returned
	// it) sealed for this execution (executionArn) and, when token is
	// given, for that hook, and returns the plaintext JSON as the task's
	// output (lambda:invoke). Needs kms:Decrypt (docs/sealed.md).
	ActionOpen = "open"
	// ActionLink creates an approval link for the hook (token, payload,
	// label, group, expirySeconds) and returns it under "link" with its
	// url (lambda:invoke). See docs/protocol.md, "Links".
	ActionLink = "link"
)

// Request is the Payload a Task state passes. ExecutionARN is
// $$.Execution.Id; TaskToken is $$.Task.Token (await only).
type Request struct {
	Action       string          `json:"action"`
	Token        string          `json:"token"`
	ExecutionARN string          `json:"executionArn"`
	TaskToken    string          `json:"taskToken,omitempty"`
	Metadata     json.RawMessage `json:"metadata,omitempty"`
	// RespondWith configures a webhook (createWebhook): "manual", or
	// {"mode":"manual","deadlineMs"}, or {"status","headers","body",
	// "isBase64Encoded"}. Absent or null: 202, empty body.
	RespondWith json.RawMessage `json:"respondWith,omitempty"`
	// Verify makes a webhook (createWebhook) verify its callers'
	// signatures: {"scheme", "secretArn", "toleranceSeconds", …}
	// (hooks.Verify). Absent or null: no verification.
	Verify *hooks.Verify `json:"verify,omitempty"`
	// Schema is a JSON Schema every payload must match (create, await,
	// createWebhook); a payload that fails it is refused with 422.
	Schema json.RawMessage `json:"schema,omitempty"`
	// Tags label the hook for operators (create, await, createWebhook): at
	// most 10 "key:value" strings of at most 128 bytes; the first create or
	// await that gives them sets them (GET /hooks?stateMachineArn=…&tag=…).
	Tags []string `json:"tags,omitempty"`
	// RequestID and Response are respond's request id (from the request the
	// await received) and {"status","headers","body","isBase64Encoded"}.
	RequestID string          `json:"requestId,omitempty"`
	Response  json.RawMessage `json:"response,omitempty"`
	// Limits (create, await, createWebhook): the hook's cap on pending
	// payloads; a manual webhook's cap on callers held at once; the
	// headers a webhook keeps or drops ({"keep": [...], "drop": [...]}).
	// 0 or absent: the defaults. Fixed by the hook's first registration.
	MaxPending     int                 `json:"maxPending,omitempty"`
	MaxHeldCallers int                 `json:"maxHeldCallers,omitempty"`
	Headers        *hooks.HeaderFilter `json:"headers,omitempty"`
	// Encrypt makes a created or awaited hook (create, await,
	// createWebhook) sealed: {"kmsKeyId": "…"}.
	Encrypt *hooks.Encrypt `json:"encrypt,omitempty"`
	// MaxBatch makes an await a batch await (1 to 100): the task receives
	// {"items":[…]}, the oldest stored payloads in order, as many as fit
	// Step Functions' 256 KiB output (at most 99). Absent: the payload
	// itself, as before. BatchWindowSeconds (0 to 10, with maxBatch): an
	// await that finds fewer than maxBatch stored waits until the oldest is
	// that old (docs/protocol.md, "Batch awaits").
	MaxBatch           *int    `json:"maxBatch,omitempty"`
	BatchWindowSeconds float64 `json:"batchWindowSeconds,omitempty"`
	// Envelope is open's sealed payload.
	Envelope json.RawMessage `json:"envelope,omitempty"`
	// TimeoutSeconds (await) is the Task state's TimeoutSeconds and
	// EnteredTime its $$.State.EnteredTime (RFC 3339): with them GET
	// /hooks/{token} says when the await's task times out (waitingUntil)
	// and stops saying waiting after it.
	TimeoutSeconds *int64 `json:"timeoutSeconds,omitempty"`
	EnteredTime    string `json:"enteredTime,omitempty"`
	// Payload, Label, Group and ExpirySeconds describe a link (link): the
	// payload the hook receives when the link is used (required), what it
	// does ("Approve"), the group whose first used link retires the others,
	// and its life in seconds (0: 7 days).
	Payload       json.RawMessage `json:"payload,omitempty"`
	Label         string          `json:"label,omitempty"`
	Group         string          `json:"group,omitempty"`
	ExpirySeconds int64           `json:"expirySeconds,omitempty"`
}

// Result is what a create or dispose task returns (the state's
// $.Payload with the optimized lambda:invoke integration).
type Result struct {
	*hooks.Hook
	Disposed int `json:"disposed,omitempty"`
	// Responded is the request id a respond task answered.
	Responded string `json:"responded,omitempty"`
	// Link is the link a link task created (linkId, url, label, group,
	// expiresAt, token, hookId).
	Link *hooks.Link `json:"link,omitempty"`
	// Opened is the plaintext an open task returns: when set, it is the
	// whole result.
	Opened json.RawMessage `json:"-"`
}

// MarshalJSON writes Opened as it is, else the result.
func (r *Result) MarshalJSON() ([]byte, error) {
	if r.Opened != nil {
		return r.Opened, nil
	}
	type plain Result
	return json.Marshal((*plain)(r))
}

// Handle serves a Task state's request, or an EventBridge "Step Functions
// Execution Status Change" event for an ended execution. Failures are
// returned as errors whose errorType a state machine can Catch
// (HookConflictError, InvalidRequestError, …). An await's conflict is sent
// to the awaiting task with SendTaskFailure (HookConflictError) and is not
// an invocation error.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (*Result, error) {
	start := time.Now()
	var probe struct {
		DetailType string `json:"detail-type"`
	}
	if json.Unmarshal(raw, &probe) == nil && probe.DetailType != "" {
		return h.handleEvent(ctx, raw, start)
	}
	var req Request
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		err = fmt.Errorf("%w: %v", hooks.ErrInvalidRequest, err)
		h.logOutcome(ctx, &req, nil, err, start)
		return nil, httpapi.InvokeError(err)
	}
	if req.ExecutionARN == "" && knownAction(req.Action) {
		// hook-task is the trust boundary: every action acts for the
		// execution it names, and only on what that execution holds.
		err := fmt.Errorf("%w: executionArn is required ($$.Execution.Id): hook-task acts for the execution that holds the hook", hooks.ErrInvalidRequest)
		h.logOutcome(ctx, &req, nil, err, start)
		return nil, httpapi.InvokeError(err)
	}
	reg := hooks.RegisterInput{Token: req.Token, ExecutionARN: req.ExecutionARN, Metadata: req.Metadata, Encrypt: req.Encrypt, Schema: req.Schema,
		MaxPending: req.MaxPending, Tags: req.Tags}
	var (
		res Result
		err error
	)
	switch req.Action {
	case ActionCreate:
		res.Hook, err = h.hooks.Register(ctx, reg)
	case ActionAwait:
		in := hooks.AwaitInput{RegisterInput: reg, TaskToken: req.TaskToken, BatchWindow: time.Duration(req.BatchWindowSeconds * float64(time.Second))}
		if req.MaxBatch != nil {
			in.MaxBatch = *req.MaxBatch
			if in.MaxBatch < 1 {
				in.MaxBatch = -1 // refused as out of range: 0 is not "absent"
			}
		}
		if in.Timeout, in.EnteredTime, err = awaitTimeout(req.TimeoutSeconds, req.EnteredTime); err == nil {
			err = h.hooks.Await(ctx, in)
		}
		if hooks.ErrorFor(err).Code == hooks.CodeHookConflict {
			// Delivered to the task with SendTaskFailure; the invocation itself succeeded.
			h.logOutcome(ctx, &req, nil, err, start)
			return &res, nil
		}
	case ActionDispose:
		err = h.hooks.Dispose(ctx, req.Token, req.ExecutionARN)
		if err == nil {
			res.Disposed = 1
		}
	case ActionCreateWebhook:
		in := hooks.CreateWebhookInput{Token: req.Token, ExecutionARN: req.ExecutionARN, Metadata: req.Metadata, Encrypt: req.Encrypt, Schema: req.Schema, Tags: req.Tags,
			MaxPending: req.MaxPending, MaxHeldCallers: req.MaxHeldCallers, Headers: req.Headers, Verify: req.Verify}
		if in.RespondWith, err = respondWith(req.RespondWith); err == nil {
			res.Hook, err = h.hooks.CreateWebhook(ctx, in)
		}
	case ActionRespond:
		var resp hooks.Response
		if len(req.Response) > 0 && string(req.Response) != "null" {
			if err = json.Unmarshal(req.Response, &resp); err != nil {
				err = fmt.Errorf("%w: response: %v", hooks.ErrInvalidRequest, err)
			}
		}
		if err == nil {
			if err = h.hooks.Respond(ctx, req.Token, req.ExecutionARN, req.RequestID, resp); err == nil {
				res.Responded = req.RequestID
			}
		}
	case ActionOpen:
		res.Opened, err = h.hooks.Open(ctx, hooks.OpenInput{Envelope: req.Envelope, ExecutionARN: req.ExecutionARN, Token: req.Token})
	case ActionLink:
		switch {
		case len(req.Payload) == 0:
			err = fmt.Errorf("%w: a link needs a payload (what the hook receives when the link is used)", hooks.ErrInvalidRequest)
		case req.ExpirySeconds < 0 || req.ExpirySeconds > maxExpirySeconds:
			err = fmt.Errorf("%w: expirySeconds must be between 0 (7 days) and %d", hooks.ErrInvalidRequest, maxExpirySeconds)
		default:
			res.Link, err = h.hooks.CreateLink(ctx, hooks.CreateLinkInput{
				Token: req.Token, ExecutionARN: req.ExecutionARN, Payload: req.Payload,
				Label: req.Label, Group: req.Group, Expiry: time.Duration(req.ExpirySeconds) * time.Second,
			})
		}
	default:
		err = fmt.Errorf("%w: unknown action %q (want %s, %s, %s, %s, %s, %s or %s)", hooks.ErrInvalidRequest, req.Action,
			ActionCreate, ActionAwait, ActionDispose, ActionCreateWebhook, ActionRespond, ActionLink, ActionOpen)
	}
	h.logOutcome(ctx, &req, res.Hook, err, start)
	if err != nil {
		return nil, httpapi.InvokeError(err)
	}
	return &res, nil
}

// awaitTimeout reads an await's timeoutSeconds and enteredTime (both
// optional; enteredTime needs timeoutSeconds, which hooks.Await checks).
func awaitTimeout(seconds *int64, entered string) (time.Duration, time.Time, error) {
	var (
		d  time.Duration
		at time.Time
	)
	if seconds != nil {
		if *seconds <= 0 || *seconds > int64(hooks.MaxAwaitTimeout/time.Second) {
			return 0, at, fmt.Errorf("%w: timeoutSeconds %d is out of range (1 to %d: the Task state's TimeoutSeconds)",
				hooks.ErrInvalidRequest, *seconds, int64(hooks.MaxAwaitTimeout/time.Second))
		}
		d = time.Duration(*seconds) * time.Second
	}
	if entered != "" {
		var err error
		if at, err = time.Parse(time.RFC3339Nano, entered); err != nil {
			return 0, at, fmt.Errorf("%w: enteredTime %q is not an RFC 3339 time (pass $$.State.EnteredTime)", hooks.ErrInvalidRequest, entered)
		}
	}
	return d, at, nil
}

// knownAction reports whether a is one of the actions of a Request.
func knownAction(a string) bool {
	switch a {
	case ActionCreate, ActionAwait, ActionDispose, ActionCreateWebhook, ActionRespond, ActionOpen, ActionLink:
		return true
	}
	return false
}

// maxExpirySeconds bounds a link's expirySeconds before it becomes a
// time.Duration (hooks.CreateLink then checks it against the hook TTL).
const maxExpirySeconds = 10 * 365 * 24 * 3600

// respondWith decodes a createWebhook's respondWith (nil when absent).
func respondWith(raw json.RawMessage) (*hooks.RespondWith, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var rw hooks.RespondWith
	if err := json.Unmarshal(raw, &rw); err != nil {
		return nil, fmt.Errorf("%w: respondWith: %v", hooks.ErrInvalidRequest, err)
	}
	return &rw, nil
}

// handleEvent disposes the hooks of an execution that ended. The event
// may be late: DisposeExecution asks Step Functions first, and an
// execution redriven since (running again) keeps its hooks (disposed 0).
func (h *Handler) handleEvent(ctx context.Context, raw json.RawMessage, start time.Time) (*Result, error) {
	var ev events.CloudWatchEvent
	var detail struct {
		ExecutionARN string `json:"executionArn"`
		Status       string `json:"status"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil || json.Unmarshal(ev.Detail, &detail) != nil || detail.ExecutionARN == "" {
		err := fmt.Errorf("%w: event %q has no detail.executionArn", hooks.ErrInvalidRequest, ev.DetailType)
		h.log.ErrorContext(ctx, "hook-task", slog.String("action", "execution-ended"), slog.Any("err", err))
		return nil, httpapi.InvokeError(err)
	}
	n, err := h.hooks.DisposeExecution(ctx, detail.ExecutionARN)
	h.log.LogAttrs(ctx, level(err), "hook-task",
		slog.String("action", "execution-ended"),
		slog.String("executionArn", detail.ExecutionARN),
		slog.String("status", detail.Status),
		slog.Int("disposed", n),
		slog.Duration("duration", time.Since(start)),
		slog.Any("err", err))
	if err != nil {
		return nil, err // retried by the EventBridge → Lambda async invocation
	}
	return &Result{Disposed: n}, nil
}

func level(err error) slog.Level {
	if err == nil {
		return slog.LevelInfo
	}
	if hooks.ErrorFor(err).Status < 500 {
		return slog.LevelWarn
	}
	return slog.LevelError
}

func (h *Handler) logOutcome(ctx context.Context, req *Request, hook *hooks.Hook, err error, start time.Time) {
	attrs := []slog.Attr{
		slog.String("action", req.Action),
		slog.Any("token", hooks.Secret(req.Token)),
		slog.String("executionArn", req.ExecutionARN),
		slog.Duration("duration", time.Since(start)),
	}
	if hook != nil {
		attrs = append(attrs, slog.String("hookId", hook.HookID))
	}
	outcome := "ok"
	if err != nil {
		outcome = hooks.ErrorFor(err).Code
		attrs = append(attrs, slog.Any("err", err))
	}
	attrs = append(attrs, slog.String("outcome", outcome))
	h.log.LogAttrs(ctx, level(err), "hook-task", attrs...)
}
