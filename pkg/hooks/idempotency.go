package hooks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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
// and the in-flight delivery it created (if it went to a waiter).
type idemRecord struct {
	Hash       string
	Hook       Hook
	DeliveryID string
}

func (c *Client) idemPut(token, key, hash string, h *Hook, deliveryID string) (*types.Put, error) {
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
	rec := &idemRecord{Hash: getS(out.Item, attrHash), DeliveryID: getS(out.Item, attrDelivery)}
	if err := json.Unmarshal([]byte(getS(out.Item, attrHook)), &rec.Hook); err != nil {
		return nil, fmt.Errorf("decode idempotency record: %w", err)
	}
	return rec, nil
}

// resumeIdempotent is the protocol of docs/protocol.md, "Resume with an
// idempotency key": the idempotency record is written in the same
// transaction as the payload, so a key is used exactly when its payload is
// acknowledged.
func (c *Client) resumeIdempotent(ctx context.Context, token, hookID, payload, key string) (*Hook, error) {
	hash := sha256Hex(payload)
	for range c.opts.MaxAttempts {
		h, err := c.getHookItem(ctx, token)
		if err != nil {
			return nil, err
		}
		if h == nil || (hookID != "" && h.HookID != hookID) {
			// A key applied before the hook went away is still answered.
			return c.replay(ctx, nil, token, key, hash, ErrHookNotFound)
		}
		var deliveryID string
		var f inflight
		if h.waiting() {
			f = inflight{ID: c.opts.NewID(), Payload: payload, At: c.opts.Now()}
			deliveryID = f.ID
		}
		put, err := c.idemPut(token, key, hash, &h.Hook, deliveryID)
		if err != nil {
			return nil, err
		}
		if !h.waiting() {
			ok, err := c.appendPayload(ctx, h, "", payload, put)
			switch {
			case errors.Is(err, errIdempotencyKeyUsed):
				return c.replay(ctx, h, token, key, hash, nil)
			case err != nil:
				return nil, err
			case ok:
				return &h.Hook, nil
			}
			continue
		}
		_, err = c.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: []types.TransactWriteItem{
				{Update: &types.Update{
					TableName:                &c.table,
					Key:                      hookKey(token),
					ConditionExpression:      aws.String("#waiter = :w AND attribute_not_exists(#inflight) AND #hookId = :hid"),
					UpdateExpression:         aws.String("SET #inflight = :f, #seq = #seq + :one, #dlv = #dlv + :one"),
					ExpressionAttributeNames: names(attrWaiter, attrInflight, attrHookID, attrSeq, attrDlv),
					ExpressionAttributeValues: map[string]types.AttributeValue{
						":w": s(h.Waiter), ":hid": s(h.HookID), ":f": f.av(), ":one": n(1),
					},
				}},
				{Put: put},
			},
		})
		if err == nil {
			h.Seq++
			h.Dlv++
			h.Inflight = &f
			return c.deliver(ctx, h, f, h.Dlv)
		}
		codes, ok := canceledReasons(err)
		if !ok {
			return nil, fmt.Errorf("take waiter: %w", err)
		}
		if conditionCanceled(codes, 1) {
			return c.replay(ctx, h, token, key, hash, nil)
		}
	}
	return nil, ErrContention
}

// replayRedriveAfter is how old the delivery of a replayed key must be
// before the replay sends it again (its resumer may have died).
const replayRedriveAfter = 2 * time.Second

// replay answers a resume whose key is already used. The same payload gets
// the first answer (and, if that resume's delivery is still in flight, the
// delivery is sent again: its resumer may have died); another payload gets
// ErrIdempotencyMismatch. With no record, notFound is returned.
func (c *Client) replay(ctx context.Context, h *hookItem, token, key, hash string, notFound error) (*Hook, error) {
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
	if rec.Hash != hash {
		return nil, ErrIdempotencyMismatch
	}
	if h != nil && h.Inflight != nil && rec.DeliveryID != "" && h.Inflight.ID == rec.DeliveryID {
		// Not at once: the first resume may still be sending it, and a
		// resend that wins makes the first one's SendTaskSuccess answer
		// TaskTimedOut, which it would take for a dead task and requeue
		// the payload (a duplicate). Give it replayRedriveAfter.
		c.redrive(ctx, h, min(replayRedriveAfter, c.opts.RedriveAfter))
	}
	return &rec.Hook, nil
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
