package hooks

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Table layout (docs/protocol.md is the reference):
//
//	pk = "HOOK#" + token, sk = "HOOK"                    the hook item
//	pk = "HOOK#" + token, sk = "MSG#" + hookId + "#" + key  a stored payload (key: time-ordered)
//	pk = "HOOK#" + token, sk = "IDEM#" + sha256(key)      an idempotency record
//	pk = "HOOK#" + token, sk = "RESP#" + requestId        a webhook response
//	pk = "HOOK#" + token, sk = "BACK#" + deliveryId      the marker that a delivery was put back (requeued or restored)
//
// A response item holds status (N), headers (S, JSON of name → values),
// body (B) and expiresAt.
//
// Only hook items carry executionArn, so the GSI byExecution on it is sparse.
const (
	attrPK        = "pk"
	attrSK        = "sk"
	attrToken     = "token"
	attrHookID    = "hookId"
	attrExec      = "executionArn"
	attrKind      = "kind"
	attrMetadata  = "metadata"
	attrCreatedAt = "createdAt"
	attrSeq       = "seq"       // payloads acknowledged so far
	attrDlv       = "dlv"       // payloads handed to awaits so far
	attrWaiter    = "waiter"    // task token of the parked await
	attrInflight  = "inflight"  // the delivery in flight to waiter
	attrWaitUntil = "waitUntil" // unix ms when the waiter's task times out, if its await said
	attrBatch     = "batch"     // the waiter's maxBatch: it receives {"items":[…]} (absent: a single await)
	attrRespond   = "respond"   // webhook respondWith configuration (JSON)
	attrKMSKey    = "kmsKeyId"  // a sealed hook's KMS key (docs/sealed.md)
	attrSealed    = "sealed"    // idempotency record: the sealed envelope it acknowledged
	attrSchema    = "schema"    // the hook's JSON Schema (compact JSON), if any
	attrSchemaSHA = "schemaSha" // sha256 of schema: what a resume's writes are conditioned on
	attrVerify    = "verify"    // webhook signature verification (JSON Verify)
	attrExpiresAt = "expiresAt"
	attrPayload   = "payload"
	attrHash      = "hash"
	attrHook      = "hook" // idempotency record: the hook answered (JSON)
	attrDelivery  = "deliveryId"
	attrTask      = "task"    // idempotency record: the task token its delivery was handed to
	attrStatus    = "status"  // response item
	attrHeaders   = "headers" // response item (JSON)
	attrBody      = "body"    // response item (B)
	attrDigest    = "digest"  // response item: sha256 of status, headers and body

	// Abuse limits (docs/protocol.md, "Limits").
	attrMaxPending = "maxPending" // the hook's cap on pending payloads (immutable)
	attrLim        = "lim"        // ceiling for seq: dlv + maxPending (invariant L)
	attrMaxHeld    = "maxHeld"    // a manual webhook's cap on callers held at once (immutable)
	attrHeld       = "held"       // callers held now (a manual webhook): the number of holders
	attrHolders    = "holders"    // the callers held now: an id of each → unix ms after which it may be taken for leaked
	attrHeldUntil  = "heldUntil"  // no longer written: removed when holders is started on an item that has it
	attrHdrs       = "hdrs"       // a webhook's header filter (JSON {"keep","drop"}), if not the default

	// Listing by state machine (list_sm.go; docs/protocol.md, "Items").
	attrTags    = "tags"    // the hook's tags (SS), kept from the first create or await that gives them
	attrSMShard = "smShard" // byStateMachine's partition key: state machine ARN + "#" + shard of the token
	attrSMSort  = "smSort"  // byStateMachine's sort key: createdAt in µs (16 hex digits) + "#" + token

	// Fields of the inflight map.
	fID       = "id"
	fPayload  = "payload"
	fAt       = "at"
	fRedriven = "redriven"
	fKey      = "key"  // queue key of a stored payload an await is handing out, until committed
	fPos      = "pos"  // queue key a resume's payload goes back to if it is requeued
	fKeys     = "keys" // a batch hand-out: the queue keys of all its stored payloads (key is the first)

	skHook = "HOOK"

	// IndexByExecution is the sparse GSI (partition key executionArn) that
	// finds an execution's hooks.
	IndexByExecution = "byExecution"
	// IndexByStateMachine is the sparse GSI (partition key smShard, sort
	// key smSort, tags projected) that lists a state machine's hooks by
	// age across its executions (ListStateMachineHooks).
	IndexByStateMachine = "byStateMachine"
)

func hookPK(token string) string { return "HOOK#" + token }

// msgSK is the sort key of a stored payload: its hook's incarnation, then
// its queue key.
func msgSK(hookID, key string) string { return msgPrefix(hookID) + key }

func msgPrefix(hookID string) string { return "MSG#" + hookID + "#" }

// requeuedSK is the sort key of the marker that delivery id (an in-flight
// record's id) was requeued or restored. It sorts before MSG#, so that no
// item of the hook follows its stored payloads but its webhook responses
// (a Limit 1 Query of the last stored payload then ends the partition on
// moto too, which sets LastEvaluatedKey whenever an item follows:
// internal/testbench/awsmodel compares the two).
func requeuedSK(id string) string { return "BACK#" + id }

// storedQuery queries the payloads h stores, oldest first, with a
// consistent read: the await's A2 (Limit 1), a replay's search for its
// payload, a dispose's list of what to delete. Callers add what they need.
func (c *Client) storedQuery(h *hookItem) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:                 &c.table,
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :msg)"),
		ExpressionAttributeNames:  names(attrPK, attrSK),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(hookPK(h.Token)), ":msg": s(msgPrefix(h.HookID))},
		ConsistentRead:            aws.Bool(true),
	}
}

// queueKey is a new time-ordered queue key: the time in microseconds (16
// hex digits, so keys sort by time) and a random suffix that keeps keys
// taken in the same microsecond apart. Payloads are handed out in key
// order (docs/protocol.md, "Ordering").
func (c *Client) queueKey() string {
	return fmt.Sprintf("%016x.%s", c.opts.Now().UnixMicro(), c.opts.NewID())
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func hookKey(token string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: s(hookPK(token)), attrSK: s(skHook)}
}

func itemKey(token, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: s(hookPK(token)), attrSK: s(sk)}
}

func getS(m map[string]types.AttributeValue, k string) string {
	if v, ok := m[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(m map[string]types.AttributeValue, k string) int64 {
	if v, ok := m[k].(*types.AttributeValueMemberN); ok {
		i, _ := strconv.ParseInt(v.Value, 10, 64)
		return i
	}
	return 0
}

// inflight is a delivery in flight to the waiter's task token, kept until
// the next await replaces it (having failed the waiter first unless the
// delivery is known to have reached it: Redriven; docs/protocol.md,
// invariant T) or it is requeued. A resume's record carries its
// payload (it is stored nowhere else); an await's hand-out of a stored
// payload only names it (Key), so the hook item stays small.
type inflight struct {
	ID       string
	Payload  string
	At       time.Time
	Redriven bool
	// Key is set while a stored payload (MSG#Key) is being handed out by an
	// await and the hand-out is not committed yet: the payload stays stored
	// and pending (dlv unchanged) until SendTaskSuccess succeeded
	// (docs/protocol.md, "Await", A5).
	Key string
	// Pos is where a resume's payload goes back in the queue if its task
	// turns out to be over (requeue): the queue key it was acknowledged at.
	Pos string
	// Keys names every stored payload of a batch hand-out of more than
	// one, in queue order (Keys[0] == Key); nil for a hand-out of one.
	Keys []string
}

// keys returns the queue keys of a stored hand-out: Keys, or Key alone.
func (f *inflight) keys() []string {
	if len(f.Keys) > 0 {
		return f.Keys
	}
	return []string{f.Key}
}

// stored reports an await's uncommitted hand-out of a stored payload.
func (f *inflight) stored() bool { return f != nil && f.Key != "" }

func (f inflight) av() types.AttributeValue {
	m := map[string]types.AttributeValue{
		fID:       s(f.ID),
		fAt:       n(f.At.UnixMilli()),
		fRedriven: &types.AttributeValueMemberBOOL{Value: f.Redriven},
	}
	if f.Payload != "" {
		m[fPayload] = s(f.Payload) // a resume's record; an await's hand-out names MSG#Key instead
	}
	if f.Key != "" {
		m[fKey] = s(f.Key)
	}
	if f.Pos != "" {
		m[fPos] = s(f.Pos)
	}
	if len(f.Keys) > 1 {
		ks := make([]types.AttributeValue, 0, len(f.Keys))
		for _, k := range f.Keys {
			ks = append(ks, s(k))
		}
		m[fKeys] = &types.AttributeValueMemberL{Value: ks}
	}
	return &types.AttributeValueMemberM{Value: m}
}

// hookItem is the decoded hook item.
type hookItem struct {
	Hook
	Seq      int64
	Dlv      int64
	Waiter   string
	Inflight *inflight
	// Batch is the waiter's maxBatch (0: a single await), set and removed
	// with waiter by every write that sets waiter (A1, A3).
	Batch   int64
	Respond string
	// VerifyJSON is the webhook's verify attribute as stored: a resume
	// that verified a request against it conditions its write on it.
	VerifyJSON string
	// Limits: Lim is 0 on hooks created before the pending cap.
	MaxPending int64
	Lim        int64
	MaxHeld    int64
	Held       int64
	// Holders are the callers held now, each with the time (unix ms)
	// after which it may be taken for leaked; nil when the item has no
	// holders map.
	Holders map[string]int64
	Hdrs    string
	// KMSKeyID is a sealed hook's key ("" for a plain hook). It is fixed
	// for the incarnation (hookId): register sets it with if_not_exists.
	KMSKeyID string
	// Schema is the hook's JSON Schema (compact JSON), SchemaSHA its
	// sha256; both empty without one.
	Schema    string
	SchemaSHA string
	// ExpiresAt is the hook item's TTL (epoch seconds), set when the
	// incarnation is created and never changed.
	ExpiresAt int64
	// SMShard is the item's byStateMachine partition key ("" on a hook
	// whose execution ARN names no state machine).
	SMShard string
	// SMSort is the item's byStateMachine sort key: an index entry whose
	// sort key differs belongs to another incarnation of the token.
	SMSort string
	// WaitUntil is when the waiter's task times out (unix ms), 0 when its
	// await did not say. A1 sets or removes it with the waiter.
	WaitUntil int64
}

// full reports that a new payload would exceed the pending cap
// (seq < lim fails): what S1's condition refuses.
func (h *hookItem) full() bool { return h.Lim > 0 && h.Seq >= h.Lim }

// configured reports a webhook whose own settings (a held-caller cap, a
// header filter, signature verification) a resume must read before it
// builds the payload.
func (h *hookItem) configured() bool { return h.MaxHeld > 0 || h.Hdrs != "" || h.VerifyJSON != "" }

// waiting reports the Waiting state: an await is parked and nothing is in
// flight to it.
func (h *hookItem) waiting() bool { return h.Waiter != "" && h.Inflight == nil }

// status is the hook's delivery state as GetHook and ListHooks report it
// at now: Waiting ends when the waiter's task has timed out (WaitUntil
// passed), though the waiter stays on the item until the next await,
// resume or dispose (a resume then finds the task over and stores its
// payload: docs/protocol.md, "Waiting and timeouts").
func (h *hookItem) status(now time.Time) HookStatus {
	st := HookStatus{Hook: h.Hook, Waiting: h.waiting(), Pending: h.Seq - h.Dlv, Delivered: h.Dlv}
	if st.Waiting && h.WaitUntil > 0 {
		until := time.UnixMilli(h.WaitUntil).UTC()
		st.WaitingUntil = &until
		st.Waiting = now.Before(until)
	}
	return st
}

func decodeHook(m map[string]types.AttributeValue) *hookItem {
	if len(m) == 0 {
		return nil
	}
	h := &hookItem{
		Hook: Hook{
			Token:        getS(m, attrToken),
			HookID:       getS(m, attrHookID),
			ExecutionARN: getS(m, attrExec),
			Kind:         Kind(getS(m, attrKind)),
		},
		Seq:       getN(m, attrSeq),
		Dlv:       getN(m, attrDlv),
		Waiter:    getS(m, attrWaiter),
		Batch:     getN(m, attrBatch),
		Respond:   getS(m, attrRespond),
		KMSKeyID:  getS(m, attrKMSKey),
		Schema:    getS(m, attrSchema),
		SchemaSHA: getS(m, attrSchemaSHA),

		MaxPending: getN(m, attrMaxPending),
		Lim:        getN(m, attrLim),
		MaxHeld:    getN(m, attrMaxHeld),
		Held:       getN(m, attrHeld),
		Hdrs:       getS(m, attrHdrs),
		ExpiresAt:  getN(m, attrExpiresAt),
		WaitUntil:  getN(m, attrWaitUntil),
		SMShard:    getS(m, attrSMShard),
		SMSort:     getS(m, attrSMSort),
	}
	if ts, ok := m[attrTags].(*types.AttributeValueMemberSS); ok {
		h.Tags = append([]string(nil), ts.Value...)
		slices.Sort(h.Tags)
	}
	h.VerifyJSON = getS(m, attrVerify)
	if h.VerifyJSON != "" {
		var v Verify
		if json.Unmarshal([]byte(h.VerifyJSON), &v) == nil {
			h.Verify = &v
		} else {
			h.Verify = &Verify{} // unreadable: no scheme, every request fails verification
		}
	}
	if hm, ok := m[attrHolders].(*types.AttributeValueMemberM); ok {
		h.Holders = make(map[string]int64, len(hm.Value))
		for id := range hm.Value {
			h.Holders[id] = getN(hm.Value, id)
		}
	}
	if h.KMSKeyID != "" {
		h.Encrypt = &Encrypt{KMSKeyID: h.KMSKeyID}
	}
	if h.Respond != "" {
		var rw RespondWith
		if json.Unmarshal([]byte(h.Respond), &rw) == nil {
			h.RespondWith = &rw
		}
	}
	if md := getS(m, attrMetadata); md != "" {
		h.Metadata = json.RawMessage(md)
	}
	h.CreatedAt, _ = time.Parse(time.RFC3339Nano, getS(m, attrCreatedAt))
	if f, ok := m[attrInflight].(*types.AttributeValueMemberM); ok {
		fl := &inflight{
			ID:      getS(f.Value, fID),
			Payload: getS(f.Value, fPayload),
			At:      time.UnixMilli(getN(f.Value, fAt)),
			Key:     getS(f.Value, fKey),
			Pos:     getS(f.Value, fPos),
		}
		if b, ok := f.Value[fRedriven].(*types.AttributeValueMemberBOOL); ok {
			fl.Redriven = b.Value
		}
		if ks, ok := f.Value[fKeys].(*types.AttributeValueMemberL); ok {
			for _, k := range ks.Value {
				if v, ok := k.(*types.AttributeValueMemberS); ok {
					fl.Keys = append(fl.Keys, v.Value)
				}
			}
		}
		h.Inflight = fl
	}
	return h
}

// names returns ExpressionAttributeNames mapping "#a" to "a" for each
// attribute; DynamoDB rejects names an expression does not use, so each
// call lists exactly its own.
func names(attrs ...string) map[string]string {
	m := make(map[string]string, len(attrs))
	for _, a := range attrs {
		m["#"+a] = a
	}
	return m
}

// hookData are the attributes of a hook's data, bounded together by
// MaxHookDataBytes (docs/protocol.md, "Items", size). Each is set by the
// first create or await that gives it (if_not_exists) and never changed
// for the incarnation.
var hookData = []string{attrMetadata, attrRespond, attrVerify, attrSchema, attrHdrs}

// given returns the data attributes in gives, with their sizes.
func (in *RegisterInput) given() map[string]int {
	g := map[string]int{}
	for a, v := range map[string]int{attrMetadata: len(in.Metadata), attrRespond: len(in.Respond), attrVerify: len(in.Verify),
		attrSchema: len(in.Schema), attrHdrs: len(in.hdrs)} {
		if v > 0 {
			g[a] = v
		}
	}
	return g
}

// dataPin is the data a hook item was found with: a register or await
// that adds attributes to it is conditioned on exactly these being there.
type dataPin struct {
	hookID  string
	present map[string]bool
}

// dataCond is the term of a register or await's condition that keeps the
// hook's data within MaxHookDataBytes as stored, whatever each request
// gives: the write may set the data it gives when the item has none (the
// request's own data is within the bound), or when it has all of it
// already (if_not_exists then sets nothing). To add to data already there,
// fitData pins the data found (hookId and which attributes exist), whose
// total with the new attributes it checked.
func (in *RegisterInput) dataCond(nm map[string]string, vals map[string]types.AttributeValue) string {
	g := in.given()
	if len(g) == 0 {
		return ""
	}
	for _, a := range hookData {
		nm["#"+a] = a
	}
	if p := in.data; p != nil {
		vals[":dhid"] = s(p.hookID)
		terms := []string{"#hookId = :dhid"}
		for _, a := range hookData {
			if p.present[a] {
				terms = append(terms, "attribute_exists(#"+a+")")
			} else {
				terms = append(terms, "attribute_not_exists(#"+a+")")
			}
		}
		return " AND (" + strings.Join(terms, " AND ") + ")"
	}
	var none, all []string
	for _, a := range hookData {
		none = append(none, "attribute_not_exists(#"+a+")")
		if g[a] > 0 {
			all = append(all, "attribute_exists(#"+a+")")
		}
	}
	return " AND ((" + strings.Join(none, " AND ") + ") OR (" + strings.Join(all, " AND ") + "))"
}

// fitData is called when a register or await's write failed, with the
// item it returned (ALL_OLD): retry reports that the data term was what
// failed and the write is to be made again with a new pin, when the data
// found and the attributes this request adds fit MaxHookDataBytes
// together; otherwise ErrInvalidRequest, nothing written.
func (in *RegisterInput) fitData(old map[string]types.AttributeValue) (retry bool, err error) {
	g := in.given()
	if len(g) == 0 {
		return false, nil
	}
	if len(old) == 0 || getS(old, attrExec) != in.ExecutionARN {
		// Gone, or another execution's: the pin no longer applies.
		retry = in.data != nil && len(old) == 0
		in.data = nil
		return retry, nil
	}
	present := map[string]bool{}
	size, adds := 0, false
	for _, a := range hookData {
		if v := getS(old, a); v != "" {
			present[a] = true
			size += len(v)
		} else if g[a] > 0 {
			size += g[a]
			adds = true
		}
	}
	hid := getS(old, attrHookID)
	if p := in.data; p != nil && p.hookID == hid && maps.Equal(p.present, present) {
		return false, nil // the pinned data term held
	}
	if p := in.data; p == nil && (len(present) == 0 || !adds) {
		return false, nil // the first form of the data term held
	}
	if size > MaxHookDataBytes {
		return false, fmt.Errorf("%w: the hook's metadata, respondWith, verify and schema would be %d bytes together with this request's; the limit is %d bytes (each is kept from the first create or await that gives it)",
			ErrInvalidRequest, size, MaxHookDataBytes)
	}
	in.data = &dataPin{hookID: hid, present: present}
	return true, nil
}
