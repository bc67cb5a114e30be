package hooks

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// State filters ListHooks by what a hook holds now (docs/protocol.md,
// "States of a hook").
type State string

const (
	// StateWaiting: an await of the execution is parked on the hook
	// (waiter set, no inflight record; then nothing is pending, invariant
	// W). A resume now is delivered at once. HookStatus.Waiting is true.
	StateWaiting State = "waiting"
	// StatePending: acknowledged payloads are stored for the next await
	// (seq > dlv; a stored payload an await is handing out counts until its
	// hand-out is committed). HookStatus.Pending > 0.
	StatePending State = "pending"
)

// MaxListLimit is the most hooks one ListHooks page evaluates (one
// BatchGetItem reads at most 100 items).
const MaxListLimit = 100

// MaxListPageBytes bounds the JSON of a listing's page (ListHooks,
// ListStateMachineHooks) as encoding/json writes it. The resume-hook
// function returns the page as an API Gateway response body, which Lambda
// caps at 6 MB once the body is escaped again inside the response (at
// most twice its size: a backslash or a quote doubles). A page ends
// before the hook that would pass the bound, and the cursor continues
// from there; the first hook of a page always goes (one hook's JSON stays
// under half a megabyte: MaxHookDataBytes of metadata at six bytes a
// character at most).
const MaxListPageBytes = 2 << 20

// fitPage is how many of hooks, from the first, a page holds within
// MaxListPageBytes (at least one).
func fitPage(hooks []HookStatus) int {
	size := len(`{"hooks":[],"cursor":""}`) + 256 // the envelope and its cursor
	for i, h := range hooks {
		b, err := json.Marshal(h)
		if err != nil {
			b = nil // cannot happen (plain fields, valid raw JSON); the page's own encoding would fail too
		}
		if size += len(b) + 1; size > MaxListPageBytes && i > 0 {
			return i
		}
	}
	return len(hooks)
}

// ListHooksInput selects the hooks ListHooks returns.
type ListHooksInput struct {
	// ExecutionARN is the execution whose hooks are listed (required: the
	// listing is a Query of the byExecution index, never a Scan of the
	// table).
	ExecutionARN string
	// State keeps only the hooks in that state; empty lists all.
	State State
	// Limit is how many hooks of the execution a page evaluates, 1 to
	// MaxListLimit; zero means MaxListLimit. With a State filter a page
	// may hold fewer (even none) while NextToken is set.
	Limit int
	// NextToken continues a listing: the NextToken of the previous page
	// of the same execution.
	NextToken string
}

// ListHooksOutput is one page of ListHooks.
type ListHooksOutput struct {
	// Hooks are the hooks of the page, each with its delivery state and,
	// for a webhook, its URL.
	Hooks []HookStatus `json:"hooks"`
	// NextToken is set when more hooks may follow: pass it to the next
	// call. It is opaque.
	NextToken string `json:"nextToken,omitempty"`
}

// ListHooks lists the live hooks of an execution, a page at a time. It
// queries the byExecution index (keys only) for up to Limit hooks, then
// reads those hook items with one strongly consistent BatchGetItem, so each
// entry's state is current; the filter by State is applied to what was
// read. A page can therefore be short or empty while NextToken is set:
// keep calling until NextToken is empty. The index is eventually
// consistent: a hook created a moment ago may not be listed yet, and a hook
// disposed meanwhile (or whose token another execution took over) is left
// out. Two AWS calls per page.
//
// Errors: ErrInvalidRequest (no ExecutionARN, an unknown State, a Limit
// out of range, a NextToken that is not one this method returned for the
// same execution), or a wrapped AWS error.
func (c *Client) ListHooks(ctx context.Context, in ListHooksInput) (*ListHooksOutput, error) {
	if in.ExecutionARN == "" {
		return nil, fmt.Errorf("%w: executionArn is required (hooks are listed per execution)", ErrInvalidRequest)
	}
	switch in.State {
	case "", StateWaiting, StatePending:
	default:
		return nil, fmt.Errorf("%w: state %q: want %q or %q", ErrInvalidRequest, in.State, StateWaiting, StatePending)
	}
	limit := in.Limit
	if limit == 0 {
		limit = MaxListLimit
	}
	if limit < 1 || limit > MaxListLimit {
		return nil, fmt.Errorf("%w: limit %d: want 1 to %d", ErrInvalidRequest, in.Limit, MaxListLimit)
	}
	q := &dynamodb.QueryInput{
		TableName:                 &c.table,
		IndexName:                 aws.String(IndexByExecution),
		KeyConditionExpression:    aws.String("#executionArn = :exec"),
		ExpressionAttributeNames:  names(attrExec),
		ExpressionAttributeValues: map[string]types.AttributeValue{":exec": s(in.ExecutionARN)},
		Limit:                     aws.Int32(int32(limit)),
	}
	if in.NextToken != "" {
		start, err := decodeListToken(in.NextToken, in.ExecutionARN)
		if err != nil {
			return nil, err
		}
		q.ExclusiveStartKey = start
	}
	page, err := c.db.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list hooks of %s: %w", in.ExecutionARN, err)
	}
	out := &ListHooksOutput{Hooks: []HookStatus{}}
	if len(page.LastEvaluatedKey) > 0 {
		out.NextToken = encodeListToken(page.LastEvaluatedKey)
	}
	var tokens []string
	for _, it := range page.Items {
		if tok, ok := strings.CutPrefix(getS(it, attrPK), "HOOK#"); ok && getS(it, attrSK) == skHook {
			tokens = append(tokens, tok)
		}
	}
	items, err := c.getHookItems(ctx, tokens)
	if err != nil {
		return nil, fmt.Errorf("list hooks of %s: %w", in.ExecutionARN, err)
	}
	var listed []string          // the tokens of out.Hooks
	for _, tok := range tokens { // the index's order
		h := items[tok]
		if h == nil || h.ExecutionARN != in.ExecutionARN {
			continue // disposed, or taken over, since the index was written
		}
		c.withURL(&h.Hook)
		st := h.status(c.opts.Now())
		switch {
		case in.State == StateWaiting && !st.Waiting, in.State == StatePending && st.Pending <= 0:
			continue
		}
		out.Hooks = append(out.Hooks, st)
		listed = append(listed, tok)
	}
	if n := fitPage(out.Hooks); n < len(out.Hooks) {
		// Continue after the last hook listed: its index key, as a Query's
		// LastEvaluatedKey would give it.
		out.Hooks = out.Hooks[:n]
		out.NextToken = encodeListToken(map[string]types.AttributeValue{
			attrExec: s(in.ExecutionARN), attrPK: s("HOOK#" + listed[n-1]), attrSK: s(skHook),
		})
	}
	return out, nil
}

// getHookItems reads the hook items of tokens (at most 100) with one
// strongly consistent BatchGetItem, again for the keys DynamoDB left
// unprocessed (throttling), with a short backoff.
func (c *Client) getHookItems(ctx context.Context, tokens []string) (map[string]*hookItem, error) {
	found := make(map[string]*hookItem, len(tokens))
	if len(tokens) == 0 {
		return found, nil
	}
	keys := make([]map[string]types.AttributeValue, 0, len(tokens))
	for _, tok := range tokens {
		keys = append(keys, hookKey(tok))
	}
	req := map[string]types.KeysAndAttributes{c.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		out, err := c.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, fmt.Errorf("read hooks: %w", err)
		}
		for _, it := range out.Responses[c.table] {
			if h := decodeHook(it); h != nil {
				found[h.Token] = h
			}
		}
		left, ok := out.UnprocessedKeys[c.table]
		if !ok || len(left.Keys) == 0 {
			return found, nil
		}
		req = map[string]types.KeysAndAttributes{c.table: left}
		if !sleep(ctx, wait) {
			return nil, fmt.Errorf("read hooks: %w", ctx.Err())
		}
	}
}

// listToken is a NextToken: the LastEvaluatedKey of a byExecution query
// (the index key and the table key of the last hook evaluated).
type listToken struct {
	E string `json:"e"` // executionArn
	P string `json:"p"` // pk
	S string `json:"s"` // sk
}

func encodeListToken(key map[string]types.AttributeValue) string {
	b, _ := json.Marshal(listToken{E: getS(key, attrExec), P: getS(key, attrPK), S: getS(key, attrSK)})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeListToken(tok, executionARN string) (map[string]types.AttributeValue, error) {
	bad := fmt.Errorf("%w: nextToken is not one a listing of this execution returned", ErrInvalidRequest)
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, bad
	}
	var t listToken
	if json.Unmarshal(b, &t) != nil || t.E != executionARN || !strings.HasPrefix(t.P, "HOOK#") || t.S != skHook {
		return nil, bad
	}
	return map[string]types.AttributeValue{attrExec: s(t.E), attrPK: s(t.P), attrSK: s(t.S)}, nil
}
