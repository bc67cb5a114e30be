package hooks

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// conditionFailed returns the item DynamoDB returned with a failed
// condition (nil when the item does not exist) and whether err is one.
func conditionFailed(err error) (map[string]types.AttributeValue, bool) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item, true
	}
	return nil, false
}

// canceledReasons returns the per-item cancellation codes of a canceled
// transaction ("None", "ConditionalCheckFailed", …) and whether err is one.
func canceledReasons(err error) ([]string, bool) {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil, false
	}
	codes := make([]string, len(tce.CancellationReasons))
	for i, r := range tce.CancellationReasons {
		if r.Code != nil {
			codes[i] = *r.Code
		}
	}
	return codes, true
}

// transactionConflict reports whether DynamoDB refused a plain write
// because a transaction was writing the same item at that moment
// (TransactionConflictException). The SDK's retryer does not retry it; the
// protocol's loops do, as contention.
func transactionConflict(err error) bool {
	var tce *types.TransactionConflictException
	return errors.As(err, &tce)
}

// conditionCanceled reports whether a transaction was canceled because the
// condition of its item i failed.
func conditionCanceled(codes []string, i int) bool {
	return i < len(codes) && codes[i] == "ConditionalCheckFailed"
}

// taskClosed reports whether Step Functions refused a task token because
// the task is over or never existed: the token can never be completed.
func taskClosed(err error) bool {
	var (
		timedOut *sfntypes.TaskTimedOut
		notExist *sfntypes.TaskDoesNotExist
		invalid  *sfntypes.InvalidToken
	)
	return errors.As(err, &timedOut) || errors.As(err, &notExist) || errors.As(err, &invalid)
}
