// Package awsmodel is an in-process model of the two services behind
// pkg/hooks' DynamoDBAPI and StepFunctionsAPI, for the scale benchmarks
// (BenchmarkScale, make scale: moto carries about 20 resumes/s on 2 cores
// and serializes every request, so it cannot show where the design stops)
// and for a deterministic simulator that runs the real pkg/hooks inside a
// testing/synctest bubble. It is not a fake for correctness tests of the
// AWS semantics pkg/hooks relies on: those run on moto (scripts/stack.sh),
// and TestModelMatchesMoto holds the model to moto.
//
// Deterministic: the model starts no goroutine; given the same calls in the
// same order and the same clock (time.Now, fake in a bubble) it gives the
// same answers. Nothing it answers depends on map order (batches, index
// reads, TTL sweeps, snapshots and throttled transactions go in key order),
// and the SDK retry jitter comes from Config.Rand when set. A negative
// latency (Config.Latency, NewStepFunctions) means no timer at all, and then
// no transaction hold either.
//
// DynamoDB (dynamodb.go, expr.go): one table keyed pk/sk (any TableName is
// accepted); single-item conditional writes (PutItem, UpdateItem,
// DeleteItem) applied atomically, GetItem, Query on the key with
// begins_with, Limit, ScanIndexForward, ExclusiveStartKey, FilterExpression
// and ProjectionExpression (also on GetItem); Query on the byExecution
// index of hooks.TableDefinition (sparse: items with an executionArn of
// type S; KEYS_ONLY; in (pk, sk) order; no index lag; no consistent reads);
// LastEvaluatedKey when an item follows the page (moto), or whenever the
// page is full (Config.KeyOnFullPage, DynamoDB); BatchWriteItem (25 puts and
// deletes, no duplicate keys, all refused or none) and BatchGetItem (100
// keys, projections), with requests on held or unpaid items returned
// unprocessed; the expression subset pkg/hooks sends (expr.go: AND/OR/NOT,
// =, <> (a missing attribute equals nothing), < <= > >= on numbers,
// begins_with, attribute_exists, attribute_not_exists, if_not_exists, a +
// b, a - b, nested paths #a.#b, SET and REMOVE of nested attributes,
// ReturnValues, ReturnValuesOnConditionCheckFailure); item sizes as
// DynamoDB counts them and its 400 KB limit (ItemSizeLimit: a write past it
// is a ValidationException and changes nothing, a transaction as a whole;
// Config.TxSizeCancels answers a transaction as DynamoDB documents instead,
// canceled with a ValidationError reason), MaxItemBytes the largest item
// ever stored; TTL (ExpireTTL deletes what a sweep at a given time would;
// the caller chooses when, DynamoDB deletes late) and Items, a deep copy of
// the table for auditors; TransactWriteItems that hold their items for
// Config.TxHold between prepare and commit: another transaction on a held
// item is canceled with CancellationReasons code "TransactionConflict", a
// single write on it fails with TransactionConflictException as DynamoDB
// documents (or waits, Config.WritesWait), and that are idempotent by
// their ClientRequestToken (txtoken.go: the same token and request within
// TokenWindow, 10 minutes, of the applied one's completion succeed and
// apply nothing; another request with it is
// IdempotentParameterMismatchException; during its hold
// TransactionInProgressException; a canceled transaction is not
// remembered; 1 to 36 characters); a per-call latency (default
// 5ms); per-partition token buckets of 1,000 WCU/s and 3,000 RCU/s (a
// write costs 1 WCU per KB begun of the larger of the item before and
// after it, a transaction twice that and all or nothing, a read 1 RCU per
// 4 KB begun; the index is free) that throttle with
// ProvisionedThroughputExceededException, retried like the SDK's standard
// retryer (3 attempts, backoff rand·2^n s).
//
// Step Functions (sfn.go): executions RUNNING from Start (or their first
// NewTask) until Stop, Fail, Succeed or TimeOutExecution, and again after
// Redrive; task tokens that complete once (a later SendTaskSuccess,
// SendTaskFailure or SendTaskHeartbeat: TaskTimedOut; unknown:
// InvalidToken), closed by TimeOutTask (TaskTimedOut), FailTask (a dead
// Lambda) or their execution's end; SendTaskSuccess output checked as the
// API does (JSON, 256 KiB), SendTaskFailure error and cause lengths;
// DescribeExecution with the real status; GetExecutionHistory as Step
// Functions serves it (ExecutionStarted first, ids from 1 across
// redrives, TaskScheduled → TaskStarted → TaskSubmitted → TaskSucceeded,
// TaskFailed or TaskTimedOut linked by PreviousEventId, execution ends,
// MaxResults pages with NextToken, ReverseOrder, IncludeExecutionData),
// longer with Pad and lagging with SetLag; Strict makes an unknown
// execution ExecutionDoesNotExist.
//
// Not modelled: index lag, adaptive capacity, TransactGetItems, Scan,
// states other than tasks (an execution is its tasks and its end),
// Step Functions API quotas, Lambda.
//
// The tests hold the model to this description: differential_test.go runs
// a pkg/hooks scenario that makes every write the protocol makes on moto
// (also ListHooks and DisposeExecution on the index, the dispose batch,
// BatchGetItem, items under and over 400 KB), replays its DynamoDB
// requests on the model and compares each answer and the final table.
// model_test.go checks what moto cannot show: transaction holds and
// conflicts (TestTransactionHold…), ClientRequestToken idempotency, which
// moto ignores (txtoken_test.go: TestTransactClientRequestToken…), throttling and costs
// (TestPartitionThrottling, TestTransactionCost, TestWriteCostBySize),
// latency, item sizes and the limit (TestItemSize, TestItemSizeLimit,
// TestHooksItemSizes), batches (TestBatchWriteItem…, TestBatchGetItem,
// TestHooksDisposeOnModel), the index (TestQueryByExecution,
// TestHooksListAndDisposeExecution) and TTL (TestExpireTTL, TestHooksTTL).
// sfn_test.go: tokens, executions and histories (TestTaskCompletesOnce,
// TestExecutionHistory, TestExecutionLifecycle, TestStrictExecutions,
// TestTaskTimeoutsAndHeartbeats, TestSendTaskValidation, TestHistoryPages,
// TestHistoryLag) and pkg/hooks on them (TestHooksExecutionEnd,
// TestHooksSettleLongHistory, TestHooksSettleLaggingHistory,
// TestHooksSettleClosedTaskOnModel). sim_test.go, in synctest bubbles: no
// latency (TestNoLatency, TestNoLatencyStepFunctions), seeded jitter
// (TestRetryJitterSeeded), all-or-nothing throttling of transactions, and
// TestDeterministic, the same pkg/hooks run twice compared answer by
// answer.
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
