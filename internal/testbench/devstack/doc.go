// Package devstack is the offline AWS stack of the tests and of the local dev
// server: moto (DynamoDB, and Step Functions that really executes state machines)
// on loopback, started by scripts/stack.sh, and the Lambda bridge, which runs our
// real Go Lambda handlers in-process when a state machine invokes them.
//
// moto's Step Functions interpreter sends every call it makes (lambda:invoke
// tasks, aws-sdk:* and optimised integrations) to http://localhost:$MOTO_PORT.
// scripts/stack.sh starts moto on SFNHOOKS_MOTO_PORT (27001) with MOTO_PORT set to
// SFNHOOKS_BRIDGE_PORT (27000), where a Bridge listens: it answers the Lambda
// Invoke API from its functions and proxies everything else to moto. So state
// machines reach Lambda, and DynamoDB through aws-sdk integrations, only while a
// bridge runs. SDK clients of tests can use either address; through the bridge is
// what a deployed function sees (one endpoint for every service).
//
// Tests get the stack from package stacktest: RequireStack fails the test when
// moto is not up (go test -short or SFNHOOKS_REQUIRE_STACK=0 skips it instead;
// CI or SFNHOOKS_REQUIRE_STACK=1 fails it even with -short), and Bridge /
// Function share one bridge per test process.
//
// # moto 5.2.5: what was verified
//
// Each item is checked by a test in this package (moto_test.go) against the
// running stack; "AWS:" notes where AWS behaves otherwise.
//
// DynamoDB
//
//   - (a) A failed ConditionExpression with ReturnValuesOnConditionCheckFailure
//     ALL_OLD returns *types.ConditionalCheckFailedException whose Item is the old
//     item (UpdateItem, PutItem, DeleteItem); Item is empty when there was no item.
//   - (b) A cancelled TransactWriteItems returns *types.TransactionCanceledException
//     with one CancellationReason per item, in order: Code "None" for the items
//     that passed, "ConditionalCheckFailed" (with Message, and Item when
//     ReturnValuesOnConditionCheckFailure is ALL_OLD) for those that failed; nothing
//     is written. Two operations on one item: ValidationException. ClientRequestToken
//     is ignored: a retried transaction is evaluated again (AWS: same answer for
//     10 minutes).
//   - (c) UpdateExpression: REMOVE of a list element (lst[1]) and of map paths
//     (m.k1, m.#k), if_not_exists, list_append (also on if_not_exists), SET of a map
//     value and of a nested path, ADD, several clauses in one expression; conditions
//     comparing two attributes (#seq = #dlv, #seq < #dlv), nested paths
//     (inflight.id = :p), size(), attribute_exists/attribute_not_exists: all work.
//     An undefined :value in an UpdateExpression is a ValidationException, but an
//     undefined :value in a ConditionExpression, or an undefined #name anywhere, is
//     an HTTP 500 from moto, which the SDK retries (AWS: ValidationException).
//   - (h) Query and Scan of a sparse GSI see only the items that have its key;
//     ConsistentRead on a GSI is a ValidationException, as on AWS.
//   - Items over 405,000 bytes are refused (ValidationException); AWS's limit is
//     409,600 bytes including attribute names.
//
// Step Functions (with the bridge; execute_state_machine switched on)
//
//   - (d) Task tokens are UUIDs. SendTaskSuccess on a garbage token, or on the token
//     of an execution that has ended: *types.InvalidToken; SendTaskHeartbeat too.
//     But SendTaskFailure on the token of an ended task is accepted silently, and
//     SendTaskSuccess/SendTaskFailure on a token whose task completed or timed out
//     while its execution still runs (a later state) are accepted silently and
//     their output dropped. AWS answers all of these TaskTimedOut ("Provided task
//     does not exist anymore"). moto never answered TaskTimedOut or
//     TaskDoesNotExist in these cases: code must treat InvalidToken, TaskTimedOut
//     and TaskDoesNotExist alike, and tests cannot rely on a second
//     SendTaskSuccess failing.
//   - (d) SendTaskFailure's Error is matched by Catch and Retry. moto 5.2.5
//     drops its Cause; scripts/moto_server.py patches that, so on this stack the
//     cause is kept (caught and uncaught), as on AWS. It also makes a missed
//     HeartbeatSeconds fail with States.HeartbeatTimeout (moto: States.Timeout).
//   - (d) moto waits for a waitForTaskToken task's token only after its Lambda
//     invocation returned, and an invocation that errs fails the task even when
//     the token had already answered it (SendTaskSuccess or SendTaskFailure
//     from inside the invocation): the answer was lost and the task retried.
//     AWS keeps the token's answer. scripts/moto_server.py patches that too
//     (TestMotoStepFunctions "a task answered by its token outlives its
//     invocation's error"); make chaos found it (seed 304774).
//   - (d) StopExecution of an execution that waits for a token took effect only when
//     the task ended in moto 5.2.5 (the execution stayed RUNNING and its token was
//     accepted; then it was ABORTED, or FAILED if the task's Lambda invocation was
//     still running). AWS: ABORTED at once, and the token answers TaskTimedOut.
//     scripts/moto_server.py makes moto do the same (ExecutionAborted ends the
//     history at once; SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat of the
//     stopped execution's tokens answer TaskTimedOut), so on make dev a resume after
//     StopExecution answers 404 as on AWS (TestMotoStepFunctions "StopExecution of
//     an execution waiting for a token", cmd/sfnhooks-dev TestDevStopExecution).
//   - (d) SendTaskHeartbeat was accepted only for tasks with HeartbeatSeconds (then it
//     keeps the task alive), otherwise InvalidToken, and accepted for a task its
//     token had completed while the execution runs on. AWS accepts it for any open
//     task and answers TaskTimedOut for a closed one; scripts/moto_server.py makes
//     moto accept it for any open task and answer a closed one TaskDoesNotExist
//     (what moto says for other closed tasks; pkg/hooks takes both for closed). An
//     await checks its own task so before it supersedes another
//     (docs/protocol.md, "Await").
//   - (e) Supported and checked: Pass, Task, Choice (And, IsPresent, …), Map (ItemsPath,
//     ItemSelector/ItemProcessor and the older Parameters/Iterator,
//     $$.Map.Item.Value/Index), Parallel, Wait, Fail; Parameters, ResultSelector,
//     ResultPath, OutputPath; Retry and Catch on a Lambda errorType, Catch on
//     States.Timeout; intrinsics States.Format, UUID, JsonToString, StringToJson,
//     Array, ArrayLength, Hash, Base64Encode; context $$.Execution.Id/.Name/.Input,
//     $$.StateMachine.Id, $$.State.Name, $$.Task.Token; a Lambda function ARN as
//     Resource; aws-sdk:dynamodb:* and dynamodb:* integrations (their error names:
//     "DynamoDb.ConditionalCheckFailedException" for aws-sdk,
//     "DynamoDB.ConditionalCheckFailedException" for the optimised one). A
//     lambda:invoke result is {"StatusCode","ExecutedVersion","Payload"} (AWS adds
//     SdkHttpMetadata and SdkResponseMetadata). An unknown function fails the task
//     with Lambda.ResourceNotFoundException. A waitForTaskToken task whose function
//     returns an error fails with that errorType.
//   - (e) Quirks: $$.Execution.StartTime is a Python datetime inside moto: once it is
//     in an execution's output, DescribeExecution answers HTTP 500 (in a Lambda
//     payload it arrives as an ISO 8601 string). A JSON string as the final output
//     is returned unquoted by DescribeExecution. An unnamed execution is named
//     "None": always pass a Name to StartExecution (stacktest.StartExecution does).
//   - (f) Speed on a developer machine: StartExecution to the Lambda invocation about
//     25-30 ms, SendTaskSuccess to SUCCEEDED visible about 15 ms, a Pass machine
//     about 15-20 ms end to end: poll DescribeExecution every 10-20 ms
//     (DefaultPollInterval).
//   - (g) TimeoutSeconds (and HeartbeatSeconds) time out a waitForTaskToken task:
//     it fails with States.Timeout after the timeout (1.04 s for 1 s), catchable.
//   - The interpreter's state machines live apart from those of moto's
//     non-executing backend: switch execute_state_machine on before creating any
//     (scripts/stack.sh up does). moto 5.2.5's GET /moto-api/config does not report
//     that setting; stack.sh checks it by running a Pass machine.
//
// KMS (moto[server] 5.2.5 serves it on the same port; it needs only cryptography,
// a core dependency of moto, so requirements-dev.txt names no extra for it):
//
//   - CreateKey, CreateAlias, DescribeKey (by alias), GenerateDataKey (KeySpec
//     AES_256, EncryptionContext) and Decrypt (KeyId, EncryptionContext) work.
//     moto/kms/utils.py encrypts the data key with AES-GCM under the key's material
//     and the serialized encryption context as additional data: Decrypt with another
//     context is InvalidCiphertextException; models.py: a KeyId other than the
//     ciphertext's key is AccessDeniedException. An unknown key or alias in
//     GenerateDataKey is NotFoundException. No key policy or IAM is enforced
//     (docs/sealed.md).
//
// # Lambda handlers and concurrency
//
// aws-lambda-go v1.55.1's lambda.NewHandler(fn).Invoke returns output that
// aliases a buffer from the handler's pool, which its next Invoke reuses:
// concurrent invocations of one such handler can corrupt each other's output.
// The bridge therefore runs invocations of a plain lambda.Handler one at a time.
// NewHandler (this package) makes a handler that the bridge runs concurrently.
package devstack
