package hooks

import (
	"errors"
	"fmt"
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
)

// ConflictError reports that a token is held by a live hook of another
// execution. It matches ErrConflict with errors.Is.
type ConflictError struct {
	Token        string
	ExecutionARN string // the execution that holds the token
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("hook token %s is held by execution %s", Redact(e.Token), e.ExecutionARN)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// PayloadTooLargeError reports a payload over Limit bytes. It matches
// ErrPayloadTooLarge with errors.Is.
type PayloadTooLargeError struct {
	Size  int // bytes of the compacted JSON payload
	Limit int // bytes allowed
}

func (e *PayloadTooLargeError) Error() string {
	return fmt.Sprintf("payload is %d bytes; the limit is %d bytes (Step Functions' 256 KiB task output)", e.Size, e.Limit)
}

// Is makes errors.Is(err, ErrPayloadTooLarge) true.
func (e *PayloadTooLargeError) Is(target error) bool { return target == ErrPayloadTooLarge }
