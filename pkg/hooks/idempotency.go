package hooks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// errIdempotencyKeyUsed: the idempotency record's condition failed inside a
// transaction; the caller replays.
var errIdempotencyKeyUsed = errors.New("idempotency key already used")

func sha256Hex(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

func idemSK(key string) string { return "IDEM#" + sha256Hex(key) }

// idemRecord is what a key remembers: the payload's hash, the hook answered,
// and the in-flight delivery it created (if it went to a waiter) with the
// task token of that waiter, against which a replay confirms it.
type idemRecord struct {
	Hash       string
	Hook       Hook
	DeliveryID string
	Task       string
	// Sealed is the envelope a sealed resume acknowledged: a replay looks
	// for it (a new seal of the same plaintext differs).
	Sealed string
}

func (c *Client) idemPut(token, key, hash string, h *Hook, deliveryID, task, sealed string) (*types.Put, error) {
	hj, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encode hook: %w", err)
	}
	item := map[string]types.AttributeValue{
		attrPK:        s(hookPK(token)),
		attrSK:        s(idemSK(key)),
		attrHash:      s(hash),
		attrHook:      s(string(hj)),
		attrExpiresAt: n(c.opts.Now().Add(c.opts.IdempotencyTTL).Unix()),
	}
	if deliveryID != "" {
		item[attrDelivery] = s(deliveryID)
		item[attrTask] = s(task)
	}
	if sealed != "" {
		item[attrSealed] = s(sealed)
	}
	return &types.Put{
		TableName:                &c.table,
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: names(attrPK),
	}, nil
}

func (c *Client) getIdem(ctx context.Context, token, key string) (*idemRecord, error) {
	out, err := c.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &c.table,
		Key:            itemKey(token, idemSK(key)),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get idempotency record: %w", err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	rec := &idemRecord{Hash: getS(out.Item, attrHash), DeliveryID: getS(out.Item, attrDelivery), Task: getS(out.Item, attrTask), Sealed: getS(out.Item, attrSealed)}
	if err := json.Unmarshal([]byte(getS(out.Item, attrHook)), &rec.Hook); err != nil {
		return nil, fmt.Errorf("decode idempotency record: %w", err)
	}
	return rec, nil
}

// resumeIdempotent is the protocol of docs/protocol.md, "Resume with an
// idempotency key": the idempotency record is written in the same
// transaction as the payload, so a key is used exactly when its payload is
// acknowledged. Plain hooks only (kind hook, in each write's condition);
// capped like resume.
func (c *Client) resumeIdempotent(ctx context.Context, token, hookID string, o *outgoing, key string, kind Kind, seen *hookItem) (*Hook, error) {
	for r := c.retrier(c.opts.ContentionTimeout); r.next(ctx); {
		h := seen
		seen = nil
		var err error
		if h == nil {
			if h, err = c.getHookItem(ctx, token); err != nil {
				return nil, err
			}
		}
		if h == nil || (hookID != "" && h.HookID != hookID) || h.Kind != kind {
			// A key applied before the hook went away is still answered.
			return c.replay(ctx, nil, token, key, o, ErrHookNotFound)
		}
		if !o.reject {
			// Validated before anything is written: the hook item just
			// read carries its schema (no extra call), and the writes
			// below are conditioned on it.
			if o.check, err = c.checkSchema(token, h, o.plain); err != nil {
				return nil, err
			}
		}
		if o.needsSeal(h) {
			// Sealed for this incarnation; I2's conditions hold it to it.
			if err := c.sealFor(ctx, o, h); err != nil {
				return nil, err
			}
		}
		payload := o.body
		var deliveryID, sealed string
		if o.sealedFor != "" {
			sealed = payload
		}
		var f inflight
		if h.waiting() {
			f = inflight{ID: c.opts.NewID(), Payload: payload, At: c.opts.Now(), Pos: c.queueKey()}
			deliveryID = f.ID
		}
		put, err := c.idemPut(token, key, o.idemHash(key, sealed != ""), &h.Hook, deliveryID, h.Waiter, sealed)
		if err != nil {
			return nil, err
		}
		if o.delivery != nil && o.delivery.ttl > 0 { // a signed request's replay window (verify.go)
			put.Item[attrExpiresAt] = n(c.opts.Now().Add(o.delivery.ttl).Unix())
		}
		if !h.waiting() {
			if h.full() {
				// A key already applied is answered; a new one is refused
				// (what S1's seq < lim would do).
				rec, err := c.getIdem(ctx, token, key)
				if err != nil {
					return nil, err
				}
				if rec == nil {
					// As in resume: a dead delivery is redriven
					// before the refusal (best effort), else a hook
					// full behind it would never drain.
					_, _ = c.redrive(ctx, h, c.opts.RedriveAfter)
					return nil, tooManyPending(h)
				}
				return c.replay(ctx, h, token, key, o, nil)
			}
			// As in resume: a record its sender left behind is sent (or
			// requeued) now; an error leaves it for the next resume.
			_, _ = c.redrive(ctx, h, c.opts.RedriveAfter)
			ok, err := c.appendPayload(ctx, h, kind, o, put)
			switch {
			case errors.Is(err, errIdempotencyKeyUsed):
				return c.replay(ctx, h, token, key, o, nil)
			case err != nil:
				return nil, err
			case ok:
				return &h.Hook, nil
			}
			continue
		}
		nm := names(attrWaiter, attrInflight, attrHookID, attrSeq, attrDlv, attrKind, attrLim)
		vals := map[string]types.AttributeValue{":w": s(h.Waiter), ":hid": s(h.HookID), ":f": f.av(), ":one": n(1),
			":kind": s(string(kind)), ":nolim": n(noLim)}
		cond := "#waiter = :w AND attribute_not_exists(#inflight) AND #hookId = :hid AND #kind = :kind" + o.cond(nm, vals)
		_, err = c.transact(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: []types.TransactWriteItem{
				{Update: &types.Update{
					TableName:                 &c.table,
					Key:                       hookKey(token),
					ConditionExpression:       aws.String(cond),
					UpdateExpression:          aws.String(takeSet),
					ExpressionAttributeNames:  nm,
					ExpressionAttributeValues: vals,
				}},
				{Put: put},
			},
		})
		if err == nil {
			o.atOnce = true
			h.Seq++
			h.Dlv++
			h.Inflight = &f
			hook, err := c.deliver(ctx, h, f, payload)
			if errors.Is(err, ErrHookNotFound) {
				// The execution ended without the payload: the hook is
				// disposed and the key must not answer "applied" later.
				c.forgetKey(ctx, token, key, f.ID)
			}
			return hook, err
		}
		codes, ok := canceledReasons(err)
		if !ok {
			return nil, fmt.Errorf("take waiter: %w", err)
		}
		if conditionCanceled(codes, 1) {
			return c.replay(ctx, h, token, key, o, nil)
		}
	}
	return nil, ErrContention
}

// replay answers a resume whose key is already used. Another payload gets
// ErrIdempotencyMismatch. The same payload gets the first answer, but only
// once that answer is true: "applied" means delivered, or stored for the
// next await (docs/protocol.md, "Resume with an idempotency key"):
//
//   - the first resume's delivery is still in flight: its resumer may have
//     died (or been throttled past its retries), so it is sent now. A
//     concurrent first resume is harmless: the loser's closed-task answer
//     is settled from the history as delivered.
//   - it is no longer in flight: it is confirmed against the task it was
//     handed to (the record's task token), never another task's identical
//     output. That task ended without it (its resumer died and the next
//     await took the record for consumed, or it was requeued): it is
//     restored, once per delivery (a requeue of it counts); a restore that
//     handed it to an await named that delivery in its marker, which is
//     then finished in turn (followMark).
//
// With no record, notFound is returned.
func (c *Client) replay(ctx context.Context, h *hookItem, token, key string, o *outgoing, notFound error) (*Hook, error) {
	rec, err := c.getIdem(ctx, token, key)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		if notFound != nil {
			return nil, notFound
		}
		return nil, ErrContention // the record expired between two calls
	}
	if rec.Hash != o.idemHash(key, rec.Sealed != "") {
		return nil, ErrIdempotencyMismatch
	}
	// The payload as the first resume acknowledged it: its envelope, for
	// a sealed one.
	payload := o.plain
	if rec.Sealed != "" {
		payload = rec.Sealed
	}
	// A webhook delivery's retry differs in its headers (timestamp,
	// signature): it is found by its requestId unless sealed.
	match := exactly(payload)
	if rec.Sealed == "" && o.delivery != nil {
		match = prefixed(o.delivery.prefix)
	}
	if rec.DeliveryID == "" {
		return &rec.Hook, nil // stored: delivered by an await that commits after sending
	}
	if h != nil && (h.Inflight == nil || h.Inflight.ID != rec.DeliveryID) {
		// h was read before the write that used the key (a concurrent
		// resume with the same key won the race): read it again, so a
		// delivery still in flight is sent, not looked for in a history
		// it may not have reached yet.
		fresh, err := c.getHookItem(ctx, token)
		if err != nil {
			return nil, err
		}
		h = fresh
	}
	if h != nil && h.HookID == rec.Hook.HookID && h.Inflight != nil && h.Inflight.ID == rec.DeliveryID {
		res, err := c.redrive(ctx, h, 0)
		if err != nil {
			return nil, fmt.Errorf("send the delivery of an earlier resume with this key: %w", err)
		}
		if res == executionOver {
			c.forgetKey(ctx, token, key, rec.DeliveryID)
			return nil, ErrHookNotFound
		}
		return &rec.Hook, nil
	}
	return c.confirmDelivery(ctx, h, token, key, payload, match, rec)
}

// confirmDelivery checks that the payload of an idempotent resume whose
// record is no longer in flight reached the task it was handed to (rec.Task),
// and restores it when that task ended without it: as a new payload, unless
// its delivery was requeued or restored already (the BACK# marker: stored,
// or handed to an await whose delivery the marker names and restore
// finishes).
func (c *Client) confirmDelivery(ctx context.Context, h *hookItem, token, key, payload string, match payloadMatch, rec *idemRecord) (*Hook, error) {
	var out taskOutcome
	var err error
	if rec.Task != "" {
		out, err = c.settleEnd(ctx, rec.Hook.ExecutionARN, rec.Task, payload, match)
	} else {
		// A record that does not name its task (written before records
		// did) cannot be confirmed: taken as not delivered (a possible
		// duplicate, never a loss); the history still says whether the
		// execution ended.
		out, err = c.settleMatch(ctx, rec.Hook.ExecutionARN, "", payload, match)
		out.Closed = true
	}
	if err != nil {
		return nil, fmt.Errorf("confirm the delivery of an earlier resume with this key: %w", err)
	}
	if out.Delivered {
		return &rec.Hook, nil
	}
	if h == nil || h.HookID != rec.Hook.HookID || out.Ended {
		c.forgetKey(ctx, token, key, rec.DeliveryID)
		return nil, ErrHookNotFound
	}
	if !out.Closed {
		// Its task is over (the record is gone) but the history does not
		// say how yet: it may have just succeeded with this payload.
		return nil, fmt.Errorf("confirm the delivery of an earlier resume with this key: its task's end is not in the execution history yet: %w", errTaskUnsettled)
	}
	hk := rec.Hook
	hk.Token = token
	if err := c.restore(ctx, &hk, rec.DeliveryID, payload, match); err != nil {
		if errors.Is(err, ErrHookNotFound) {
			c.forgetKey(ctx, token, key, rec.DeliveryID)
		}
		return nil, err
	}
	return &rec.Hook, nil
}

// forgetKey deletes the idempotency record of key if it still names the
// delivery deliveryID (best effort; it expires anyway): its resume was not
// applied after all, because the execution ended without the payload.
func (c *Client) forgetKey(ctx context.Context, token, key, deliveryID string) {
	_, _ = c.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 &c.table,
		Key:                       itemKey(token, idemSK(key)),
		ConditionExpression:       aws.String("#d = :d"),
		ExpressionAttributeNames:  map[string]string{"#d": attrDelivery},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": s(deliveryID)},
	})
}

// getHookItem reads the hook item with a consistent read (nil: no hook).
func (c *Client) getHookItem(ctx context.Context, token string) (*hookItem, error) {
	out, err := c.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &c.table,
		Key:            hookKey(token),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("get hook: %w", err)
	}
	return decodeHook(out.Item), nil
}
