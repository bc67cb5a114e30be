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
