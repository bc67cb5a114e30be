package devstack

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// DescribeExecutionAPI is the part of the Step Functions client WaitExecution uses.
type DescribeExecutionAPI interface {
	DescribeExecution(context.Context, *sfn.DescribeExecutionInput, ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

var _ DescribeExecutionAPI = (*sfn.Client)(nil)

// WaitExecution polls DescribeExecution every interval until the execution is no
// longer RUNNING, and returns its last description. It returns ctx's error, wrapped
// with the last status seen, when ctx ends first.
func WaitExecution(ctx context.Context, api DescribeExecutionAPI, executionARN string, interval time.Duration) (*sfn.DescribeExecutionOutput, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		out, err := api.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(executionARN)})
		if err != nil {
			return nil, fmt.Errorf("devstack: describe execution: %w", err)
		}
		if out.Status != types.ExecutionStatusRunning {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return out, fmt.Errorf("devstack: execution still %s: %w", out.Status, ctx.Err())
		case <-t.C:
		}
	}
}
