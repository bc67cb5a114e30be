package hooks

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// ErrNotWaiting: the hook exists but no await is parked on it (between two
// awaits, or its await already has a delivery in flight), so there is no
// task to heartbeat. It matches ErrHookNotFound with errors.Is. HTTP 404.
var ErrNotWaiting = fmt.Errorf("%w: no await is parked on it", ErrHookNotFound)

// Heartbeat tells Step Functions that the resumer of the hook's parked
// await is alive (SendTaskHeartbeat), so a task with HeartbeatSeconds does
// not time out with States.HeartbeatTimeout. Two AWS calls: a consistent
// GetItem of the hook item (the parked task token), then
// SendTaskHeartbeat. Nothing is written.
//
// Errors: ErrInvalidToken, ErrHookNotFound (no hook), ErrNotWaiting (no
// await parked, or its task already closed), or a wrapped AWS error.
func (c *Client) Heartbeat(ctx context.Context, token string) error {
	if err := ValidateToken(token); err != nil {
		return err
	}
	if err := c.heartbeat(ctx, token); err != nil {
		return fmt.Errorf("heartbeat hook %s: %w", Redact(token), err)
	}
	return nil
}

func (c *Client) heartbeat(ctx context.Context, token string) error {
	h, err := c.getHookItem(ctx, token)
	switch {
	case err != nil:
		return err
	case h == nil:
		return ErrHookNotFound
	case !h.waiting():
		return ErrNotWaiting
	}
	_, err = c.sfn.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: &h.Waiter})
	if taskClosed(err) {
		// The parked await's task is over (timed out, or its execution
		// ended): nothing waits on the hook.
		return ErrNotWaiting
	}
	if err != nil {
		return fmt.Errorf("send task heartbeat: %w", err)
	}
	return nil
}
