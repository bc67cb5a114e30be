package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// GetHook returns the live hook named token with its delivery state (the
// seed's getHookByToken). It reads with strong consistency.
//
// Errors: ErrInvalidToken, ErrHookNotFound, or a wrapped AWS error.
func (c *Client) GetHook(ctx context.Context, token string, opts ...GetOption) (*HookStatus, error) {
	if err := ValidateToken(token); err != nil {
		return nil, err
	}
	var o getOptions
	for _, fn := range opts {
		fn(&o)
	}
	h, err := c.getHookItem(ctx, token)
	if err != nil {
		return nil, fmt.Errorf("get hook %s: %w", Redact(token), err)
	}
	if h == nil || (o.kind != "" && h.Kind != o.kind) {
		return nil, fmt.Errorf("get hook %s: %w", Redact(token), ErrHookNotFound)
	}
	c.withURL(&h.Hook)
	st := h.status(c.opts.Now())
	if h.Schema != "" {
		st.Schema = json.RawMessage(h.Schema)
	}
	return &st, nil
}

// GetOption configures GetHook.
type GetOption func(*getOptions)

type getOptions struct{ kind Kind }

// OnlyKind makes GetHook answer a hook of another kind with
// ErrHookNotFound, exactly as an unknown token: GET /hooks/{token} shows
// plain hooks only, so the route reveals no webhook.
func OnlyKind(k Kind) GetOption { return func(o *getOptions) { o.kind = k } }

// WebhookURL is the public URL of the webhook token:
// Options.WebhookBaseURL + "/webhooks/" + the escaped token.
func (c *Client) WebhookURL(token string) string {
	return strings.TrimRight(c.opts.WebhookBaseURL, "/") + "/webhooks/" + url.PathEscape(token)
}

// DisposeHook is Dispose for an operator (DELETE /hooks/{token}, the
// sfnhooks console): the same call, under a name of its own so that what
// each function's role needs is told apart. IfHookID makes it dispose only
// the hook the operator looked at.
func (c *Client) DisposeHook(ctx context.Context, token, executionARN string, opts ...DisposeOption) error {
	var o disposeOptions
	for _, fn := range opts {
		fn(&o)
	}
	if len(o.hookID) > maxHookIDLen {
		return fmt.Errorf("%w: hookId is %d bytes; a hook id is at most %d", ErrInvalidRequest, len(o.hookID), maxHookIDLen)
	}
	return c.disposeChecked(ctx, token, executionARN, o.hookID)
}

// DisposeOption configures DisposeHook.
type DisposeOption func(*disposeOptions)

type disposeOptions struct{ hookID string }

// maxHookIDLen bounds a hookId given to IfHookID (the ids this package
// makes are 32 characters; Options.NewID may make others).
const maxHookIDLen = 128

// IfHookID disposes the hook only while it is the one with this hook id
// (HookStatus.HookID, from a listing or GetHook): a hook its execution
// disposed and created again since, under the same token, is a new hook
// with a new id, and is not disposed (*ConflictError with HookID set;
// nothing changes). Gone altogether is success, as always. An empty id
// sets no condition.
func IfHookID(hookID string) DisposeOption { return func(o *disposeOptions) { o.hookID = hookID } }

// Dispose deletes the hook token of execution executionARN and the payloads
// it still stores; the token is free for reuse at once. Disposing a hook
// that no longer exists succeeds (idempotent). An await still parked on the
// hook, or one whose delivery is not known to have reached it, is failed
// with HookDisposedError before the hook is deleted, so a dispose repeated
// after a lost answer or a crash still tells it. Idempotency records stay
// until they expire, so a retried resume is still answered.
//
// Errors: ErrInvalidToken, ErrInvalidRequest (no executionARN),
// *ConflictError when another execution holds the token (nothing is
// deleted), ErrContention, or a wrapped AWS error (also when the await
// could not be told: nothing is deleted, retry).
func (c *Client) Dispose(ctx context.Context, token, executionARN string) error {
	return c.disposeChecked(ctx, token, executionARN, "")
}

// disposeChecked is Dispose, and DisposeHook with its hook id condition.
func (c *Client) disposeChecked(ctx context.Context, token, executionARN, hookID string) error {
	if err := ValidateToken(token); err != nil {
		return err
	}
	if executionARN == "" {
		return fmt.Errorf("%w: executionArn is required: a hook is disposed by the execution that holds it", ErrInvalidRequest)
	}
	if err := c.dispose(ctx, token, executionARN, hookID, nil, nil); err != nil {
		var conflict *ConflictError
		if errors.As(err, &conflict) {
			return err
		}
		return fmt.Errorf("dispose hook %s: %w", Redact(token), err)
	}
	return nil
}

// dispose is docs/protocol.md, "Dispose": D1 deletes the hook unless it
// names a waiter not told yet; refused, D2 fails that waiter and D1 is made
// again with it told. The stored payloads go last (D3).
//
// pin, when not nil, is the hook as it was read before Step Functions said
// its execution had ended (DisposeExecution): D1 is then also conditioned
// on the hook being in that state still (pinCond), so that nothing a
// redriven run did after that answer is deleted. A D1 refused because the
// hook changed asks ended again: if the execution still has ended, the
// hook as the refused D1 returned it is pinned and D1 made again;
// otherwise errExecutionRuns.
//
// hookID, when not empty, is also a condition of D1 (IfHookID): the hook
// must still be that incarnation; another is a *ConflictError, told
// nothing and deleted nothing.
func (c *Client) dispose(ctx context.Context, token, executionARN, hookID string, pin *hookItem, ended func(context.Context) (bool, error)) error {
	var told []string
	var read *hookItem // the hook as the last refused delete returned it
	for r := c.retrier(c.opts.ContentionTimeout); r.next(ctx); {
		nm := names(attrPK, attrExec)
		vals := map[string]types.AttributeValue{":exec": s(executionARN)}
		cond := "attribute_not_exists(#pk) OR (#executionArn = :exec AND " + toldCond(nm, vals, told)
		if hookID != "" {
			nm["#hookId"] = attrHookID
			vals[":hid"] = s(hookID)
			cond += " AND #hookId = :hid"
		}
		if pin != nil {
			cond += " AND " + pinCond(nm, vals, pin)
		}
		cond += ")"
		out, err := c.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName:                           &c.table,
			Key:                                 hookKey(token),
			ConditionExpression:                 aws.String(cond),
			ExpressionAttributeNames:            nm,
			ExpressionAttributeValues:           vals,
			ReturnValues:                        types.ReturnValueAllOld,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			h := decodeHook(out.Attributes)
			if h == nil {
				// No item: disposed already, or this is the SDK's resend of
				// a delete that was applied (its answer lost). The hook it
				// deleted is the one the refused delete returned, if any.
				h = read
			}
			if h == nil {
				return nil
			}
			return c.deleteStored(ctx, h)
		}
		if transactionConflict(err) {
			continue
		}
		old, ok := conditionFailed(err)
		if !ok {
			return err
		}
		h := decodeHook(old)
		if h == nil {
			continue
		}
		if h.ExecutionARN != executionARN {
			return &ConflictError{Token: token, ExecutionARN: h.ExecutionARN}
		}
		if hookID != "" && h.HookID != hookID {
			// The hook named is gone: disposed (perhaps by this very call,
			// whose applied D1's answer was lost and whose resend met the
			// new hook) and the token registered again. What it stored is
			// unreachable: deleted here, as D3 would; the new hook is left
			// as it is.
			if err := c.deleteStoredOf(ctx, token, hookID); err != nil {
				return err
			}
			return &ConflictError{Token: token, ExecutionARN: h.ExecutionARN, HookID: h.HookID}
		}
		if pin != nil && !pin.sameState(h) {
			// Changed since Step Functions said the execution ended:
			// perhaps by a run redriven since. Nobody is told before the
			// status is asked again.
			stillEnded, err := ended(ctx)
			if err != nil {
				return err
			}
			if !stillEnded {
				return errExecutionRuns
			}
			pin = h
			r.again()
			continue
		}
		if w := h.untold(told); w != "" {
			if err := c.tell(ctx, w, ErrorNameDisposed, "hook "+Redact(token)+" was disposed"); err != nil {
				return err
			}
			told = append(told, w)
			read = h
			r.again()
		}
	}
	return ErrContention
}

// deleteStored deletes the payloads a disposed hook still stored. They are
// unreachable once the hook item is gone (their keys carry its hook id), so
// a crash here leaves only garbage that TTL removes.
func (c *Client) deleteStored(ctx context.Context, h *hookItem) error {
	if h.Seq == h.Dlv {
		return nil
	}
	return c.deleteStoredOf(ctx, h.Token, h.HookID)
}

// deleteStoredOf deletes whatever payloads hook hookID of token stored.
func (c *Client) deleteStoredOf(ctx context.Context, token, hookID string) error {
	var reqs []types.WriteRequest
	q := c.storedQuery(&hookItem{Hook: Hook{Token: token, HookID: hookID}})
	q.ProjectionExpression = aws.String("#pk, #sk")
	p := dynamodb.NewQueryPaginator(c.db, q)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list stored payloads: %w", err)
		}
		for _, it := range page.Items {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: itemKey(token, getS(it, attrSK))}})
		}
	}
	for len(reqs) > 0 {
		batch := reqs[:min(25, len(reqs))]
		out, err := c.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{c.table: batch},
		})
		if err != nil {
			return fmt.Errorf("delete stored payloads: %w", err)
		}
		reqs = append(out.UnprocessedItems[c.table], reqs[len(batch):]...)
	}
	return nil
}

// errExecutionRuns: DisposeExecution found the execution running (again):
// its hooks stay.
var errExecutionRuns = errors.New("the execution runs")

// pinCond is the condition term "the hook is still in the state of pin":
// the same incarnation, the same counters, the same waiter and the same
// in-flight record (or none). Every write that acknowledges, hands out or
// parks changes one of them (R1, S1, A1, A3, A5, a requeue). It adds the
// names and values it uses.
func pinCond(nm map[string]string, vals map[string]types.AttributeValue, pin *hookItem) string {
	for _, a := range []string{attrHookID, attrSeq, attrDlv, attrWaiter, attrInflight} {
		nm["#"+a] = a
	}
	vals[":pinHid"], vals[":pinSeq"], vals[":pinDlv"] = s(pin.HookID), n(pin.Seq), n(pin.Dlv)
	cond := "#hookId = :pinHid AND #seq = :pinSeq AND #dlv = :pinDlv"
	if pin.Waiter == "" {
		cond += " AND attribute_not_exists(#waiter)"
	} else {
		vals[":pinWaiter"] = s(pin.Waiter)
		cond += " AND #waiter = :pinWaiter"
	}
	if pin.Inflight == nil {
		cond += " AND attribute_not_exists(#inflight)"
	} else {
		nm["#"+fID] = fID
		vals[":pinFlight"] = s(pin.Inflight.ID)
		cond += " AND #inflight.#id = :pinFlight"
	}
	return cond
}

// sameState reports whether o is in the state of h that pinCond(h) holds.
func (h *hookItem) sameState(o *hookItem) bool {
	flight := func(x *hookItem) string {
		if x.Inflight == nil {
			return ""
		}
		return "f:" + x.Inflight.ID
	}
	return o != nil && o.HookID == h.HookID && o.Seq == h.Seq && o.Dlv == h.Dlv &&
		o.Waiter == h.Waiter && flight(o) == flight(h)
}

// DisposeExecution disposes every hook of an execution that has ended; the
// EventBridge rule on execution status changes calls it when an execution
// ends. It returns how many hooks it disposed.
//
// An end event can be late (EventBridge retries a failed delivery for
// hours): the execution may have been redriven since, and a redriven run
// uses the same hooks. So the hooks are read first, then Step Functions is
// asked (DescribeExecution, once): an execution that runs (RUNNING, or
// PENDING_REDRIVE) keeps its hooks, and 0 is returned. Each hook is then
// deleted as Dispose does, but only while it is as it was read before that
// answer: a hook that changed meanwhile is looked at again (docs/protocol.md,
// "DisposeExecution"). An execution without hooks costs no
// DescribeExecution.
//
// Errors: a wrapped AWS error, also when Step Functions cannot say whether
// the execution runs (nothing is deleted: the event is retried).
func (c *Client) DisposeExecution(ctx context.Context, executionARN string) (int, error) {
	found, err := c.executionHooks(ctx, executionARN)
	if err != nil {
		return 0, fmt.Errorf("dispose execution %s: %w", executionARN, err)
	}
	if len(found) == 0 {
		return 0, nil
	}
	ended := func(ctx context.Context) (bool, error) {
		running, err := c.describeRunning(ctx, executionARN)
		return !running, err
	}
	if ok, err := ended(ctx); err != nil || !ok {
		if err != nil {
			err = fmt.Errorf("dispose execution %s: has it ended? %w", executionARN, err)
		}
		return 0, err
	}
	count := 0
	for _, h := range found {
		err := c.dispose(ctx, h.Token, executionARN, "", h, ended)
		switch {
		case errors.Is(err, errExecutionRuns):
			return count, nil // redriven meanwhile: the rest stay too
		case errors.Is(err, ErrConflict):
			continue // the token belongs to another execution since it was read
		case err != nil:
			return count, fmt.Errorf("dispose execution %s: dispose hook %s: %w", executionARN, Redact(h.Token), err)
		}
		count++
	}
	return count, nil
}

// executionHooks reads the hooks of executionARN: its byExecution index
// (KEYS_ONLY), then the hook items (consistent BatchGetItem, 100 at a
// time). An item that is gone or names another execution (the index lags
// a dispose or a take-over) is left out.
func (c *Client) executionHooks(ctx context.Context, executionARN string) ([]*hookItem, error) {
	p := dynamodb.NewQueryPaginator(c.db, &dynamodb.QueryInput{
		TableName:                 &c.table,
		IndexName:                 aws.String(IndexByExecution),
		KeyConditionExpression:    aws.String("#executionArn = :exec"),
		ExpressionAttributeNames:  names(attrExec),
		ExpressionAttributeValues: map[string]types.AttributeValue{":exec": s(executionARN)},
	})
	var tokens []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list hooks: %w", err)
		}
		for _, item := range page.Items {
			if tok, ok := strings.CutPrefix(getS(item, attrPK), "HOOK#"); ok && getS(item, attrSK) == skHook {
				tokens = append(tokens, tok)
			}
		}
	}
	var out []*hookItem
	for len(tokens) > 0 {
		chunk := tokens[:min(100, len(tokens))]
		tokens = tokens[len(chunk):]
		items, err := c.getHookItems(ctx, chunk)
		if err != nil {
			return nil, err
		}
		for _, tok := range chunk {
			if h := items[tok]; h != nil && h.ExecutionARN == executionARN {
				out = append(out, h)
			}
		}
	}
	return out, nil
}
