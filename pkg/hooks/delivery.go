package hooks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// sendResult is what became of a payload sent to an awaiting task
// (docs/protocol.md, "Delivery").
type sendResult int

const (
	// delivered: the task has the payload (SendTaskSuccess succeeded, or
	// the task was already closed and its history shows it succeeded with
	// this payload: an earlier attempt, a redrive or a replay got there
	// first).
	delivered sendResult = iota + 1
	// taskOver: the task ended without the payload (timed out, failed,
	// superseded) and its execution runs on: the payload is kept.
	taskOver
	// executionOver: the execution ended without the payload reaching the
	// task: the hook is disposed and the payload was never acknowledged.
	executionOver
)

// send completes taskToken with payload (SendTaskSuccess), or fails it
// when the payload slot holds a rejection (SendTaskFailure). A closed-task answer
// (TaskTimedOut, TaskDoesNotExist, InvalidToken) cannot tell "completed
// by an earlier send" from "ended without it", so it is settled from the
// execution's history. Any other error is an unknown outcome: the record
// stays in flight and is redriven.
//
// A batch await (h.Batch) is sent a resume's payload as a batch of one
// (wire); a payload too large for that is never sent to it: the task is
// failed with ErrorNameBatchItemTooLarge and the payload is kept (task
// over: requeued), unless that task had closed already: then, as for any
// closed task, the history decides (an ended execution: executionOver).
func (c *Client) send(ctx context.Context, h *hookItem, taskToken, payload string) (sendResult, error) {
	payload = h.wire(payload)
	var err error
	if len(payload) > MaxPayloadBytes {
		cause := fmt.Sprintf(`{"message":"a payload of hook %s is %d bytes in a batch; a batch carries payloads of at most %d bytes: await it without maxBatch"}`,
			Redact(h.Token), len(payload), MaxBatchItemBytes)
		name := ErrorNameBatchItemTooLarge
		if _, err = c.sfn.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: &taskToken, Error: &name, Cause: &cause}); err == nil {
			return taskOver, nil
		}
		if !taskClosed(err) {
			return 0, fmt.Errorf("send task failure: %w", err)
		}
		// The task was over already: as for any closed task, its
		// execution's history says whether the payload can still be
		// awaited (the wire was never sent, so it never matches).
	} else if err = c.sendSlot(ctx, taskToken, payload); err == nil {
		return delivered, nil
	}
	if !taskClosed(err) {
		return 0, err
	}
	out, herr := c.settleEnd(ctx, h.ExecutionARN, taskToken, payload, exactly(payload))
	switch {
	case herr != nil:
		return 0, fmt.Errorf("task closed (%v); %w", err, herr)
	case out.Delivered:
		return delivered, nil
	case out.Ended:
		return executionOver, nil
	case !out.Closed:
		// Step Functions says the task is over, but its history does not
		// say how yet: it may have just succeeded with this very payload
		// (another sender's). Only proof of an end without the payload
		// requeues it; until then the record stays in flight.
		return 0, fmt.Errorf("task closed (%v), and its end is not in the execution history yet: %w", err, errTaskUnsettled)
	}
	return taskOver, nil
}

// settleEnd is settleMatch for a task known to be over: the history may lag
// the answer that closed it, so while it shows neither the task's end nor
// the execution's, it is read again for a moment (settleLag) before the
// outcome is called unknown.
func (c *Client) settleEnd(ctx context.Context, executionARN, taskToken, payload string, match payloadMatch) (taskOutcome, error) {
	out, err := c.settleMatch(ctx, executionARN, taskToken, payload, match)
	for wait := 50 * time.Millisecond; err == nil && !out.Delivered && !out.Ended && !out.Closed && wait <= settleLag; wait *= 2 {
		if !sleep(ctx, wait) {
			return out, fmt.Errorf("settle a closed task: %w", ctx.Err())
		}
		out, err = c.settleMatch(ctx, executionARN, taskToken, payload, match)
	}
	return out, err
}

// errTaskUnsettled: a closed task whose end the history does not show yet.
var errTaskUnsettled = errors.New("task outcome not settled")

// settleLag bounds how long send waits for a closed task's end to show in
// the execution history (50 ms doubling: at most 6 more reads, 3.15 s).
const settleLag = 1600 * time.Millisecond

// payloadOf returns the payload of the in-flight record f: the copy a
// resume's record carries, or the stored payload an await's uncommitted
// hand-out names (MSG#f.Key; records never copy stored payloads, so the
// hook item stays far below DynamoDB's 400 KB). ok is false when that
// stored payload is gone: the hand-out was committed (delivered).
func (c *Client) payloadOf(ctx context.Context, h *hookItem, f inflight) (payload string, ok bool, err error) {
	if !f.stored() {
		// A committed hand-out keeps only {id, at}: it was delivered, and
		// there is nothing to send again.
		return f.Payload, f.Payload != "", nil
	}
	if h.Batch > 0 {
		// A batch await's hand-out: its task is sent the envelope of all
		// the payloads it names (or a rejection alone).
		ps, ok, err := c.storedPayloads(ctx, h, f.keys())
		if err != nil || !ok {
			return "", ok, err
		}
		return batchWire(ps), true, nil
	}
	got, err := c.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &c.table, Key: itemKey(h.Token, msgSK(h.HookID, f.Key)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", false, fmt.Errorf("read stored payload: %w", err)
	}
	if len(got.Item) == 0 {
		return "", false, nil
	}
	return getS(got.Item, attrPayload), true, nil
}

// deliver sends the in-flight payload f to the hook's waiter (R2, A4) and
// finishes the record with what became of it.
func (c *Client) deliver(ctx context.Context, h *hookItem, f inflight, payload string) (*Hook, error) {
	res, err := c.send(ctx, h, h.Waiter, payload)
	if err != nil {
		return nil, err
	}
	if res == delivered && !f.stored() {
		// The fast path: nothing more to write. The record stays until the
		// next await of the execution clears it (docs/protocol.md).
		return &h.Hook, nil
	}
	if err := c.finish(ctx, h, f, payload, res); err != nil {
		return nil, err
	}
	if res == executionOver {
		return nil, ErrHookNotFound
	}
	return &h.Hook, nil
}

// finish applies a send's result to the in-flight record f of hook h:
// delivered → an await's hand-out is committed (A5), a resume's record is
// marked so it is not sent again; taskOver → the payload goes back to the
// head of the queue (requeue); executionOver → the hook is disposed.
func (c *Client) finish(ctx context.Context, h *hookItem, f inflight, payload string, res sendResult) error {
	switch res {
	case delivered:
		if f.stored() {
			return c.commit(ctx, h, f)
		}
		return c.markSent(ctx, h, f)
	case taskOver:
		return c.requeue(ctx, h, f, payload)
	case executionOver:
		if err := c.Dispose(ctx, h.Token, h.ExecutionARN); err != nil && !isConflict(err) {
			return err
		}
	}
	return nil
}

// markSent records that a resume's delivery reached its task, so that
// later redrives leave it alone. Best effort: a record left unmarked is
// at worst sent again, and the task takes one completion.
func (c *Client) markSent(ctx context.Context, h *hookItem, f inflight) error {
	if f.Redriven {
		return nil
	}
	_, _ = c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &c.table,
		Key:                       hookKey(h.Token),
		ConditionExpression:       aws.String("#inflight.#id = :fid"),
		UpdateExpression:          aws.String("SET #inflight.#redriven = :t"),
		ExpressionAttributeNames:  names(attrInflight, fID, fRedriven),
		ExpressionAttributeValues: map[string]types.AttributeValue{":fid": s(f.ID), ":t": &types.AttributeValueMemberBOOL{Value: true}},
	})
	return nil
}

// requeue puts an undelivered in-flight payload back as the oldest stored
// payload and forgets the dead waiter (Delivering → Idle with backlog).
// The transaction also writes the marker BACK#<id> of the delivery, so
// a second requeuer of the same delivery (a keyed resume and its retry, a
// redrive) stores nothing more, even once the payload has been handed out
// again. If a newer await already replaced the record, the payload is
// restored as a new payload (at the end of the queue), once per delivery:
// it is kept either way. A TransactionConflict is tried again.
func (c *Client) requeue(ctx context.Context, h *hookItem, f inflight, payload string) error {
	if f.stored() {
		return c.release(ctx, h, f)
	}
	seq := h.Dlv // a resume's record counts its payload as handed out (R1)
	pos := f.Pos
	if pos == "" {
		pos = c.queueKey()
	}
	in := &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName:                &c.table,
				Key:                      hookKey(h.Token),
				ConditionExpression:      aws.String("#inflight.#id = :fid AND #dlv = :seq"),
				UpdateExpression:         aws.String("REMOVE #waiter, #inflight SET #dlv = :prev, #lim = if_not_exists(#lim, :nolim) - :one"),
				ExpressionAttributeNames: names(attrInflight, fID, attrDlv, attrWaiter, attrLim),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":fid": s(f.ID), ":seq": n(seq), ":prev": n(seq - 1),
					":nolim": n(noLim), ":one": n(1),
				},
			}},
			{Put: c.msgPut(h, pos, payload, c.expiry(h))},
			{Put: c.requeueMark(h, f.ID)},
		},
	}
	for r := c.retrier(c.opts.ContentionTimeout); r.next(ctx); {
		_, err := c.transact(ctx, in)
		if err == nil {
			return nil
		}
		codes, ok := canceledReasons(err)
		if !ok {
			return fmt.Errorf("requeue: %w", err)
		}
		switch {
		case conditionCanceled(codes, 1):
			// Requeued already by another requeuer of this delivery: the
			// payload is stored at pos.
			return nil
		case conditionCanceled(codes, 2):
			// Requeued (and handed out since) or restored already: the
			// marker says which; a restore into an await names a delivery
			// that its restorer may not have sent.
			next, err := c.followMark(ctx, &h.Hook, f.ID, payload, exactly(payload))
			if err != nil || next == "" {
				return err
			}
			return c.restore(ctx, &h.Hook, next, payload, exactly(payload))
		case conditionCanceled(codes, 0):
			// A newer await replaced the record (presumed it consumed).
			return c.restore(ctx, &h.Hook, f.ID, payload, exactly(payload))
		}
		// Canceled for another reason (TransactionConflict with a
		// concurrent write of the hook item): nothing written; again.
	}
	return fmt.Errorf("requeue: %w", ErrContention)
}

// requeueMark is the put of the marker that delivery id was requeued or
// restored (docs/protocol.md, "Items"): it makes both happen at most once
// per delivery. It lives as long as the hook's other items.
func (c *Client) requeueMark(h *hookItem, id string) *types.Put {
	return &types.Put{
		TableName: &c.table,
		Item: map[string]types.AttributeValue{
			attrPK:        s(hookPK(h.Token)),
			attrSK:        s(requeuedSK(id)),
			attrExpiresAt: n(c.expiry(h)),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: names(attrPK),
	}
}

// restore acknowledges again, as a new payload of hook hk, the payload of
// delivery id: its task ended without it, and the record that named it is
// gone (a newer await presumed it consumed), so nothing else holds it. It
// is handed to a parked await (R1's write, in a transaction) or stored
// (S1), with the marker BACK#<id> in the same transaction: put back at most
// once per delivery, whoever restores it (two requeuers, a keyed replay),
// and never beside a requeue of the same delivery. Handed to an await, the
// marker names the new delivery (its id and the await's task token), so
// that whoever finds the marker later (another restorer, a replay, this
// restore's own resend after a lost answer) finishes that delivery
// (followMark) instead of taking the marker for proof that P arrived.
// Never refused by the pending cap (it was acknowledged already).
// ErrHookNotFound: the hook is gone. match finds P in a task's output.
func (c *Client) restore(ctx context.Context, hk *Hook, id, payload string, match payloadMatch) error {
	o := ackedBody(payload)
	for r := c.retrier(c.opts.ContentionTimeout); r.next(ctx); {
		h, err := c.getHookItem(ctx, hk.Token)
		if err != nil {
			return err
		}
		if h == nil || h.HookID != hk.HookID {
			return ErrHookNotFound
		}
		mark := c.requeueMark(h, id)
		if !h.waiting() {
			ok, err := c.appendPayload(ctx, h, "", o, mark)
			switch {
			case errors.Is(err, errIdempotencyKeyUsed):
				// Put back already: finish what that did.
				next, err := c.followMark(ctx, hk, id, payload, match)
				if err != nil || next == "" {
					return err
				}
				id = next
				r.again()
			case err != nil:
				return err
			case ok:
				return nil
			}
			continue
		}
		f := inflight{ID: c.opts.NewID(), Payload: payload, At: c.opts.Now(), Pos: c.queueKey()}
		mark.Item[attrDelivery] = s(f.ID)
		mark.Item[attrTask] = s(h.Waiter)
		_, err = c.transact(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: []types.TransactWriteItem{
				{Update: &types.Update{
					TableName:                &c.table,
					Key:                      hookKey(h.Token),
					ConditionExpression:      aws.String("#waiter = :w AND attribute_not_exists(#inflight) AND #hookId = :hid"),
					UpdateExpression:         aws.String(takeSet),
					ExpressionAttributeNames: names(attrWaiter, attrInflight, attrHookID, attrSeq, attrDlv, attrLim),
					ExpressionAttributeValues: map[string]types.AttributeValue{
						":w": s(h.Waiter), ":hid": s(h.HookID), ":f": f.av(), ":one": n(1), ":nolim": n(noLim),
					},
				}},
				{Put: mark},
			},
		})
		if err == nil {
			h.Seq++
			h.Dlv++
			h.Inflight = &f
			_, err := c.deliver(ctx, h, f, payload)
			return err
		}
		codes, ok := canceledReasons(err)
		if !ok {
			return fmt.Errorf("restore payload: %w", err)
		}
		if conditionCanceled(codes, 1) {
			// Put back already, by another restorer or requeuer, or by
			// this very transaction (the SDK's resend after a lost answer,
			// past the token's window: the marker names f.ID, in flight,
			// and followMark sends it).
			next, err := c.followMark(ctx, hk, id, payload, match)
			if err != nil || next == "" {
				return err
			}
			id = next
			r.again()
		}
	}
	return fmt.Errorf("restore payload: %w", ErrContention)
}

// followMark finishes what the marker BACK#<id> says became of the payload
// of delivery id, which someone put back already:
//
//   - the marker names no delivery: the payload was stored (requeued, or
//     restored as a stored payload), and an await commits a stored
//     payload only after sending it: nothing more to do.
//   - it names delivery d to task T (a restore into a parked await): d is
//     finished as a replay finishes its record's delivery. Still in flight
//     → sent now (the restorer may have died or been throttled before its
//     send); a concurrent sender is harmless (one closed answer, settled as
//     delivered). Gone → T's history: T got the payload → nothing more; T
//     ended without it → next is d: the caller restores the payload as
//     delivery d's, at most once again (BACK#<d>); T's end not shown yet →
//     an error (unknown; retry). The execution over → ErrHookNotFound.
func (c *Client) followMark(ctx context.Context, hk *Hook, id, payload string, match payloadMatch) (next string, err error) {
	got, err := c.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &c.table, Key: itemKey(hk.Token, requeuedSK(id)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("read requeue marker: %w", err)
	}
	d, task := getS(got.Item, attrDelivery), getS(got.Item, attrTask)
	if d == "" {
		// Stored (or the marker expired with its hook).
		return "", nil
	}
	h, err := c.getHookItem(ctx, hk.Token)
	if err != nil {
		return "", err
	}
	if h != nil && h.HookID == hk.HookID && h.Inflight != nil && h.Inflight.ID == d {
		res, err := c.redrive(ctx, h, 0)
		if err != nil {
			return "", fmt.Errorf("send the restored delivery: %w", err)
		}
		if res == executionOver {
			return "", ErrHookNotFound
		}
		return "", nil
	}
	out, err := c.settleEnd(ctx, hk.ExecutionARN, task, payload, match)
	switch {
	case err != nil:
		return "", fmt.Errorf("confirm the restored delivery: %w", err)
	case out.Delivered:
		return "", nil
	case out.Ended:
		return "", ErrHookNotFound
	case !out.Closed:
		return "", fmt.Errorf("confirm the restored delivery: its task's end is not in the execution history yet: %w", errTaskUnsettled)
	}
	return d, nil
}

// release forgets a dead waiter whose uncommitted hand-out f did not reach
// it: the payload is still stored at the head of the queue.
func (c *Client) release(ctx context.Context, h *hookItem, f inflight) error {
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
			return fmt.Errorf("release waiter: %w", err)
		}
		// A newer await replaced the record; the payload is still stored.
	}
	return nil
}

// commit is step A5: after a stored payload reached its await, count it as
// delivered and delete its item. Conditioned on the hand-out still being
// the one in flight, so a commit that comes late changes nothing.
func (c *Client) commit(ctx context.Context, h *hookItem, f inflight) error {
	if len(f.Keys) > 1 {
		return c.commitBatch(ctx, h, f)
	}
	in := &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName:                &c.table,
				Key:                      hookKey(h.Token),
				ConditionExpression:      aws.String("#inflight.#id = :fid AND #inflight.#key = :key"),
				UpdateExpression:         aws.String("SET #dlv = #dlv + :one, #inflight.#redriven = :t, " + limUp + " REMOVE #inflight.#key"),
				ExpressionAttributeNames: map[string]string{"#inflight": attrInflight, "#id": fID, "#dlv": attrDlv, "#lim": attrLim, "#key": fKey, "#redriven": fRedriven},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":fid": s(f.ID), ":key": s(f.Key), ":one": n(1), ":t": &types.AttributeValueMemberBOOL{Value: true},
					":nolim": n(noLim),
				},
			}},
			{Delete: &types.Delete{TableName: &c.table, Key: itemKey(h.Token, msgSK(h.HookID, f.Key))}},
		},
	}
	for range c.opts.MaxAttempts {
		_, err := c.transact(ctx, in)
		if err == nil {
			return nil
		}
		codes, ok := canceledReasons(err)
		if !ok {
			return fmt.Errorf("commit delivery: %w", err)
		}
		if conditionCanceled(codes, 0) {
			return nil // already committed, or settled by a newer await
		}
		// Canceled for another reason (TransactionConflict with a
		// concurrent write of the hook item): not committed; again.
		c.backoff(ctx, 1)
	}
	return fmt.Errorf("commit delivery: %w", ErrContention)
}

// redrive sends again an in-flight record whose sender may have died
// (older than minAge, not known to be delivered): Options.RedriveAfter for
// a resume that finds it, at once for an idempotent retry of the resume
// that wrote it. Sending twice is safe: a task completes once, and a
// closed-task answer is settled from the history, so the record is
// finished exactly as its first sender would have finished it. res is 0
// when there was nothing to redrive.
func (c *Client) redrive(ctx context.Context, h *hookItem, minAge time.Duration) (sendResult, error) {
	f := h.Inflight
	if f == nil || f.Redriven || h.Waiter == "" || c.opts.Now().Sub(f.At) < minAge {
		return 0, nil
	}
	payload, ok, err := c.payloadOf(ctx, h, *f)
	if err != nil || !ok {
		return 0, err
	}
	res, err := c.send(ctx, h, h.Waiter, payload)
	if err != nil {
		return 0, err
	}
	return res, c.finish(ctx, h, *f, payload, res)
}

func (c *Client) msgPut(h *hookItem, key string, payload string, exp int64) *types.Put {
	return &types.Put{
		TableName: &c.table,
		Item: map[string]types.AttributeValue{
			attrPK:        s(hookPK(h.Token)),
			attrSK:        s(msgSK(h.HookID, key)),
			attrPayload:   s(payload),
			attrExpiresAt: n(exp),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: names(attrPK),
	}
}

func isConflict(err error) bool { return errors.Is(err, ErrConflict) }

// retrier paces an optimistic loop: the first try at once, each next one
// after a jittered exponential backoff, until its time budget is spent.
type retrier struct {
	c        *Client
	deadline time.Time
	attempt  int
	free     bool // the next call of next neither waits nor counts
}

func (c *Client) retrier(budget time.Duration) *retrier {
	return &retrier{c: c, deadline: c.opts.Now().Add(budget)}
}

// next waits before the next try and reports whether there is one; false
// means the budget is spent (the caller answers ErrContention).
func (r *retrier) next(ctx context.Context) bool {
	if r.free {
		r.free = false
		return ctx.Err() == nil
	}
	if r.attempt > 0 {
		if r.c.opts.Now().After(r.deadline) || ctx.Err() != nil {
			return false
		}
		r.c.backoff(ctx, r.attempt)
	}
	r.attempt++
	return true
}

// again makes the next call of next return at once, without waiting or
// counting an attempt: the loop goes on with what it just learnt (a
// resume that sealed its payload for the hook it found).
func (r *retrier) again() { r.free = true }

// backoff sleeps before the next try of an optimistic loop: jittered
// exponential, from about 5 ms for the first retry up to 250 ms.
func (c *Client) backoff(ctx context.Context, attempt int) {
	d := min(5*time.Millisecond<<min(attempt, 6), 250*time.Millisecond)
	sleep(ctx, d/2+c.opts.Jitter(d/2))
}

// sleep waits d, or less if ctx is done first; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
