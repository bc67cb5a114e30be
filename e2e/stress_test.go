package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/sfnhooks/sfnhooks/internal/adapter/hooktask"
	"github.com/sfnhooks/sfnhooks/internal/adapter/resumehook"
	"github.com/sfnhooks/sfnhooks/internal/awscalls"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack/stacktest"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Sizes of TestStressConcurrentResumes (make stress sets the full size).
const (
	EnvStressHooks   = "SFNHOOKS_STRESS_HOOKS"   // hooks, each awaited by one execution (default 4)
	EnvStressResumes = "SFNHOOKS_STRESS_RESUMES" // resumes planned in all (default 48)
	EnvStressWorkers = "SFNHOOKS_STRESS_WORKERS" // goroutines sending (default 4 per hook, at least 16)
	EnvStressTimeout = "SFNHOOKS_STRESS_TIMEOUT" // how long the executions may take to finish (default 2m)
	EnvStressSeed    = "SFNHOOKS_STRESS_SEED"    // seed of the plan (default: random, logged)
	EnvStressLate    = "SFNHOOKS_STRESS_LATE"    // resumes sent late to the await-timeout hook (default 3)
)

// TestStressConcurrentResumes is reliability test 1 of issue 5: many hooks,
// each awaited in a loop by a running execution of examples/collect.asl.json,
// and resumes sent to them concurrently from many goroutines, through
// hooks.Client.ResumeHook and through the real resume-hook handler (POST
// /hooks/{token}). The delivered payloads are read from the executions'
// outputs (DescribeExecution), so the check goes through Step Functions.
//
// The loop count. A collect execution awaits exactly its input's count
// times, so every hook gets a plan of slots fixed before it starts, and each
// slot ends with exactly one acknowledged payload:
//   - plain: one resume without a key; retried only after ErrContention
//     (HTTP 503), which the protocol guarantees stored nothing;
//   - keyed: one resume with an idempotency key, retried after any error
//     but a refusal with the same key, so it is applied exactly once;
//   - duplicate: 2 or 3 concurrent resumes with the same key and payload;
//     all are acknowledged, the payload must be delivered once;
//   - conflict: two concurrent resumes with the same key and different
//     payloads; the key admits one, the other must get
//     ErrIdempotencyMismatch (422) and never be delivered.
//
// Unknown outcomes. A keyed resume is retried with its key until it is
// answered (stressMaxAttempts, then it counts as given up: a failure). A
// plain resume that fails with an unknown outcome (an AWS error after the
// SDK's retries) cannot be retried without risking a second payload: it is
// counted as "unknown" and may arrive 0 or 1 times. So that a bug which
// drops a payload and answers an error cannot pass as "unknown", the run
// fails when the unknowns exceed stressUnknownBound: 1 + 1 per 500 plain
// resumes. A run without faults has none (no error outlasts the SDK's
// retries on the loopback stack); at the full size moto's garbage
// collection stalls (below) can outlast them now and then, a rate far under
// 0.2%; a loss disguised as errors at any rate that matters exceeds it.
// To keep the loop count right anyway, the waiting phase tops a hook up
// with keyed filler payloads, at most one per unknown of the hook, when its
// execution can make no progress: nothing pending and fewer delivered than
// planned, or no progress for stressStuckAfter (15 s: past RedriveAfter,
// 10 s, so the filler's resume redrives a delivery whose resumer failed
// before sending it). With no unknown there are no fillers: a payload that
// goes missing leaves its execution running, a failure.
//
// Closed tasks. One more hook (EnvStressLate resumes, default 3) is awaited
// by a collect machine whose await has TimeoutSeconds (2 s) and catches
// States.Timeout back to the await. Its resumes go out one at a time, after
// the other hooks' resumes were sent, each once its await has been parked
// for longer than the ledger's cut-off (see
// tokenLedger): the resume takes the waiter, its SendTaskSuccess is
// answered TaskTimedOut, the library settles the task from the execution's
// history (not delivered, the execution runs) and requeues the payload,
// which the await that follows the timeout then takes from the store. The
// run fails if no resume was answered so (the requeue path would have gone
// untested), and every such payload is checked like any other.
//
// Acknowledgement order. The protocol numbers a payload (seq) when its
// resume is acknowledged and hands payloads out by that number; the number
// is not visible to the caller, but it is assigned between the start of the
// payload's first resume and the return of its first successful one. So if
// payload A was acknowledged before payload B's first resume started, A
// must be delivered before B: the test checks this real-time precedence for
// every pair of acknowledged payloads of a hook (overlapping resumes may
// come out in either order).
//
// moto sets the limits (measured on 2 cores, 50 hooks × 10,000 resumes:
// about 6 acknowledged resumes/s and 31 min when first measured; 28/s and
// 10 min on 2026-11-30, docs/performance.md): each payload costs it about
// 180 ms of CPU; its heap grows to GBs (7.7 GB) and
// garbage collection then stalls every request for up to ~36 s, long enough
// for the bridge's 10 s header timeout to cut a Lambda invocation (the
// Map then fails with States.Runtime, which no Retry matches); and a Map
// with MaxConcurrency 1 hangs past about 950 iterations (RecursionError in
// its iteration worker), so keep resumes per hook well below that.
//
// It fails on any duplicate, loss, order violation, delivery of an
// unacknowledged payload, or execution that does not succeed, and logs the
// counts. The default size runs in make test in a few seconds; make stress
// runs 50 hooks and 10,000 resumes (EnvStressHooks, EnvStressResumes).
func TestStressConcurrentResumes(t *testing.T) {
	cfg := stressConfig{
		hooks:   envInt(t, EnvStressHooks, 4),
		resumes: envInt(t, EnvStressResumes, 48),
		timeout: time.Duration(envInt(t, EnvStressTimeout, 120)) * time.Second,
	}
	cfg.workers = envInt(t, EnvStressWorkers, max(16, 4*cfg.hooks))
	cfg.seed = uint64(envInt(t, EnvStressSeed, int(rand.Uint32())))
	cfg.late = envInt(t, EnvStressLate, 3)
	rep := runStress(t, cfg)
	t.Log("\n" + rep.String())
	if msg := rep.failures(); msg != "" {
		t.Errorf("stress: %s", msg)
	}
}

// BenchmarkSustainedResumes measures resumes per second against the local
// stack, with the loss count. One op is a batch of 200 resumes (the mix of
// TestStressConcurrentResumes) to 8 hooks whose executions await them, sent
// from 32 goroutines: a single resume is too short for the benchmark
// framework to time a sustained rate. The timer covers sending only; the
// executions' drain and the checks run after it. Metrics: resumes/s
// (acknowledged resumes per second of sending), delivered/s (end to end,
// until every execution has all its payloads), and lost, dup and order-viol,
// which must be 0.
func BenchmarkSustainedResumes(b *testing.B) {
	const batch = 200
	cfg := stressConfig{hooks: 8, resumes: batch * b.N, workers: 32, timeout: 10 * time.Minute, seed: rand.Uint64(), bench: b}
	rep := runStress(b, cfg)
	b.ReportMetric(float64(rep.acks)/rep.sendTime.Seconds(), "resumes/s")
	b.ReportMetric(float64(rep.delivered)/rep.totalTime.Seconds(), "delivered/s")
	b.ReportMetric(float64(rep.lost), "lost")
	b.ReportMetric(float64(rep.duplicates), "dup")
	b.ReportMetric(float64(rep.orderViolations), "order-viol")
	b.Log("\n" + rep.String())
	if msg := rep.failures(); msg != "" {
		b.Errorf("stress: %s", msg)
	}
}

type stressConfig struct {
	hooks, resumes, workers int
	late                    int // resumes to the await-timeout hook (0: no such hook)
	timeout                 time.Duration
	seed                    uint64
	bench                   *testing.B // stops the timer around everything but sending
}

func envInt(tb testing.TB, name string, def int) int {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

type slotKind int

const (
	slotPlain slotKind = iota
	slotKeyed
	slotDuplicate
	slotConflict
)

// payloadID names one payload: hook, slot, variant (conflict slots have two).
type payloadID struct{ H, S, V int }

func (p payloadID) json() string { return fmt.Sprintf(`{"h":%d,"s":%d,"v":%d}`, p.H, p.S, p.V) }

type stressSlot struct {
	kind  slotKind
	key   string
	sends []*stressSend
}

// stressSend is one resume (and its retries) and how it ended.
type stressSend struct {
	id      payloadID
	key     string
	viaHTTP bool

	start, ack time.Time // ack is zero unless acknowledged
	outcome    string    // ack, rejected, not-found, unknown, gave-up, unexpected
}

type stressHook struct {
	*shard
	token   string
	exec    string
	slots   []*stressSlot
	late    bool // awaited with a timeout; its resumes are sent late, one at a time
	fillers int  // filler payloads sent
	unknown int  // plain slots whose resume ended with an unknown outcome
	out     *sfn.DescribeExecutionOutput
}

// stressStack is a run's part of the stack: the AWS clients, and per hook a
// shard (own table, hook-task function and collect state machine). A table
// per hook because moto's TransactWriteItems deep-copies each table it
// touches (to roll back), under the stack's one DynamoDB lock: in a shared
// table its cost would grow with every hook's items. Hooks never share items
// (each token is its own partition), so this changes nothing the protocol
// sees.
type stressStack struct {
	tb      testing.TB
	cfg     aws.Config
	db      *dynamodb.Client
	sfn     *sfn.Client
	def     string // examples/collect.asl.json
	event   []byte // the testdata POST /hooks/{token} event
	motoPID int    // 0 when unknown
	bridge  *devstack.Bridge
	calls   *awscalls.Counter // every AWS call of the run (resumes and the awaits' handler)
}

// shard is one hook's table, with the real handlers over clients of it:
// one for the hook-task function (awaits), one for the resumes, whose
// task-token calls both go through the shard's ledger.
type shard struct {
	hooks   *hooks.Client // the resumes' client
	resume  lambda.Handler
	machine string
	table   string
	ledger  *tokenLedger
}

func newStressStack(tb testing.TB) *stressStack {
	tb.Helper()
	stk, bridge := stacktest.Bridge(tb)
	cfg := devstack.AWSConfig(stk.BridgeURL().String())
	// A load generator: keep connections to the bridge open for every sender.
	cfg.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 512, 512
	})
	calls := &awscalls.Counter{}
	cfg.APIOptions = append(cfg.APIOptions, awscalls.Middleware(calls))
	s := &stressStack{tb: tb, cfg: cfg, calls: calls, db: dynamodb.NewFromConfig(cfg), sfn: sfn.NewFromConfig(cfg), bridge: bridge}
	def, err := os.ReadFile(filepath.Join("..", "examples", "collect.asl.json"))
	if err != nil {
		tb.Fatal(err)
	}
	s.def = string(def)
	if s.event, err = os.ReadFile(filepath.Join("testdata", "apigw-v2-post-hook.json")); err != nil {
		tb.Fatal(err)
	}
	_, port, _ := strings.Cut(stk.MotoURL.Host, ":")
	if b, err := os.ReadFile(filepath.Join("..", ".state", "stack-"+port, "moto.pid")); err == nil {
		s.motoPID, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	return s
}

// shard creates a table, clients of it, the hook-task function on the
// bridge and a collect state machine calling it. With timeout > 0 the
// machine's await has TimeoutSeconds, and its States.Timeout loops back to
// the await (stressTimeoutDefinition).
func (s *stressStack) shard(timeout time.Duration) *shard {
	tb := s.tb
	tb.Helper()
	ctx := context.Background()
	suffix := randomSuffix()
	table, fn := "sfnhooks-stress-"+suffix, "hook-task-stress-"+suffix
	if _, err := s.db.CreateTable(ctx, hooks.TableDefinition(table)); err != nil {
		tb.Fatalf("create table: %v", err)
	}
	tb.Cleanup(func() { _, _ = s.db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &table}) })
	ledger := newTokenLedger(timeout, stressTimeoutMargin)
	newClient := func(who string) *hooks.Client {
		client, err := hooks.New(s.cfg, func(o *hooks.Options) {
			o.TableName = table
			o.StepFunctions = ledgerTasks{StepFunctionsAPI: sfn.NewFromConfig(s.cfg), l: ledger, who: who}
		})
		if err != nil {
			tb.Fatal(err)
		}
		return client
	}
	awaits, resumes := newClient("await"), newClient("resume")
	log := slog.New(slog.NewJSONHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelError}))
	task := hooktask.New(awaits, log)
	// As stacktest.Function, without pinging moto once per shard; the
	// ledger learns when each await's task token was handed out.
	if err := s.bridge.Handle(fn, devstack.NewHandler(func(ctx context.Context, raw json.RawMessage) (*hooktask.Result, error) {
		var req hooktask.Request
		_ = json.Unmarshal(raw, &req)
		if req.Action == "await" && req.TaskToken != "" {
			ledger.invoked(req.TaskToken)
		}
		if req.Action == "await" && req.TaskToken != "" {
			defer ledger.returned(req.TaskToken)
		}
		res, err := task.Handle(ctx, raw)
		if err != nil && req.Action == "await" && req.TaskToken != "" {
			ledger.invocationFailed(req.TaskToken)
		}
		return res, err
	})); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.bridge.Remove(fn) })
	fnARN := "arn:aws:lambda:" + devstack.DefaultRegion + ":" + account + ":function:" + fn
	def := s.def
	if timeout > 0 {
		def = stressTimeoutDefinition(tb, def, timeout)
	}
	return &shard{
		hooks:   resumes,
		resume:  devstack.NewHandler(resumehook.New(resumes, log).Handle),
		machine: stacktest.CreateStateMachine(tb, s.sfn, bindExample(def, "${HookTaskFunctionArn}", fnARN)),
		table:   table,
		ledger:  ledger,
	}
}

// stressTimeoutDefinition is examples/collect.asl.json with its await's
// timeout (${AwaitTimeoutSeconds}) set to timeout, and a States.Timeout
// caught on the await that loops back to it:
// a timed-out await does not use up a round.
func stressTimeoutDefinition(tb testing.TB, def string, timeout time.Duration) string {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(def), &m); err != nil {
		tb.Fatal(err)
	}
	states := m["States"].(map[string]any)["Loop"].(map[string]any)["ItemProcessor"].(map[string]any)["States"].(map[string]any)
	await := states["AwaitNext"].(map[string]any)
	// Through a Pass state: moto ends the iteration with the Catch's output
	// when a Catch's Next is the failing state itself.
	await["Catch"] = []any{map[string]any{"ErrorEquals": []string{"States.Timeout"}, "ResultPath": nil, "Next": "TimedOut"}}
	states["TimedOut"] = map[string]any{"Type": "Pass", "Next": "AwaitNext"}
	out, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	// The await's TimeoutSecondsPath reads the example's timeout setting.
	return strings.ReplaceAll(string(out), "${AwaitTimeoutSeconds}", strconv.Itoa(int(timeout/time.Second)))
}

// stressTimeoutMargin: the shard's tokenLedger (ledger_test.go) closes a
// token this long before its TimeoutSeconds pass since its await was
// invoked. The ledger counts the closed answers: they are the
// settle/requeue paths of docs/protocol.md ("Delivery").
const stressTimeoutMargin = 750 * time.Millisecond

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// stressRun is one run: the plan, then the outcome of every resume.
type stressRun struct {
	cfg   stressConfig
	s     *stressStack
	run   string
	hooks []*stressHook

	calls  atomic.Int64 // ResumeHook calls and handler invocations, retries included
	acked  atomic.Int64 // resumes acknowledged so far
	mu     sync.Mutex
	errors map[string]int // by kind, over all attempts
	sample map[string]string
}

// plan splits cfg.resumes resumes over the hooks into slots (see
// TestStressConcurrentResumes), a quarter of them through the HTTP handler.
func (r *stressRun) plan(rng *rand.Rand) {
	nh := min(r.cfg.hooks, r.cfg.resumes)
	for h := range nh {
		hk := &stressHook{token: fmt.Sprintf("stress-%s-%d", r.run, h)}
		budget := r.cfg.resumes / nh
		if h < r.cfg.resumes%nh {
			budget++
		}
		for budget > 0 {
			sl := &stressSlot{kind: slotPlain}
			id := len(hk.slots)
			n, variants := 1, 1
			switch p := rng.IntN(100); {
			case p < 50:
			case p < 75 || budget == 1:
				sl.kind = slotKeyed
			case p < 90:
				sl.kind, n = slotDuplicate, min(budget, 2+rng.IntN(2))
			default:
				sl.kind, n, variants = slotConflict, 2, 2
			}
			if sl.kind != slotPlain {
				sl.key = fmt.Sprintf("key-%s-%d-%d", r.run, h, id)
			}
			for i := range n {
				sl.sends = append(sl.sends, &stressSend{
					id: payloadID{H: h, S: id, V: i % variants}, key: sl.key, viaHTTP: rng.IntN(4) == 0,
				})
			}
			budget -= n
			hk.slots = append(hk.slots, sl)
		}
		r.hooks = append(r.hooks, hk)
	}
	if r.cfg.late > 0 {
		h := len(r.hooks)
		hk := &stressHook{token: fmt.Sprintf("stress-%s-%d-late", r.run, h), late: true}
		for id := range r.cfg.late {
			sl := &stressSlot{kind: slotPlain}
			if id%2 == 1 {
				sl.kind, sl.key = slotKeyed, fmt.Sprintf("key-%s-%d-%d", r.run, h, id)
			}
			sl.sends = []*stressSend{{id: payloadID{H: h, S: id}, key: sl.key, viaHTTP: id%3 == 2}}
			hk.slots = append(hk.slots, sl)
		}
		r.hooks = append(r.hooks, hk)
	}
}

// stressAwaitTimeout is the late hook's TimeoutSeconds.
const stressAwaitTimeout = 2 * time.Second

// sendLate sends the late hook's resumes one at a time, each after its
// await has been parked past the ledger's cut-off but before moto times it
// out (stressAwaitTimeout): see TestStressConcurrentResumes.
func (r *stressRun) sendLate(tb testing.TB, hk *stressHook) {
	ctx := context.Background()
	for _, sl := range hk.slots {
		var waiter string
		for deadline := time.Now().Add(30 * time.Second); waiter == ""; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				tb.Errorf("late hook: no await parked within 30 s")
				return
			}
			st, err := hk.hooks.GetHook(ctx, hk.token)
			if err != nil || !st.Waiting || st.Pending > 0 {
				continue
			}
			out, err := r.s.db.GetItem(ctx, &dynamodb.GetItemInput{
				TableName:      &hk.table,
				Key:            map[string]dbtypes.AttributeValue{"pk": &dbtypes.AttributeValueMemberS{Value: "HOOK#" + hk.token}, "sk": &dbtypes.AttributeValueMemberS{Value: "HOOK"}},
				ConsistentRead: aws.Bool(true),
			})
			if err != nil {
				continue
			}
			if v, ok := out.Item["waiter"].(*dbtypes.AttributeValueMemberS); ok {
				if _, inflight := out.Item["inflight"]; !inflight {
					waiter = v.Value
				}
			}
		}
		if at, ok := hk.ledger.invokedAt(waiter); ok {
			time.Sleep(time.Until(at.Add(hk.ledger.closes() + 100*time.Millisecond)))
		}
		for _, sd := range sl.sends {
			r.send(hk, sd)
		}
	}
}

func (r *stressRun) countError(kind, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors[kind]++
	if _, ok := r.sample[kind]; !ok {
		r.sample[kind] = msg
	}
}

// attempt sends one resume and classifies the answer: ok, contention,
// mismatch, not-found, unknown (outcome unknown) or unexpected.
func (r *stressRun) attempt(hk *stressHook, sd *stressSend) (kind, msg string) {
	r.calls.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	payload := sd.id.json()
	if !sd.viaHTTP {
		var opts []hooks.ResumeOption
		if sd.key != "" {
			opts = append(opts, hooks.WithIdempotencyKey(sd.key))
		}
		_, err := hk.hooks.ResumeHook(ctx, hk.token, json.RawMessage(payload), opts...)
		switch {
		case err == nil:
			return "ok", ""
		case errors.Is(err, hooks.ErrContention):
			return "contention", err.Error()
		case errors.Is(err, hooks.ErrIdempotencyMismatch):
			return "mismatch", err.Error()
		case errors.Is(err, hooks.ErrHookNotFound):
			return "not-found", err.Error()
		default:
			return "unknown", err.Error()
		}
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(r.s.event, &ev); err != nil {
		return "unexpected", err.Error()
	}
	path := "/hooks/" + hk.token
	ev.RawPath, ev.RequestContext.HTTP.Path = path, path
	ev.PathParameters = map[string]string{"token": hk.token}
	ev.Body = payload
	ev.Headers["content-length"] = strconv.Itoa(len(payload))
	if sd.key != "" {
		ev.Headers["idempotency-key"] = sd.key
	}
	in, _ := json.Marshal(ev)
	out, err := hk.resume.Invoke(ctx, in)
	if err != nil {
		return "unknown", "handler: " + err.Error()
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return "unexpected", err.Error()
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return "ok", ""
	case http.StatusServiceUnavailable:
		return "contention", resp.Body
	case http.StatusUnprocessableEntity:
		return "mismatch", resp.Body
	case http.StatusNotFound:
		return "not-found", resp.Body
	case http.StatusInternalServerError:
		return "unknown", resp.Body
	default:
		return "unexpected", fmt.Sprintf("%d %s", resp.StatusCode, resp.Body)
	}
}

const stressMaxAttempts = 50

// send runs one resume to its end: retried after contention (nothing was
// stored), and, with a key, after an unknown outcome (the key keeps it
// exactly-once).
func (r *stressRun) send(hk *stressHook, sd *stressSend) {
	sd.start = time.Now()
	for i := 1; ; i++ {
		kind, msg := r.attempt(hk, sd)
		if kind == "ok" {
			sd.ack, sd.outcome = time.Now(), "ack"
			r.acked.Add(1)
			return
		}
		r.countError(kind, msg)
		retry := kind == "contention" || (kind == "unknown" && sd.key != "")
		switch {
		case kind == "mismatch":
			sd.outcome = "rejected"
			return
		case !retry:
			sd.outcome = kind
			return
		case i == stressMaxAttempts:
			sd.outcome = "gave-up" // contention every time (nothing stored), or a key never answered
			return
		}
		time.Sleep(time.Duration(1+rand.IntN(10*min(i, 10))) * time.Millisecond)
	}
}

// stressReport holds the counts of one run.
type stressReport struct {
	hooks, slots, planned         int
	calls                         int64
	acks                          int // resumes that returned success (duplicate sends included)
	ackedPayloads                 int
	rejected, unknown, gaveUp     int // resumes that ended so
	notFound, unexpected          int
	errors                        map[string]int
	errorSample                   map[string]string
	delivered                     int // acknowledged payloads delivered (once each)
	duplicates, lost              int
	orderViolations               int // pairs
	unackedDelivered              int // rejected or never-acknowledged payloads delivered
	unknownDelivered              int
	plainResumes, unknownBound    int
	late                          int            // resumes planned to the await-timeout hook
	closed                        map[string]int // closed-task answers, "<cause> <caller>" (tokenLedger)
	fillers, fillersDelivered     int
	bothVariants                  int // conflict slots with both payloads acknowledged
	unverified                    int // acknowledged payloads of executions that did not succeed
	misrouted, garbled            int
	failedExecutions              []string
	awsCalls                      string // during sending, by operation
	sendTime, totalTime           time.Duration
	motoRSSPeak, motoThreadsPeak  int64 // kB, threads
	motoCPU, selfCPU              time.Duration
	motoRSSStart, motoThreadStart int64
}

func (rep *stressReport) failures() string {
	var f []string
	add := func(n int, what string) {
		if n > 0 {
			f = append(f, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(rep.duplicates, "duplicate deliveries")
	add(rep.lost, "acknowledged payloads lost")
	add(rep.orderViolations, "order violations")
	add(rep.unackedDelivered, "unacknowledged payloads delivered")
	add(rep.bothVariants, "keys that admitted two payloads")
	add(rep.misrouted, "payloads delivered to another hook")
	add(rep.garbled, "undecodable deliveries")
	add(rep.notFound, "resumes answered not found")
	add(rep.unexpected, "unexpected answers")
	add(rep.gaveUp, "resumes given up after retries")
	if rep.unknown > rep.unknownBound {
		f = append(f, fmt.Sprintf("%d plain resumes with an unknown outcome (%d undelivered), more than the bound %d (stressUnknownBound)", rep.unknown, rep.unknown-rep.unknownDelivered, rep.unknownBound))
	}
	if rep.late > 0 && rep.closed["timed-out resume"] == 0 {
		f = append(f, fmt.Sprintf("no resume was answered TaskTimedOut by a timed-out await (closed answers %v): the requeue path went untested", rep.closed))
	}
	add(len(rep.failedExecutions), "executions that did not succeed: "+strings.Join(rep.failedExecutions, "; "))
	return strings.Join(f, ", ")
}

func (rep *stressReport) String() string {
	var b strings.Builder
	kinds := make([]string, 0, len(rep.errors))
	for k := range rep.errors {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var errs []string
	for _, k := range kinds {
		errs = append(errs, fmt.Sprintf("%s=%d", k, rep.errors[k]))
	}
	fmt.Fprintf(&b, "hooks %d, slots (payloads awaited) %d, resumes planned %d, calls (with retries) %d\n", rep.hooks, rep.slots, rep.planned, rep.calls)
	fmt.Fprintf(&b, "acknowledged: %d resumes, %d distinct payloads; rejected (key mismatch) %d; unknown outcome %d; not found %d; unexpected %d; gave up %d\n",
		rep.acks, rep.ackedPayloads, rep.rejected, rep.unknown, rep.notFound, rep.unexpected, rep.gaveUp)
	fmt.Fprintf(&b, "errors by kind (all attempts): %s\n", strings.Join(errs, " "))
	fmt.Fprintf(&b, "AWS calls while sending (resumes and the executions' awaits): %s\n", rep.awsCalls)
	for _, k := range kinds {
		fmt.Fprintf(&b, "  e.g. %s: %.200s\n", k, rep.errorSample[k])
	}
	fmt.Fprintf(&b, "delivered %d of %d acknowledged (%d not checked: their execution failed); duplicates %d; lost %d; order violations (pairs) %d; unacknowledged delivered %d; unknown-outcome delivered %d of %d; fillers %d (delivered %d)\n",
		rep.delivered, rep.ackedPayloads, rep.unverified, rep.duplicates, rep.lost, rep.orderViolations, rep.unackedDelivered, rep.unknownDelivered, rep.unknown, rep.fillers, rep.fillersDelivered)
	fmt.Fprintf(&b, "unknown outcomes %d, bound %d (1 + 1 per 500 of %d plain resumes); late resumes %d; closed-task answers (cause caller): %v\n",
		rep.unknown, rep.unknownBound, rep.plainResumes, rep.late, rep.closed)
	fmt.Fprintf(&b, "wall time: sending %v (%.0f acknowledged resumes/s, %.0f calls/s), until all executions ended %v (%.0f delivered/s)\n",
		rep.sendTime.Round(time.Millisecond), float64(rep.acks)/rep.sendTime.Seconds(), float64(rep.calls)/rep.sendTime.Seconds(),
		rep.totalTime.Round(time.Millisecond), float64(rep.delivered)/rep.totalTime.Seconds())
	if rep.motoRSSPeak > 0 {
		fmt.Fprintf(&b, "moto: RSS %d → peak %d MB, threads %d → peak %d, CPU %v; this process CPU %v",
			rep.motoRSSStart/1024, rep.motoRSSPeak/1024, rep.motoThreadStart, rep.motoThreadsPeak, rep.motoCPU.Round(time.Millisecond), rep.selfCPU.Round(time.Millisecond))
	}
	return b.String()
}

// procSample reads VmRSS (kB) and Threads of pid, and its CPU time.
func procSample(pid int) (rssKB, threads int64, cpu time.Duration, ok bool) {
	if pid <= 0 {
		return 0, 0, 0, false
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, 0, false
	}
	for line := range strings.SplitSeq(string(st), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		switch k {
		case "VmRSS":
			rssKB, _ = strconv.ParseInt(f[0], 10, 64)
		case "Threads":
			threads, _ = strconv.ParseInt(f[0], 10, 64)
		}
	}
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Fields after the command (which may hold spaces): utime is the 14th, stime the 15th.
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 {
			f := strings.Fields(string(stat)[i+1:])
			if len(f) > 12 {
				ut, _ := strconv.ParseInt(f[11], 10, 64)
				stt, _ := strconv.ParseInt(f[12], 10, 64)
				cpu = time.Duration(ut+stt) * time.Second / 100 // USER_HZ
			}
		}
	}
	return rssKB, threads, cpu, true
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runStress plans, starts the executions, sends every resume, waits for the
// executions, and checks their outputs against what was acknowledged.
func runStress(tb testing.TB, cfg stressConfig) *stressReport {
	tb.Helper()
	if cfg.bench != nil {
		cfg.bench.StopTimer()
	}
	s := newStressStack(tb)
	r := &stressRun{cfg: cfg, s: s, run: randomSuffix(), errors: map[string]int{}, sample: map[string]string{}}
	rng := rand.New(rand.NewPCG(cfg.seed, 5))
	r.plan(rng)
	tb.Logf("stress: %d hooks, %d resumes, %d goroutines, seed %d", len(r.hooks), cfg.resumes, cfg.workers, cfg.seed)
	rep := &stressReport{hooks: len(r.hooks), planned: cfg.resumes + cfg.late, late: cfg.late, errors: r.errors, errorSample: r.sample, closed: map[string]int{}}

	var moto struct {
		sync.Mutex
		rss, threads int64
	}
	rss0, th0, cpu0, sampling := procSample(s.motoPID)
	rep.motoRSSStart, rep.motoThreadStart = rss0, th0
	self0 := selfCPU()
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for t := time.NewTicker(500 * time.Millisecond); ; {
			if rss, th, _, ok := procSample(s.motoPID); ok {
				moto.Lock()
				moto.rss, moto.threads = max(moto.rss, rss), max(moto.threads, th)
				moto.Unlock()
			}
			select {
			case <-stopSampling:
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()

	// Start one execution per hook; resumes may go out once its hook exists.
	ctx := context.Background()
	for _, hk := range r.hooks {
		in, _ := json.Marshal(map[string]any{"token": hk.token, "count": len(hk.slots), "pauseSeconds": 0})
		var timeout time.Duration
		if hk.late {
			timeout = stressAwaitTimeout
		}
		hk.shard = s.shard(timeout)
		hk.exec = stacktest.StartExecution(tb, s.sfn, hk.machine, string(in))
		rep.slots += len(hk.slots)
	}
	for _, hk := range r.hooks {
		deadline := time.Now().Add(60 * time.Second)
		for {
			if _, err := hk.hooks.GetHook(ctx, hk.token); err == nil {
				break
			} else if time.Now().After(deadline) {
				tb.Fatalf("hook %s not created within 60 s: %v", hk.token, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// Send: workers take slots in random order across hooks; the resumes of
	// one slot (duplicates, conflicting payloads) go out at the same time.
	type job struct {
		hk *stressHook
		sl *stressSlot
	}
	var jobs []job
	var late []*stressHook
	for _, hk := range r.hooks {
		if hk.late {
			late = append(late, hk)
			continue
		}
		for _, sl := range hk.slots {
			jobs = append(jobs, job{hk, sl})
		}
	}
	rng.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	queue := make(chan job)
	var wg sync.WaitGroup
	s.calls.Reset()
	started := time.Now()
	if cfg.bench != nil {
		cfg.bench.StartTimer()
	}
	// The late hook's resumes go out once the others are sent: each must
	// reach its await between the ledger's cut-off and moto's timeout (2 s),
	// and moto saturated by the full-size run (make stress) may not even
	// park that await within sendLate's 30 s.
	var workers sync.WaitGroup
	mainSent := make(chan struct{})
	for _, hk := range late {
		wg.Go(func() {
			<-mainSent
			r.sendLate(tb, hk)
		})
	}
	for range cfg.workers {
		workers.Go(func() {
			for j := range queue {
				var inner sync.WaitGroup
				for _, sd := range j.sl.sends {
					inner.Go(func() { r.send(j.hk, sd) })
				}
				inner.Wait()
			}
		})
	}
	wg.Go(func() {
		workers.Wait()
		close(mainSent)
	})
	sent := make(chan struct{})
	go func() {
		for t := time.NewTicker(time.Minute); ; {
			select {
			case <-sent:
				t.Stop()
				return
			case <-t.C:
				tb.Logf("stress: %v: %d resumes acknowledged, %d calls", time.Since(started).Round(time.Second), r.acked.Load(), r.calls.Load())
			}
		}
	}()
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
	close(sent)
	rep.sendTime = time.Since(started)
	if cfg.bench != nil {
		cfg.bench.StopTimer()
	}
	rep.calls = r.calls.Load()
	rep.awsCalls = s.calls.String()
	for _, hk := range r.hooks {
		for _, sl := range hk.slots {
			acked, unknown := false, false
			for _, sd := range sl.sends {
				acked = acked || sd.outcome == "ack"
				unknown = unknown || sd.outcome == "unknown"
			}
			if unknown && !acked {
				hk.unknown++ // the slot may end with no payload: fillers make up for it
			}
		}
	}

	r.wait(tb)
	rep.totalTime = time.Since(started)
	close(stopSampling)
	<-sampled
	if _, _, cpu1, ok := procSample(s.motoPID); ok && sampling {
		rep.motoCPU = cpu1 - cpu0
		rep.motoRSSPeak, rep.motoThreadsPeak = moto.rss, moto.threads
	}
	rep.selfCPU = selfCPU() - self0
	for _, hk := range r.hooks {
		for k, v := range hk.ledger.counts() {
			rep.closed[k] += v
		}
	}
	r.check(tb, rep)
	rep.unknownBound = stressUnknownBound(rep.plainResumes)
	return rep
}

// stressStuckAfter is how long a hook with unknown outcomes may make no
// progress before it gets a filler: past RedriveAfter (10 s), so that the
// filler's resume redrives a delivery whose resumer failed before sending.
const stressStuckAfter = 15 * time.Second

// wait polls the hooks until each execution has ended, topping a hook up
// with filler payloads when its execution cannot make progress (see
// TestStressConcurrentResumes). Polls are spread out (GetHook per hook per
// round, DescribeExecution only when the hook is done or every fifth round):
// moto spends several milliseconds of its one busy core on each call.
func (r *stressRun) wait(tb testing.TB) {
	tb.Helper()
	ctx := context.Background()
	interval := max(250*time.Millisecond, time.Duration(len(r.hooks))*60*time.Millisecond)
	type progress struct {
		delivered int64
		since     time.Time
	}
	last := make([]progress, len(r.hooks))
	deadline := time.Now().Add(r.cfg.timeout)
	for round := 0; ; round++ {
		running := 0
		for i, hk := range r.hooks {
			if hk.out != nil {
				continue
			}
			describe := round%5 == 4
			st, err := hk.hooks.GetHook(ctx, hk.token)
			switch {
			case errors.Is(err, hooks.ErrHookNotFound):
				describe = true // disposed: the execution is ending
			case err != nil:
				tb.Logf("get hook %d: %v", i, err)
			default:
				planned := int64(len(hk.slots))
				// What the execution received, from the ledger: the hook's
				// own count (st.Delivered, dlv) also counts the records of
				// resumes whose task timed out before their send and which
				// the next await dropped (the late hook's resumes chase
				// waiters that way when moto is slow), so it can pass
				// planned while the execution still waits.
				got := hk.ledger.deliveredCount()
				if got != last[i].delivered || last[i].since.IsZero() {
					last[i] = progress{got, time.Now()}
				}
				describe = describe || (got >= planned && st.Pending == 0)
				short := st.Pending == 0 && got < planned
				stuck := got < planned && time.Since(last[i].since) > stressStuckAfter
				if (short || stuck) && hk.fillers < hk.unknown {
					key := fmt.Sprintf("filler-%s-%d-%d", r.run, i, hk.fillers)
					p := fmt.Sprintf(`{"h":%d,"filler":%d}`, i, hk.fillers)
					if _, err := hk.hooks.ResumeHook(ctx, hk.token, json.RawMessage(p), hooks.WithIdempotencyKey(key)); err == nil {
						tb.Logf("hook %d: sent filler %d (delivered %d of %d, pending %d, waiting %v)", i, hk.fillers, got, planned, st.Pending, st.Waiting)
						hk.fillers++
						last[i].since = time.Now()
					}
				}
			}
			if describe {
				out, err := r.s.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &hk.exec})
				if err != nil {
					tb.Logf("describe execution %s: %v", hk.exec, err)
				} else if out.Status != "RUNNING" {
					hk.out = out
					continue
				}
			}
			running++
		}
		if running == 0 {
			return
		}
		if time.Now().After(deadline) {
			for i, hk := range r.hooks {
				if hk.out == nil {
					st, err := hk.hooks.GetHook(ctx, hk.token)
					tb.Logf("hook %d still running after %v: %+v %v", i, r.cfg.timeout, st, err)
				}
			}
			tb.Logf("%d of %d executions still running after %v", running, len(r.hooks), r.cfg.timeout)
			return
		}
		time.Sleep(interval)
	}
}

// stressUnknownBound is how many plain resumes of a run may end with an
// unknown outcome: 1 + 1 per 500 (see TestStressConcurrentResumes).
func stressUnknownBound(plain int) int { return 1 + plain/500 }

type deliveredPayload struct {
	H      *int `json:"h"`
	S      *int `json:"s"`
	V      *int `json:"v"`
	Filler *int `json:"filler"`
}

// check compares each execution's received payloads with the resumes'
// outcomes.
func (r *stressRun) check(tb testing.TB, rep *stressReport) {
	tb.Helper()
	type info struct {
		start, ack time.Time
		acked      bool
		rejected   bool
		unknown    bool
		delivered  int
	}
	for h, hk := range r.hooks {
		payloads := map[payloadID]*info{}
		for _, sl := range hk.slots {
			acked := map[int]bool{}
			for _, sd := range sl.sends {
				if sd.key == "" {
					rep.plainResumes++
				}
				p := payloads[sd.id]
				if p == nil {
					p = &info{start: sd.start}
					payloads[sd.id] = p
				}
				if sd.start.Before(p.start) {
					p.start = sd.start
				}
				switch sd.outcome {
				case "ack":
					rep.acks++
					if !p.acked || sd.ack.Before(p.ack) {
						p.ack = sd.ack
					}
					p.acked = true
					acked[sd.id.V] = true
				case "rejected":
					rep.rejected++
					p.rejected = true
				case "unknown":
					rep.unknown++
					p.unknown = true
				case "gave-up":
					rep.gaveUp++
				case "not-found":
					rep.notFound++
				default:
					rep.unexpected++
				}
			}
			if len(acked) > 1 {
				rep.bothVariants++
			}
		}
		for _, p := range payloads {
			if p.acked {
				rep.ackedPayloads++
			}
		}
		rep.fillers += hk.fillers

		if hk.out == nil || hk.out.Status != "SUCCEEDED" {
			status := "still RUNNING"
			if hk.out != nil {
				status = fmt.Sprintf("%s %s %s", hk.out.Status, aws.ToString(hk.out.Error), aws.ToString(hk.out.Cause))
			}
			rep.failedExecutions = append(rep.failedExecutions, fmt.Sprintf("hook %d: %s", h, status))
			for _, p := range payloads {
				if p.acked {
					rep.unverified++
				}
			}
			continue
		}
		var out collectOutput
		if err := json.Unmarshal([]byte(aws.ToString(hk.out.Output)), &out); err != nil {
			rep.failedExecutions = append(rep.failedExecutions, fmt.Sprintf("hook %d: output %.200q: %v", h, aws.ToString(hk.out.Output), err))
			continue
		}
		var order []*info // acknowledged payloads in delivery order
		for _, raw := range out.Received {
			var d deliveredPayload
			if err := json.Unmarshal(raw, &d); err != nil || d.H == nil {
				rep.garbled++
				continue
			}
			if *d.H != h {
				rep.misrouted++
				continue
			}
			if d.Filler != nil {
				rep.fillersDelivered++
				continue
			}
			if d.S == nil || d.V == nil {
				rep.garbled++
				continue
			}
			p := payloads[payloadID{H: h, S: *d.S, V: *d.V}]
			switch {
			case p == nil:
				rep.garbled++
			case p.acked:
				p.delivered++
				if p.delivered > 1 {
					rep.duplicates++
					continue
				}
				rep.delivered++
				order = append(order, p)
			case p.unknown && !p.rejected:
				p.delivered++
				if p.delivered > 1 {
					rep.duplicates++
				} else {
					rep.unknownDelivered++
				}
			default:
				rep.unackedDelivered++
			}
		}
		for _, p := range payloads {
			if p.acked && p.delivered == 0 {
				rep.lost++
			}
		}
		// Real-time precedence: a payload acknowledged before another's
		// first resume started must be delivered before it.
		for i, a := range order {
			for _, b := range order[i+1:] {
				if b.ack.Before(a.start) {
					rep.orderViolations++
				}
			}
		}
	}
	slices.Sort(rep.failedExecutions)
}
