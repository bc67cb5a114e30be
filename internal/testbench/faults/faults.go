// Package faults wraps the AWS clients of pkg/hooks to inject faults no
// emulator produces: a crash (the process dies) just before or just after
// any one AWS call, an error answer to a chosen call, and throttling on the
// wire that the SDK's retryer has to absorb.
//
// A crash is a panic with a *Crash value: it abandons the operation at that
// point, with no deferred clean-up in pkg/hooks to run, as a killed process
// would. Recover (or a handler wrapper) turns it back into a value.
//
//	inj := faults.New()
//	client, _ := hooks.New(cfg, func(o *hooks.Options) {
//		o.DynamoDB = inj.DynamoDB(dynamodb.NewFromConfig(cfg))
//		o.StepFunctions = inj.StepFunctions(sfn.NewFromConfig(cfg))
//	})
//	inj.CrashAt(2, faults.After) // the second call from now on is made, then the process dies
//	crash := faults.Recover(func() { _, _ = client.ResumeHook(ctx, token, payload) })
package faults

import (
	"fmt"
	"sync"
)

// When places a crash relative to its call.
type When int

const (
	// Before: the call is never made.
	Before When = iota + 1
	// After: the call is made and its effect stays, but nobody sees the answer.
	After
)

func (w When) String() string {
	switch w {
	case Before:
		return "before"
	case After:
		return "after"
	}
	return fmt.Sprintf("When(%d)", int(w))
}

// Call is one AWS call as the injector saw it.
type Call struct {
	// N counts the calls since the injector was last armed (or created),
	// from 1.
	N int
	// Op is "<service>.<operation>": "DynamoDB.UpdateItem", "SFN.SendTaskSuccess".
	Op string
}

// Answer is what became of one call through the injector.
type Answer struct {
	Call
	// Made: the call reached the service (its effect, if any, stays).
	// False when a crash came before it or FailWith answered for it.
	Made bool
	// Err is the call's error: the service's, or FailWith's (nil: it
	// succeeded).
	Err error
}

// Crash is the panic value of an injected crash.
type Crash struct {
	Call Call
	When When
}

func (c *Crash) String() string {
	return fmt.Sprintf("crash %s call %d (%s)", c.When, c.Call.N, c.Call.Op)
}

// Injector decides, for each call through the clients it wraps, whether to
// crash or fail it. It is safe for concurrent use, but a crash point is
// counted across all calls, so arm it while only the operation under test
// uses the wrapped clients.
type Injector struct {
	mu        sync.Mutex
	n         int
	ops       []string
	answers   []Answer
	gen       int // counts CrashAt and Reset: a call begun before one is not recorded after it
	crashAt   int
	crashWhen When
	fail      func(Call) error
}

// New returns an injector that lets every call through.
func New() *Injector { return &Injector{} }

// CrashAt arms a single crash at the n-th call from now (n ≥ 1), before or
// after it, and restarts the call count. It fires once.
func (in *Injector) CrashAt(n int, w When) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.n, in.ops, in.answers, in.crashAt, in.crashWhen = 0, nil, nil, n, w
	in.gen++
}

// FailWith makes every call for which fn returns a non-nil error answer
// that error instead of being made. nil removes the rule.
func (in *Injector) FailWith(fn func(Call) error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.fail = fn
}

// Reset disarms the injector and restarts the call count.
func (in *Injector) Reset() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.n, in.ops, in.answers, in.crashAt, in.crashWhen, in.fail = 0, nil, nil, 0, 0, nil
	in.gen++
}

// Ops lists the operations called since the injector was last armed or
// reset, in order.
func (in *Injector) Ops() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.ops...)
}

// Answers lists what became of each call since the injector was last
// armed or reset, in order: whether it was made and its error. A call a
// crash came before is listed, not made; one a crash came after is listed
// with its answer, which nobody else saw; one still in progress, not made.
func (in *Injector) Answers() []Answer {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Answer(nil), in.answers...)
}

// answered records what became of call c, begun in generation gen.
func (in *Injector) answered(gen int, c Call, made bool, err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if gen == in.gen && c.N <= len(in.answers) {
		in.answers[c.N-1] = Answer{Call: c, Made: made, Err: err}
	}
}

// Armed reports whether a crash is armed and has not fired yet.
func (in *Injector) Armed() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.crashAt > 0
}

// begin registers a call and says what to do with it.
func (in *Injector) begin(op string) (c Call, gen int, crash When, err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.n++
	in.ops = append(in.ops, op)
	c = Call{N: in.n, Op: op}
	in.answers = append(in.answers, Answer{Call: c}) // filled in by answered
	gen = in.gen
	if in.crashAt == in.n {
		crash = in.crashWhen
		in.crashAt = 0
	}
	if in.fail != nil {
		err = in.fail(c)
	}
	return c, gen, crash, err
}

// do runs call under the injector's plan.
func do[T any](in *Injector, op string, call func() (T, error)) (T, error) {
	c, gen, crash, err := in.begin(op)
	if crash == Before {
		in.answered(gen, c, false, nil)
		panic(&Crash{Call: c, When: Before})
	}
	if err != nil {
		in.answered(gen, c, false, err)
		var zero T
		return zero, err
	}
	out, err := call()
	in.answered(gen, c, true, err)
	if crash == After {
		panic(&Crash{Call: c, When: After})
	}
	return out, err
}

// Recover runs fn and returns the injected crash that ended it, or nil if
// fn returned. Other panics go on.
func Recover(fn func()) (crash *Crash) {
	defer func() {
		if v := recover(); v != nil {
			c, ok := v.(*Crash)
			if !ok {
				panic(v)
			}
			crash = c
		}
	}()
	fn()
	return nil
}
