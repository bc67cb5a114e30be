package hooks

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// Step Functions' limits on SendTaskFailure, in characters (counted as
// UTF-16 code units, as Step Functions' Java service counts a string's
// length: a character outside the Basic Multilingual Plane counts twice).
const (
	MaxRejectErrorLength = 256
	MaxRejectCauseLength = 32768
)

// rejectMark starts a rejection in a payload slot (the inflight record's
// payload, a stored MSG item's payload). Compact JSON text never starts
// with '!', so a slot holds either a payload (JSON) or a rejection
// (rejectMark + {"error","cause"}), and every step of the protocol that
// stores, hands out, requeues, redrives or settles a payload carries a
// rejection the same way; only the send (SendTaskFailure instead of
// SendTaskSuccess) and the settlement (a TaskFailed with this error and
// cause instead of a TaskSucceeded with this output) look inside.
const rejectMark = "!reject:"

// rejection is the error a rejected await fails with.
type rejection struct {
	Error string `json:"error"`
	Cause string `json:"cause"`
}

func (r rejection) encode() string {
	b, _ := json.Marshal(r) // two strings: cannot fail
	return rejectMark + string(b)
}

// asRejection decodes a payload slot that holds a rejection.
func asRejection(slot string) (rejection, bool) {
	rest, ok := strings.CutPrefix(slot, rejectMark)
	if !ok {
		return rejection{}, false
	}
	var r rejection
	if json.Unmarshal([]byte(rest), &r) != nil {
		return rejection{}, false
	}
	return r, true
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// validateRejection checks a rejection against Step Functions' limits
// before anything is stored: a rejection that SendTaskFailure would refuse
// must not be acknowledged.
func validateRejection(errorName, cause string) error {
	switch {
	case errorName == "":
		return fmt.Errorf("%w: error is required (the name a state machine catches)", ErrInvalidPayload)
	case !utf8.ValidString(errorName) || !utf8.ValidString(cause):
		return fmt.Errorf("%w: error and cause must be valid UTF-8", ErrInvalidPayload)
	case utf16Len(errorName) > MaxRejectErrorLength:
		return fmt.Errorf("%w: error is %d characters; Step Functions' limit is %d", ErrInvalidPayload, utf16Len(errorName), MaxRejectErrorLength)
	case utf16Len(cause) > MaxRejectCauseLength:
		return fmt.Errorf("%w: cause is %d characters; Step Functions' limit is %d", ErrInvalidPayload, utf16Len(cause), MaxRejectCauseLength)
	}
	return nil
}

// RejectHook fails the hook's waiting await with errorName and cause
// (SendTaskFailure), which a state machine can Catch by name. If no await
// is parked, the rejection is queued like a payload, in acknowledgement
// order with the payloads, and fails the await that would have received
// it. It has the delivery guarantees of ResumeHook: acknowledged (nil
// error) means sent or stored, never lost; WithIdempotencyKey applies.
//
// Errors: ErrInvalidToken, ErrInvalidPayload (error empty, error over
// MaxRejectErrorLength or cause over MaxRejectCauseLength characters),
// ErrHookNotFound, ErrIdempotencyMismatch, ErrContention, or a wrapped AWS
// error (outcome unknown: retry, ideally with an idempotency key).
func (c *Client) RejectHook(ctx context.Context, token, errorName, cause string, opts ...ResumeOption) (*Hook, error) {
	if err := ValidateToken(token); err != nil {
		return nil, err
	}
	if err := validateRejection(errorName, cause); err != nil {
		return nil, err
	}
	h, err := c.deliverSlot(ctx, token, "", rejection{Error: errorName, Cause: cause}.encode(), opts)
	if err != nil {
		return nil, fmt.Errorf("reject hook %s: %w", Redact(token), err)
	}
	return c.withURL(h), nil
}

// sendSlot completes taskToken with a payload slot: SendTaskSuccess with a
// payload, SendTaskFailure with a rejection.
func (c *Client) sendSlot(ctx context.Context, taskToken, slot string) error {
	if r, ok := asRejection(slot); ok {
		_, err := c.sfn.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: &taskToken, Error: &r.Error, Cause: &r.Cause})
		if err != nil {
			return fmt.Errorf("send task failure: %w", err)
		}
		return nil
	}
	_, err := c.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &taskToken, Output: &slot})
	if err != nil {
		return fmt.Errorf("send task success: %w", err)
	}
	return nil
}
