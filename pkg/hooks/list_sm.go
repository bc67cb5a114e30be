package hooks

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Tag limits: a hook carries at most MaxTags tags, each a "key:value"
// string of at most MaxTagBytes bytes (so at most 1,290 bytes of the hook
// item with the attribute's name: docs/protocol.md, "Items", size).
const (
	MaxTags     = 10
	MaxTagBytes = 128
)

// StateIdle filters ListStateMachineHooks to hooks neither waiting nor
// holding pending payloads: between two awaits, or a delivery in flight to
// an await and nothing stored behind it.
const StateIdle State = "idle"

// ListShards is how many partitions of the byStateMachine index one state
// machine's hooks are spread over (by a hash of the token), so that the
// index writes of a burst of creates and disposes stay under DynamoDB's
// per-partition 1,000 WCU/s (docs/operators.md, "Hot partitions";
// internal/testbench/awsmodel's TestStateMachineIndexHotPartition). A page
// queries every shard and merges them by age.
const ListShards = 16

// MaxStateMachineListLimit is the most hooks one ListStateMachineHooks page
// returns. Each entry carries the hook's data (up to MaxHookDataBytes), so
// A page is also cut at MaxListPageBytes.
const MaxStateMachineListLimit = 50

// Order is the age order of a listing.
type Order string

const (
	// OrderNewest lists the most recently created hooks first (default).
	OrderNewest Order = "newest"
	// OrderOldest lists the hooks that have waited longest first.
	OrderOldest Order = "oldest"
)

// ValidateTags checks tags as a create or await gives them and returns them
// sorted without duplicates: at most MaxTags, each 1 to MaxTagBytes bytes
// of UTF-8 without control characters, of the form key:value with a
// non-empty key. Errors wrap ErrInvalidRequest and name the offending tag.
func ValidateTags(tags []string) ([]string, error) {
	if len(tags) == 0 {
		return nil, nil
	}
	out := slices.Clone(tags)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > MaxTags {
		return nil, fmt.Errorf("%w: %d tags; a hook has at most %d", ErrInvalidRequest, len(out), MaxTags)
	}
	for _, t := range out {
		if err := validateTag(t); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func validateTag(t string) error {
	switch {
	case len(t) > MaxTagBytes:
		return fmt.Errorf("%w: tag %.40q… is %d bytes; the limit is %d", ErrInvalidRequest, t, len(t), MaxTagBytes)
	case !utf8.ValidString(t) || strings.ContainsFunc(t, unicode.IsControl):
		return fmt.Errorf("%w: tag %q is not UTF-8 text without control characters", ErrInvalidRequest, t)
	case !strings.Contains(t, ":") || strings.HasPrefix(t, ":"):
		return fmt.Errorf("%w: tag %q: want key:value (for example customer:acme)", ErrInvalidRequest, t)
	}
	return nil
}

// StateMachineARN returns the ARN of the state machine of an execution
// ARN (arn:P:states:R:A:execution:NAME:ID, or NAME/MAPRUN:ID for a
// Distributed Map's child execution) as arn:P:states:R:A:stateMachine:NAME;
// "" for anything else.
func StateMachineARN(executionARN string) string {
	parts := strings.Split(executionARN, ":")
	if len(parts) < 8 || parts[0] != "arn" || parts[2] != "states" || (parts[5] != "execution" && parts[5] != "express") {
		return ""
	}
	name, _, _ := strings.Cut(parts[6], "/")
	if name == "" {
		return ""
	}
	return strings.Join([]string{"arn", parts[1], "states", parts[3], parts[4], "stateMachine", name}, ":")
}

// smShard is the byStateMachine partition key of token's hook.
func smShard(stateMachineARN, token string) string {
	return fmt.Sprintf("%s#%02d", stateMachineARN, shardOf(token))
}

func shardOf(token string) int {
	h := fnv.New32a()
	h.Write([]byte(token))
	return int(h.Sum32() % ListShards)
}

// smSort is the byStateMachine sort key: the creation time in microseconds
// (16 hex digits, so keys sort by age) and the token (so keys are unique
// and a page can end between two hooks created in the same microsecond).
func smSort(created time.Time, token string) string {
	return fmt.Sprintf("%016x#%s", created.UnixMicro(), token)
}

// ListStateMachineHooksInput selects the hooks ListStateMachineHooks
// returns.
type ListStateMachineHooksInput struct {
	// StateMachineARN is the state machine whose executions' hooks are
	// listed (required; arn:…:stateMachine:NAME).
	StateMachineARN string
	// State keeps only the hooks in that state now (StateWaiting,
	// StatePending or StateIdle); empty keeps all.
	State State
	// Tag keeps only the hooks that carry this tag (exact match).
	Tag string
	// Order is OrderNewest (default) or OrderOldest.
	Order Order
	// Limit is how many hooks a page lists, 1 to MaxStateMachineListLimit;
	// 0 means 25. With a State filter a page may hold fewer.
	Limit int
	// Cursor continues a listing: the Cursor of the previous page with the
	// same StateMachineARN, Tag and Order.
	Cursor string
}

// ListStateMachineHooksOutput is one page of ListStateMachineHooks.
type ListStateMachineHooksOutput struct {
	Hooks []HookStatus `json:"hooks"`
	// Cursor is set when more hooks may follow: pass it to the next call.
	// It is opaque.
	Cursor string `json:"cursor,omitempty"`
}

// ListStateMachineHooks lists the live hooks of every execution of a state
// machine, by age, a page at a time, optionally only those in a state or
// carrying a tag. It queries the ListShards partitions of the
// byStateMachine index at once (with the tag as a filter on the projected
// tags), merges them by age, and reads the page's hook items with one
// strongly consistent BatchGetItem, so each entry's state is current; the
// State filter is applied to what was read (it is a function of the hook
// item: HookStatus.Waiting, Pending). A page can therefore be short, even
// empty, while Cursor is set. The index is eventually consistent: a hook
// created a moment ago may not be listed yet. ListShards + 1 AWS calls a
// page (docs/performance.md).
//
// Errors: ErrInvalidRequest (no or a malformed StateMachineARN, an unknown
// State or Order, a bad Tag, a Limit out of range, a Cursor that is not
// one this method returned for the same listing), or a wrapped AWS error.
func (c *Client) ListStateMachineHooks(ctx context.Context, in ListStateMachineHooksInput) (*ListStateMachineHooksOutput, error) {
	if in.StateMachineARN == "" || StateMachineARN(strings.Replace(in.StateMachineARN, ":stateMachine:", ":execution:", 1)+":x") != in.StateMachineARN {
		return nil, fmt.Errorf("%w: stateMachineArn %q: want arn:aws:states:REGION:ACCOUNT:stateMachine:NAME", ErrInvalidRequest, in.StateMachineARN)
	}
	switch in.State {
	case "", StateWaiting, StatePending, StateIdle:
	default:
		return nil, fmt.Errorf("%w: state %q: want %q, %q or %q", ErrInvalidRequest, in.State, StateWaiting, StatePending, StateIdle)
	}
	switch in.Order {
	case "":
		in.Order = OrderNewest
	case OrderNewest, OrderOldest:
	default:
		return nil, fmt.Errorf("%w: order %q: want %q or %q", ErrInvalidRequest, in.Order, OrderNewest, OrderOldest)
	}
	if in.Tag != "" {
		if err := validateTag(in.Tag); err != nil {
			return nil, err
		}
	}
	limit := in.Limit
	if limit == 0 {
		limit = 25
	}
	if limit < 1 || limit > MaxStateMachineListLimit {
		return nil, fmt.Errorf("%w: limit %d: want 1 to %d", ErrInvalidRequest, in.Limit, MaxStateMachineListLimit)
	}
	cur := smCursor{M: in.StateMachineARN, O: string(in.Order), T: in.Tag}
	if in.Cursor != "" {
		var err error
		if cur, err = decodeSMCursor(in.Cursor, cur); err != nil {
			return nil, err
		}
	}
	newest := in.Order == OrderNewest

	// One Query per shard not yet exhausted, at once.
	type shardPage struct {
		entries []smEntry
		more    bool // LastEvaluatedKey set: the shard has items past frontier
		front   string
		err     error
	}
	pages := make([]shardPage, ListShards)
	var wg sync.WaitGroup
	for i := range ListShards {
		if cur.D&(1<<i) != 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &pages[i]
			q := &dynamodb.QueryInput{
				TableName:                 &c.table,
				IndexName:                 aws.String(IndexByStateMachine),
				KeyConditionExpression:    aws.String("#smShard = :p"),
				ExpressionAttributeNames:  names(attrSMShard),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": s(fmt.Sprintf("%s#%02d", in.StateMachineARN, i))},
				ScanIndexForward:          aws.Bool(!newest),
				Limit:                     aws.Int32(int32(limit)),
			}
			if cur.P != "" {
				op := ">"
				if newest {
					op = "<"
				}
				*q.KeyConditionExpression += " AND #smSort " + op + " :pos"
				q.ExpressionAttributeNames["#smSort"] = attrSMSort
				q.ExpressionAttributeValues[":pos"] = s(cur.P)
			}
			if in.Tag != "" {
				q.FilterExpression = aws.String("contains(#tags, :tag)")
				q.ExpressionAttributeNames["#tags"] = attrTags
				q.ExpressionAttributeValues[":tag"] = s(in.Tag)
			}
			out, err := c.db.Query(ctx, q)
			if err != nil {
				p.err = err
				return
			}
			for _, it := range out.Items {
				tok, ok := strings.CutPrefix(getS(it, attrPK), "HOOK#")
				if ok && getS(it, attrSK) == skHook {
					p.entries = append(p.entries, smEntry{token: tok, sort: getS(it, attrSMSort), shard: i})
				}
			}
			if len(out.LastEvaluatedKey) > 0 {
				p.more, p.front = true, getS(out.LastEvaluatedKey, attrSMSort)
			}
		}()
	}
	wg.Wait()

	// before reports that sort key a comes before b in the listing's order.
	before := func(a, b string) bool {
		if newest {
			return a > b
		}
		return a < b
	}
	// Every shard has been read up to its frontier; the listing is
	// complete up to the frontier least advanced (bound).
	bound, bounded := "", false
	var all []smEntry
	for i := range pages {
		p := &pages[i]
		if p.err != nil {
			return nil, fmt.Errorf("list hooks of %s: %w", in.StateMachineARN, p.err)
		}
		all = append(all, p.entries...)
		if p.more && (!bounded || before(p.front, bound)) {
			bound, bounded = p.front, true
		}
	}
	slices.SortFunc(all, func(a, b smEntry) int {
		if newest {
			return cmp.Compare(b.sort, a.sort)
		}
		return cmp.Compare(a.sort, b.sort)
	})
	if bounded {
		k := 0
		for k < len(all) && !before(bound, all[k].sort) {
			k++
		}
		all = all[:k]
	}
	next := cur
	more := bounded
	if len(all) > limit {
		all, more = all[:limit], true
	}
	switch {
	case !more:
		next.P = ""
	case len(all) == limit:
		next.P = all[limit-1].sort
	default:
		next.P = bound
	}
	// cursorAt is the cursor of a listing that continues after sort key p:
	// a shard read to its end whose entries all come before p is done.
	cursorAt := func(p string) smCursor {
		n := cur
		n.P = p
		left := map[int]bool{}
		for i := range pages {
			for _, e := range pages[i].entries {
				if before(p, e.sort) {
					left[i] = true
				}
			}
		}
		for i := range pages {
			if cur.D&(1<<i) == 0 && !pages[i].more && !left[i] {
				n.D |= 1 << i
			}
		}
		return n
	}
	if more {
		next = cursorAt(next.P)
	}

	// A token can have two entries at once (the index lags behind a
	// dispose and a new create of the same token): BatchGetItem refuses
	// duplicate keys, so each token is read once; the entry whose smSort
	// is the item's is the one listed.
	tokens := make([]string, 0, len(all))
	for _, e := range all {
		if !slices.Contains(tokens, e.token) {
			tokens = append(tokens, e.token)
		}
	}
	items, err := c.getHookItems(ctx, tokens)
	if err != nil {
		return nil, fmt.Errorf("list hooks of %s: %w", in.StateMachineARN, err)
	}
	now := c.opts.Now()
	out := &ListStateMachineHooksOutput{Hooks: []HookStatus{}}
	var sorts []string // of out.Hooks
	for _, e := range all {
		h := items[e.token]
		if h == nil || h.SMShard != fmt.Sprintf("%s#%02d", in.StateMachineARN, e.shard) || h.SMSort != e.sort {
			// Disposed, or its token taken by another execution since the
			// index was read: a new incarnation of the same state machine
			// is listed at its own place (its own smSort), never twice.
			continue
		}
		if in.Tag != "" && !slices.Contains(h.Tags, in.Tag) {
			continue
		}
		c.withURL(&h.Hook)
		st := h.status(now)
		if !in.State.holds(st) {
			continue
		}
		out.Hooks = append(out.Hooks, st)
		sorts = append(sorts, e.sort)
	}
	if n := fitPage(out.Hooks); n < len(out.Hooks) {
		out.Hooks = out.Hooks[:n]
		next, more = cursorAt(sorts[n-1]), true
	}
	if more {
		out.Cursor = next.encode()
	}
	return out, nil
}

// holds reports that st is in state s ("" holds for every hook). It is a
// function of the hook item alone (through HookStatus), so that a later
// condition on the item (a waiter's expiry) can be ANDed to it.
func (s State) holds(st HookStatus) bool {
	switch s {
	case StateWaiting:
		return st.Waiting
	case StatePending:
		return st.Pending > 0
	case StateIdle:
		return !st.Waiting && st.Pending <= 0
	}
	return true
}

type smEntry struct {
	token, sort string
	shard       int
}

// smCursor is a Cursor: the listing it belongs to, the sort key of the last
// place listed (P, exclusive; "" at the start) and the shards read to
// their end (D, a bit each).
type smCursor struct {
	M string `json:"m"`
	O string `json:"o"`
	T string `json:"t,omitempty"`
	P string `json:"p"`
	D uint32 `json:"d,omitempty"`
}

func (c smCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeSMCursor(tok string, want smCursor) (smCursor, error) {
	bad := fmt.Errorf("%w: cursor is not one a listing of this state machine, tag and order returned", ErrInvalidRequest)
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return smCursor{}, bad
	}
	var c smCursor
	if json.Unmarshal(b, &c) != nil || c.M != want.M || c.O != want.O || c.T != want.T || c.P == "" || c.D >= 1<<ListShards {
		return smCursor{}, bad
	}
	return c, nil
}
