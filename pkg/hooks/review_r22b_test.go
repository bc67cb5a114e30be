package hooks_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// resendAfter is the SDK resending a DeleteItem DynamoDB applied (its
// answer lost): between the applied call and the resend, between() runs.
type resendAfter struct {
	hooks.DynamoDBAPI
	once    sync.Once
	between func()
}

func (r *resendAfter) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	first := false
	r.once.Do(func() { first = true })
	if first {
		if _, err := r.DynamoDBAPI.DeleteItem(ctx, in, o...); err != nil {
			return nil, err
		}
		r.between()
	}
	return r.DynamoDBAPI.DeleteItem(ctx, in, o...)
}

// DisposeHook(IfHookID(A)) whose D1 is applied (hook A deleted) but whose
// answer is lost, and the execution registers the token again (hook B)
// before the SDK's resend: the resend is refused on B's hook id and the
// operator is told *ConflictError "nothing was disposed", though A was
// disposed; A's stored payload, which D3 deletes after a dispose, stays.
// docs/protocol.md: a ConflictError by hook id is "nothing told, nothing
// deleted".
func TestR22bDisposeHookByIDResentAfterRecreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	stk := stacktest.RequireStack(t)
	c, db, _, table := testClient(t)
	token := "dispose-resend-" + suffix()
	a, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResumeHook(ctx, token, "kept"); err != nil {
		t.Fatal(err)
	}
	var b *hooks.Hook
	wrap := &resendAfter{DynamoDBAPI: db, between: func() {
		var err error
		if b, err = c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA}); err != nil {
			t.Errorf("register again: %v", err)
		}
	}}
	op, err := hooks.New(devstack.AWSConfig(stk.MotoURL.String()), func(o *hooks.Options) { o.TableName = table; o.DynamoDB = wrap })
	if err != nil {
		t.Fatal(err)
	}
	err = op.DisposeHook(ctx, token, execA, hooks.IfHookID(a.HookID))
	if b == nil || b.HookID == a.HookID {
		t.Fatalf("re-created hook %+v: want a new hook id", b)
	}
	// As an HTTP precondition (If-Match) on a resent DELETE: the token is
	// not the hook named any more, which is gone; the answer says so and
	// claims nothing else.
	var conflict *hooks.ConflictError
	if !errors.As(err, &conflict) || conflict.HookID != b.HookID || strings.Contains(err.Error(), "nothing was disposed") {
		t.Errorf("dispose of %s resent after the token became %s: %v, want a *ConflictError naming %s that does not deny the dispose", a.HookID, b.HookID, err, b.HookID)
	}
	if _, err := c.GetHook(ctx, token); err != nil {
		t.Errorf("hook %s (registered again) is gone: %v", b.HookID, err)
	}
	var left []string
	for _, it := range scanAll(t, db, table) {
		if sk, _ := it["sk"].(*types.AttributeValueMemberS); sk != nil && strings.Contains(sk.Value, a.HookID) {
			left = append(left, sk.Value)
		}
	}
	if len(left) != 0 {
		t.Errorf("hook %s disposed, its stored payloads left: %q", a.HookID, left)
	}
}
