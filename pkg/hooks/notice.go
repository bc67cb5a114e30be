package hooks

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Telling a dropped waiter (docs/protocol.md, "Telling a dropped waiter").
//
// A write that drops the hook's waiter T — an await's A1 or A3, which puts
// its own task token in T's place, or a dispose, which deletes the hook —
// would leave T waiting for ever if T is parked (Waiting) or if T's
// delivery was never sent (R1 applied, then its resumer died or was
// throttled past its retries): once the record is gone, nothing refers to
// T. Such a write is therefore conditioned on the waiter needing no word
// (toldCond), and when it does, the waiter is failed first and the write
// made again naming it as told. What the notice needs is read from the
// refused write's ALL_OLD before anything is dropped, so a write repeated
// after a lost answer or a crash cannot lose it: a repeat finds the waiter
// told already, or gone.

// untold returns the waiter of h that a write may not drop before telling
// it: a parked await, or an await whose delivery is not known to have
// reached it (a record not marked redriven: a resume's record whose send
// may have failed, an uncommitted hand-out). "" when h has no such waiter,
// or when it is one of told.
func (h *hookItem) untold(told []string) string {
	if h == nil || h.Waiter == "" || (h.Inflight != nil && h.Inflight.Redriven) {
		return ""
	}
	if slices.Contains(told, h.Waiter) {
		return ""
	}
	return h.Waiter
}

// toldCond is the condition term that mirrors untold: no waiter, a
// delivery known to have reached it, or a waiter in told. It adds the
// names and values it uses.
func toldCond(nm map[string]string, vals map[string]types.AttributeValue, told []string) string {
	nm["#"+attrWaiter] = attrWaiter
	nm["#"+attrInflight] = attrInflight
	nm["#"+fRedriven] = fRedriven
	vals[":sent"] = &types.AttributeValueMemberBOOL{Value: true}
	cond := "attribute_not_exists(#waiter) OR #inflight.#redriven = :sent"
	for i, t := range told {
		k := ":told" + strconv.Itoa(i)
		vals[k] = s(t)
		cond += " OR #waiter = " + k
	}
	return "(" + cond + ")"
}

// tell fails the task a write is about to drop from the hook, with error
// name and cause. A task that is over already answers closed, which is
// success here. Any other error is returned: the write must not be made,
// and the caller fails (its invocation is retried).
func (c *Client) tell(ctx context.Context, taskToken, name, cause string) error {
	if err := c.sendFailure(ctx, taskToken, name, cause); err != nil {
		return fmt.Errorf("tell the await the hook drops (%s): %w", name, err)
	}
	return nil
}
