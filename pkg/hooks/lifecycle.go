package hooks

import (
	"context"
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
	return &HookStatus{
		Hook:      *c.withURL(&h.Hook),
		Waiting:   h.waiting(),
		Pending:   h.Seq - h.Dlv,
		Delivered: h.Dlv,
	}, nil
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
	if err := ValidateToken(token); err != nil {
		return err
	}
	if executionARN == "" {
		return fmt.Errorf("%w: executionArn is required: a hook is disposed by the execution that holds it", ErrInvalidRequest)
	}
	if err := c.dispose(ctx, token, executionARN); err != nil {
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
func (c *Client) dispose(ctx context.Context, token, executionARN string) error {
	var told []string
	var read *hookItem // the hook as the last refused delete returned it
	for r := c.retrier(c.opts.ContentionTimeout); r.next(ctx); {
		nm := names(attrPK, attrExec)
		vals := map[string]types.AttributeValue{":exec": s(executionARN)}
		cond := "attribute_not_exists(#pk) OR (#executionArn = :exec AND " + toldCond(nm, vals, told) + ")"
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
	var reqs []types.WriteRequest
	q := c.storedQuery(h)
	q.ProjectionExpression = aws.String("#pk, #sk")
	p := dynamodb.NewQueryPaginator(c.db, q)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list stored payloads: %w", err)
		}
		for _, it := range page.Items {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: itemKey(h.Token, getS(it, attrSK))}})
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

// DisposeExecution disposes every hook of an execution; the EventBridge rule
// on execution status changes calls it when an execution ends. It returns
// how many hooks it disposed.
func (c *Client) DisposeExecution(ctx context.Context, executionARN string) (int, error) {
	p := dynamodb.NewQueryPaginator(c.db, &dynamodb.QueryInput{
		TableName:                 &c.table,
		IndexName:                 aws.String(IndexByExecution),
		KeyConditionExpression:    aws.String("#executionArn = :exec"),
		ExpressionAttributeNames:  names(attrExec),
		ExpressionAttributeValues: map[string]types.AttributeValue{":exec": s(executionARN)},
	})
	count := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return count, fmt.Errorf("dispose execution %s: list hooks: %w", executionARN, err)
		}
		for _, item := range page.Items {
			token := strings.TrimPrefix(getS(item, attrPK), "HOOK#")
			err := c.Dispose(ctx, token, executionARN)
			if errors.Is(err, ErrConflict) {
				continue // the index lagged: the token already belongs to another execution
			}
			if err != nil {
				return count, fmt.Errorf("dispose execution %s: %w", executionARN, err)
			}
			count++
		}
	}
	return count, nil
}
