package hooks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// transact sends one logical attempt of a transaction (docs/protocol.md,
// "Retries"): it gives in a ClientRequestToken of its own, so that the
// SDK's resend of this attempt (after a lost answer, within DynamoDB's 10
// minutes) is answered as the attempt that applied, never applied again.
// Each call is a new attempt with a new token: the protocol's loops send
// the same input again only after a cancellation (nothing applied), and
// the SDK would otherwise reuse the token it wrote into that input.
func (c *Client) transact(ctx context.Context, in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
	in.ClientRequestToken = aws.String(c.requestToken())
	return c.db.TransactWriteItems(ctx, in)
}

// maxRequestToken is the longest ClientRequestToken DynamoDB accepts.
const maxRequestToken = 36

// requestToken is a new ClientRequestToken: Options.NewID (22 characters by
// default), or, for a longer one, 36 hex digits of its sha256.
func (c *Client) requestToken() string {
	id := c.opts.NewID()
	if len(id) <= maxRequestToken {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:maxRequestToken/2])
}
