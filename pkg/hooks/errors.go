package hooks

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Test for them with errors.Is; the HTTP adapters map each
// to one status code (see docs/errors.md).
var (
	// ErrHookNotFound: no live hook has the token (never created, disposed, or
	// its execution ended). Nothing was stored. HTTP 404.
	ErrHookNotFound = errors.New("hook not found")

	// ErrInvalidToken: the token is empty, too long or has characters a token
	// may not have. HTTP 400.
	ErrInvalidToken = errors.New("invalid token")

	// ErrInvalidPayload: the payload is not a single JSON value. HTTP 400.
	ErrInvalidPayload = errors.New("invalid payload")

	// ErrPayloadTooLarge is matched by *PayloadTooLargeError. HTTP 413.
	ErrPayloadTooLarge = errors.New("payload too large")

	// ErrIdempotencyMismatch: the idempotency key was already used with a
	// different payload. Nothing was stored. HTTP 422.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different payload")

	// ErrConflict is matched by *ConflictError. HTTP 409.
	ErrConflict = errors.New("hook token held by another execution")

	// ErrContention: the hook changed under every attempt of a conditional
	// write (extreme contention on one token). Nothing was stored; the call
	// is safe to retry. HTTP 503.
	ErrContention = errors.New("hook is under contention, retry")

	// ErrInvalidRequest: a workflow-side request misses a required field.
	ErrInvalidRequest = errors.New("invalid request")

	// ErrResponseAlreadySent: a webhook response for this request id was
	// already written; the first one stands. HTTP 409; Lambda errorType
	// ResponseAlreadySentError.
	ErrResponseAlreadySent = errors.New("response already sent")

	// ErrResponseTimeout is matched by a *NoResponseError: a manual webhook
	// did not respond before its deadline. The request was delivered. HTTP 504.
	ErrResponseTimeout = errors.New("webhook response timed out")

	// ErrInvalidSignature: a request to a verified webhook has a missing or
	// wrong signature, or a signed timestamp outside the tolerance. Nothing
	// was stored. HTTP 401.
	ErrInvalidSignature = errors.New("invalid webhook signature")

	// ErrWebhookGone is matched by a *NoResponseError: the webhook was
	// disposed (or its execution ended) while its caller waited for a manual
	// response. HTTP 502.
	ErrWebhookGone = errors.New("webhook disposed before it responded")

	// ErrTooManyPending: the hook already stores as many undelivered
	// payloads as its cap (RegisterInput.MaxPending, default
	// Options.MaxPending). Nothing was stored. HTTP 429 with Retry-After.
	ErrTooManyPending = errors.New("too many payloads pending on this hook")

	// ErrTooManyWaiting: a manual webhook already holds as many callers as
	// its cap (CreateWebhookInput.MaxHeldCallers, default
	// Options.MaxHeldCallers). Nothing was stored. HTTP 429 with
	// Retry-After.
	ErrTooManyWaiting = errors.New("too many callers waiting on this webhook")

	// ErrWeakWebhookToken: a caller-chosen webhook token carries fewer than
	// 128 bits (MinWebhookTokenLength URL-safe characters) and the webhook
	// does not verify signatures. Nothing was created. HTTP 400; Lambda
	// errorType WeakWebhookTokenError.
	ErrWeakWebhookToken = errors.New("webhook token is too weak")

	// ErrWeakSigningKey: a verified webhook's secret holds a signing key
	// shorter than MinSigningKeyBytes (a Standard Webhooks "whsec_" is an
	// empty key, with which anyone can sign). CreateWebhook refuses it
	// (with ErrInvalidRequest: HTTP 400, InvalidRequestError); at
	// verification the weak key is never used, and a secret with no other
	// key fails the request with a 500 (InternalError), nothing stored.
	ErrWeakSigningKey = errors.New("webhook signing key is too short")

	// ErrEncryptionKey: a resume's encryption key cannot seal for this hook:
	// the hook is sealed with another key (WithEncryptionKey must name the
	// hook's own key), or KMS refused a data key of it (unknown, disabled,
	// not allowed). Nothing was stored. HTTP 400.
	ErrEncryptionKey = errors.New("encryption key refused")

	// ErrNotSealed: what was given to Open is not a sealed envelope this
	// package knows. HTTP 400; Lambda errorType NotSealedError.
	ErrNotSealed = errors.New("not a sealed payload")

	// ErrOpenRefused: a sealed envelope cannot be opened: KMS refused its
	// data key (wrong key, wrong encryption context, no kms:Decrypt), its
	// ciphertext or context does not authenticate, or it was sealed for
	// another execution. HTTP 403; Lambda errorType SealedPayloadRefusedError.
	ErrOpenRefused = errors.New("sealed payload refused")
)

// NoResponseError reports that the caller of a manual webhook got no
// response: the deadline passed (errors.Is ErrResponseTimeout) or the
// webhook went away (errors.Is ErrWebhookGone). The request itself was
// acknowledged: it was delivered to the workflow or stored for its next
// await, and is not lost.
type NoResponseError struct {
	RequestID string
	Deadline  time.Duration
	Gone      bool // the webhook was disposed while waiting
}

func (e *NoResponseError) Error() string {
	if e.Gone {
		return fmt.Sprintf("request %s was delivered to the workflow, but the webhook was disposed before it responded", e.RequestID)
	}
	return fmt.Sprintf("request %s was delivered to the workflow, but it did not respond within %s", e.RequestID, e.Deadline)
}

// Is makes errors.Is match ErrWebhookGone or ErrResponseTimeout.
func (e *NoResponseError) Is(target error) bool {
	if e.Gone {
		return target == ErrWebhookGone
	}
	return target == ErrResponseTimeout
}

// ResponseTooLargeError reports a webhook response whose item would exceed
// DynamoDB's item limit. It matches ErrPayloadTooLarge with errors.Is.
type ResponseTooLargeError struct {
	Size  int // bytes of the response item
	Limit int // bytes allowed
}

func (e *ResponseTooLargeError) Error() string {
	return fmt.Sprintf("response is %d bytes as a DynamoDB item; the limit is %d bytes (DynamoDB's 400 KB item size)", e.Size, e.Limit)
}

// Is makes errors.Is(err, ErrPayloadTooLarge) true.
func (e *ResponseTooLargeError) Is(target error) bool { return target == ErrPayloadTooLarge }

// ConflictError reports that a token is held by a live hook of another
// execution. It matches ErrConflict with errors.Is.
type ConflictError struct {
	Token        string
	ExecutionARN string // the execution that holds the token
	// HookID is set when a dispose named the hook by its id (IfHookID) and
	// the token is now another hook of the same execution: this one.
	HookID string
}

func (e *ConflictError) Error() string {
	if e.HookID != "" {
		return fmt.Sprintf("hook token %s of execution %s is now hook %s: the hook named is gone, and hook %s was not disposed", Redact(e.Token), e.ExecutionARN, e.HookID, e.HookID)
	}
	return fmt.Sprintf("hook token %s is held by execution %s", Redact(e.Token), e.ExecutionARN)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// PayloadTooLargeError reports a payload over Limit bytes. It matches
// ErrPayloadTooLarge with errors.Is.
type PayloadTooLargeError struct {
	Size  int // bytes of the compacted JSON payload (of its sealed envelope when Plaintext > 0)
	Limit int // bytes allowed
	// Plaintext is the size of the payload before sealing when the sealed
	// envelope is what exceeds Limit (a sealed hook); 0 otherwise.
	Plaintext int
}

func (e *PayloadTooLargeError) Error() string {
	if e.Plaintext > 0 {
		return fmt.Sprintf("sealed payload is %d bytes (%d bytes before sealing); the limit is %d bytes (Step Functions' 256 KiB task output) and applies to the sealed envelope", e.Size, e.Plaintext, e.Limit)
	}
	return fmt.Sprintf("payload is %d bytes; the limit is %d bytes (Step Functions' 256 KiB task output)", e.Size, e.Limit)
}

// Is makes errors.Is(err, ErrPayloadTooLarge) true.
func (e *PayloadTooLargeError) Is(target error) bool { return target == ErrPayloadTooLarge }
