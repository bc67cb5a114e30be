package hooks

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Batch awaits (docs/protocol.md, "Batch awaits").
//
// An await with MaxBatch (1 to MaxMaxBatch) receives {"items":[P1,…,Pn]}:
// the oldest stored payloads in queue order, as many as fit, handed out by
// one A3 that names all their keys and committed by one A5 transaction
// that deletes them all. A parked batch await that a resume completes at
// once (R1) gets that one payload as a batch of one.
const (
	// MaxMaxBatch is the largest maxBatch an await accepts.
	MaxMaxBatch = 100
	// MaxBatchItems is the most stored payloads one batch holds: the
	// commit (A5) is one TransactWriteItems of the hook item and one delete
	// per payload, and DynamoDB takes at most 100 items a transaction.
	MaxBatchItems = 99
	// MaxBatchWindow bounds batchWindowSeconds: the wait happens inside the
	// await's invocation, which must end well within hook-task's timeout.
	MaxBatchWindow = 10 * time.Second
	// batchOpen and batchClose frame a batch's output; with the commas
	// between items they count against MaxPayloadBytes.
	batchOpen  = `{"items":[`
	batchClose = `]}`
	// MaxBatchItemBytes is the largest payload a batch can carry: Step
	// Functions' 256 KiB output (MaxPayloadBytes, UTF-8 bytes) less the
	// envelope.
	MaxBatchItemBytes = MaxPayloadBytes - len(batchOpen) - len(batchClose)
)

// ErrorNameBatchItemTooLarge is sent (SendTaskFailure) to a batch await
// whose next payload is larger than MaxBatchItemBytes: it cannot be
// carried in {"items":[…]} within Step Functions' output limit. The
// payload stays pending, at the head of the queue: catch the error and
// await without maxBatch to receive it.
const ErrorNameBatchItemTooLarge = "HookBatchItemTooLargeError"

// envelope is the output of a batch: {"items":[p1,…]}. The payloads are
// compact JSON (never a rejection: a batch ends before one).
func envelope(payloads []string) string {
	return batchOpen + strings.Join(payloads, ",") + batchClose
}

// batchFits reports how many of payloads (in queue order) one batch takes:
// it stops before a rejection (delivered alone, by a failure), before the
// payload that would make the output pass MaxPayloadBytes, and at
// MaxBatchItems. 0 means the head alone does not fit the envelope.
func batchFits(payloads []string) int {
	if len(payloads) > 0 && isRejection(payloads[0]) {
		return 1 // alone, as a failure
	}
	size := len(batchOpen) + len(batchClose)
	n := 0
	for _, p := range payloads {
		if n == MaxBatchItems || isRejection(p) {
			break
		}
		add := len(p)
		if n > 0 {
			add++ // the comma
		}
		if size+add > MaxPayloadBytes {
			break
		}
		size += add
		n++
	}
	return n
}

func isRejection(slot string) bool { return strings.HasPrefix(slot, rejectMark) }

// batchWire is what a batch await's task is sent for the stored payloads
// of one hand-out: a rejection alone as it is (SendTaskFailure), else
// their envelope.
func batchWire(payloads []string) string {
	if len(payloads) == 1 && isRejection(payloads[0]) {
		return payloads[0]
	}
	return envelope(payloads)
}

// wire is what send sends to h's waiter for the payload slot of its
// record: a resume's single payload goes to a batch await as a batch of
// one; a stored hand-out's slot was built for the waiter already
// (payloadOf, deliverBacklog); a rejection is sent as it is.
func (h *hookItem) wire(slot string) string {
	if h.Batch == 0 || h.Inflight.stored() || isRejection(slot) {
		return slot
	}
	return envelope([]string{slot})
}

// keyTime is the acknowledgement time a queue key starts with (16 hex
// digits of microseconds, see queueKey); false for a key it cannot read.
func keyTime(key string) (time.Time, bool) {
	hexPart, _, ok := strings.Cut(key, ".")
	if !ok {
		return time.Time{}, false
	}
	us, err := strconv.ParseInt(hexPart, 16, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMicro(us), true
}

// storedPayloads reads the stored payloads of keys (at most 100) of hook
// h with a strongly consistent BatchGetItem, in the order of keys. ok is
// false when one of them is gone: the hand-out that names them was
// committed (A5 deletes them all at once).
func (c *Client) storedPayloads(ctx context.Context, h *hookItem, keys []string) (payloads []string, ok bool, err error) {
	want := make([]map[string]types.AttributeValue, 0, len(keys))
	for _, k := range keys {
		want = append(want, itemKey(h.Token, msgSK(h.HookID, k)))
	}
	found := make(map[string]string, len(keys))
	req := map[string]types.KeysAndAttributes{c.table: {Keys: want, ConsistentRead: aws.Bool(true)}}
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		out, err := c.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, false, fmt.Errorf("read stored payloads: %w", err)
		}
		for _, it := range out.Responses[c.table] {
			found[getS(it, attrSK)] = getS(it, attrPayload)
		}
		left, more := out.UnprocessedKeys[c.table]
		if !more || len(left.Keys) == 0 {
			break
		}
		req = map[string]types.KeysAndAttributes{c.table: left}
		if !sleep(ctx, wait) {
			return nil, false, fmt.Errorf("read stored payloads: %w", ctx.Err())
		}
	}
	for _, k := range keys {
		p, got := found[msgSK(h.HookID, k)]
		if !got {
			return nil, false, nil
		}
		payloads = append(payloads, p)
	}
	return payloads, true, nil
}

// batchSet and batchRemove are A1's change of the batch attribute, which
// goes with waiter: set to the await's maxBatch, or removed for a single
// await (a batch waiter's attribute must not outlive it).
func (in *AwaitInput) batchSet(vals map[string]types.AttributeValue) string {
	if in.MaxBatch == 0 {
		return ""
	}
	vals[":mb"] = n(int64(in.MaxBatch))
	return ", #batch = :mb"
}

func (in *AwaitInput) batchRemove() string {
	if in.MaxBatch > 0 {
		return ""
	}
	return ", #batch"
}

// deliverBatch is deliverBacklog for a batch await (docs/protocol.md,
// "Batch awaits"): A2 reads up to MaxBatch of the oldest stored payloads;
// the batch is the longest prefix that fits (batchFits: it ends before a
// rejection, which goes alone as a failure, and before the payload that
// would pass Step Functions' output limit); A3 names all their keys in
// the hand-out; A4 sends {"items":[…]}; A5 commits them all in one
// transaction. A head payload too large for any batch fails the task
// (ErrorNameBatchItemTooLarge) and stays pending. With a window, an await
// that finds fewer than MaxBatch payloads first waits (once) until the
// oldest is BatchWindow old; nothing is written before or during the
// wait.
func (c *Client) deliverBatch(ctx context.Context, h *hookItem, in *AwaitInput, takeOver string) (done bool, err error) {
	taskToken := in.TaskToken
	q := c.storedQuery(h)
	q.Limit = aws.Int32(int32(min(in.MaxBatch, MaxBatchItems)))
	got, err := c.db.Query(ctx, q)
	if err != nil {
		return false, fmt.Errorf("read the oldest stored payloads: %w", err)
	}
	if len(got.Items) == 0 {
		return false, nil
	}
	keys := make([]string, 0, len(got.Items))
	payloads := make([]string, 0, len(got.Items))
	for _, it := range got.Items {
		keys = append(keys, strings.TrimPrefix(getS(it, attrSK), msgPrefix(h.HookID)))
		payloads = append(payloads, getS(it, attrPayload))
	}
	if in.BatchWindow > 0 && !in.windowed && takeOver == "" && len(keys) < min(in.MaxBatch, MaxBatchItems) {
		in.windowed = true
		if at, ok := keyTime(keys[0]); ok {
			// Never longer than the window: the payload's time is its
			// resumer's clock, which may run ahead of this one.
			wait := min(at.Add(in.BatchWindow).Sub(c.opts.Now()), in.BatchWindow)
			if dl, ok := ctx.Deadline(); ok {
				// Leave the invocation time for the hand-out itself.
				wait = min(wait, time.Until(dl)-windowMargin)
			}
			if wait > 0 {
				if !sleep(ctx, wait) {
					return false, ctx.Err()
				}
				in.waitedNow = true
				return false, nil // again from A1: the hook may have changed
			}
		}
	}
	nb := batchFits(payloads)
	if nb == 0 {
		// The oldest payload is larger than any batch can carry: nothing
		// is handed out; the task is told why and the payload stays first
		// in the queue, for an await without maxBatch.
		cause := fmt.Sprintf(`{"message":"the next payload of hook %s is %d bytes; a batch carries payloads of at most %d bytes: await it without maxBatch"}`,
			Redact(h.Token), len(payloads[0]), MaxBatchItemBytes)
		if err := c.sendFailure(ctx, taskToken, ErrorNameBatchItemTooLarge, cause); err != nil {
			return false, err
		}
		return true, nil
	}
	keys, payloads = keys[:nb], payloads[:nb]
	f := inflight{ID: c.opts.NewID(), At: c.opts.Now(), Key: keys[0]}
	if nb > 1 {
		f.Keys = keys
	}
	return c.handOut(ctx, h, taskToken, takeOver, f, in.MaxBatch, batchWire(payloads))
}

// windowMargin is the time a batch window leaves its invocation for the
// hand-out after it (hook-task's timeout is 29 s).
const windowMargin = 5 * time.Second

// commitBatch is A5 for a hand-out of more than one stored payload: one
// transaction counts them all as delivered and deletes them all, so a
// batch is committed entirely or not at all (at most MaxBatchItems
// deletes and the hook item: DynamoDB's 100 items a transaction).
func (c *Client) commitBatch(ctx context.Context, h *hookItem, f inflight) error {
	keys := f.keys()
	items := make([]types.TransactWriteItem, 0, len(keys)+1)
	items = append(items, types.TransactWriteItem{Update: &types.Update{
		TableName:           &c.table,
		Key:                 hookKey(h.Token),
		ConditionExpression: aws.String("#inflight.#id = :fid AND #inflight.#key = :key"),
		UpdateExpression: aws.String("SET #dlv = #dlv + :cnt, #inflight.#redriven = :t, #lim = if_not_exists(#lim, :nolim) + :cnt " +
			"REMOVE #inflight.#key, #inflight.#keys"),
		ExpressionAttributeNames: map[string]string{"#inflight": attrInflight, "#id": fID, "#dlv": attrDlv, "#lim": attrLim, "#key": fKey, "#keys": fKeys, "#redriven": fRedriven},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":fid": s(f.ID), ":key": s(f.Key), ":cnt": n(int64(len(keys))), ":t": &types.AttributeValueMemberBOOL{Value: true},
			":nolim": n(noLim),
		},
	}})
	for _, k := range keys {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &c.table, Key: itemKey(h.Token, msgSK(h.HookID, k))}})
	}
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
	for range c.opts.MaxAttempts {
		_, err := c.transact(ctx, in)
		if err == nil {
			return nil
		}
		codes, ok := canceledReasons(err)
		if !ok {
			return fmt.Errorf("commit batch: %w", err)
		}
		if conditionCanceled(codes, 0) {
			return nil // already committed, or settled by a newer await
		}
		c.backoff(ctx, 1)
	}
	return fmt.Errorf("commit batch: %w", ErrContention)
}
