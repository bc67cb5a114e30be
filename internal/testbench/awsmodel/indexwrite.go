package awsmodel

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// The byStateMachine index (hooks.TableDefinition): partition key smShard,
// sort key smSort (both S), projection INCLUDE tags. Sparse: an item is in
// it when it has both keys as strings.
const (
	attrSMShard = "smShard"
	attrSMSort  = "smSort"
	attrTags    = "tags"
)

// smEntryOf is what byStateMachine holds of an item (nil: not in it): the
// table key, the index key and the projected tags.
func smEntryOf(attrs map[string]types.AttributeValue) map[string]types.AttributeValue {
	sh, ok1 := attrs[attrSMShard].(*types.AttributeValueMemberS)
	so, ok2 := attrs[attrSMSort].(*types.AttributeValueMemberS)
	if !ok1 || !ok2 {
		return nil
	}
	e := map[string]types.AttributeValue{"pk": attrs["pk"], "sk": attrs["sk"], attrSMShard: sh, attrSMSort: so}
	if t, ok := attrs[attrTags]; ok {
		e[attrTags] = t
	}
	return e
}

// sortHolds evaluates a sort key condition "smSort op v" (op "" holds).
func sortHolds(k, op, v string) bool {
	switch op {
	case "<":
		return k < v
	case "<=":
		return k <= v
	case ">":
		return k > v
	case ">=":
		return k >= v
	}
	return true
}

func getS(m map[string]types.AttributeValue, k string) string {
	if v, ok := m[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// sameEntry reports two index entries equal (nil for none).
func sameEntry(a, b map[string]types.AttributeValue) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	if a == nil {
		return true
	}
	if getS(a, attrSMShard) != getS(b, attrSMShard) || getS(a, attrSMSort) != getS(b, attrSMSort) || getS(a, "pk") != getS(b, "pk") {
		return false
	}
	ta, _ := a[attrTags].(*types.AttributeValueMemberSS)
	tb, _ := b[attrTags].(*types.AttributeValueMemberSS)
	if (ta == nil) != (tb == nil) {
		return false
	}
	if ta == nil {
		return true
	}
	if len(ta.Value) != len(tb.Value) {
		return false
	}
	for i := range ta.Value {
		if ta.Value[i] != tb.Value[i] {
			return false
		}
	}
	return true
}

// indexWrite charges the byStateMachine index for a single-item write that
// changes the item from old to new (under d.mu), as DynamoDB does: nothing
// when the index entry is unchanged (a write to attributes the index
// neither keys on nor projects); else a delete of the old entry and a put
// of the new one, each taking the entry's write units (1 per KB begun)
// from its index partition's bucket (Config.PartitionWCU a second, like a
// table partition). When a partition has too few units the write is
// refused (false) and nothing is charged: DynamoDB throttles a table write
// whose index cannot take it. Transactions and batch writes of this
// protocol never change an index entry (they write payloads, markers and
// counters), so only single-item writes are charged.
func (d *DynamoDB) indexWrite(old, new map[string]types.AttributeValue, now time.Time) bool {
	eo, en := smEntryOf(old), smEntryOf(new)
	if sameEntry(eo, en) {
		return true
	}
	type charge struct {
		key   string
		units float64
	}
	var charges []charge
	if eo != nil {
		charges = append(charges, charge{getS(eo, attrSMShard), wcu(eo)})
	}
	if en != nil {
		charges = append(charges, charge{getS(en, attrSMShard), wcu(en)})
	}
	need := map[string]float64{}
	for _, c := range charges {
		need[c.key] += c.units
	}
	for k, n := range need {
		if !d.idxBucket(k).has(n, d.cfg.PartitionWCU, now) {
			d.IndexThrottled++
			return false
		}
	}
	for k, n := range need {
		d.idxBucket(k).take(n, d.cfg.PartitionWCU, now)
		d.used["w:"+hooks.IndexByStateMachine] += n
	}
	if en != nil {
		key := getS(en, attrSMShard)
		if d.smIdx[key] == nil {
			d.smIdx[key] = map[string]bool{}
		}
		d.smIdx[key][getS(en, "pk")] = true
	}
	return true
}

// smCandidates are the partition keys of the table that may hold an item
// of byStateMachine partition key (under d.mu): every pk a single-item
// write ever put there (the only writes of this protocol that set the
// index's keys). A Query checks each item's current entry, so the set may
// hold items since deleted or moved.
func (d *DynamoDB) smCandidates(key string) []string {
	out := make([]string, 0, len(d.smIdx[key]))
	for pk := range d.smIdx[key] {
		out = append(out, pk)
	}
	return out
}

func (d *DynamoDB) idxBucket(key string) *bucket {
	b := d.idx[key]
	if b == nil {
		b = &bucket{}
		d.idx[key] = b
	}
	return b
}

// Consumed returns the capacity units consumed so far on the table
// (index "") or on an index: read units (strongly consistent reads 1 per
// 4 KB begun, an index Query half that) and write units. Only the table's
// reads and writes and byStateMachine are counted (byExecution is read at
// no cost, see Query).
func (d *DynamoDB) Consumed(index string) (read, write float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.used["r:"+index], d.used["w:"+index]
}

// IndexPartitions returns how many byStateMachine partition keys have been
// written.
func (d *DynamoDB) IndexPartitions() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.idx)
}
