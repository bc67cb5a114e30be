// Package templatetest holds the tests of template.yaml's operational
// properties (issue 11): abuse limits, failure queues, alarms, tracing, the
// table's protection and cost ceiling, the API ARN output, the access log's
// caller identity and the least-privilege grants. Each property is checked on
// the project's template, and each check is shown to fail on a copy of the
// template with that property removed. The IAM roles versus the code are
// e2e/iam_test.go's; cfn-lint and sam validate (make lint) check the schema.
package templatetest
