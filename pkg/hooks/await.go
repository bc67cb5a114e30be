package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
		"#dlv = if_not_exists(#dlv, :zero), #expiresAt = if_not_exists(#expiresAt, :exp)"
	if len(in.Metadata) > 0 {
		vals[":md"] = s(string(in.Metadata))
		set += ", #metadata = if_not_exists(#metadata, :md)"
	}
	if len(in.Respond) > 0 {
		vals[":respond"] = s(string(in.Respond))
		set += ", #respond = if_not_exists(#respond, :respond)"
	}
	return set
}

func registerNames(extra ...string) map[string]string {
	nm := names(attrPK, attrToken, attrHookID, attrExec, attrKind, attrCreatedAt, attrSeq, attrDlv, attrExpiresAt)
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
	return extra
}

// Register creates the hook in.Token for in.ExecutionARN, or returns it if
// that execution already holds it (idempotent; metadata of the first
// registration is kept). A resume that arrives before the first await of a
// registered hook is stored, not refused.
//
// Errors: ErrInvalidToken, ErrInvalidRequest, *ConflictError (ErrConflict)
// when another execution holds the token.
func (c *Client) Register(ctx context.Context, in RegisterInput) (*Hook, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	vals := map[string]types.AttributeValue{}
	set := c.registerSet(&in, vals)
	out, err := c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           &c.table,
		Key:                                 hookKey(in.Token),
		ConditionExpression:                 aws.String("attribute_not_exists(#pk) OR #executionArn = :exec"),
		UpdateExpression:                    aws.String("SET " + set),
		ExpressionAttributeNames:            registerNames(in.extraNames()...),
		ExpressionAttributeValues:           vals,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		if old, ok := conditionFailed(err); ok {
			return nil, &ConflictError{Token: in.Token, ExecutionARN: getS(old, attrExec)}
		}
		return nil, fmt.Errorf("register hook %s: %w", Redact(in.Token), err)
	}
	return c.withURL(&decodeHook(out.Attributes).Hook), nil
}

// AwaitInput parks one await of an execution on a hook.
type AwaitInput struct {
	RegisterInput
	// TaskToken is the awaiting task's $$.Task.Token.
	TaskToken string
}

// Await registers the hook for the execution if needed (as Register) and
// either delivers the oldest stored payload to TaskToken at once or parks
// TaskToken as the hook's waiter, to be completed by the next resume. It is
// idempotent for one task token (a retried invocation does no harm).
//
// When another execution holds the token, Await fails the task with
// SendTaskFailure (error HookConflictError, cause: a JSON object naming the
// execution) and returns *ConflictError. A waiter parked by an older await
// of the same hook is failed with HookAwaitSupersededError.
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
	if err := c.await(ctx, &in); err != nil {
		return fmt.Errorf("await hook %s: %w", Redact(in.Token), err)
	}
	return nil
}

// await is the protocol of docs/protocol.md, "Await".
func (c *Client) await(ctx context.Context, in *AwaitInput) error {
	for range c.opts.MaxAttempts {
		vals := map[string]types.AttributeValue{":tt": s(in.TaskToken)}
		set := c.registerSet(&in.RegisterInput, vals)
		out, err := c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &c.table,
			Key:       hookKey(in.Token),
			// A1: same execution (or new), nothing pending, and not a
			// retried await whose own delivery is in flight.
			ConditionExpression: aws.String("(attribute_not_exists(#pk) OR #executionArn = :exec) AND " +
				"(attribute_not_exists(#seq) OR #seq = #dlv) AND " +
				"NOT (#waiter = :tt AND attribute_exists(#inflight))"),
			UpdateExpression:                    aws.String("SET #waiter = :tt, " + set + " REMOVE #inflight"),
			ExpressionAttributeNames:            registerNames(append(in.extraNames(), attrWaiter, attrInflight)...),
			ExpressionAttributeValues:           vals,
			ReturnValues:                        types.ReturnValueAllOld,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			prev := decodeHook(out.Attributes)
			if prev != nil && prev.waiting() && prev.Waiter != in.TaskToken {
				c.failTask(ctx, prev.Waiter, ErrorNameSuperseded, "a newer await of hook "+Redact(in.Token)+" replaced this one")
			}
			return nil
		}
		old, ok := conditionFailed(err)
		if !ok {
			return fmt.Errorf("park waiter: %w", err)
		}
		cur := decodeHook(old)
		switch {
		case cur == nil:
			continue
		case cur.ExecutionARN != in.ExecutionARN:
			conflict := &ConflictError{Token: in.Token, ExecutionARN: cur.ExecutionARN}
			cause, _ := json.Marshal(map[string]string{"message": conflict.Error(), "executionArn": cur.ExecutionARN})
			if err := c.sendFailure(ctx, in.TaskToken, ErrorNameConflict, string(cause)); err != nil {
				return errors.Join(conflict, err)
			}
			return conflict
		case cur.Waiter == in.TaskToken && cur.Inflight != nil:
			// A retried invocation of this await (same task token) whose
			// delivery is in flight: send it again.
			if err := c.resend(ctx, cur.Waiter, cur.Inflight.Payload); err != nil {
				return err
			}
			if cur.Inflight.Seq > 0 {
				return c.commit(ctx, cur, *cur.Inflight)
			}
			return nil
		case cur.Seq > cur.Dlv:
			done, err := c.deliverBacklog(ctx, cur, in.TaskToken)
			if err != nil || done {
				return err
			}
		}
	}
	return ErrContention
}

// deliverBacklog hands the oldest stored payload to taskToken: A2 reads it,
// A3 names it as the in-flight delivery (it stays stored, dlv unchanged), A4
// sends it, A5 commits (dlv advances, the stored item goes). A crash before
// A5 leaves the payload at the head of the queue for the next await, so a
// payload that was acknowledged is never lost to a crashed await. done is
// false when the hook changed meanwhile.
func (c *Client) deliverBacklog(ctx context.Context, h *hookItem, taskToken string) (done bool, err error) {
	seq := h.Dlv + 1
	got, err := c.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &c.table, Key: itemKey(h.Token, msgSK(h.HookID, seq)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, fmt.Errorf("read stored payload: %w", err)
	}
	if len(got.Item) == 0 {
		return false, nil
	}
	f := inflight{ID: c.opts.NewID(), Payload: getS(got.Item, attrPayload), At: c.opts.Now(), Seq: seq}
	_, err = c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &c.table,
		Key:                      hookKey(h.Token),
		ConditionExpression:      aws.String("#hookId = :hid AND #dlv = :d"),
		UpdateExpression:         aws.String("SET #waiter = :tt, #inflight = :f"),
		ExpressionAttributeNames: names(attrHookID, attrDlv, attrWaiter, attrInflight),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":hid": s(h.HookID), ":d": n(h.Dlv), ":tt": s(taskToken), ":f": f.av(),
		},
	})
	if err != nil {
		if _, ok := conditionFailed(err); ok {
			return false, nil
		}
		return false, fmt.Errorf("take stored payload: %w", err)
	}
	h.Waiter, h.Inflight = taskToken, &f
	if _, err := c.deliver(ctx, h, f, seq); err != nil {
		return false, err
	}
	return true, nil
}

// commit is step A5: after a stored payload reached its await, count it as
// delivered and delete its item. Conditioned on the delivery still being
// the one in flight, so a commit that comes late changes nothing.
func (c *Client) commit(ctx context.Context, h *hookItem, f inflight) error {
	in := &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName:                &c.table,
				Key:                      hookKey(h.Token),
				ConditionExpression:      aws.String("#inflight.#id = :fid AND #dlv = :d"),
				UpdateExpression:         aws.String("SET #dlv = :seq REMOVE #inflight.#fseq"),
				ExpressionAttributeNames: map[string]string{"#inflight": attrInflight, "#id": fID, "#dlv": attrDlv, "#fseq": fSeq},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":fid": s(f.ID), ":d": n(f.Seq - 1), ":seq": n(f.Seq),
				},
			}},
			{Delete: &types.Delete{TableName: &c.table, Key: itemKey(h.Token, msgSK(h.HookID, f.Seq))}},
		},
	}
	for range c.opts.MaxAttempts {
		_, err := c.db.TransactWriteItems(ctx, in)
		if err == nil {
			return nil
		}
		codes, ok := canceledReasons(err)
		if !ok {
			return fmt.Errorf("commit delivery: %w", err)
		}
		if conditionCanceled(codes, 0) {
			return nil // already committed, or replaced by a newer await
		}
		// Canceled for another reason (a concurrent transaction on the
		// hook item): the commit did not happen; try again.
	}
	return fmt.Errorf("commit delivery: %w", ErrContention)
}

// resend completes taskToken with payload again; a closed task means it was
// already completed, which is success here.
func (c *Client) resend(ctx context.Context, taskToken, payload string) error {
	_, err := c.sfn.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: &taskToken, Output: &payload})
	if err != nil && !taskClosed(err) {
		return fmt.Errorf("send task success: %w", err)
	}
	return nil
}

func (c *Client) sendFailure(ctx context.Context, taskToken, name, cause string) error {
	_, err := c.sfn.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: &taskToken, Error: &name, Cause: &cause})
	if err != nil && !taskClosed(err) {
		return fmt.Errorf("send task failure: %w", err)
	}
	return nil
}

// failTask is sendFailure for notices whose failure changes nothing (the
// task it would fail is gone or will time out): errors are dropped.
func (c *Client) failTask(ctx context.Context, taskToken, name, cause string) {
	_ = c.sendFailure(ctx, taskToken, name, cause)
}
