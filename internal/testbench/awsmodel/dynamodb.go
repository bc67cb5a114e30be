package awsmodel

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Config sets the costs of the model.
type Config struct {
	// Latency is the round trip of one call (default 5ms): half before the
	// service acts, half after. A negative value means none at all: no
	// timer, no sleep (a simulator in a testing/synctest bubble).
	Latency time.Duration
	// TxHold is how long a transaction holds its items between its
	// prepare and its commit (default Latency; none when Latency < 0): a
	// write or another transaction on one of them meanwhile is a
	// TransactionConflict. A negative value means no hold: the
	// transaction commits the moment it acts.
	TxHold time.Duration
	// PartitionWCU and PartitionRCU are the per-partition limits (default
	// 1000 and 3000 per second, one second of burst); 0 keeps the default,
	// a negative value turns the limit off.
	PartitionWCU, PartitionRCU float64
	// SDKRetries retries throttled calls as the AWS SDK's standard
	// retryer does by default: 3 attempts, jittered backoff rand·2^n s.
	SDKRetries bool
	// Rand draws that jitter (nil: math/rand/v2's global source). A
	// simulator that replays a run from a seed sets it; it is only used
	// under the model's lock.
	Rand *rand.Rand
	// KeyOnFullPage sets a Query's LastEvaluatedKey whenever the page read
	// Limit items, as DynamoDB does, even when no item follows (the next
	// page is then empty); by default only when one follows, as moto does.
	KeyOnFullPage bool
	// TxSizeCancels answers a transaction with an item past
	// ItemSizeLimit as DynamoDB documents it (TransactionCanceledException,
	// reason code "ValidationError" for that item) instead of with a
	// ValidationException for the whole request, which is what moto
	// answers and the default.
	TxSizeCancels bool
	// WritesWait makes a single-item write that arrives on an item held by
	// a transaction wait for the commit instead of failing with
	// TransactionConflictException (what DynamoDB documents): the
	// optimistic bound, for comparison.
	WritesWait bool
}

// ItemSizeLimit is DynamoDB's item size limit, 400 KB: an item (names and
// values, see size) may be this large, not one byte more.
const ItemSizeLimit = 400 * 1024

// heldError asks call to try the attempt again once the hold is over.
type heldError struct{ until time.Time }

func (heldError) Error() string { return "held by a transaction" }

// withDefaults fills in the defaults; after it, Latency and TxHold are
// never negative (0: none).
func (c Config) withDefaults() Config {
	switch {
	case c.Latency == 0:
		c.Latency = 5 * time.Millisecond
	case c.Latency < 0:
		c.Latency = 0
	}
	switch {
	case c.TxHold == 0:
		c.TxHold = c.Latency
	case c.TxHold < 0:
		c.TxHold = 0
	}
	if c.PartitionWCU == 0 {
		c.PartitionWCU = 1000
	}
	if c.PartitionRCU == 0 {
		c.PartitionRCU = 3000
	}
	return c
}

// DynamoDB is the model of one table (any TableName is accepted): a
// partition per partition key, each with its own write and read token
// buckets. It implements hooks.DynamoDBAPI.
type DynamoDB struct {
	cfg   Config
	Calls *awscalls.Counter // counted per call (not per SDK retry), like awscalls.Middleware

	mu      sync.Mutex
	parts   map[string]*partition
	maxItem int    // the largest item ever stored, bytes
	tokens  tokens // ClientRequestTokens of applied transactions (txtoken.go)

	// Throttled and Conflicts count the ProvisionedThroughputExceeded
	// answers (each attempt) and TransactionConflicts.
	Throttled, Conflicts int64

	// idx are the byStateMachine index's partitions' write buckets (by
	// partition key); used counts the capacity units consumed, by table
	// ("") or index name, and IndexThrottled the writes refused because an
	// index partition had no write units left (indexwrite.go).
	idx            map[string]*bucket
	smIdx          map[string]map[string]bool
	used           map[string]float64
	IndexThrottled int64
}

var _ hooks.DynamoDBAPI = (*DynamoDB)(nil)

type partition struct {
	items    map[string]*item
	wcu, rcu bucket
}

type item struct {
	attrs   map[string]types.AttributeValue // nil: absent
	txUntil time.Time                       // held by a transaction until then
	pending map[string]types.AttributeValue // what it writes at txUntil
	commit  bool
}

// settle applies a transaction's write once its hold is over (lazily, at
// the next look at the item).
func (it *item) settle(now time.Time) {
	if it.commit && !now.Before(it.txUntil) {
		it.attrs, it.pending, it.commit = it.pending, nil, false
	}
}

type bucket struct {
	tokens float64
	at     time.Time
	used   float64 // units taken so far (capacity units billed)
}

// take takes n units from a bucket refilled at rate per second, holding at
// most rate (one second of burst). A negative rate is unlimited.
func (b *bucket) take(n, rate float64, now time.Time) bool {
	if !b.has(n, rate, now) {
		return false
	}
	if rate >= 0 {
		b.tokens -= n
	}
	b.used += n
	return true
}

// Units returns the write and read capacity units charged so far over
// all partitions (what on-demand billing counts: WRU and RRU).
func (d *DynamoDB) Units() (wru, rru float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range d.parts {
		wru += p.wcu.used
		rru += p.rcu.used
	}
	return wru, rru
}

// has reports whether the bucket holds n units now, taking none.
func (b *bucket) has(n, rate float64, now time.Time) bool {
	if rate < 0 {
		return true
	}
	if b.at.IsZero() {
		b.tokens = rate
	} else {
		b.tokens = min(rate, b.tokens+now.Sub(b.at).Seconds()*rate)
	}
	b.at = now
	return b.tokens >= n
}

// NewDynamoDB returns an empty table model.
func NewDynamoDB(cfg Config) *DynamoDB {
	return &DynamoDB{cfg: cfg.withDefaults(), Calls: &awscalls.Counter{}, parts: map[string]*partition{},
		idx: map[string]*bucket{}, smIdx: map[string]map[string]bool{}, used: map[string]float64{}}
}

func validation(msg string) error {
	return &smithy.GenericAPIError{Code: "ValidationException", Message: msg}
}

// tooLarge is DynamoDB's answer to a write whose item would pass
// ItemSizeLimit (UpdateItem says "Item size to update has exceeded …").
func tooLarge(update bool) error {
	if update {
		return validation("Item size to update has exceeded the maximum allowed size")
	}
	return validation("Item size has exceeded the maximum allowed size")
}

// stored notes the size of an item just written (under d.mu).
func (d *DynamoDB) stored(attrs map[string]types.AttributeValue) {
	d.maxItem = max(d.maxItem, size(attrs))
}

// MaxItemBytes returns the size of the largest item the model ever stored
// (as size counts it: names and values), for checks against
// ItemSizeLimit.
func (d *DynamoDB) MaxItemBytes() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.maxItem
}

func throttled() error {
	return &types.ProvisionedThroughputExceededException{Message: aws.String("The level of configured provisioned throughput for the table was exceeded")}
}

func keyOf(k map[string]types.AttributeValue) (pk, sk string, err error) {
	p, ok1 := k["pk"].(*types.AttributeValueMemberS)
	s, ok2 := k["sk"].(*types.AttributeValueMemberS)
	if !ok1 || !ok2 {
		return "", "", validation("the key must be pk (S) and sk (S)")
	}
	return p.Value, s.Value, nil
}

func (d *DynamoDB) part(pk string) *partition {
	p := d.parts[pk]
	if p == nil {
		p = &partition{items: map[string]*item{}}
		d.parts[pk] = p
	}
	return p
}

func (d *DynamoDB) itemAt(pk, sk string) *item {
	p := d.part(pk)
	it := p.items[sk]
	if it == nil {
		it = &item{}
		p.items[sk] = it
	}
	it.settle(time.Now())
	return it
}

// wcu is the write cost of an item: 1 per KB begun, at least 1 (a write
// pays for the larger of the item before and after it; transactional
// writes cost twice that).
func wcu(attrs map[string]types.AttributeValue) float64 {
	return units(size(attrs), 1024)
}

// rcu is the cost of a strongly consistent read of n bytes: 1 per 4 KB
// begun, at least 1.
func rcu(n int) float64 { return units(n, 4096) }

func units(n, per int) float64 { return float64(max(1, (n+per-1)/per)) }

// call runs one API call: latency around each attempt, and the SDK's
// retries of throttled attempts when configured.
func (d *DynamoDB) call(ctx context.Context, op string, attempt func(now time.Time) error) error {
	d.Calls.Inc("DynamoDB." + op)
	for n := 1; ; n++ {
		if err := sleep(ctx, d.cfg.Latency/2); err != nil {
			return err
		}
		d.mu.Lock()
		err := attempt(time.Now())
		for {
			h, ok := err.(heldError)
			if !ok {
				break
			}
			d.mu.Unlock()
			if err := sleep(ctx, time.Until(h.until)); err != nil {
				return err
			}
			d.mu.Lock()
			err = attempt(time.Now())
		}
		var pt *types.ProvisionedThroughputExceededException
		isThrottle := errors.As(err, &pt)
		if isThrottle {
			d.Throttled++
		}
		retry := isThrottle && d.cfg.SDKRetries && n < 3
		var backoff time.Duration
		if retry {
			backoff = time.Duration(d.jitter() * float64(time.Second<<n))
		}
		d.mu.Unlock()
		if err := sleep(ctx, d.cfg.Latency/2); err != nil {
			return err
		}
		if !retry {
			return err
		}
		if err := sleep(ctx, backoff); err != nil {
			return err
		}
	}
}

// jitter draws in [0, 1) from Config.Rand, else the global source. Under
// d.mu.
func (d *DynamoDB) jitter() float64 {
	if d.cfg.Rand != nil {
		return d.cfg.Rand.Float64()
	}
	return rand.Float64()
}

// sleep waits d; it sets no timer when d <= 0.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// write is a single-item conditional write under d.mu: the item is
// serialized by the lock, a transaction holding it is a conflict.
func (d *DynamoDB) write(now time.Time, key map[string]types.AttributeValue, cond string, names map[string]string, values map[string]types.AttributeValue,
	returnOld bool, change func(old map[string]types.AttributeValue) (map[string]types.AttributeValue, error)) (old, new map[string]types.AttributeValue, err error) {
	pk, sk, err := keyOf(key)
	if err != nil {
		return nil, nil, err
	}
	it := d.itemAt(pk, sk)
	if now.Before(it.txUntil) {
		if d.cfg.WritesWait {
			return nil, nil, heldError{it.txUntil}
		}
		d.Conflicts++
		return nil, nil, &types.TransactionConflictException{Message: aws.String("Transaction is ongoing for the item")}
	}
	ok, err := evalCond(cond, names, values, it.attrs)
	if err != nil {
		return nil, nil, err
	}
	// A write pays for the larger of the item before and after it; a
	// failed condition for the item as it is.
	cost := wcu(it.attrs)
	if ok {
		if new, err = change(it.attrs); err != nil {
			return nil, nil, err
		}
		if size(new) > ItemSizeLimit {
			return nil, nil, tooLarge(true)
		}
		cost = max(cost, wcu(new))
	}
	if !d.part(pk).wcu.has(cost, d.cfg.PartitionWCU, now) {
		return nil, nil, throttled()
	}
	if ok && !d.indexWrite(it.attrs, new, now) {
		return nil, nil, throttled()
	}
	d.part(pk).wcu.take(cost, d.cfg.PartitionWCU, now)
	d.used["w:"] += cost
	if !ok {
		e := &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
		if returnOld && it.attrs != nil {
			e.Item = deepCopy(it.attrs)
		}
		return nil, nil, e
	}
	old, it.attrs = it.attrs, new
	d.stored(new)
	return old, new, nil
}

// GetItem implements hooks.DynamoDBAPI.
func (d *DynamoDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out := &dynamodb.GetItemOutput{}
	err := d.call(ctx, "GetItem", func(now time.Time) error {
		pk, sk, err := keyOf(in.Key)
		if err != nil {
			return err
		}
		p := d.part(pk)
		var attrs map[string]types.AttributeValue
		if it := p.items[sk]; it != nil {
			it.settle(now)
			attrs = it.attrs
		}
		if !p.rcu.take(rcu(size(attrs)), d.cfg.PartitionRCU, now) {
			return throttled()
		}
		d.used["r:"] += rcu(size(attrs))
		if attrs != nil {
			item, err := project(aws.ToString(in.ProjectionExpression), in.ExpressionAttributeNames, attrs)
			if err != nil {
				return err
			}
			out.Item = item
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PutItem implements hooks.DynamoDBAPI.
func (d *DynamoDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	err := d.call(ctx, "PutItem", func(now time.Time) error {
		if size(in.Item) > ItemSizeLimit {
			return tooLarge(false) // the request itself is refused, before any condition
		}
		_, _, err := d.write(now, in.Item, aws.ToString(in.ConditionExpression), in.ExpressionAttributeNames, in.ExpressionAttributeValues,
			in.ReturnValuesOnConditionCheckFailure == types.ReturnValuesOnConditionCheckFailureAllOld,
			func(map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
				return deepCopy(in.Item), nil
			})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &dynamodb.PutItemOutput{}, nil
}

// UpdateItem implements hooks.DynamoDBAPI (ReturnValues NONE, ALL_OLD or
// ALL_NEW).
func (d *DynamoDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out := &dynamodb.UpdateItemOutput{}
	err := d.call(ctx, "UpdateItem", func(now time.Time) error {
		old, n, err := d.write(now, in.Key, aws.ToString(in.ConditionExpression), in.ExpressionAttributeNames, in.ExpressionAttributeValues,
			in.ReturnValuesOnConditionCheckFailure == types.ReturnValuesOnConditionCheckFailureAllOld,
			func(old map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
				return updated(in.Key, old, aws.ToString(in.UpdateExpression), in.ExpressionAttributeNames, in.ExpressionAttributeValues)
			})
		switch in.ReturnValues {
		case types.ReturnValueAllNew:
			out.Attributes = deepCopy(n)
		case types.ReturnValueAllOld:
			out.Attributes = deepCopy(old)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func updated(key, old map[string]types.AttributeValue, expr string, names map[string]string, values map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	base := old
	if base == nil {
		base = deepCopy(key)
	}
	return applyUpdate(expr, names, values, base)
}

// DeleteItem implements hooks.DynamoDBAPI.
func (d *DynamoDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	out := &dynamodb.DeleteItemOutput{}
	err := d.call(ctx, "DeleteItem", func(now time.Time) error {
		old, _, err := d.write(now, in.Key, aws.ToString(in.ConditionExpression), in.ExpressionAttributeNames, in.ExpressionAttributeValues,
			in.ReturnValuesOnConditionCheckFailure == types.ReturnValuesOnConditionCheckFailureAllOld,
			func(map[string]types.AttributeValue) (map[string]types.AttributeValue, error) { return nil, nil })
		if in.ReturnValues == types.ReturnValueAllOld {
			out.Attributes = deepCopy(old)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// attrExec is the partition key of the byExecution index.
const attrExec = "executionArn"

// entry is an item a Query reads: its table key, and what the table or
// index it reads holds of it.
type entry struct {
	pk, sk string
	sort   string // the index's sort key, if it has one
	attrs  map[string]types.AttributeValue
}

// less orders entries as a Query reads them forward: by the index's sort
// key, then the table key.
func (e entry) less(o entry) bool {
	if e.sort != o.sort {
		return e.sort < o.sort
	}
	if e.pk != o.pk {
		return e.pk < o.pk
	}
	return e.sk < o.sk
}

// Query implements hooks.DynamoDBAPI, on the table or on the byExecution
// index (hooks.TableDefinition).
//
// On the table: "#pk = :pk" with an optional "AND begins_with(#sk,
// :prefix)", in sort-key order. On byExecution: "#executionArn = :exec";
// the index is sparse (items with an executionArn of type S) and
// KEYS_ONLY (pk, sk, executionArn), ordered by (pk, sk) as moto orders it
// (DynamoDB promises no order within an index partition), and it is
// current (the model has no index lag); ConsistentRead is refused as on
// a GSI, and the index is read at no capacity cost. On byStateMachine:
// "#smShard = :p" with an optional "AND #smSort <op> :v" (<, <=, >, >=),
// ordered by smSort then the table key, entries the table key, the index
// keys and tags (INCLUDE); it is current, and a page is charged half a read
// unit per 4 KB begun (an eventually consistent read; Consumed), as its
// writes are charged per index partition (indexwrite.go).
//
// Both: ScanIndexForward, ExclusiveStartKey and Limit honoured; Limit
// counts the items read, FilterExpression then drops items (Count: those
// kept, ScannedCount: those read), ProjectionExpression keeps the
// attributes it names. LastEvaluatedKey (the table key, and executionArn
// on the index) is set when Limit stopped the read with more matching
// items left, as moto does; with Config.KeyOnFullPage whenever the page
// read Limit items, as DynamoDB does (the next page may be empty).
func (d *DynamoDB) Query(ctx context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out := &dynamodb.QueryOutput{}
	err := d.call(ctx, "Query", func(now time.Time) error {
		index := aws.ToString(in.IndexName)
		hashAttr, sortAttr := "pk", ""
		switch index {
		case "":
		case hooks.IndexByExecution:
			hashAttr = attrExec
		case hooks.IndexByStateMachine:
			hashAttr, sortAttr = attrSMShard, attrSMSort
		default:
			return validation("The table does not have the specified index: " + index)
		}
		if index != "" && aws.ToBool(in.ConsistentRead) {
			return validation("Consistent reads are not supported on global secondary indexes")
		}
		x := &exprCtx{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues, toks: tokenize(aws.ToString(in.KeyConditionExpression))}
		var hash, prefix, rangeOp, rangeVal string
		var err error
		func() {
			defer recoverTo(&err)
			if p := x.path(); len(p) != 1 || p[0] != hashAttr {
				panic(fmt.Errorf("the key condition must start with %s = :v", hashAttr))
			}
			x.expect("=")
			hash = x.operand(nil).(*types.AttributeValueMemberS).Value
			if x.peek() == "AND" {
				x.next()
				switch {
				case index == "":
					x.expect("begins_with")
					x.expect("(")
					x.path()
					x.expect(",")
					prefix = x.operand(nil).(*types.AttributeValueMemberS).Value
					x.expect(")")
				case sortAttr != "":
					if p := x.path(); len(p) != 1 || p[0] != sortAttr {
						panic(fmt.Errorf("the sort key condition must be on %s", sortAttr))
					}
					rangeOp = x.next()
					switch rangeOp {
					case "<", "<=", ">", ">=":
					default:
						panic(fmt.Errorf("unsupported sort key operator %q", rangeOp))
					}
					rangeVal = x.operand(nil).(*types.AttributeValueMemberS).Value
				default:
					panic(errors.New("the index has no sort key to condition"))
				}
			}
			if x.pos != len(x.toks) {
				panic(fmt.Errorf("trailing %q in the key condition", x.peek()))
			}
		}()
		if err != nil {
			return validation("Invalid KeyConditionExpression: " + err.Error())
		}
		var entries []entry
		var p *partition
		switch index {
		case "":
			p = d.part(hash)
			for sk, it := range p.items {
				it.settle(now)
				if it.attrs != nil && strings.HasPrefix(sk, prefix) {
					entries = append(entries, entry{pk: hash, sk: sk, attrs: it.attrs})
				}
			}
		case hooks.IndexByExecution:
			for pk, part := range d.parts {
				for sk, it := range part.items {
					it.settle(now)
					if e, ok := it.attrs[attrExec].(*types.AttributeValueMemberS); ok && e.Value == hash {
						entries = append(entries, entry{pk: pk, sk: sk, attrs: map[string]types.AttributeValue{
							"pk": it.attrs["pk"], "sk": it.attrs["sk"], attrExec: e}})
					}
				}
			}
		default:
			for _, pk := range d.smCandidates(hash) {
				part := d.parts[pk]
				if part == nil {
					continue
				}
				for sk, it := range part.items {
					it.settle(now)
					e := smEntryOf(it.attrs)
					if e == nil || getS(e, attrSMShard) != hash || !sortHolds(getS(e, attrSMSort), rangeOp, rangeVal) {
						continue
					}
					entries = append(entries, entry{pk: pk, sk: sk, sort: getS(e, attrSMSort), attrs: e})
				}
			}
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].less(entries[j]) })
		forward := in.ScanIndexForward == nil || *in.ScanIndexForward
		if !forward {
			slices.Reverse(entries)
		}
		if in.ExclusiveStartKey != nil {
			spk, ssk, err := keyOf(in.ExclusiveStartKey)
			if err != nil {
				return err
			}
			start := entry{pk: spk, sk: ssk, sort: getS(in.ExclusiveStartKey, attrSMSort)}
			after := func(e entry) bool { // e comes after the start key in read order
				return forward && start.less(e) || !forward && e.less(start)
			}
			i := 0
			for i < len(entries) && !after(entries[i]) {
				i++
			}
			entries = entries[i:]
		}
		var lek map[string]types.AttributeValue
		if l := int(aws.ToInt32(in.Limit)); l > 0 && (len(entries) > l || d.cfg.KeyOnFullPage && len(entries) == l) {
			entries = entries[:l]
			last := entries[l-1].attrs
			lek = map[string]types.AttributeValue{"pk": last["pk"], "sk": last["sk"]}
			if index != "" {
				lek[hashAttr] = last[hashAttr]
			}
			if sortAttr != "" {
				lek[sortAttr] = last[sortAttr]
			}
		}
		read := 0
		var items []map[string]types.AttributeValue
		for _, e := range entries {
			read += size(e.attrs)
			ok, err := evalCond(aws.ToString(in.FilterExpression), in.ExpressionAttributeNames, in.ExpressionAttributeValues, e.attrs)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			item, err := project(aws.ToString(in.ProjectionExpression), in.ExpressionAttributeNames, e.attrs)
			if err != nil {
				return err
			}
			items = append(items, item)
		}
		if p != nil && !p.rcu.take(rcu(read), d.cfg.PartitionRCU, now) {
			return throttled()
		}
		switch index {
		case "":
			d.used["r:"] += rcu(read)
		case hooks.IndexByStateMachine:
			// An index read is eventually consistent: half a unit per 4 KB
			// begun of what the page read (before the filter).
			d.used["r:"+index] += rcu(read) / 2
		}
		out.Items, out.LastEvaluatedKey = items, lek
		out.Count, out.ScannedCount = int32(len(items)), int32(len(entries))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TransactWriteItems implements hooks.DynamoDBAPI. The transaction checks
// every condition when it arrives, then holds its items for TxHold before
// its writes become visible. An item already held by another transaction
// cancels it with TransactionConflict; a write arriving on a held item
// fails with TransactionConflictException (DynamoDB's "transaction
// conflict handling"). Each write costs twice its WCU.
func (d *DynamoDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	type step struct {
		it    *item
		pk    string
		attrs map[string]types.AttributeValue
	}
	var steps []step
	tok := in.ClientRequestToken
	var sum [sha256.Size]byte
	if tok != nil {
		sum = fingerprint(in)
	}
	err := d.call(ctx, "TransactWriteItems", func(now time.Time) error {
		steps = steps[:0]
		if len(in.TransactItems) > 100 {
			// As DynamoDB: at most 100 actions a transaction.
			return validation("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100")
		}
		if tok != nil {
			// Applied already with this token: success, nothing applied.
			if done, err := d.tokens.check(*tok, sum, now); done || err != nil {
				return err
			}
		}
		reasons := make([]types.CancellationReason, len(in.TransactItems))
		canceled := false
		cost := map[string]float64{}
		for i, ti := range in.TransactItems {
			reasons[i].Code = aws.String("None")
			var key map[string]types.AttributeValue
			var cond, upd string
			var names map[string]string
			var values map[string]types.AttributeValue
			var rvccf types.ReturnValuesOnConditionCheckFailure
			switch {
			case ti.Put != nil:
				key, cond, names, values, rvccf = ti.Put.Item, aws.ToString(ti.Put.ConditionExpression), ti.Put.ExpressionAttributeNames, ti.Put.ExpressionAttributeValues, ti.Put.ReturnValuesOnConditionCheckFailure
			case ti.Update != nil:
				key, cond, names, values, rvccf = ti.Update.Key, aws.ToString(ti.Update.ConditionExpression), ti.Update.ExpressionAttributeNames, ti.Update.ExpressionAttributeValues, ti.Update.ReturnValuesOnConditionCheckFailure
				upd = aws.ToString(ti.Update.UpdateExpression)
			case ti.Delete != nil:
				key, cond, names, values, rvccf = ti.Delete.Key, aws.ToString(ti.Delete.ConditionExpression), ti.Delete.ExpressionAttributeNames, ti.Delete.ExpressionAttributeValues, ti.Delete.ReturnValuesOnConditionCheckFailure
			case ti.ConditionCheck != nil:
				key, cond, names, values, rvccf = ti.ConditionCheck.Key, aws.ToString(ti.ConditionCheck.ConditionExpression), ti.ConditionCheck.ExpressionAttributeNames, ti.ConditionCheck.ExpressionAttributeValues, ti.ConditionCheck.ReturnValuesOnConditionCheckFailure
			default:
				return validation("empty TransactWriteItem")
			}
			pk, sk, err := keyOf(key)
			if err != nil {
				return err
			}
			if ti.Put != nil && size(ti.Put.Item) > ItemSizeLimit && !d.cfg.TxSizeCancels {
				return tooLarge(false) // the request itself, before any condition
			}
			it := d.itemAt(pk, sk)
			if now.Before(it.txUntil) {
				reasons[i].Code = aws.String("TransactionConflict")
				canceled = true
				d.Conflicts++
				continue
			}
			ok, err := evalCond(cond, names, values, it.attrs)
			if err != nil {
				return err
			}
			if !ok {
				reasons[i].Code = aws.String("ConditionalCheckFailed")
				if rvccf == types.ReturnValuesOnConditionCheckFailureAllOld && it.attrs != nil {
					reasons[i].Item = deepCopy(it.attrs)
				}
				canceled = true
				continue
			}
			n := it.attrs
			switch {
			case ti.Put != nil:
				n = deepCopy(ti.Put.Item)
			case ti.Update != nil:
				if n, err = updated(key, it.attrs, upd, names, values); err != nil {
					return err
				}
			case ti.Delete != nil:
				n = nil
			}
			if size(n) > ItemSizeLimit {
				if !d.cfg.TxSizeCancels {
					return tooLarge(ti.Update != nil)
				}
				reasons[i].Code = aws.String("ValidationError")
				reasons[i].Message = aws.String("Item size has exceeded the maximum allowed size")
				canceled = true
				continue
			}
			cost[pk] += 2 * max(wcu(it.attrs), wcu(n))
			steps = append(steps, step{it: it, pk: pk, attrs: n})
		}
		// All or nothing: a partition that cannot pay throttles the
		// transaction and none is charged (whatever the map's order).
		for pk, c := range cost {
			if !d.part(pk).wcu.has(c, d.cfg.PartitionWCU, now) {
				return throttled()
			}
		}
		for pk, c := range cost {
			d.part(pk).wcu.take(c, d.cfg.PartitionWCU, now)
		}
		if canceled {
			return &types.TransactionCanceledException{
				Message:             aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons"),
				CancellationReasons: reasons,
			}
		}
		if tok != nil {
			d.tokens.remember(*tok, sum, now.Add(d.cfg.TxHold))
		}
		for _, s := range steps {
			d.stored(s.attrs)
			if d.cfg.TxHold == 0 {
				s.it.attrs = s.attrs // no hold: committed at once
				continue
			}
			s.it.txUntil, s.it.pending, s.it.commit = now.Add(d.cfg.TxHold), s.attrs, true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The answer comes after the commit.
	if err := sleep(ctx, d.cfg.TxHold-d.cfg.Latency/2); err != nil {
		return nil, err
	}
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

// sortedTables returns the table names of a batch request in order, so
// a batch is applied the same way on every run.
func sortedTables[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// BatchWriteItem implements hooks.DynamoDBAPI: up to 25 PutRequest and
// DeleteRequest (no conditions), tables in name order, each request in
// its order. The whole batch is refused with ValidationException, nothing
// written, for more than 25 requests, two on one key, a request that is
// not exactly one put or delete, or an item past ItemSizeLimit. A request
// on an item a transaction holds, or on a partition without write units
// for it, is returned in UnprocessedItems (the model's reading of
// DynamoDB's "the failed operations are returned"); when no request could
// be applied for lack of units the call fails with
// ProvisionedThroughputExceededException. Each write costs what a
// PutItem or DeleteItem would.
func (d *DynamoDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	out := &dynamodb.BatchWriteItemOutput{}
	err := d.call(ctx, "BatchWriteItem", func(now time.Time) error {
		type write struct {
			table  string
			req    types.WriteRequest
			pk, sk string
			attrs  map[string]types.AttributeValue // nil: delete
		}
		var writes []write
		seen := map[[3]string]bool{}
		tables := sortedTables(in.RequestItems)
		for _, table := range tables {
			for _, r := range in.RequestItems[table] {
				var k map[string]types.AttributeValue
				w := write{table: table, req: r}
				switch {
				case r.PutRequest != nil && r.DeleteRequest == nil:
					k, w.attrs = r.PutRequest.Item, r.PutRequest.Item
					if size(w.attrs) > ItemSizeLimit {
						return tooLarge(false)
					}
				case r.DeleteRequest != nil && r.PutRequest == nil:
					k = r.DeleteRequest.Key
				default:
					return validation("a WriteRequest must hold exactly one of PutRequest and DeleteRequest")
				}
				pk, sk, err := keyOf(k)
				if err != nil {
					return err
				}
				if seen[[3]string{table, pk, sk}] {
					return validation("Provided list of item keys contains duplicates")
				}
				seen[[3]string{table, pk, sk}] = true
				w.pk, w.sk = pk, sk
				writes = append(writes, w)
			}
		}
		switch {
		case len(writes) == 0:
			return validation("The batch write request list for a table cannot be null or empty")
		case len(writes) > 25:
			return validation("Too many items requested for the BatchWriteItem call")
		}
		unprocessed := map[string][]types.WriteRequest{}
		applied, starved := 0, 0
		for _, w := range writes {
			it := d.itemAt(w.pk, w.sk)
			if now.Before(it.txUntil) {
				unprocessed[w.table] = append(unprocessed[w.table], w.req)
				continue
			}
			n := deepCopy(w.attrs)
			if !d.part(w.pk).wcu.take(max(wcu(it.attrs), wcu(n)), d.cfg.PartitionWCU, now) {
				unprocessed[w.table] = append(unprocessed[w.table], w.req)
				starved++
				continue
			}
			it.attrs = n
			if n != nil {
				d.stored(n)
			}
			applied++
		}
		if applied == 0 && starved > 0 && starved == len(writes) {
			return throttled()
		}
		out.UnprocessedItems = unprocessed
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// BatchGetItem implements hooks.DynamoDBAPI: up to 100 keys, each read as
// GetItem reads it (strongly consistent whatever ConsistentRead says,
// ProjectionExpression with ExpressionAttributeNames), answered in
// Responses under the table's name, in the order asked (DynamoDB
// promises no order), absent items left out. More than 100 keys, or one
// key twice, is a ValidationException. A key whose partition has no read
// units left for it is returned in UnprocessedKeys; when none could be
// read the call fails with ProvisionedThroughputExceededException.
func (d *DynamoDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out := &dynamodb.BatchGetItemOutput{}
	err := d.call(ctx, "BatchGetItem", func(now time.Time) error {
		total := 0
		tables := sortedTables(in.RequestItems)
		for _, table := range tables {
			ka := in.RequestItems[table]
			seen := map[[2]string]bool{}
			for _, k := range ka.Keys {
				pk, sk, err := keyOf(k)
				if err != nil {
					return err
				}
				if seen[[2]string{pk, sk}] {
					return validation("Provided list of item keys contains duplicates")
				}
				seen[[2]string{pk, sk}] = true
				total++
			}
		}
		switch {
		case total == 0:
			return validation("The list of keys to get cannot be empty")
		case total > 100:
			return validation("Too many items requested for the BatchGetItem call")
		}
		responses := map[string][]map[string]types.AttributeValue{}
		unprocessed := map[string]types.KeysAndAttributes{}
		read, starved := 0, 0
		for _, table := range tables {
			ka := in.RequestItems[table]
			responses[table] = []map[string]types.AttributeValue{}
			for _, k := range ka.Keys {
				pk, sk, _ := keyOf(k)
				p := d.part(pk)
				var attrs map[string]types.AttributeValue
				if it := p.items[sk]; it != nil {
					it.settle(now)
					attrs = it.attrs
				}
				if !p.rcu.take(rcu(size(attrs)), d.cfg.PartitionRCU, now) {
					u := unprocessed[table]
					if u.Keys == nil {
						u = ka
						u.Keys = nil
					}
					u.Keys = append(u.Keys, k)
					unprocessed[table] = u
					starved++
					continue
				}
				read++
				d.used["r:"] += rcu(size(attrs))
				if attrs == nil {
					continue
				}
				item, err := project(aws.ToString(ka.ProjectionExpression), ka.ExpressionAttributeNames, attrs)
				if err != nil {
					return err
				}
				responses[table] = append(responses[table], item)
			}
		}
		if read == 0 && starved > 0 {
			return throttled()
		}
		out.Responses, out.UnprocessedKeys = responses, unprocessed
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Key is the table key of an item.
type Key struct{ PK, SK string }

// ttlHorizon: DynamoDB's TTL does not delete items whose expiry is more
// than five years in the past.
const ttlHorizon = 5 * 365 * 24 * time.Hour

// ExpireTTL is a sweep of DynamoDB's TTL at now: it deletes every item
// whose expiresAt (hooks.TTLAttribute, a number of epoch seconds) is at
// or before now.Unix(), and returns their keys in key order. Items
// without a numeric expiresAt, with one more than five years before now
// (DynamoDB skips those), or held by a transaction (a later sweep takes
// them) stay. DynamoDB deletes expired items within days, not at once:
// the caller decides when to sweep. It is not an API call: no latency,
// no capacity, not counted.
func (d *DynamoDB) ExpireTTL(now time.Time) (deleted []Key) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cut := new(big.Rat).SetInt64(now.Unix())
	floor := new(big.Rat).SetInt64(now.Add(-ttlHorizon).Unix())
	clock := time.Now()
	for pk, p := range d.parts {
		for sk, it := range p.items {
			it.settle(clock)
			if it.attrs == nil || clock.Before(it.txUntil) {
				continue
			}
			n, ok := it.attrs[hooks.TTLAttribute].(*types.AttributeValueMemberN)
			if !ok {
				continue
			}
			at, ok := new(big.Rat).SetString(n.Value)
			if !ok || at.Cmp(cut) > 0 || at.Cmp(floor) < 0 {
				continue
			}
			it.attrs = nil
			deleted = append(deleted, Key{PK: pk, SK: sk})
		}
	}
	slices.SortFunc(deleted, compareKeys)
	return deleted
}

func compareKeys(a, b Key) int {
	if c := strings.Compare(a.PK, b.PK); c != 0 {
		return c
	}
	return strings.Compare(a.SK, b.SK)
}

// Items returns every item of the table as a read would see it now (a
// transaction's writes once committed), deep copies in key order: what an
// auditor compares, without touching the model.
func (d *DynamoDB) Items() []map[string]types.AttributeValue {
	d.mu.Lock()
	defer d.mu.Unlock()
	clock := time.Now()
	var keys []Key
	for pk, p := range d.parts {
		for sk, it := range p.items {
			it.settle(clock)
			if it.attrs != nil {
				keys = append(keys, Key{PK: pk, SK: sk})
			}
		}
	}
	slices.SortFunc(keys, compareKeys)
	items := make([]map[string]types.AttributeValue, len(keys))
	for i, k := range keys {
		items[i] = deepCopy(d.parts[k.PK].items[k.SK].attrs)
	}
	return items
}
