// Package testbench is the test bench of sfnhooks: nothing under it ships
// in a Lambda function (buildtest checks that every function's
// dependencies stay outside it). What ships is pkg/hooks, internal/adapter,
// internal/awscalls, internal/emf and functions/.
//
//   - awsmodel: an in-process model of DynamoDB and Step Functions (the
//     scale benchmarks and the simulator run on it; held to moto by
//     TestModelMatchesMoto).
//   - sim: the deterministic simulator of the hook protocol (make sim,
//     docs/simulation.md).
//   - faults: wrappers of the AWS clients that inject what no emulator
//     does (a crash between two calls, a lost answer, throttling).
//   - awsstub: canned answers for the benchmarks of the fast paths.
//   - devstack: the offline AWS stack (moto) and the Lambda bridge that
//     runs the real handlers for it (make test, make dev).
//   - apigwlocal: API Gateway's HTTP API in front of the handlers, for make
//     dev and the end-to-end tests.
//   - templatetest, iamactions, buildtest: checks of template.yaml, of each
//     role against the calls its function makes, and of what the functions
//     link.
package testbench
