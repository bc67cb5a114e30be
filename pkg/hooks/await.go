package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// Error names sent to a waiting task with SendTaskFailure. A state machine
// catches them by name.
const (
	// ErrorNameConflict: the token is held by another live execution.
	ErrorNameConflict = "HookConflictError"
	// ErrorNameSuperseded: a newer await of the hook replaced this one.
	ErrorNameSuperseded = "HookAwaitSupersededError"
	// ErrorNameDisposed: the hook was disposed while this await waited.
	ErrorNameDisposed = "HookDisposedError"
)

// MaxHookDataBytes bounds a hook's data (metadata, a webhook's
// respondWith, verify and header filter, schema) together, as stored over
// all its creates and awaits (dataCond), so that the hook item with a
// payload in flight (at most MaxPayloadBytes) and a task token stays
// within DynamoDB's 400 KB item limit.
const MaxHookDataBytes = 64 * 1024

// RegisterInput names a hook to create (or find) for an execution.
type RegisterInput struct {
	Token        string
	ExecutionARN string
	// Metadata is stored with the hook and returned by every resume.
	Metadata json.RawMessage
	// Kind is KindHook when empty.
	Kind Kind
	// Respond is the webhook's respondWith configuration (JSON), if any.
	Respond json.RawMessage
	// Verify is the webhook's signature verification (JSON Verify), if any.
	Verify json.RawMessage
	// MaxPending caps the payloads the hook stores undelivered (0:
	// Options.MaxPending). Fixed by the hook's first registration.
	MaxPending int
	// Tags label the hook for operators ("customer:acme"): at most MaxTags
	// strings of the form key:value, each at most MaxTagBytes (ValidateTags).
	// Like metadata, the first create or await that gives tags sets them;
	// later ones keep the hook's own. ListStateMachineHooks filters on one.
	Tags []string

	// Set by CreateWebhook: a manual webhook's held-caller cap, and its
	// header filter (JSON) when not the default.
	maxHeld int
	hdrs    string
	// data pins the data a retried write adds to (fitData).
	data *dataPin
	// Encrypt makes the hook sealed (nil: a plain hook). Like metadata, the
	// first registration's key is kept.
	Encrypt *Encrypt
	// Schema is a JSON Schema (draft 2020-12 unless its $schema says
	// otherwise) every payload of the hook must match: a resume whose
	// payload fails it gets *SchemaValidationError (HTTP 422) and nothing is
	// stored. Set when the hook is created; it counts toward
	// MaxHookDataBytes. References outside the schema are not loaded.
	Schema json.RawMessage
}

func (in *RegisterInput) validate() error {
	if err := ValidateToken(in.Token); err != nil {
		return err
	}
	if in.ExecutionARN == "" {
		return fmt.Errorf("%w: executionArn is required", ErrInvalidRequest)
	}
	if len(in.Metadata) > 0 && (!json.Valid(in.Metadata) || !utf8.Valid(in.Metadata)) {
		// DynamoDB strings are UTF-8: the SDK would turn other bytes into
		// U+FFFD and every resume would answer other metadata.
		return fmt.Errorf("%w: metadata is not valid JSON in UTF-8", ErrInvalidRequest)
	}
	if in.MaxPending < 0 || in.MaxPending > MaxMaxPending {
		return fmt.Errorf("%w: maxPending %d is out of range (1 to %d; 0 for the default)", ErrInvalidRequest, in.MaxPending, MaxMaxPending)
	}
	if len(in.Schema) > 0 {
		text, err := normalizeSchema(in.Schema)
		if err != nil {
			return err
		}
		in.Schema = json.RawMessage(text)
	}
	if size := len(in.Metadata) + len(in.Respond) + len(in.Schema) + len(in.hdrs) + len(in.Verify); size > MaxHookDataBytes {
		// The hook item also carries a resume's payload in flight (up to
		// 256 KiB) and a task token; DynamoDB caps an item at 400 KB.
		return fmt.Errorf("%w: metadata, respondWith and schema are %d bytes together; the limit is %d bytes", ErrInvalidRequest, size, MaxHookDataBytes)
	}
	if in.Encrypt != nil && in.Encrypt.KMSKeyID == "" {
		return fmt.Errorf("%w: encrypt.kmsKeyId is required", ErrInvalidRequest)
	}
	if in.Encrypt != nil && len(in.Encrypt.KMSKeyID) > 2048 {
		return fmt.Errorf("%w: encrypt.kmsKeyId is longer than 2048 bytes", ErrInvalidRequest)
	}
	tags, err := ValidateTags(in.Tags)
	if err != nil {
		return err
	}
	in.Tags = tags
	if in.Kind == "" {
		in.Kind = KindHook
	}
	return nil
}

// registerSet is the part of an update expression that creates the hook
// item when it does not exist and leaves an existing one as it is.
func (c *Client) registerSet(in *RegisterInput, vals map[string]types.AttributeValue) string {
	now := c.opts.Now()
	vals[":token"] = s(in.Token)
	vals[":hid"] = s(c.opts.NewID())
	vals[":exec"] = s(in.ExecutionARN)
	vals[":kind"] = s(string(in.Kind))
	vals[":now"] = s(now.UTC().Format(time.RFC3339Nano))
	vals[":zero"] = n(0)
	vals[":exp"] = n(now.Add(c.opts.HookTTL).Unix())
	set := "#token = if_not_exists(#token, :token), #hookId = if_not_exists(#hookId, :hid), " +
		"#executionArn = if_not_exists(#executionArn, :exec), #kind = if_not_exists(#kind, :kind), " +
		"#createdAt = if_not_exists(#createdAt, :now), #seq = if_not_exists(#seq, :zero), " +
		"#dlv = if_not_exists(#dlv, :zero), #expiresAt = if_not_exists(#expiresAt, :exp), " +
		// Invariant L (docs/protocol.md, "Limits"): lim = dlv + maxPending.
		"#maxPending = if_not_exists(#maxPending, :cap), #lim = if_not_exists(#dlv, :zero) + if_not_exists(#maxPending, :cap)"
	vals[":cap"] = n(c.maxPending(in))
	if sm := StateMachineARN(in.ExecutionARN); sm != "" {
		// The byStateMachine index's keys, fixed for the incarnation like
		// createdAt (a hook created before the index gets them at its next
		// create or await, with that time as its place in the order).
		vals[":smShard"] = s(smShard(sm, in.Token))
		vals[":smSort"] = s(smSort(now, in.Token))
		set += ", #smShard = if_not_exists(#smShard, :smShard), #smSort = if_not_exists(#smSort, :smSort)"
	}
	if len(in.Tags) > 0 {
		vals[":tags"] = &types.AttributeValueMemberSS{Value: in.Tags}
		set += ", #tags = if_not_exists(#tags, :tags)"
	}
	if len(in.Metadata) > 0 {
		vals[":md"] = s(string(in.Metadata))
		set += ", #metadata = if_not_exists(#metadata, :md)"
	}
	if len(in.Respond) > 0 {
		vals[":respond"] = s(string(in.Respond))
		set += ", #respond = if_not_exists(#respond, :respond)"
	}
	if len(in.Verify) > 0 {
		// Like respondWith, the first configuration stays: a verified
		// webhook can never lose its verification.
		vals[":verify"] = s(string(in.Verify))
		set += ", #verify = if_not_exists(#verify, :verify)"
	}
	if in.maxHeld > 0 {
		vals[":maxHeld"] = n(int64(in.maxHeld))
		vals[":noHolders"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}
		set += ", #maxHeld = if_not_exists(#maxHeld, :maxHeld), #holders = if_not_exists(#holders, :noHolders), #held = if_not_exists(#held, :zero)"
	}
	if in.hdrs != "" {
		vals[":hdrs"] = s(in.hdrs)
		set += ", #hdrs = if_not_exists(#hdrs, :hdrs)"
	}
	if in.Encrypt != nil {
		// A hook without a key gets it; a key once set is kept for the
		// incarnation (every resume write conditions on it: protocol.md).
		vals[":kms"] = s(in.Encrypt.KMSKeyID)
		set += ", #kmsKeyId = if_not_exists(#kmsKeyId, :kms)"
	}
	if len(in.Schema) > 0 {
		// The first create or await that gives a schema sets it; a later
		// one keeps the hook's own (like metadata). Set together, schema
		// and schemaSha always match, and every resume's write is
		// conditioned on the schemaSha it validated against.
		vals[":schema"] = s(string(in.Schema))
		vals[":ssha"] = s(sha256Hex(string(in.Schema)))
		set += ", #schema = if_not_exists(#schema, :schema), #schemaSha = if_not_exists(#schemaSha, :ssha)"
	}
	return set
}

func registerNames(extra ...string) map[string]string {
	nm := names(attrPK, attrToken, attrHookID, attrExec, attrKind, attrCreatedAt, attrSeq, attrDlv, attrExpiresAt, attrMaxPending, attrLim)
	for _, a := range extra {
		nm["#"+a] = a
	}
	return nm
}

func (in *RegisterInput) extraNames() []string {
	var extra []string
	if len(in.Metadata) > 0 {
		extra = append(extra, attrMetadata)
	}
	if len(in.Respond) > 0 {
		extra = append(extra, attrRespond)
	}
	if len(in.Verify) > 0 {
		extra = append(extra, attrVerify)
	}
	if in.maxHeld > 0 {
		extra = append(extra, attrMaxHeld, attrHolders, attrHeld)
	}
	if in.hdrs != "" {
		extra = append(extra, attrHdrs)
	}
	if in.Encrypt != nil {
		extra = append(extra, attrKMSKey)
	}
	if len(in.Schema) > 0 {
		extra = append(extra, attrSchema, attrSchemaSHA)
	}
	if StateMachineARN(in.ExecutionARN) != "" {
		extra = append(extra, attrSMShard, attrSMSort)
	}
	if len(in.Tags) > 0 {
		extra = append(extra, attrTags)
	}
	return extra
}

// Register creates the hook in.Token for in.ExecutionARN, or returns it if
// that execution already holds it (idempotent; metadata of the first
// registration is kept). A resume that arrives before the first await of a
// registered hook is stored, not refused.
//
// A token held by an execution that has ended (Step Functions says it is
// not running) is taken over: that hook outlived its execution.
//
// Errors: ErrInvalidToken, ErrInvalidRequest (metadata, respondWith and
// schema over MaxHookDataBytes, or an invalid schema), *ConflictError (ErrConflict) when another
// running execution holds the token.
func (c *Client) Register(ctx context.Context, in RegisterInput) (*Hook, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	takeOvers := 0
	for r := c.retrier(c.opts.ContentionTimeout); r.next(ctx); {
		vals := map[string]types.AttributeValue{}
		set := c.registerSet(&in, vals)
		nm := registerNames(in.extraNames()...)
		out, err := c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                           &c.table,
			Key:                                 hookKey(in.Token),
			ConditionExpression:                 aws.String("(attribute_not_exists(#pk) OR #executionArn = :exec)" + in.dataCond(nm, vals)),
			UpdateExpression:                    aws.String("SET " + set),
			ExpressionAttributeNames:            nm,
			ExpressionAttributeValues:           vals,
			ReturnValues:                        types.ReturnValueAllNew,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			return c.withURL(&decodeHook(out.Attributes).Hook), nil
		}
		if transactionConflict(err) {
			continue
		}
		old, ok := conditionFailed(err)
		if !ok {
			return nil, fmt.Errorf("register hook %s: %w", Redact(in.Token), err)
		}
		if retry, err := in.fitData(old); err != nil || retry {
			if err != nil {
				return nil, err
			}
			continue
		}
		holder := getS(old, attrExec)
		if takeOvers < 2 {
			takeOvers++
			taken, err := c.takeOverEnded(ctx, in.Token, holder, decodeHook(old))
			if err != nil {
				return nil, err
			}
			if taken {
				continue
			}
		}
		return nil, &ConflictError{Token: in.Token, ExecutionARN: holder}
	}
	return nil, fmt.Errorf("register hook %s: %w", Redact(in.Token), ErrContention)
}

// AwaitInput parks one await of an execution on a hook.
type AwaitInput struct {
	RegisterInput
	// TaskToken is the awaiting task's $$.Task.Token.
	TaskToken string
	// Timeout is the awaiting Task state's TimeoutSeconds, if it has one
	// (0: none given). With EnteredTime ($$.State.EnteredTime) it says
	// when Step Functions times the task out: GetHook and ListHooks report
	// that time (HookStatus.WaitingUntil) and stop calling the hook waiting
	// once it has passed. Without EnteredTime the await's own clock stands
	// in for it. At most MaxAwaitTimeout.
	Timeout time.Duration
	// EnteredTime is the awaiting state's $$.State.EnteredTime; it needs
	// Timeout.
	EnteredTime time.Time
	// MaxBatch makes a batch await (1 to MaxMaxBatch; 0: a single await,
	// whose task receives the payload itself): the task receives
	// {"items":[…]}, up to MaxBatch (at most MaxBatchItems) stored payloads
	// in queue order within Step Functions' 256 KiB output
	// (docs/protocol.md, "Batch awaits").
	MaxBatch int
	// BatchWindow (batch awaits only, at most MaxBatchWindow): when the
	// await finds fewer than MaxBatch payloads stored, it waits until the
	// oldest of them is BatchWindow old for more to arrive, within its
	// invocation. A parked await is completed by the next resume at once.
	BatchWindow time.Duration

	windowed  bool // the window was waited for once
	waitedNow bool // deliverBatch just waited: look again at once
}

// MaxAwaitTimeout bounds AwaitInput.Timeout: a year, as long as a
// Standard workflow's execution may run.
const MaxAwaitTimeout = 365 * 24 * time.Hour

// Await registers the hook for the execution if needed (as Register) and
// either delivers the oldest stored payload to TaskToken at once or parks
// TaskToken as the hook's waiter, to be completed by the next resume. It is
// idempotent for one task token (a retried invocation does no harm).
//
// When another execution holds the token, Await fails the task with
// SendTaskFailure (error HookConflictError, cause: a JSON object naming the
// execution) and returns *ConflictError. A waiter parked by an older await
// of the same hook is failed with HookAwaitSupersededError, and so is an
// older await whose delivery is not known to have reached it (its resume's
// send failed), before the hook drops it: a concurrent await of one hook
// (Parallel or Map branches) never leaves another waiting for ever. If
// that task cannot be told, Await returns a wrapped AWS error and parks
// nothing.
//
// A token held by an ended execution is taken over, as in Register. If the
// conflict cannot be reported to the task, Await returns a wrapped AWS
// error (not a *ConflictError): retry the invocation. Two awaits of one
// hook at once never receive the same payload.
//
// Errors: ErrInvalidToken, ErrInvalidRequest, *ConflictError, ErrContention,
// or a wrapped AWS error (the task is not parked: retry the invocation).
func (c *Client) Await(ctx context.Context, in AwaitInput) error {
	if err := in.validate(); err != nil {
		return err
	}
	if in.TaskToken == "" {
		return fmt.Errorf("%w: taskToken is required", ErrInvalidRequest)
	}
	switch {
	case in.Timeout < 0 || in.Timeout > MaxAwaitTimeout:
		return fmt.Errorf("%w: timeoutSeconds %d is out of range (1 to %d)", ErrInvalidRequest, in.Timeout/time.Second, MaxAwaitTimeout/time.Second)
	case in.Timeout == 0 && !in.EnteredTime.IsZero():
		return fmt.Errorf("%w: enteredTime needs timeoutSeconds (the Task state's TimeoutSeconds)", ErrInvalidRequest)
	case !in.EnteredTime.IsZero() && !enteredTimePlausible(in.EnteredTime, c.opts.Now()):
		// $$.State.EnteredTime is Step Functions' clock when the state was
		// entered: within a year (an execution's longest life) before the
		// await runs. Anything else is not that time, and would give a
		// waitingUntil past year 9999 (which JSON cannot write) or before 1970.
		return fmt.Errorf("%w: enteredTime %s is not the awaiting state's $$.State.EnteredTime (more than a year before now, or a day after)", ErrInvalidRequest, in.EnteredTime.UTC().Format(time.RFC3339))
	}
	if in.MaxBatch < 0 || in.MaxBatch > MaxMaxBatch {
		return fmt.Errorf("%w: maxBatch %d is out of range (1 to %d)", ErrInvalidRequest, in.MaxBatch, MaxMaxBatch)
	}
	if in.BatchWindow < 0 || in.BatchWindow > MaxBatchWindow || (in.BatchWindow > 0 && in.MaxBatch == 0) {
		return fmt.Errorf("%w: batchWindowSeconds must be 0 to %d, and needs maxBatch", ErrInvalidRequest, int(MaxBatchWindow/time.Second))
	}
	if err := c.await(ctx, &in); err != nil {
		return fmt.Errorf("await hook %s: %w", Redact(in.Token), err)
	}
	return nil
}

// await is the protocol of docs/protocol.md, "Await".
func (c *Client) await(ctx context.Context, in *AwaitInput) error {
	// told: the task tokens A1 may drop (invariant T): its own, and each
	// waiter this await failed.
	told := []string{in.TaskToken}
	// seen: a refused A1 of this invocation found the hook of this
	// execution (it may then wait, up to HandOffWait, for another await's
	// hand-out). Its later A1s no longer create the item: a hook gone
	// meanwhile (its execution's end event, a dispose) is not registered
	// again for a task that may be over (docs/protocol.md, "Await").
	seen := false
	// Beyond the contention budget, an await may wait HandOffWait for
	// another await's hand-out before settling it.
	for r := c.retrier(c.opts.HandOffWait + c.opts.ContentionTimeout); r.next(ctx); {
		vals := map[string]types.AttributeValue{":tt": s(in.TaskToken)}
		set := c.registerSet(&in.RegisterInput, vals)
		nm := registerNames(append(in.extraNames(), attrWaiter, attrInflight, attrWaitUntil, attrBatch)...)
		// The waiter's expiry and batch mode go with it: set by an await
		// that gave them, removed by one that did not (never a former
		// waiter's).
		update := "SET #waiter = :tt, " + set + in.batchSet(vals) + " REMOVE #inflight, #waitUntil" + in.batchRemove()
		if in.Timeout > 0 {
			vals[":wu"] = n(in.waitUntil(c.opts.Now()).UnixMilli())
			update = "SET #waiter = :tt, #waitUntil = :wu, " + set + in.batchSet(vals) + " REMOVE #inflight" + in.batchRemove()
		}
		_, err := c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &c.table,
			Key:       hookKey(in.Token),
			// A1: same execution (or new), nothing pending, not a retried
			// await whose own delivery is in flight, and no other waiter
			// it has not told.
			ConditionExpression: aws.String(a1Exists(seen) +
				"(attribute_not_exists(#seq) OR #seq = #dlv) AND " +
				"NOT (#waiter = :tt AND attribute_exists(#inflight)) AND " + toldCond(nm, vals, told) + in.dataCond(nm, vals)),
			UpdateExpression:                    aws.String(update),
			ExpressionAttributeNames:            nm,
			ExpressionAttributeValues:           vals,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			return nil
		}
		if transactionConflict(err) {
			continue // a transaction (an append, a commit) held the hook item
		}
		old, ok := conditionFailed(err)
		if !ok {
			return fmt.Errorf("park waiter: %w", err)
		}
		if retry, err := in.fitData(old); err != nil || retry {
			if err != nil {
				return err
			}
			continue
		}
		cur := decodeHook(old)
		if cur != nil && cur.ExecutionARN == in.ExecutionARN {
			seen = true
		}
		switch {
		case cur == nil && seen:
			// The hook this await waited on is gone. Its own task decides:
			// over (its execution ended, or a timeout), nothing to park;
			// open, the workflow awaits the token again: A1 may create it.
			open, err := c.taskOpen(ctx, in.TaskToken)
			if err != nil || !open {
				return err
			}
			seen = false
			r.again()
			continue
		case cur == nil:
			continue
		case cur.ExecutionARN != in.ExecutionARN:
			seen = false // taken over below, or a conflict
			taken, err := c.takeOverEnded(ctx, in.Token, cur.ExecutionARN, cur)
			if err != nil {
				return err
			}
			if !taken {
				return c.reportConflict(ctx, in, cur.ExecutionARN)
			}
		case cur.Waiter == in.TaskToken && cur.Inflight != nil:
			// A retried invocation of this await (same task token) whose
			// delivery is in flight: send it again and finish the record
			// by what Step Functions says became of it.
			return c.resendOwn(ctx, cur)
		case cur.Seq > cur.Dlv:
			takeOver := ""
			if f := cur.Inflight; f.stored() {
				// Another await's hand-out of the head payload is not
				// committed: it may be sending it now (concurrent awaits)
				// or have died. Wait for its commit; once it is older than
				// HandOffWait, settle it from the execution history.
				if c.opts.Now().Sub(f.At) < c.opts.HandOffWait {
					continue
				}
				next, err := c.settleHandOff(ctx, cur)
				if err != nil || next == handOffDone {
					return err
				}
				if next == handOffRetry {
					continue
				}
				takeOver = f.ID
			}
			// Payloads wait: this await would hand them out (A3), telling
			// and replacing another waiter if need be. First, its own task
			// must still be open (A1b), checked after the A1 that found
			// them, every time: any A1 of this invocation may be the SDK's
			// resend of one that applied, after which a resume completed
			// this task (or it timed out) and more payloads were stored.
			// Handed to the closed task, a payload whose text equals what
			// that task received before would be settled as delivered from
			// the history, and lost; and the waiter it told would be the
			// execution's live await. After A1b the task cannot end with
			// another payload before A3: R1, I2 and a restore raise dlv,
			// on which A3 is conditioned.
			open, err := c.taskOpen(ctx, in.TaskToken)
			if err != nil {
				return err
			}
			if !open {
				return nil
			}
			var done bool
			if in.MaxBatch > 0 {
				done, err = c.deliverBatch(ctx, cur, in, takeOver)
			} else {
				done, err = c.deliverBacklog(ctx, cur, in.TaskToken, takeOver)
			}
			if err != nil || done {
				return err
			}
			if in.waitedNow {
				in.waitedNow = false
				r.again() // the window is over: look at once, whatever the budget
			}
		default:
			// Another await is parked, or its delivery is not known to
			// have reached it (its send may have failed): fail it before
			// A1 drops it, then A1 again with it told. But first, this
			// await's own task must still be open: a refused A1 may be
			// the SDK's resend of one that applied, after which a resume
			// completed this task and the execution's next await parked
			// (the waiter found). A closed task has nothing to await: it
			// tells no one and parks nothing.
			if w := cur.untold(told); w != "" {
				open, err := c.taskOpen(ctx, in.TaskToken)
				if err != nil {
					return err
				}
				if !open {
					return nil
				}
				if err := c.tell(ctx, w, ErrorNameSuperseded, supersededCause(in.Token)); err != nil {
					return err
				}
				told = append(told, w)
				r.again()
			}
		}
	}
	return ErrContention
}

// a1Exists is A1's first term: the hook is new or this execution's; once
// a refused A1 of the invocation has found it (seen), it must still exist.
func a1Exists(seen bool) string {
	if seen {
		return "attribute_exists(#pk) AND #executionArn = :exec AND "
	}
	return "(attribute_not_exists(#pk) OR #executionArn = :exec) AND "
}

// enteredTimePlausible reports whether t can be an awaiting state's
// EnteredTime at now: at most MaxAwaitTimeout before it, at most a day
// after it (clock skew between Step Functions and the await).
func enteredTimePlausible(t, now time.Time) bool {
	return !t.Before(now.Add(-MaxAwaitTimeout)) && !t.After(now.Add(24*time.Hour))
}

// waitUntil is when Step Functions times the awaiting task out: its
// state's EnteredTime (now if not given) plus its Timeout.
func (in *AwaitInput) waitUntil(now time.Time) time.Time {
	if in.EnteredTime.IsZero() {
		return now.Add(in.Timeout)
	}
	return in.EnteredTime.Add(in.Timeout)
}

// taskOpen reports whether the task of taskToken is still open
// (SendTaskHeartbeat succeeds; a closed-task answer means it is over). Any
// other error is returned: the caller decides nothing on it.
func (c *Client) taskOpen(ctx context.Context, taskToken string) (bool, error) {
	_, err := c.sfn.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: &taskToken})
	if taskClosed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check that the awaiting task is open: send task heartbeat: %w", err)
	}
	return true, nil
}

func supersededCause(token string) string {
	return "a newer await of hook " + Redact(token) + " replaced this one"
}

// reportConflict fails the awaiting task with HookConflictError and
// returns the *ConflictError. If Step Functions could not be told, the
// error returned is not a conflict: the invocation fails and is retried,
// instead of answering success to a task that would then wait forever.
func (c *Client) reportConflict(ctx context.Context, in *AwaitInput, holder string) error {
	conflict := &ConflictError{Token: in.Token, ExecutionARN: holder}
	cause, _ := json.Marshal(map[string]string{"message": conflict.Error(), "executionArn": holder})
	if err := c.sendFailure(ctx, in.TaskToken, ErrorNameConflict, string(cause)); err != nil {
		return fmt.Errorf("report to the awaiting task that %s: %w", conflict.Error(), err)
	}
	return conflict
}

// takeOverEnded frees token when the execution holding it has ended (its
// hook outlived it: a create or await that ran after the execution ended,
// or an end-of-execution dispose that was lost). The delete is conditioned
// on that execution still holding the token and, as DisposeExecution's, on
// the hook still being as seen (the item the refused write returned, read
// before Step Functions said the holder ended): a holder redriven in
// between keeps what its new run did. taken reports that the token may be
// free now; false when the holder runs (also when it was redriven just
// now) or Step Functions cannot say.
func (c *Client) takeOverEnded(ctx context.Context, token, holder string, seen *hookItem) (taken bool, err error) {
	running, known := c.executionRunning(ctx, holder)
	if !known || running {
		return false, nil
	}
	ended := func(ctx context.Context) (bool, error) {
		running, err := c.describeRunning(ctx, holder)
		return !running, err
	}
	if seen != nil && seen.ExecutionARN != holder {
		seen = nil
	}
	err = c.dispose(ctx, token, holder, "", seen, ended)
	switch {
	case errors.Is(err, errExecutionRuns):
		return false, nil
	case err != nil && !isConflict(err):
		return false, fmt.Errorf("take over the hook of ended execution %s: %w", holder, err)
	}
	return true, nil
}

// resendOwn sends a retried await's own in-flight record again and
// finishes it: delivered → committed; the task over → requeued (the
// payload stays for the next await, never deleted on a closed task).
func (c *Client) resendOwn(ctx context.Context, h *hookItem) error {
	f := *h.Inflight
	payload, ok, err := c.payloadOf(ctx, h, f)
	if err != nil || !ok {
		return err // !ok: the hand-out was committed
	}
	res, err := c.send(ctx, h, h.Waiter, payload)
	if err != nil {
		return err
	}
	return c.finish(ctx, h, f, payload, res)
}

type handOffNext int

const (
	handOffRetry    handOffNext = iota + 1 // settled (committed or gone): look again
	handOffTakeOver                        // its task never got it: hand it out again
	handOffDone                            // the execution ended: nothing to await
)

// settleHandOff decides a stale uncommitted hand-out of a stored payload
// (its await died, or its commit failed) from the execution history: the
// task got it → commit; otherwise it is handed out again.
func (c *Client) settleHandOff(ctx context.Context, h *hookItem) (handOffNext, error) {
	f := *h.Inflight
	payload, ok, err := c.payloadOf(ctx, h, f)
	if err != nil {
		return 0, err
	}
	if !ok {
		return handOffRetry, nil
	}
	out, err := c.settle(ctx, h.ExecutionARN, h.Waiter, payload)
	switch {
	case err != nil:
		return 0, err
	case out.Delivered:
		return handOffRetry, c.commit(ctx, h, f)
	case out.Ended:
		return handOffDone, c.finish(ctx, h, f, payload, executionOver)
	case !out.Closed:
		return handOffRetry, nil // its task is still open: its await may yet send and commit
	}
	return handOffTakeOver, nil
}

// deliverBacklog hands the oldest stored payload to taskToken: A2 reads it,
// A3 names it as the in-flight hand-out (it stays stored and pending, dlv
// unchanged), A4 sends it, A5 commits (dlv advances, the stored item goes).
// A crash before A5 leaves the payload at the head of the queue, so a
// payload that was acknowledged is never lost to a crashed await. A3 does
// not replace another await's uncommitted hand-out unless it is takeOver
// (settled as undelivered). done is false when the hook changed meanwhile.
func (c *Client) deliverBacklog(ctx context.Context, h *hookItem, taskToken, takeOver string) (done bool, err error) {
	q := c.storedQuery(h)
	q.Limit = aws.Int32(1)
	got, err := c.db.Query(ctx, q)
	if err != nil {
		return false, fmt.Errorf("read the oldest stored payload: %w", err)
	}
	if len(got.Items) == 0 {
		return false, nil
	}
	payload := getS(got.Items[0], attrPayload)
	key := strings.TrimPrefix(getS(got.Items[0], attrSK), msgPrefix(h.HookID))
	f := inflight{ID: c.opts.NewID(), At: c.opts.Now(), Key: key} // names the payload, does not copy it
	return c.handOut(ctx, h, taskToken, takeOver, f, 0, payload)
}

// handOut is A3 and A4 of a backlog await, single (maxBatch 0) or batch:
// A3 names f, the payloads A2 read, as the in-flight hand-out to taskToken
// (they stay stored and pending, dlv unchanged), then A4 sends wire, what
// the task receives. done is false when the hook changed meanwhile.
func (c *Client) handOut(ctx context.Context, h *hookItem, taskToken, takeOver string, f inflight, maxBatch int, wire string) (done bool, err error) {
	oid := takeOver
	told := []string{taskToken}
	if oid == "" {
		oid = "-" // matches no record: ids are 22 characters
	} else if h.Waiter != "" {
		told = append(told, h.Waiter) // its task ended without the hand-out (settled)
	}
	update := "SET #waiter = :tt, #inflight = :f REMOVE #batch" // a single await
	for {
		nm := map[string]string{"#hookId": attrHookID, "#dlv": attrDlv, "#waiter": attrWaiter, "#inflight": attrInflight, "#fkey": fKey, "#id": fID, "#batch": attrBatch}
		vals := map[string]types.AttributeValue{
			":hid": s(h.HookID), ":d": n(h.Dlv), ":tt": s(taskToken), ":f": f.av(), ":oid": s(oid),
		}
		if maxBatch > 0 {
			update = "SET #waiter = :tt, #inflight = :f, #batch = :mb"
			vals[":mb"] = n(int64(maxBatch))
		}
		_, err = c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &c.table,
			Key:       hookKey(h.Token),
			// A3: the head read by A2 is still the head, no other await's
			// hand-out is in flight (unless taken over), and the waiter it
			// replaces needs no word or has been told. A batch's f names
			// every key it carries.
			ConditionExpression: aws.String("#hookId = :hid AND #dlv = :d AND (attribute_not_exists(#inflight.#fkey) OR #inflight.#id = :oid) AND " +
				toldCond(nm, vals, told)),
			UpdateExpression:                    aws.String(update),
			ExpressionAttributeNames:            nm,
			ExpressionAttributeValues:           vals,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			break
		}
		if transactionConflict(err) {
			return false, nil
		}
		old, ok := conditionFailed(err)
		if !ok {
			return false, fmt.Errorf("take stored payloads: %w", err)
		}
		// Refused on invariant T alone (same head, no other hand-out in
		// flight, but the waiter has a resume's delivery not known to have
		// reached it: a concurrent await whose send may have failed, or
		// the previous await of a loop): fail that waiter, then A3 again.
		// Refused otherwise: the hook changed, again from A1.
		cur := decodeHook(old)
		if cur == nil || cur.HookID != h.HookID || cur.Dlv != h.Dlv || (cur.Inflight.stored() && cur.Inflight.ID != oid) {
			return false, nil
		}
		w := cur.untold(told)
		if w == "" || len(told) > 4 {
			return false, nil
		}
		if err := c.tell(ctx, w, ErrorNameSuperseded, supersededCause(h.Token)); err != nil {
			return false, err
		}
		told = append(told, w)
	}
	h.Waiter, h.Inflight, h.Batch = taskToken, &f, int64(maxBatch)
	if _, err := c.deliver(ctx, h, f, wire); err != nil && !errors.Is(err, ErrHookNotFound) {
		return false, err
	}
	return true, nil
}

func (c *Client) sendFailure(ctx context.Context, taskToken, name, cause string) error {
	_, err := c.sfn.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: &taskToken, Error: &name, Cause: &cause})
	if err != nil && !taskClosed(err) {
		return fmt.Errorf("send task failure: %w", err)
	}
	return nil
}
