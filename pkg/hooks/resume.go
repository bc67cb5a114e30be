package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ResumeOption configures one resume.
type ResumeOption func(*resumeOptions)

type resumeOptions struct {
	idempotencyKey string
}

// MaxIdempotencyKeyLength is the longest idempotency key accepted, in bytes.
const MaxIdempotencyKeyLength = 256

// WithIdempotencyKey makes the resume idempotent: the first resume with key
// is applied; a later one with the same key and the same payload is answered
// as the first was and changes nothing; one with another payload fails with
// ErrIdempotencyMismatch. Keys are remembered for Options.IdempotencyTTL.
func WithIdempotencyKey(key string) ResumeOption {
	return func(o *resumeOptions) { o.idempotencyKey = key }
}

// ResumeHook delivers payload to the hook named token and returns the hook.
// payload is marshalled with encoding/json; a json.RawMessage or []byte is
// taken as JSON text. The resume is acknowledged when ResumeHook returns nil:
// the payload then either reached a waiting await (SendTaskSuccess
// succeeded) or is stored for the next await, and is never lost. Payloads of
// one hook are delivered one per await, in acknowledgement order.
//
// Only plain hooks are resumed: a webhook's token is ErrHookNotFound, as an
// unknown token (a webhook is resumed through its URL, ResumeWebhook).
//
// Errors: ErrInvalidToken, ErrInvalidPayload, *PayloadTooLargeError
// (ErrPayloadTooLarge), ErrHookNotFound, ErrIdempotencyMismatch,
// ErrTooManyPending (the hook's pending cap; nothing stored),
// ErrContention, or a wrapped AWS error (outcome unknown: retry, ideally
// with an idempotency key). Only a nil error means the payload is kept.
func (c *Client) ResumeHook(ctx context.Context, token string, payload any, opts ...ResumeOption) (*Hook, error) {
	return c.resumeHook(ctx, token, "", payload, opts)
}

// Resume is ResumeHook for a hook already at hand: it resumes hook.Token but
// only while the token still names that hook (the same HookID); a token
// reused by a newer hook answers ErrHookNotFound.
func (c *Client) Resume(ctx context.Context, hook *Hook, payload any, opts ...ResumeOption) (*Hook, error) {
	if hook == nil {
		return nil, fmt.Errorf("%w: nil hook", ErrHookNotFound)
	}
	return c.resumeHook(ctx, hook.Token, hook.HookID, payload, opts)
}

func (c *Client) resumeHook(ctx context.Context, token, hookID string, payload any, opts []ResumeOption) (*Hook, error) {
	if err := ValidateToken(token); err != nil {
		return nil, err
	}
	p, err := c.encodePayload(payload)
	if err != nil {
		return nil, err
	}
	var o resumeOptions
	for _, fn := range opts {
		fn(&o)
	}
	var h *Hook
	var atOnce bool
	if o.idempotencyKey != "" {
		if len(o.idempotencyKey) > MaxIdempotencyKeyLength {
			return nil, fmt.Errorf("%w: idempotency key is %d bytes; the limit is %d", ErrInvalidPayload, len(o.idempotencyKey), MaxIdempotencyKeyLength)
		}
		h, atOnce, err = c.resumeIdempotent(ctx, token, hookID, p, o.idempotencyKey)
	} else {
		// Plain hooks only: a webhook is resumed through its own URL
		// (ResumeWebhook), and its token here is not found, like any
		// unknown token.
		h, atOnce, err = c.resumeWith(ctx, resumeReq{token: token, hookID: hookID, kind: KindHook, payload: p})
	}
	c.outcomeMetrics(ctx, atOnce, err)
	if err != nil {
		return nil, fmt.Errorf("resume hook %s: %w", Redact(token), err)
	}
	return c.withURL(h), nil
}

// encodePayload returns payload as compact JSON text within the size limit.
func (c *Client) encodePayload(payload any) (string, error) {
	var raw []byte
	switch v := payload.(type) {
	case json.RawMessage:
		raw = v
	case []byte:
		raw = v
	default:
		b, err := json.Marshal(payload)
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrInvalidPayload, err)
		}
		raw = b
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return "", fmt.Errorf("%w: not valid JSON: %v", ErrInvalidPayload, err)
	}
	if buf.Len() == 0 {
		return "", fmt.Errorf("%w: empty; send null for no data", ErrInvalidPayload)
	}
	// JSON text is UTF-8 (RFC 8259); encoding/json lets other bytes through
	// in strings, which the AWS SDK would silently turn into U+FFFD: the
	// workflow would get another payload than the one acknowledged.
	if !utf8.Valid(buf.Bytes()) {
		return "", fmt.Errorf("%w: not valid UTF-8", ErrInvalidPayload)
	}
	if buf.Len() > c.opts.MaxPayloadBytes {
		return "", &PayloadTooLargeError{Size: buf.Len(), Limit: c.opts.MaxPayloadBytes}
	}
	return buf.String(), nil
}

// resumeReq is one resume: the payload for token, restricted to the
// incarnation hookID and to hooks of kind when they are not empty.
type resumeReq struct {
	token, hookID string
	kind          Kind
	payload       string
	// uncapped: an acknowledged payload going back into the queue (a
	// requeue that lost its race, a keyed resume stored again): the
	// pending cap never refuses it.
	uncapped bool
	// gate: a webhook request built without the webhook's own settings; R1
	// does not take a configured webhook's waiter, and the resume stops
	// with *configuredError so the caller reads them first.
	gate bool
}

// configuredError stops a gated resume at a webhook with its own settings
// (held-caller cap, header filter): nothing was written.
type configuredError struct{ h *hookItem }

func (e *configuredError) Error() string { return "webhook settings to apply first" }

// resume is the protocol of docs/protocol.md, "Resume", for a payload
// that is not acknowledged yet (capped). A non-empty kind restricts it to
// hooks of that kind: the kind is part of the condition of each write (R1
// and S1), and a hook of another kind is ErrHookNotFound.
func (c *Client) resume(ctx context.Context, token, hookID string, kind Kind, payload string) (*Hook, error) {
	h, _, err := c.resumeWith(ctx, resumeReq{token: token, hookID: hookID, kind: kind, payload: payload})
	return h, err
}

// resumeWith is resume; atOnce reports a delivery to a parked await (R1)
// rather than a stored payload (S1).
func (c *Client) resumeWith(ctx context.Context, rq resumeReq) (hook *Hook, atOnce bool, err error) {
	token, hookID, kind, payload := rq.token, rq.hookID, rq.kind, rq.payload
	for r := c.retrier(c.opts.ContentionTimeout); r.next(ctx); {
		cur, err := c.takeWaiter(ctx, token, hookID, kind, payload, rq.gate)
		if err != nil {
			return nil, false, err
		}
		if cur.taken {
			hook, err := c.deliver(ctx, cur.item, cur.flight, payload)
			return hook, true, err
		}
		if cur.conflict {
			continue
		}
		h := cur.item
		if h == nil || (hookID != "" && h.HookID != hookID) || (kind != "" && h.Kind != kind) {
			return nil, false, ErrHookNotFound
		}
		if rq.gate && h.configured() {
			return nil, false, &configuredError{h: h}
		}
		if !rq.uncapped && h.full() {
			// What S1's condition (seq < lim) would refuse: answered
			// without trying it. A hook that fills meanwhile is refused
			// by S1 itself.
			return nil, false, tooManyPending(h)
		}
		// Best effort: a record its sender left behind is sent (or
		// requeued) now; an error leaves it for the next resume.
		_, _ = c.redrive(ctx, h, c.opts.RedriveAfter)
		ok, err := c.appendPayload(ctx, h, kind, payload, nil, !rq.uncapped)
		if err != nil {
			return nil, false, err
		}
		if ok {
			return &h.Hook, false, nil
		}
	}
	return nil, false, ErrContention
}

type takeResult struct {
	taken    bool
	conflict bool      // a transaction held the hook item: look again
	item     *hookItem // after the write when taken, else as it stands (nil: no hook)
	flight   inflight
}

// takeWaiter is step R1: one conditional write that takes the parked await
// (Waiting → Delivering) and counts the payload as acknowledged and handed
// out. When no await is parked it changes nothing and returns the hook as
// it stands. A non-empty hookID or kind joins the condition.
// gate keeps it off a webhook with its own settings (configuredError).
func (c *Client) takeWaiter(ctx context.Context, token, hookID string, kind Kind, payload string, gate bool) (takeResult, error) {
	f := inflight{ID: c.opts.NewID(), Payload: payload, At: c.opts.Now(), Pos: c.queueKey()}
	cond := "attribute_exists(#waiter) AND attribute_not_exists(#inflight)"
	nm := names(attrWaiter, attrInflight, attrSeq, attrDlv, attrLim)
	vals := map[string]types.AttributeValue{":f": f.av(), ":one": n(1), ":nolim": n(noLim)}
	if hookID != "" {
		cond += " AND #hookId = :hid"
		nm["#"+attrHookID] = attrHookID
		vals[":hid"] = s(hookID)
	}
	if kind != "" {
		cond += " AND #kind = :kind"
		nm["#"+attrKind] = attrKind
		vals[":kind"] = s(string(kind))
	}
	if gate {
		cond += " AND attribute_not_exists(#maxHeld) AND attribute_not_exists(#hdrs)"
		nm["#"+attrMaxHeld], nm["#"+attrHdrs] = attrMaxHeld, attrHdrs
	}
	out, err := c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &c.table,
		Key:                                 hookKey(token),
		ConditionExpression:                 aws.String(cond),
		UpdateExpression:                    aws.String("SET #inflight = :f, #seq = #seq + :one, #dlv = #dlv + :one, " + limUp),
		ExpressionAttributeNames:            nm,
		ExpressionAttributeValues:           vals,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return takeResult{taken: true, item: decodeHook(out.Attributes), flight: f}, nil
	}
	if transactionConflict(err) {
		return takeResult{conflict: true}, nil
	}
	if old, ok := conditionFailed(err); ok {
		h := decodeHook(old)
		if h != nil && h.Inflight != nil && h.Inflight.ID == f.ID {
			// Our own record: the SDK resent a write that had been applied
			// (its answer was lost), and the resend failed the condition on
			// the record the first attempt wrote. The waiter is ours.
			h.Inflight.Payload = payload
			return takeResult{taken: true, item: h, flight: f}, nil
		}
		return takeResult{item: h}, nil
	}
	return takeResult{}, fmt.Errorf("take waiter: %w", err)
}

// expiry is the TTL of items that belong to hook h.
func (c *Client) expiry(h *hookItem) int64 {
	base := h.CreatedAt
	if base.IsZero() {
		base = c.opts.Now()
	}
	return base.Add(c.opts.HookTTL).Unix()
}

// limUp keeps invariant L (lim = dlv + maxPending) in a write that raises
// dlv by one (R1, A5); a hook created before the cap gets no ceiling.
const limUp = "#lim = if_not_exists(#lim, :nolim) + :one"

// appendPayload is step S1: store payload under a new time-ordered queue
// key and count it, in one transaction conditioned on the hook (its
// incarnation, and no await parked: invariant W), but not on any value
// another append changes: concurrent appends to one hook do not fight
// over a counter. extra joins the transaction (an idempotency record); a
// non-empty kind joins the condition. ok is false when the transaction was
// canceled (an await parked meanwhile, or a conflicting transaction on the
// hook item): the caller looks again. capped adds the pending cap to the
// condition (seq < lim; a hook without lim predates the cap).
func (c *Client) appendPayload(ctx context.Context, h *hookItem, kind Kind, payload string, extra *types.Put, capped bool) (ok bool, err error) {
	cond := "#hookId = :hid AND (attribute_not_exists(#waiter) OR attribute_exists(#inflight))"
	nm := names(attrHookID, attrSeq, attrWaiter, attrInflight)
	vals := map[string]types.AttributeValue{":hid": s(h.HookID), ":one": n(1)}
	if kind != "" {
		cond += " AND #kind = :kind"
		nm["#"+attrKind] = attrKind
		vals[":kind"] = s(string(kind))
	}
	if capped {
		cond += " AND (attribute_not_exists(#lim) OR #seq < #lim)"
		nm["#"+attrLim] = attrLim
	}
	items := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                 &c.table,
			Key:                       hookKey(h.Token),
			ConditionExpression:       aws.String(cond),
			UpdateExpression:          aws.String("SET #seq = #seq + :one"),
			ExpressionAttributeNames:  nm,
			ExpressionAttributeValues: vals,
		}},
		{Put: c.msgPut(h, c.queueKey(), payload, c.expiry(h))},
	}
	if extra != nil {
		items = append(items, types.TransactWriteItem{Put: extra})
	}
	_, err = c.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return true, nil
	}
	if codes, ok := canceledReasons(err); ok {
		if extra != nil && conditionCanceled(codes, 2) {
			return false, errIdempotencyKeyUsed
		}
		return false, nil
	}
	return false, fmt.Errorf("store payload: %w", err)
}

func (c *Client) withURL(h *Hook) *Hook {
	if h != nil && h.Kind == KindWebhook && c.opts.WebhookBaseURL != "" && h.URL == "" {
		h.URL = c.WebhookURL(h.Token)
	}
	return h
}
