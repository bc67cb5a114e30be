package hooktask

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// awaitOnly records the AwaitInput hook-task passes (a stand-in for
// hooks.Client: this checks the adapter's decoding alone; the batch await
// itself runs on moto in pkg/hooks and e2e).
type awaitOnly struct {
	Hooks
	got *hooks.AwaitInput
}

func (a *awaitOnly) Await(_ context.Context, in hooks.AwaitInput) error {
	a.got = &in
	if in.MaxBatch < 0 {
		return hooks.ErrInvalidRequest
	}
	return nil
}

// TestAwaitPassesBatchFields: maxBatch and batchWindowSeconds reach
// AwaitInput; absent, the await is a single one (output unchanged); an
// explicit 0 is refused, not taken for absent.
func TestAwaitPassesBatchFields(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		maxBatch    int
		window      time.Duration
		invalid     bool
	}{
		{"absent", ``, 0, 0, false},
		{"maxBatch", `,"maxBatch":10`, 10, 0, false},
		{"window", `,"maxBatch":100,"batchWindowSeconds":2.5`, 100, 2500 * time.Millisecond, false},
		{"zero", `,"maxBatch":0`, -1, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &awaitOnly{}
			raw := `{"action":"await","token":"t1","executionArn":"arn:aws:states:us-east-1:123456789012:execution:m:e","taskToken":"T"` + tc.extra + `}`
			_, err := New(f, slog.New(slog.NewTextHandler(io.Discard, nil))).Handle(context.Background(), json.RawMessage(raw))
			if f.got == nil {
				t.Fatalf("Await not called (err %v)", err)
			}
			if f.got.MaxBatch != tc.maxBatch || f.got.BatchWindow != tc.window {
				t.Errorf("AwaitInput maxBatch %d window %v, want %d %v", f.got.MaxBatch, f.got.BatchWindow, tc.maxBatch, tc.window)
			}
			if (err != nil) != tc.invalid {
				t.Errorf("err %v, want invalid %v", err, tc.invalid)
			}
			if err != nil && !errors.Is(err, hooks.ErrInvalidRequest) && err.Error() == "" {
				t.Errorf("err %v", err)
			}
		})
	}
}
