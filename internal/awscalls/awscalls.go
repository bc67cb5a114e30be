// Package awscalls counts AWS operations with an SDK middleware, so tests
// and benchmarks measure round trips instead of reading code.
package awscalls

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Counter counts operations by "Service.Operation". The zero value is ready.
type Counter struct {
	mu sync.Mutex
	m  map[string]int
}

// Inc counts one call of op.
func (c *Counter) Inc(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[op]++
}

// Total is the number of calls counted.
func (c *Counter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := 0
	for _, v := range c.m {
		t += v
	}
	return t
}

// Reset forgets every count.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

// String lists the counts, sorted: "DynamoDB.UpdateItem=1 SFN.SendTaskSuccess=1".
func (c *Counter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	parts := make([]string, 0, len(c.m))
	for k, v := range c.m {
		parts = append(parts, k+"="+strconv.Itoa(v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// Middleware counts each operation once, in the Initialize step (before
// retries). Add it to aws.Config.APIOptions.
func Middleware(c *Counter) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("CountCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
				middleware.InitializeOutput, middleware.Metadata, error) {
				c.Inc(awsmiddleware.GetServiceID(ctx) + "." + awsmiddleware.GetOperationName(ctx))
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	}
}

// Count is the number of calls of op ("DynamoDB.GetItem") counted.
func (c *Counter) Count(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[op]
}
