package hooks

import (
	"errors"
	"net/http"
	"strings"
)

// APIError is how an error is shown to a caller: an HTTP status, a stable
// code (the "error" field of the JSON body, and the Lambda errorType of a
// direct invocation) and a human message.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"error"`
	Message string `json:"message"`
	// RetryAfter, when positive, is the Retry-After header (seconds) of a
	// 429: when to try again.
	RetryAfter int `json:"-"`
	// Details lists what failed, for a SchemaValidation error (each
	// {"instanceLocation","keywordLocation","error"}); absent otherwise.
	Details []SchemaViolation `json:"details,omitempty"`
}

// RetryAfterSeconds is the Retry-After of a 429 (TooManyPending,
// TooManyWaiting): pending payloads drain at the workflow's next awaits
// and held callers leave within the webhook's deadline; a few seconds
// spreads retries without holding a well-behaved sender back for long.
const RetryAfterSeconds = 5

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// Error codes. The README ("Errors") and docs/errors.md list them with their
// statuses (docs/errors_test.go holds both tables to ErrorFor).
const (
	CodeHookNotFound        = "HookNotFound"
	CodeHookNotWaiting      = "HookNotWaiting"
	CodeSchemaValidation    = "SchemaValidation"
	CodeInvalidToken        = "InvalidToken"
	CodeInvalidPayload      = "InvalidPayload"
	CodeInvalidRequest      = "InvalidRequest"
	CodePayloadTooLarge     = "PayloadTooLarge"
	CodeIdempotencyMismatch = "IdempotencyKeyMismatch"
	CodeHookConflict        = "HookConflict"
	CodeContention          = "Contention"
	CodeMethodNotAllowed    = "MethodNotAllowed"
	CodeResponseAlreadySent = "ResponseAlreadySent"
	CodeResponseTimeout     = "WebhookResponseTimeout"
	CodeWebhookGone         = "WebhookGone"
	CodeInvalidSignature    = "InvalidSignature"
	CodeTooManyPending      = "TooManyPending"
	CodeTooManyWaiting      = "TooManyWaiting"
	CodeWeakWebhookToken    = "WeakWebhookToken"
	CodeInternal            = "InternalError"
	CodeEncryptionKey       = "EncryptionKeyRefused"
	CodeNotSealed           = "NotSealed"
	CodeOpenRefused         = "SealedPayloadRefused"
	CodeLinkNotFound        = "LinkNotFound"
	CodeLinkGone            = "LinkGone"
)

// ErrorFor maps err to what the caller sees. Errors of this package keep
// their message; anything else is a 500 whose message does not leak
// internals (log err itself).
func ErrorFor(err error) *APIError {
	var api *APIError
	if errors.As(err, &api) {
		return api
	}
	for _, m := range []struct {
		target error
		status int
		code   string
	}{
		{ErrNotWaiting, http.StatusNotFound, CodeHookNotWaiting},
		{ErrHookNotFound, http.StatusNotFound, CodeHookNotFound},
		{ErrInvalidToken, http.StatusBadRequest, CodeInvalidToken},
		{ErrInvalidPayload, http.StatusBadRequest, CodeInvalidPayload},
		{ErrInvalidRequest, http.StatusBadRequest, CodeInvalidRequest},
		{ErrPayloadTooLarge, http.StatusRequestEntityTooLarge, CodePayloadTooLarge},
		{ErrIdempotencyMismatch, http.StatusUnprocessableEntity, CodeIdempotencyMismatch},
		{ErrSchemaValidation, http.StatusUnprocessableEntity, CodeSchemaValidation},
		{ErrConflict, http.StatusConflict, CodeHookConflict},
		{ErrContention, http.StatusServiceUnavailable, CodeContention},
		{ErrResponseAlreadySent, http.StatusConflict, CodeResponseAlreadySent},
		{ErrResponseTimeout, http.StatusGatewayTimeout, CodeResponseTimeout},
		{ErrWebhookGone, http.StatusBadGateway, CodeWebhookGone},
		{ErrInvalidSignature, http.StatusUnauthorized, CodeInvalidSignature},
		{ErrTooManyPending, http.StatusTooManyRequests, CodeTooManyPending},
		{ErrTooManyWaiting, http.StatusTooManyRequests, CodeTooManyWaiting},
		{ErrWeakWebhookToken, http.StatusBadRequest, CodeWeakWebhookToken},
		{ErrEncryptionKey, http.StatusBadRequest, CodeEncryptionKey},
		{ErrNotSealed, http.StatusBadRequest, CodeNotSealed},
		{ErrOpenRefused, http.StatusForbidden, CodeOpenRefused},
		{ErrLinkNotFound, http.StatusNotFound, CodeLinkNotFound},
		{ErrLinkGone, http.StatusGone, CodeLinkGone},
	} {
		if errors.Is(err, m.target) {
			api := &APIError{Status: m.status, Code: m.code, Message: err.Error()}
			if m.status == http.StatusTooManyRequests {
				api.RetryAfter = RetryAfterSeconds
			}
			var sv *SchemaValidationError
			if errors.As(err, &sv) {
				api.Details = sv.Details
			}
			return api
		}
	}
	return &APIError{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error; the request may not have been applied, retry it with the same idempotency key"}
}

// LambdaErrorType is the errorType a direct Lambda invocation reports for
// code: "HookNotFound" → "HookNotFoundError"; a code that already ends in
// "Error" is kept ("InternalError"). State machines Catch and Retry these.
func LambdaErrorType(code string) string {
	if strings.HasSuffix(code, "Error") {
		return code
	}
	return code + "Error"
}
