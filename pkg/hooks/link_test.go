package hooks_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sfnhooks/sfnhooks/internal/testbench/faults"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Approval links over their whole life (docs/protocol.md, "Links"): the
// clock is moved by hand and expireTTL deletes what DynamoDB's TTL would
// have deleted by then (moto runs no TTL).

// A link whose use was acknowledged but whose "mark used" (L3) never ran
// stays claimed. Pressed again at any time while it is valid, after the
// 24 h idempotency TTL too, it must not resume the hook a second time.
// The process dies before L3 (faults: a crash between two calls, which
// moto cannot produce).
func TestLinkClaimedResumesOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		after time.Duration // from the first use to the second
	}{
		{"after the idempotency TTL", 25 * time.Hour},
		{"just before the link expires", hooks.DefaultLinkExpiry - time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clock := newTestClock()
			inj, tasks := faults.New(), faults.NewTasks()
			c, db, table := guaranteeClient(t, inj, tasks, func(o *hooks.Options) { o.Now = clock.Now })
			token := "link-once-" + suffix()
			if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA}); err != nil {
				t.Fatal(err)
			}
			l, err := c.CreateLink(ctx, hooks.CreateLinkInput{Token: token, ExecutionARN: execA, Payload: map[string]bool{"approved": true}})
			if err != nil {
				t.Fatal(err)
			}
			// L0 GetItem, L1 TransactWriteItems, I1 GetItem, I2
			// TransactWriteItems (stored: no await is parked), L3 UpdateItem.
			inj.CrashAt(5, faults.Before)
			crash := faults.Recover(func() { _, _ = c.UseLink(ctx, l.ID, "") })
			if crash == nil || crash.Call.Op != "DynamoDB.UpdateItem" {
				t.Fatalf("crash %v, want one before L3 (ops %v)", crash, inj.Ops())
			}
			inj.Reset()
			if n := pending(t, c, token); n != 1 {
				t.Fatalf("%d pending after the first use, want 1", n)
			}

			clock.Advance(tc.after)
			expireTTL(t, db, table, clock.Now())
			_, err = c.UseLink(ctx, l.ID, "")
			if err != nil && !errors.Is(err, hooks.ErrLinkGone) {
				t.Fatalf("second use %s: %v, want it answered as done or 410", tc.name, err)
			}
			if n := pending(t, c, token); n != 1 {
				t.Errorf("second use %s: %d pending, want 1: the link resumed the hook twice", tc.name, n)
			}
		})
	}
}

// A link group is used once over the life of every link in it: a sibling
// valid for 30 days, used after the link that claimed the group expired
// and its item was deleted, is still retired.
func TestLinkGroupOutlivesSiblings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newTestClock()
	inj, tasks := faults.New(), faults.NewTasks()
	c, db, table := guaranteeClient(t, inj, tasks, func(o *hooks.Options) { o.Now = clock.Now })
	token := "link-group-" + suffix()
	if _, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA}); err != nil {
		t.Fatal(err)
	}
	short, err := c.CreateLink(ctx, hooks.CreateLinkInput{Token: token, ExecutionARN: execA, Payload: "yes", Group: "choice", Expiry: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	long, err := c.CreateLink(ctx, hooks.CreateLinkInput{Token: token, ExecutionARN: execA, Payload: "no", Group: "choice", Expiry: 30 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UseLink(ctx, short.ID, ""); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour + hooks.LinkRetention + 24*time.Hour) // the short link's item is gone
	if n := expireTTL(t, db, table, clock.Now()); n == 0 {
		t.Fatalf("nothing expired: the short link's item should have")
	}
	var gone *hooks.LinkGoneError
	if _, err := c.GetLink(ctx, long.ID); !errors.As(err, &gone) || gone.Reason != hooks.LinkGoneRetired {
		t.Errorf("page of the sibling: %v, want 410 retired", err)
	}
	if _, err := c.UseLink(ctx, long.ID, ""); !errors.As(err, &gone) || gone.Reason != hooks.LinkGoneRetired {
		t.Errorf("use of the sibling: %v, want 410 retired", err)
	}
	if _, payloads := hookItems(t, db, table, token); len(payloads) != 1 {
		t.Errorf("stored %q, want only the first link's payload", payloads)
	}
}

// A link is valid no longer than its hook lives (the hook item's TTL): a
// group item, which outlives the hook, then outlives every link of the
// group, those created late included.
func TestLinkValidNoLongerThanItsHook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newTestClock()
	c, _, _, _ := testClient(t, func(o *hooks.Options) { o.Now = clock.Now; o.HookTTL = 48 * time.Hour })
	token := "link-hookttl-" + suffix()
	h, err := c.Register(ctx, hooks.RegisterInput{Token: token, ExecutionARN: execA})
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(24 * time.Hour)
	l, err := c.CreateLink(ctx, hooks.CreateLinkInput{Token: token, ExecutionARN: execA, Payload: true, Group: "g", Expiry: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if want := h.CreatedAt.Add(48 * time.Hour).Truncate(time.Second); !l.ExpiresAt.Equal(want) {
		t.Errorf("link valid until %s, want the hook's expiry %s", l.ExpiresAt, want)
	}
}
