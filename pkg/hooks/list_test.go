package hooks_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// partialBatch answers the first BatchGetItem with only its first key read
// and the others in UnprocessedKeys, as DynamoDB does when it throttles part
// of a batch (moto always reads them all): a fault no emulator produces.
type partialBatch struct {
	hooks.DynamoDBAPI
	calls int
}

func (p *partialBatch) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	p.calls++
	if p.calls > 1 {
		return p.DynamoDBAPI.BatchGetItem(ctx, in, o...)
	}
	for table, ka := range in.RequestItems {
		first := ka
		first.Keys = ka.Keys[:1]
		out, err := p.DynamoDBAPI.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: first}}, o...)
		if err != nil {
			return nil, err
		}
		rest := ka
		rest.Keys = ka.Keys[1:]
		out.UnprocessedKeys = map[string]types.KeysAndAttributes{table: rest}
		return out, nil
	}
	return &dynamodb.BatchGetItemOutput{}, nil
}

// ListHooks asks DynamoDB again for the keys it left unprocessed: every hook
// is listed once.
func TestListHooksUnprocessedKeys(t *testing.T) {
	t.Parallel()
	c, db, _, table := testClient(t)
	pb := &partialBatch{DynamoDBAPI: db}
	ctx := context.Background()
	const exec = "arn:aws:states:us-east-1:123456789012:execution:m:unprocessed"
	var want []string
	for i := range 5 {
		tok := fmt.Sprintf("unprocessed-%d-%s", i, suffix())
		if _, err := c.Register(ctx, hooks.RegisterInput{Token: tok, ExecutionARN: exec}); err != nil {
			t.Fatal(err)
		}
		want = append(want, tok)
	}
	lister, err := hooks.New(aws.Config{}, func(o *hooks.Options) { o.TableName = table; o.DynamoDB = pb })
	if err != nil {
		t.Fatal(err)
	}
	out, err := lister.ListHooks(ctx, hooks.ListHooksInput{ExecutionARN: exec})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range out.Hooks {
		got = append(got, h.Token)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || pb.calls != 2 {
		t.Errorf("listed %v in %d BatchGetItem calls, want %v in 2", got, pb.calls, want)
	}
}
