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
	encryptionKey  string
}

// WithEncryptionKey is the seed's encryptionKeyOverride: the payload is
// sealed with a data key of keyID (a KMS key ID, ARN or alias that the
// resumer may call kms:GenerateDataKey with), end to end, also when the hook
// is plain. A sealed hook allows only its own key, named exactly as it was
// created with; another key fails with ErrEncryptionKey and nothing is
// stored. Without this option a sealed hook's payloads are sealed with its
// own key, and a plain hook's are not sealed (docs/sealed.md).
func WithEncryptionKey(keyID string) ResumeOption {
	return func(o *resumeOptions) { o.encryptionKey = keyID }
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
// A sealed hook's payload (or any payload with WithEncryptionKey) is
// sealed here, before it is written: DynamoDB and the await's output only
// ever hold the sealed envelope (docs/sealed.md).
//
// Only plain hooks are resumed: a webhook's token is ErrHookNotFound, as an
// unknown token (a webhook is resumed through its URL, ResumeWebhook).
//
// Errors: ErrInvalidToken, ErrInvalidPayload, *PayloadTooLargeError
// (ErrPayloadTooLarge), ErrHookNotFound, ErrIdempotencyMismatch,
// ErrEncryptionKey, ErrTooManyPending (the hook's pending cap; nothing
// stored), ErrContention, or a wrapped AWS error (outcome unknown:
// retry, ideally with an idempotency key). Only a nil error means the
// payload is kept.
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
	h, err := c.deliverSlot(ctx, token, hookID, p, opts)
	if err != nil {
		return nil, fmt.Errorf("resume hook %s: %w", Redact(token), err)
	}
	return c.withURL(h), nil
}

// deliverSlot acknowledges one payload slot (a JSON payload or an encoded
// rejection) for the hook named token: the resume protocol, with an
// idempotency key when opts give one.
func (c *Client) deliverSlot(ctx context.Context, token, hookID, slot string, opts []ResumeOption) (*Hook, error) {
	var o resumeOptions
	for _, fn := range opts {
		fn(&o)
	}
	if o.idempotencyKey != "" {
		if len(o.idempotencyKey) > MaxIdempotencyKeyLength {
			return nil, fmt.Errorf("%w: idempotency key is %d bytes; the limit is %d", ErrInvalidPayload, len(o.idempotencyKey), MaxIdempotencyKeyLength)
		}
		out := newOutgoing(slot, o.encryptionKey)
		h, err := c.resumeIdempotent(ctx, token, hookID, out, o.idempotencyKey, KindHook, nil)
		c.outcomeMetrics(ctx, out.atOnce, err)
		return h, err
	}
	// Plain hooks only: a webhook is resumed through its own URL
	// (ResumeWebhook), and its token here is not found, like any unknown
	// token.
	out := newOutgoing(slot, o.encryptionKey)
	h, err := c.resume(ctx, token, hookID, KindHook, out)
	c.outcomeMetrics(ctx, out.atOnce, err)
	return h, err
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

// resume is the protocol of docs/protocol.md, "Resume". A non-empty kind
// restricts it to hooks of that kind: the kind is part of the condition of
// each write (R1 and S1), and a hook of another kind is ErrHookNotFound.
// A payload to a sealed hook is sealed for the incarnation a write found
// ("Sealed resume"), and a payload to a hook with a schema is validated
// against the schema a write found ("Schemas"): every write is conditioned
// on that incarnation and that schema.
func (c *Client) resume(ctx context.Context, token, hookID string, kind Kind, o *outgoing) (*Hook, error) {
	if !o.acked && !o.reject {
		o.check = c.schemaCheckFor(token, o.plain)
	}
	for r := c.retrier(c.opts.ContentionTimeout); r.next(ctx); {
		if o.key != "" && o.sealedFor == "" && !o.acked && !o.reject {
			// WithEncryptionKey: the hook (hookId, execution) must be
			// known before sealing; R1 would write the plaintext.
			h, err := c.getHookItem(ctx, token)
			if err != nil {
				return nil, err
			}
			if !c.named(h, hookID, kind) {
				return nil, ErrHookNotFound
			}
			if o.check, err = c.checkSchema(token, h, o.plain); err != nil {
				return nil, err
			}
			if err := c.sealFor(ctx, o, h); err != nil {
				return nil, err
			}
		}
		cur, err := c.takeWaiter(ctx, token, hookID, kind, o)
		if err != nil {
			return nil, err
		}
		if cur.taken {
			o.atOnce = true
			return c.deliver(ctx, cur.item, cur.flight, o.body)
		}
		if cur.conflict {
			continue
		}
		h := cur.item
		if !c.named(h, hookID, kind) {
			return nil, ErrHookNotFound
		}
		if o.gate && h.configured() {
			return nil, &configuredError{h: h}
		}
		if !o.acked && h.full() {
			// What S1's condition (seq < lim) would refuse: answered
			// without trying it. A hook that fills meanwhile is refused
			// by S1 itself. An acknowledged payload going back into the
			// queue (acked) is never refused. A record its sender left
			// behind is redriven first (best effort): a hook may be full
			// because its await never got that delivery, and nothing
			// else would ever send it (its await waits, the queue
			// behind it stays full).
			_, _ = c.redrive(ctx, h, c.opts.RedriveAfter)
			return nil, tooManyPending(h)
		}
		// R1's condition failed on the hook it returned: a hook with a
		// schema the payload was not checked against is validated now
		// (before anything is stored or sent; a hook the resume may not
		// reach answered 404 above, never 422), and a sealed hook (or a
		// new incarnation of the token) gets the payload sealed for it.
		// With an await parked, R1 again; else S1 carries the conditions.
		again := false
		if o.check.differs(cur) {
			if o.check, err = c.checkSchema(token, h, o.plain); err != nil {
				return nil, err
			}
			again = true
		}
		if o.needsSeal(h) {
			if err := c.sealFor(ctx, o, h); err != nil {
				return nil, err
			}
			again = true
		}
		if again && h.waiting() {
			r.again()
			continue
		}
		// Best effort: a record its sender left behind is sent (or
		// requeued) now; an error leaves it for the next resume.
		_, _ = c.redrive(ctx, h, c.opts.RedriveAfter)
		ok, err := c.appendPayload(ctx, h, kind, o, nil)
		if err != nil {
			return nil, err
		}
		if ok {
			return &h.Hook, nil
		}
	}
	return nil, ErrContention
}

// named reports whether h is the hook a resume restricted to hookID and
// kind (each when non-empty) may reach.
func (c *Client) named(h *hookItem, hookID string, kind Kind) bool {
	return h != nil && (hookID == "" || h.HookID == hookID) && (kind == "" || h.Kind == kind)
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
func (c *Client) takeWaiter(ctx context.Context, token, hookID string, kind Kind, o *outgoing) (takeResult, error) {
	payload := o.body
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
	if o.gate {
		cond += " AND attribute_not_exists(#maxHeld) AND attribute_not_exists(#hdrs)"
		nm["#"+attrMaxHeld], nm["#"+attrHdrs] = attrMaxHeld, attrHdrs
	}
	cond += o.cond(nm, vals)
	out, err := c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &c.table,
		Key:                                 hookKey(token),
		ConditionExpression:                 aws.String(cond),
		UpdateExpression:                    aws.String(takeSet),
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
// dlv by one (R1, I2, A5); a hook created before the cap gets no ceiling.
const limUp = "#lim = if_not_exists(#lim, :nolim) + :one"

// takeSet is the change R1 and I2 make to the hook item: the payload :f in
// flight to the parked await, acknowledged and handed out at once.
const takeSet = "SET #inflight = :f, #seq = #seq + :one, #dlv = #dlv + :one, " + limUp

// configuredError stops a gated resume at a webhook with its own settings
// (held-caller cap, header filter, signature verification): nothing was
// written.
type configuredError struct{ h *hookItem }

func (e *configuredError) Error() string { return "webhook settings to apply first" }

// appendPayload is step S1: store payload under a new time-ordered queue
// key and count it, in one transaction conditioned on the hook (its
// incarnation, and no await parked: invariant W), but not on any value
// another append changes: concurrent appends to one hook do not fight
// over a counter. extra joins the transaction (an idempotency record); a
// non-empty kind joins the condition. ok is false when the transaction was
// canceled (an await parked meanwhile, or a conflicting transaction on the
// hook item): the caller looks again; canceled on its own MSG put, it is
// the resend of an attempt that applied: ok. Unless the payload was
// acknowledged already (o.acked), the pending cap joins the condition
// (seq < lim; a hook without lim predates the cap).
func (c *Client) appendPayload(ctx context.Context, h *hookItem, kind Kind, o *outgoing, extra *types.Put) (ok bool, err error) {
	payload := o.body
	cond := "#hookId = :hid AND (attribute_not_exists(#waiter) OR attribute_exists(#inflight))"
	nm := names(attrHookID, attrSeq, attrWaiter, attrInflight)
	vals := map[string]types.AttributeValue{":hid": s(h.HookID), ":one": n(1)}
	if kind != "" {
		cond += " AND #kind = :kind"
		nm["#"+attrKind] = attrKind
		vals[":kind"] = s(string(kind))
	}
	capped := !o.acked
	if capped {
		cond += " AND (attribute_not_exists(#lim) OR #seq < #lim)"
		nm["#"+attrLim] = attrLim
	}
	cond += o.cond(nm, vals)
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
	_, err = c.transact(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return true, nil
	}
	if codes, ok := canceledReasons(err); ok {
		if conditionCanceled(codes, 1) {
			// MSG#key exists: its key is this call's own (clock and
			// random suffix), so only this transaction wrote it. This is
			// the SDK's resend of an attempt that applied and whose answer
			// was lost, past the ClientRequestToken's window (or on an
			// emulator that ignores it): stored, once.
			return true, nil
		}
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
