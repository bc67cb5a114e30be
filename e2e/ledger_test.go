package e2e

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// tokenLedger gives task-token calls AWS's answers where moto's differ
// (internal/testbench/devstack/doc.go, (d)): moto accepts SendTaskSuccess for a task
// that completed or timed out while its execution runs and drops the
// output, a loss the library could not see; AWS answers TaskTimedOut. A
// token is closed once a call completed it, once its await invocation
// failed (until moto invokes it again: moto reuses the token on Retry,
// where AWS starts a new task with a new token), or margin before its
// timeout passes since the await was invoked, so that no send reaches moto
// after moto timed the task out. The calls through one ledger are
// serialized, so two sends to one token cannot both reach moto. The chaos
// and stress tests route every client's task-token calls through one
// ledger (ledgerTasks) and read what it counted.
type tokenLedger struct {
	mu      sync.Mutex
	timeout time.Duration // 0: the awaits have no timeout
	margin  time.Duration // a token closes this long before its timeout
	seen    map[string]time.Time
	done    map[string]bool
	failed  map[string]bool // await invocations that failed, not retried yet
	// retrying: the retried await invocations of a token still running,
	// closed when they return (see holdForRetry).
	retrying map[string]chan struct{}
	// closed counts closed answers by cause and caller ("timed-out
	// resumer"): timed-out answers to a resume are requeues.
	closed map[string]int
	trace  []string // the task-token calls, for a failure's report
	// delivered: the outputs of the SendTaskSuccess calls that completed
	// an open task, in order (what AWS would have delivered).
	delivered []string
}

func newTokenLedger(timeout, margin time.Duration) *tokenLedger {
	return &tokenLedger{timeout: timeout, margin: margin, seen: map[string]time.Time{}, done: map[string]bool{}, failed: map[string]bool{}, closed: map[string]int{}, retrying: map[string]chan struct{}{}}
}

var errLedgerTaskClosed = &sfntypes.TaskTimedOut{Message: aws.String("Provided task does not exist anymore (tokenLedger)")}

// log records a call for the trace; l.mu is held.
func (l *tokenLedger) log(who, call, token, output string, err error) {
	res := "ok"
	if err != nil {
		res = err.Error()
	}
	l.trace = append(l.trace, fmt.Sprintf("%s %s %s(%s, %s): %s", time.Now().Format("15:04:05.000"), who, call, shortToken(token), output, res))
}

func shortToken(tok string) string {
	if len(tok) > 8 {
		return tok[len(tok)-8:]
	}
	return tok
}

// invoked records an invocation of the await of token: a new token, or a
// retried attempt's (moto reuses the token; on AWS it would be new: open
// again, its timeout starting over).
func (l *tokenLedger) invoked(token string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.seen[token]; !ok || l.failed[token] {
		if l.failed[token] {
			l.retrying[token] = make(chan struct{})
		}
		l.seen[token] = time.Now()
		delete(l.failed, token)
	}
}

// returned records that an await invocation of token returned (or crashed).
func (l *tokenLedger) returned(token string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ch, ok := l.retrying[token]; ok {
		close(ch)
		delete(l.retrying, token)
	}
}

// holdForRetry delays another caller's send to token while a retried await
// invocation of token runs. moto reuses the token on Retry (AWS would give
// the retried task a new one) and records a send in the history only once
// that invocation returned: a retried await that finds its own token
// completed by a resumer would wait for a history entry that cannot appear
// before it returns, until the task times out. On AWS the send is in the
// history at once; holding it here is latency, not a changed answer.
func (l *tokenLedger) holdForRetry(ctx context.Context, who, token string) {
	if who == "hook-task" {
		return
	}
	l.mu.Lock()
	ch := l.retrying[token]
	l.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case <-ch:
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
	}
}

// invocationFailed records that the await invocation of token failed: on
// AWS its task is over.
func (l *tokenLedger) invocationFailed(token string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failed[token] = true
	l.log("invoke", "failed", token, "", nil)
}

// invokedAt is when the await of token was (last) invoked.
func (l *tokenLedger) invokedAt(token string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	at, ok := l.seen[token]
	return at, ok
}

// closes is the ledger's cut-off after an await's invocation, or 0.
func (l *tokenLedger) closes() time.Duration {
	if l.timeout <= 0 {
		return 0
	}
	return l.timeout - l.margin
}

// check says whether token is closed, counting the answer; l.mu is held.
func (l *tokenLedger) check(who, token string) error {
	cause := ""
	switch at, ok := l.seen[token]; {
	case l.done[token]:
		cause = "completed"
	case l.failed[token]:
		cause = "failed"
	case l.timeout > 0 && ok && time.Since(at) > l.closes():
		cause = "timed-out"
	default:
		return nil
	}
	l.closed[cause+" "+who]++
	return errLedgerTaskClosed
}

// deliveredCount is how many SendTaskSuccess calls completed an open task:
// what the executions received, unlike the hook item's dlv, which also
// counts a delivery record the next await dropped after its task had ended
// without it (docs/protocol.md, Await A1).
func (l *tokenLedger) deliveredCount() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.delivered))
}

// counts returns the closed answers by cause and caller.
func (l *tokenLedger) counts() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.closed)
}

// answered sums the closed answers of one cause ("timed-out"), any caller.
func (l *tokenLedger) answered(cause string) int {
	n := 0
	for k, v := range l.counts() {
		if strings.HasPrefix(k, cause+" ") {
			n += v
		}
	}
	return n
}

// ledgerTasks is a Step Functions client whose task-token calls go
// through a tokenLedger; who names the caller in its counts and trace.
type ledgerTasks struct {
	hooks.StepFunctionsAPI
	l   *tokenLedger
	who string
}

func (c ledgerTasks) SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, o ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	var out *sfn.SendTaskSuccessOutput
	err := c.complete(ctx, "SendTaskSuccess", aws.ToString(in.TaskToken), aws.ToString(in.Output), true, func() (err error) {
		out, err = c.StepFunctionsAPI.SendTaskSuccess(ctx, in, o...)
		return err
	})
	return out, err
}

func (c ledgerTasks) SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, o ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	var out *sfn.SendTaskFailureOutput
	err := c.complete(ctx, "SendTaskFailure", aws.ToString(in.TaskToken), aws.ToString(in.Error), false, func() (err error) {
		out, err = c.StepFunctionsAPI.SendTaskFailure(ctx, in, o...)
		return err
	})
	return out, err
}

// complete makes call, which completes the task of tok (send), through the
// ledger: held while a retried await of tok runs, answered closed without
// reaching moto if the ledger says so, and recorded (detail: the output or
// error name; output: a success, whose output is what AWS would deliver).
func (c ledgerTasks) complete(ctx context.Context, call, tok, detail string, output bool, send func() error) error {
	c.l.holdForRetry(ctx, c.who, tok)
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	if err := c.l.check(c.who, tok); err != nil {
		c.l.log(c.who, call, tok, detail, err)
		return err
	}
	err := send()
	c.l.log(c.who, call, tok, detail, err)
	if err == nil {
		c.l.done[tok] = true
		if output {
			c.l.delivered = append(c.l.delivered, detail)
		}
	}
	return err
}
