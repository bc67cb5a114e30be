// Package iamactions holds template.yaml's IAM roles to the code: an SDK
// middleware records the IAM action each AWS call needs and the Lambda
// function it was made for, ParseTemplate reads what each function's role
// grants, and Check compares the two both ways. The offline stack enforces
// no IAM, so without this a missing grant would only show on AWS.
package iamactions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// servicePrefix maps an SDK service id to its IAM service prefix.
var servicePrefix = map[string]string{
	"DynamoDB": "dynamodb",
	"SFN":      "states",
	"KMS":      "kms",
	"Lambda":   "lambda",
	// Verified webhooks read their signing secrets.
	"Secrets Manager": "secretsmanager",
}

// unmapped are operations whose IAM actions are not named after them and
// that Actions does not map yet: a call of one is an error, not a guess.
var unmapped = map[string]bool{
	"DynamoDB.ExecuteStatement":      true, // dynamodb:PartiQL*
	"DynamoDB.BatchExecuteStatement": true,
	"DynamoDB.ExecuteTransaction":    true,
}

// Actions returns the IAM actions that authorize one call of operation (as
// the SDK names it) of the service whose SDK service id is serviceID, given
// the call's input params. An operation needs the action of its own name
// (SFN.SendTaskSuccess needs states:SendTaskSuccess, DynamoDB.BatchWriteItem
// dynamodb:BatchWriteItem: the Service Authorization Reference lists that
// action alone for it), except the DynamoDB transactions, which need the
// actions of their parts ("Using IAM with DynamoDB transactions"): Put →
// dynamodb:PutItem, Update → dynamodb:UpdateItem, Delete →
// dynamodb:DeleteItem, ConditionCheck → dynamodb:ConditionCheckItem, Get →
// dynamodb:GetItem.
func Actions(serviceID, operation string, params any) ([]string, error) {
	prefix, ok := servicePrefix[serviceID]
	if !ok {
		return nil, fmt.Errorf("iamactions: no IAM service prefix known for SDK service %q (operation %s)", serviceID, operation)
	}
	if unmapped[serviceID+"."+operation] {
		return nil, fmt.Errorf("iamactions: the IAM actions of %s.%s are not mapped", serviceID, operation)
	}
	if serviceID != "DynamoDB" {
		return []string{prefix + ":" + operation}, nil
	}
	var parts []string
	switch operation {
	case "TransactWriteItems":
		in, ok := params.(*dynamodb.TransactWriteItemsInput)
		if !ok {
			return nil, fmt.Errorf("iamactions: DynamoDB.TransactWriteItems input is %T", params)
		}
		for i, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				parts = append(parts, "PutItem")
			case it.Update != nil:
				parts = append(parts, "UpdateItem")
			case it.Delete != nil:
				parts = append(parts, "DeleteItem")
			case it.ConditionCheck != nil:
				parts = append(parts, "ConditionCheckItem")
			default:
				return nil, fmt.Errorf("iamactions: DynamoDB.TransactWriteItems item %d is empty", i)
			}
		}
	case "TransactGetItems":
		in, ok := params.(*dynamodb.TransactGetItemsInput)
		if !ok {
			return nil, fmt.Errorf("iamactions: DynamoDB.TransactGetItems input is %T", params)
		}
		if len(in.TransactItems) > 0 {
			parts = append(parts, "GetItem")
		}
	default:
		parts = append(parts, operation)
	}
	actions := make([]string, 0, len(parts))
	for _, p := range parts {
		actions = append(actions, prefix+":"+p)
	}
	slices.Sort(actions)
	return slices.Compact(actions), nil
}

// Caller says for which function a call was made. The zero Caller is a call
// made for no function (a test's own setup calls): it is not recorded.
type Caller struct {
	Function string // logical id of the function in the template
	Via      string // how the call was tied to it, shown in reports
}

// Use is one action used by a function through one operation.
type Use struct {
	Caller
	Action    string // dynamodb:PutItem
	Operation string // DynamoDB.TransactWriteItems
}

// Recorder records the IAM actions of the AWS calls made through the clients
// whose config carries its Middleware. Set Attribute before the first call.
type Recorder struct {
	// Attribute tells which function a call is made for. It runs on the
	// goroutine that makes the call, with the call's context. An error
	// (a call that should belong to a function but cannot be tied to one)
	// is kept, and returned by Err.
	Attribute func(ctx context.Context) (Caller, error)

	mu   sync.Mutex
	uses map[Use]int
	errs map[string]error
}

// Middleware records each operation once, in the Initialize step (before
// retries), where its typed input is at hand. Add it to aws.Config.APIOptions.
func (r *Recorder) Middleware(s *middleware.Stack) error {
	return s.Initialize.Add(middleware.InitializeMiddlewareFunc("RecordIAMActions",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
			middleware.InitializeOutput, middleware.Metadata, error) {
			r.record(ctx, awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), in.Parameters)
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

func (r *Recorder) record(ctx context.Context, service, operation string, params any) {
	c, err := r.Attribute(ctx)
	if err != nil {
		r.fail(fmt.Errorf("%s.%s: %w", service, operation, err))
		return
	}
	if c.Function == "" {
		return
	}
	actions, err := Actions(service, operation, params)
	if err != nil {
		r.fail(fmt.Errorf("%s: %w", c.Function, err))
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.uses == nil {
		r.uses = map[Use]int{}
	}
	for _, a := range actions {
		r.uses[Use{Caller: c, Action: a, Operation: service + "." + operation}]++
	}
}

func (r *Recorder) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.errs == nil {
		r.errs = map[string]error{}
	}
	r.errs[err.Error()] = err
}

// Uses returns how many calls used each action, by function and operation.
func (r *Recorder) Uses() map[Use]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[Use]int, len(r.uses))
	for u, n := range r.uses {
		out[u] = n
	}
	return out
}

// Used returns the actions each function used, sorted.
func (r *Recorder) Used() map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]string{}
	for u := range r.uses {
		if !slices.Contains(out[u.Function], u.Action) {
			out[u.Function] = append(out[u.Function], u.Action)
		}
	}
	for _, as := range out {
		slices.Sort(as)
	}
	return out
}

// Err returns the calls that could not be recorded, or nil.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	msgs := make([]string, 0, len(r.errs))
	for m := range r.errs {
		msgs = append(msgs, m)
	}
	sort.Strings(msgs)
	errs := make([]error, 0, len(msgs))
	for _, m := range msgs {
		errs = append(errs, r.errs[m])
	}
	return errors.Join(errs...)
}
