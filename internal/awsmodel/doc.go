// Package awsmodel is an in-process model of the two services behind
// pkg/hooks' DynamoDBAPI and StepFunctionsAPI, for scale benchmarks
// (BenchmarkScale, make scale): moto carries about 20 resumes/s on 2 cores
// and serializes every request, so it cannot show where the design stops.
// It is a model for benchmarks, not a fake for correctness tests: those
// run on moto (scripts/stack.sh).
//
// What it models: one table keyed pk/sk; single-item conditional writes
// (PutItem, UpdateItem, DeleteItem) applied atomically, GetItem, Query on
// the key with begins_with, Limit, ScanIndexForward, ExclusiveStartKey,
// FilterExpression and ProjectionExpression (also on GetItem); the
// expression subset pkg/hooks sends (expr.go: AND/OR/NOT, =, <> (a
// missing attribute equals nothing), < <= > >= on numbers, begins_with,
// attribute_exists, attribute_not_exists, if_not_exists, a + b, a - b,
// nested paths #a.#b, SET and REMOVE of nested attributes, ReturnValues,
// ReturnValuesOnConditionCheckFailure); TransactWriteItems that hold their
// items for Config.TxHold between prepare and commit: another transaction
// on a held item is canceled with CancellationReasons code
// "TransactionConflict", a single write on it fails with
// TransactionConflictException as DynamoDB documents (or waits,
// Config.WritesWait); a per-call latency (default 5ms); per-partition
// token buckets of 1,000 WCU/s and 3,000 RCU/s (a write costs 1 WCU per KB
// begun of the larger of the item before and after it, a transaction
// twice that, a read 1 RCU per 4 KB begun) that throttle with
// ProvisionedThroughputExceededException, retried like the SDK's standard
// retryer (3 attempts, backoff rand·2^n s). Step Functions: task tokens
// complete once (later SendTaskSuccess: TaskTimedOut), DescribeExecution
// says RUNNING, GetExecutionHistory lists TaskScheduled and TaskSucceeded
// (with the output) or TaskFailed (with the error and cause). Not
// modelled: indexes, BatchWriteItem, TTL, item size limits, adaptive
// capacity, Step Functions API quotas, Lambda.
//
// The tests hold the model to this description: differential_test.go runs
// a pkg/hooks scenario that makes every write the protocol makes on moto,
// replays its DynamoDB requests on the model and compares each answer and
// the final table; model_test.go and sfn_test.go check what moto cannot
// show (transaction holds and conflicts, throttling, write costs, latency,
// task tokens and execution history).
//
// Why not github.com/truora/minidyn (v0.8.2, evaluated against the real
// library on 2026-11-29). It handles ReturnValuesOnConditionCheckFailure
// (ALL_OLD on UpdateItem), if_not_exists, nested paths in conditions and
// SET, REMOVE of a nested attribute (#inflight.#key), begins_with Query
// with Limit (and LastEvaluatedKey), and TransactWriteItems cancellations
// with per-item CancellationReasons (ConditionalCheckFailed, None). It
// does not fit:
//   - REMOVE of a top-level attribute is silently ignored ("REMOVE #m",
//     "REMOVE #a, #m", "SET #w = :v REMOVE #m" leave m in place), so A1
//     (SET waiter … REMOVE inflight) leaves the old delivery record, the
//     next resume finds the hook Delivering and stores its payload
//     instead of delivering it: a hook stops delivering after its first
//     backlog. Its native interpreter refuses REMOVE altogether.
//   - One mutex around every call of every table: no two items are
//     written at once, so transactions never conflict (no
//     TransactionConflict) and nothing overlaps in time.
//   - A transaction snapshots and restores whole tables, O(table size)
//     per TransactWriteItems: with 10,000 hooks that cost would be the
//     benchmark.
//   - No latency, no throughput limits; its module pulls testcontainers
//     and OpenTelemetry into go.sum.
//
// Wrapping it would have left the expression bug and the global lock in
// place, so the model is written here, small: expr.go (the expression
// subset), dynamodb.go, sfn.go.
package awsmodel
