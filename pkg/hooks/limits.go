package hooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Abuse limits (docs/protocol.md, "Limits"; README, "Limits").
const (
	// DefaultMaxPending is Options.MaxPending's default.
	DefaultMaxPending = 1000
	// MaxMaxPending bounds a hook's own pending cap.
	MaxMaxPending = 1_000_000
	// DefaultMaxHeldCallers is Options.MaxHeldCallers's default: a payment
	// provider sends one callback per event and retries with backoff, so
	// 20 callers held at once on one URL is already a burst no provider
	// makes, while each held caller is a resume-webhook invocation for up
	// to the deadline (25 s): 20 is a small slice of the function's
	// reserved concurrency (template parameter
	// ResumeWebhookReservedConcurrency), so one URL cannot take it all.
	DefaultMaxHeldCallers = 20
	// MaxMaxHeldCallers bounds a webhook's own held-caller cap.
	MaxMaxHeldCallers = 1000
	// MinWebhookTokenLength is the shortest caller-chosen webhook token:
	// 22 URL-safe characters carry 132 bits (6 each), at least the 128 of
	// a generated token.
	MinWebhookTokenLength = 22
	// heldMargin is how long after a held caller's deadline its count may
	// be taken for leaked (its Lambda was killed before it left).
	heldMargin = 5 * time.Second
	// noLim is the ceiling that a write raising dlv gives a hook created
	// before the pending cap (no lim yet): none, until the next await or
	// create sets lim = dlv + maxPending.
	noLim = int64(1) << 53
)

// Metric names a count the library reports through Options.Metrics.
type Metric string

// Metrics reported. Counts have value 1; MetricWebhookHoldTime is in
// milliseconds.
const (
	MetricAcknowledged    Metric = "ResumesAcknowledged" // a resume acknowledged (delivered or stored)
	MetricDeliveredAtOnce Metric = "DeliveredAtOnce"     // handed to a parked await at once (R1)
	MetricStored          Metric = "Stored"              // stored for a later await (S1)
	MetricNotFound        Metric = "NotFound"            // no live hook of that token (and kind)
	MetricContention      Metric = "Contention"          // ErrContention answered
	MetricTooMany         Metric = "TooManyRequests"     // a 429: pending or held-caller cap
	MetricWebhookHoldTime Metric = "WebhookHoldTime"     // ms a manual webhook's caller was held
)

func (c *Client) metric(ctx context.Context, m Metric, v float64) {
	if c.opts.Metrics != nil {
		c.opts.Metrics(ctx, m, v)
	}
}

// outcomeMetrics reports what a resume came to.
func (c *Client) outcomeMetrics(ctx context.Context, atOnce bool, err error) {
	switch {
	case err == nil:
		c.metric(ctx, MetricAcknowledged, 1)
		if atOnce {
			c.metric(ctx, MetricDeliveredAtOnce, 1)
		} else {
			c.metric(ctx, MetricStored, 1)
		}
	case errors.Is(err, ErrHookNotFound):
		c.metric(ctx, MetricNotFound, 1)
	case errors.Is(err, ErrContention):
		c.metric(ctx, MetricContention, 1)
	case errors.Is(err, ErrTooManyPending), errors.Is(err, ErrTooManyWaiting):
		c.metric(ctx, MetricTooMany, 1)
	}
}

func (c *Client) maxPending(in *RegisterInput) int64 {
	if in.MaxPending > 0 {
		return int64(in.MaxPending)
	}
	return int64(c.opts.MaxPending)
}

func tooManyPending(h *hookItem) error {
	return fmt.Errorf("%w: %d payloads are pending, the hook's limit; retry once the workflow has taken some", ErrTooManyPending, h.Seq-h.Dlv)
}

// checkWebhookToken refuses a caller-chosen webhook token that carries
// fewer than 128 bits: its public URL would be guessable. A webhook that
// verifies signatures may choose any valid token (the signature, not the
// URL, is then the credential).
func checkWebhookToken(in *CreateWebhookInput) error {
	if in.Token == "" {
		return nil // generated: 128 random bits
	}
	if err := ValidateToken(in.Token); err != nil {
		return err
	}
	if len(in.Token) >= MinWebhookTokenLength && strings.Trim(in.Token, urlSafe) == "" {
		return nil
	}
	return fmt.Errorf("%w: a chosen webhook token must be at least %d characters of [A-Za-z0-9_-] (128 bits); omit the token to have one generated",
		ErrWeakWebhookToken, MinWebhookTokenLength)
}

const urlSafe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

// hold counts one more caller held on the manual webhook h (H1 in
// docs/protocol.md): held = held + 1 on condition held < maxHeld. A count
// whose callers all passed their deadline (heldUntil, plus a margin) is
// taken for leaked by a killed Lambda and reset. release undoes it (H2);
// call it on every path once hold succeeded.
func (c *Client) hold(ctx context.Context, h *hookItem, deadline time.Duration) (release func(), err error) {
	until := c.opts.Now().Add(deadline + heldMargin).UnixMilli()
	for attempt := 0; attempt < 3; attempt++ {
		_, err := c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                &c.table,
			Key:                      hookKey(h.Token),
			ConditionExpression:      aws.String("#hookId = :hid AND (attribute_not_exists(#held) OR #held < #maxHeld)"),
			UpdateExpression:         aws.String("SET #held = if_not_exists(#held, :zero) + :one, #heldUntil = :until"),
			ExpressionAttributeNames: names(attrHookID, attrHeld, attrMaxHeld, attrHeldUntil),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":hid": s(h.HookID), ":zero": n(0), ":one": n(1), ":until": n(until),
			},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			return func() { c.unhold(ctx, h) }, nil
		}
		if transactionConflict(err) {
			c.backoff(ctx, attempt+1)
			continue
		}
		old, ok := conditionFailed(err)
		if !ok {
			return nil, fmt.Errorf("hold caller: %w", err)
		}
		cur := decodeHook(old)
		if cur == nil || cur.HookID != h.HookID {
			return nil, ErrHookNotFound
		}
		if cur.HeldUntil >= c.opts.Now().UnixMilli() {
			return nil, fmt.Errorf("%w: %d callers are held, the webhook's limit", ErrTooManyWaiting, cur.Held)
		}
		// Every counted caller is past its deadline: those still counted
		// died without leaving. Reset the count to this caller alone,
		// unless another caller came meanwhile (heldUntil moved).
		_, err = c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                &c.table,
			Key:                      hookKey(h.Token),
			ConditionExpression:      aws.String("#hookId = :hid AND #heldUntil = :old"),
			UpdateExpression:         aws.String("SET #held = :one, #heldUntil = :until"),
			ExpressionAttributeNames: names(attrHookID, attrHeld, attrHeldUntil),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":hid": s(h.HookID), ":old": n(cur.HeldUntil), ":one": n(1), ":until": n(until),
			},
		})
		if err == nil {
			return func() { c.unhold(ctx, h) }, nil
		}
		if _, ok := conditionFailed(err); !ok && !transactionConflict(err) {
			return nil, fmt.Errorf("hold caller: %w", err)
		}
	}
	return nil, ErrContention
}

// unhold is H2: the held caller leaves (answered, timed out, or failed).
// Best effort: if it fails, the count is reset once heldUntil passed.
func (c *Client) unhold(ctx context.Context, h *hookItem) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_, _ = c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &c.table,
		Key:                       hookKey(h.Token),
		ConditionExpression:       aws.String("#hookId = :hid AND #held > :zero"),
		UpdateExpression:          aws.String("SET #held = #held - :one"),
		ExpressionAttributeNames:  names(attrHookID, attrHeld),
		ExpressionAttributeValues: map[string]types.AttributeValue{":hid": s(h.HookID), ":zero": n(0), ":one": n(1)},
	})
}
