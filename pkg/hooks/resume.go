package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
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
// Errors: ErrInvalidToken, ErrInvalidPayload, *PayloadTooLargeError
// (ErrPayloadTooLarge), ErrHookNotFound, ErrIdempotencyMismatch,
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
	if o.idempotencyKey != "" {
		if len(o.idempotencyKey) > MaxIdempotencyKeyLength {
			return nil, fmt.Errorf("%w: idempotency key is %d bytes; the limit is %d", ErrInvalidPayload, len(o.idempotencyKey), MaxIdempotencyKeyLength)
		}
		h, err = c.resumeIdempotent(ctx, token, hookID, p, o.idempotencyKey)
	} else {
		h, err = c.resume(ctx, token, hookID, "", p)
	}
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

// resume is the protocol of docs/protocol.md, "Resume". A non-empty kind
// restricts it to hooks of that kind: the kind is part of the condition of
// each write (R1 and S1), and a hook of another kind is ErrHookNotFound.
func (c *Client) resume(ctx context.Context, token, hookID string, kind Kind, payload string) (*Hook, error) {
	for range c.opts.MaxAttempts {
		cur, err := c.takeWaiter(ctx, token, hookID, kind, payload)
		if err != nil {
			return nil, err
		}
		if cur.taken {
			return c.deliver(ctx, cur.item, cur.flight, cur.item.Dlv)
		}
		h := cur.item
		if h == nil || (hookID != "" && h.HookID != hookID) || (kind != "" && h.Kind != kind) {
			return nil, ErrHookNotFound
		}
		c.redrive(ctx, h, c.opts.RedriveAfter)
		ok, err := c.appendPayload(ctx, h, kind, payload, nil)
		if err != nil {
			return nil, err
		}
		if ok {
			return &h.Hook, nil
		}
	}
	return nil, ErrContention
}

type takeResult struct {
	taken  bool
	item   *hookItem // after the write when taken, else as it stands (nil: no hook)
	flight inflight
}

// takeWaiter is step R1: one conditional write that takes the parked await
// (Waiting → Delivering) and counts the payload as acknowledged and handed
// out. When no await is parked it changes nothing and returns the hook as
// it stands. A non-empty hookID or kind joins the condition.
func (c *Client) takeWaiter(ctx context.Context, token, hookID string, kind Kind, payload string) (takeResult, error) {
	f := inflight{ID: c.opts.NewID(), Payload: payload, At: c.opts.Now()}
	cond := "attribute_exists(#waiter) AND attribute_not_exists(#inflight)"
	nm := names(attrWaiter, attrInflight, attrSeq, attrDlv)
	vals := map[string]types.AttributeValue{":f": f.av(), ":one": n(1)}
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
	out, err := c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &c.table,
		Key:                                 hookKey(token),
		ConditionExpression:                 aws.String(cond),
		UpdateExpression:                    aws.String("SET #inflight = :f, #seq = #seq + :one, #dlv = #dlv + :one"),
		ExpressionAttributeNames:            nm,
		ExpressionAttributeValues:           vals,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return takeResult{taken: true, item: decodeHook(out.Attributes), flight: f}, nil
	}
	if old, ok := conditionFailed(err); ok {
		return takeResult{item: decodeHook(old)}, nil
	}
	return takeResult{}, fmt.Errorf("take waiter: %w", err)
}

// deliver sends the in-flight payload f (sequence number seq) to the
// hook's waiter. If Step Functions says the task is over, the payload goes
// back to the head of the queue (requeue), so it is never lost.
func (c *Client) deliver(ctx context.Context, h *hookItem, f inflight, seq int64) (*Hook, error) {
	_, err := c.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &h.Waiter, Output: &f.Payload})
	if err == nil {
		if f.Seq > 0 {
			if err := c.commit(ctx, h, f); err != nil {
				return nil, err
			}
		}
		return &h.Hook, nil
	}
	if !taskClosed(err) {
		// Unknown outcome: the delivery stays in flight and is redriven.
		return nil, fmt.Errorf("send task success: %w", err)
	}
	return c.requeue(ctx, h, f, seq)
}

// requeue puts an undeliverable in-flight payload back as the oldest stored
// payload and forgets the dead waiter (Delivering → Idle with backlog). If a
// newer await already replaced the delivery, the payload is resumed anew.
func (c *Client) requeue(ctx context.Context, h *hookItem, f inflight, seq int64) (*Hook, error) {
	if f.Seq > 0 {
		return c.release(ctx, h, f)
	}
	exp := c.expiry(h)
	_, err := c.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName:                &c.table,
				Key:                      hookKey(h.Token),
				ConditionExpression:      aws.String("#inflight.#id = :fid AND #dlv = :seq"),
				UpdateExpression:         aws.String("REMOVE #waiter, #inflight SET #dlv = :prev"),
				ExpressionAttributeNames: names(attrInflight, fID, attrDlv, attrWaiter),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":fid": s(f.ID), ":seq": n(seq), ":prev": n(seq - 1),
				},
			}},
			{Put: c.msgPut(h, seq, f.Payload, exp)},
		},
	})
	if err == nil {
		return &h.Hook, nil
	}
	if _, ok := canceledReasons(err); ok {
		return c.resume(ctx, h.Token, h.HookID, "", f.Payload)
	}
	return nil, fmt.Errorf("requeue: %w", err)
}

// release forgets a dead waiter whose uncommitted backlog delivery f did
// not reach it: the payload is still stored at the head of the queue.
func (c *Client) release(ctx context.Context, h *hookItem, f inflight) (*Hook, error) {
	_, err := c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &c.table,
		Key:                       hookKey(h.Token),
		ConditionExpression:       aws.String("#inflight.#id = :fid"),
		UpdateExpression:          aws.String("REMOVE #waiter, #inflight"),
		ExpressionAttributeNames:  names(attrInflight, fID, attrWaiter),
		ExpressionAttributeValues: map[string]types.AttributeValue{":fid": s(f.ID)},
	})
	if err != nil {
		if _, ok := conditionFailed(err); !ok {
			return nil, fmt.Errorf("release waiter: %w", err)
		}
		// A newer await replaced the delivery; the payload is still stored.
	}
	return &h.Hook, nil
}

func (c *Client) msgPut(h *hookItem, seq int64, payload string, exp int64) *types.Put {
	return &types.Put{
		TableName: &c.table,
		Item: map[string]types.AttributeValue{
			attrPK:        s(hookPK(h.Token)),
			attrSK:        s(msgSK(h.HookID, seq)),
			attrPayload:   s(payload),
			attrExpiresAt: n(exp),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: names(attrPK),
	}
}

// expiry is the TTL of items that belong to hook h.
func (c *Client) expiry(h *hookItem) int64 {
	base := h.CreatedAt
	if base.IsZero() {
		base = c.opts.Now()
	}
	return base.Add(c.opts.HookTTL).Unix()
}

// appendPayload is step S1: store payload as the next sequence number, in
// one transaction conditioned on the sequence number read (optimistic
// concurrency) and on no await being parked. extra joins the transaction
// (an idempotency record); a non-empty kind joins the condition. ok is
// false when a condition on the hook failed and the caller should look again.
func (c *Client) appendPayload(ctx context.Context, h *hookItem, kind Kind, payload string, extra *types.Put) (ok bool, err error) {
	next := h.Seq + 1
	cond := "#hookId = :hid AND #seq = :n AND (attribute_not_exists(#waiter) OR attribute_exists(#inflight))"
	nm := names(attrHookID, attrSeq, attrWaiter, attrInflight)
	vals := map[string]types.AttributeValue{":hid": s(h.HookID), ":n": n(h.Seq), ":next": n(next)}
	if kind != "" {
		cond += " AND #kind = :kind"
		nm["#"+attrKind] = attrKind
		vals[":kind"] = s(string(kind))
	}
	items := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                 &c.table,
			Key:                       hookKey(h.Token),
			ConditionExpression:       aws.String(cond),
			UpdateExpression:          aws.String("SET #seq = :next"),
			ExpressionAttributeNames:  nm,
			ExpressionAttributeValues: vals,
		}},
		{Put: c.msgPut(h, next, payload, c.expiry(h))},
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

// redrive resends an in-flight delivery whose resumer may have died (older
// than minAge and not redriven yet): Options.RedriveAfter for any resume,
// less for an idempotent retry of the resume that wrote the record. Sending
// the same payload to the same task token again is safe: Step Functions
// completes a task once. A closed task means the delivery already happened
// (or the task ended); either way the record is marked so it is not sent
// again. Best effort: errors leave the record for the next resume.
func (c *Client) redrive(ctx context.Context, h *hookItem, minAge time.Duration) {
	f := h.Inflight
	if f == nil || f.Redriven || h.Waiter == "" || c.opts.Now().Sub(f.At) < minAge {
		return
	}
	_, err := c.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &h.Waiter, Output: &f.Payload})
	if err != nil && !taskClosed(err) {
		return
	}
	if err == nil && f.Seq > 0 {
		_ = c.commit(ctx, h, *f)
		return
	}
	_, _ = c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &c.table,
		Key:                       hookKey(h.Token),
		ConditionExpression:       aws.String("#inflight.#id = :fid"),
		UpdateExpression:          aws.String("SET #inflight.#redriven = :t"),
		ExpressionAttributeNames:  names(attrInflight, fID, fRedriven),
		ExpressionAttributeValues: map[string]types.AttributeValue{":fid": s(f.ID), ":t": &types.AttributeValueMemberBOOL{Value: true}},
	})
}

func (c *Client) withURL(h *Hook) *Hook {
	if h != nil && h.Kind == KindWebhook && c.opts.WebhookBaseURL != "" && h.URL == "" {
		h.URL = c.WebhookURL(h.Token)
	}
	return h
}
