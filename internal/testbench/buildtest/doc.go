// Package buildtest holds tests of what each Lambda function's binary is
// built from (no code: only tests).
package buildtest
