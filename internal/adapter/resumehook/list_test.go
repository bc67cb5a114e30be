package resumehook

import (
	"context"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// ListHooks makes the fuzz targets' recorder a Resumer; GET /hooks is
// tested against the emulator in e2e and docs.
func (r *recorder) ListHooks(_ context.Context, in hooks.ListHooksInput) (*hooks.ListHooksOutput, error) {
	r.calls++
	r.method = "list"
	return &hooks.ListHooksOutput{Hooks: []hooks.HookStatus{}}, nil
}

// ListStateMachineHooks and DisposeHook complete the recorder: GET
// /hooks?stateMachineArn=… and DELETE /hooks/{token} are served by the
// real ones in e2e/list_sm_test.go.
func (r *recorder) ListStateMachineHooks(_ context.Context, in hooks.ListStateMachineHooksInput) (*hooks.ListStateMachineHooksOutput, error) {
	r.calls++
	r.method = "listStateMachine"
	return &hooks.ListStateMachineHooksOutput{Hooks: []hooks.HookStatus{}}, nil
}

func (r *recorder) DisposeHook(_ context.Context, token, executionARN string, _ ...hooks.DisposeOption) error {
	r.calls++
	r.method, r.token = "dispose", token
	return hooks.ValidateToken(token)
}
