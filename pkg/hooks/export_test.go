package hooks

import (
	"context"
	"time"
)

// HoldCaller counts one caller held on the manual webhook token (H1 in
// docs/protocol.md, "Limits") for a caller that waits at most deadline,
// as ResumeWebhook does before it resumes; release is H2. Tests hold
// and release callers with it at the moments they choose.
func (c *Client) HoldCaller(ctx context.Context, token string, deadline time.Duration) (release func(), err error) {
	h, err := c.getHookItem(ctx, token)
	if err != nil {
		return nil, err
	}
	if h == nil {
		return nil, ErrHookNotFound
	}
	return c.hold(ctx, h, deadline)
}

// ShardOf is the byStateMachine shard (0 to ListShards-1) of token's hook.
func ShardOf(token string) int { return shardOf(token) }
