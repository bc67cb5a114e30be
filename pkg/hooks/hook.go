package hooks

import (
	"encoding/json"
	"log/slog"
	"time"
)

// Kind tells a plain hook from a webhook.
type Kind string

const (
	KindHook    Kind = "hook"
	KindWebhook Kind = "webhook"
)

// Hook is a live hook as callers see it. It mirrors the seed's Hook
// (token, runId, metadata): RunID there is ExecutionARN here.
type Hook struct {
	Token        string          `json:"token"`
	HookID       string          `json:"hookId"`
	ExecutionARN string          `json:"executionArn"`
	Kind         Kind            `json:"kind"`
	Metadata     json.RawMessage `json:"metadata,omitempty"`
	CreatedAt    time.Time       `json:"createdAt"`
	// URL is the public URL of a webhook (empty for a plain hook or when no
	// base URL is configured).
	URL string `json:"url,omitempty"`
	// RespondWith is how a webhook answers its HTTP callers (nil for a plain
	// hook).
	RespondWith *RespondWith `json:"respondWith,omitempty"`
	// Verify is how a verified webhook checks its callers' signatures
	// (nil: it does not).
	Verify *Verify `json:"verify,omitempty"`
	// Encrypt is set for a sealed hook: its payloads are sealed with a data
	// key of Encrypt.KMSKeyID (docs/sealed.md).
	Encrypt *Encrypt `json:"encrypt,omitempty"`
	// Tags are the hook's tags ("key:value", at most MaxTags), kept from
	// the first create or await that gives them; ListStateMachineHooks
	// filters on one.
	Tags []string `json:"tags,omitempty"`
}

// HookStatus is a Hook with its delivery state, as GetHook returns it.
type HookStatus struct {
	Hook
	// Waiting is true while an await of the execution is parked on the hook
	// and nothing is pending.
	Waiting bool `json:"waiting"`
	// WaitingUntil is when the parked await's task times out, if that
	// await gave its timeout (AwaitInput.Timeout); Waiting is false from
	// then on. Nil when the await gave none or none is parked.
	WaitingUntil *time.Time `json:"waitingUntil,omitempty"`
	// Pending counts acknowledged payloads not yet delivered to an await.
	Pending int64 `json:"pending"`
	// Delivered counts payloads handed to awaits so far. A payload handed to
	// an await whose task had already ended (a timeout) and then handed out
	// again counts each time; the execution's history is the record of what
	// it received.
	Delivered int64 `json:"delivered"`
	// Schema is the JSON Schema every payload of the hook must match, as
	// stored (GetHook only; absent when the hook has none).
	Schema json.RawMessage `json:"schema,omitempty"`
}

// LogValue implements slog.LogValuer: the token is logged as its fingerprint.
func (h *Hook) LogValue() slog.Value {
	if h == nil {
		return slog.Value{}
	}
	return slog.GroupValue(
		slog.String("token", Redact(h.Token)),
		slog.String("hookId", h.HookID),
		slog.String("executionArn", h.ExecutionARN),
	)
}
