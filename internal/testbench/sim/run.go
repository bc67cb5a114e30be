package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnhooks/sfnhooks/internal/testbench/awsmodel"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Config sets one run.
type Config struct {
	Seed uint64
	// Plan is what the run does; nil draws it from Seed.
	Plan *Plan
	// Quiet is how long the run goes on without faults or new actions after
	// the last one, so that what can recover does (default 3 min), and
	// Probe how long the final probes get (default 2 min).
	Quiet, Probe time.Duration
}

// Result is what a run saw.
type Result struct {
	Seed     uint64
	Plan     *Plan
	Findings []Finding
	Steps    int
	Trace    []string
	Batches  BatchStats
}

// rejectError is the error name the simulated rejections use.
const rejectError = "Rejected"

// Lambda's timeout for one invocation of hook-task or a resumer.
const lambdaTimeout = 60 * time.Second

type execState struct {
	i    int
	plan ExecPlan
	arn  string
	tokN int

	finishing bool          // the workflow disposes its hook: no new await
	live      int           // branches still running
	events    int           // end events EventBridge has yet to hand to hook-task
	wakeup    chan struct{} // closed when the execution is redriven
}

func (e *execState) newToken() string {
	e.tokN++
	return fmt.Sprintf("tt-%s-%d", e.plan.Name, e.tokN)
}

// Run runs one simulation. It must be called inside a synctest bubble
// (synctest.Test): the clock is the bubble's.
func Run(cfg Config) *Result {
	if cfg.Plan == nil {
		cfg.Plan = Generate(cfg.Seed)
	}
	if cfg.Quiet == 0 {
		cfg.Quiet = 3 * time.Minute
	}
	if cfg.Probe == 0 {
		cfg.Probe = 2 * time.Minute
	}
	w := &world{
		cfg:    cfg,
		plan:   cfg.Plan,
		db:     awsmodel.NewDynamoDB(awsmodel.Config{Latency: -1, PartitionWCU: -1, PartitionRCU: -1}),
		sf:     awsmodel.NewStepFunctions(-1),
		wake:   make(chan struct{}, 1),
		faults: map[string]map[int]Fault{},
		start:  time.Now(),
	}
	w.sf.Strict = true
	w.ctx, w.cancel = context.WithCancel(context.Background())
	w.aud = newAuditor(w)
	for _, f := range cfg.Plan.Faults {
		if w.faults[f.Actor] == nil {
			w.faults[f.Actor] = map[int]Fault{}
		}
		w.faults[f.Actor][f.Call] = f.Fault
	}
	last := time.Duration(0)
	for _, a := range cfg.Plan.Actions {
		last = max(last, a.At+a.D)
	}
	last += 10 * time.Second
	w.faultEnd = w.start.Add(last)

	for i, ep := range cfg.Plan.Execs {
		e := &execState{i: i, plan: ep, arn: "arn:aws:states:us-east-1:123456789012:execution:sim:" + ep.Name, wakeup: make(chan struct{}), live: ep.Branches}
		w.sf.Start(e.arn)
		w.execs = append(w.execs, e)
		for b := range ep.Branches {
			go w.branch(e, b)
		}
	}
	go w.ttlSweeper()
	for _, a := range cfg.Plan.Actions {
		go func() {
			if !sleepCtx(w.ctx, a.At) {
				return
			}
			w.action(a.ID, a)
		}()
	}
	w.schedule(w.faultEnd.Add(cfg.Quiet))

	// Probes: the branches stop awaiting once GET /hooks says nothing is
	// pending; each task still open gets one probe resume, in rounds (a
	// branch may await once more after a round, for a payload a hand-out
	// had not committed yet), so every task still open afterwards waits
	// for nothing that will come.
	w.probing.Store(true)
	probed := map[*awsmodel.Task]bool{}
	n := 0
	for range 6 {
		fresh := 0
		for _, e := range w.execs {
			for _, t := range w.aud.openTasks(e) {
				if probed[t] {
					continue
				}
				probed[t] = true
				fresh++
				n++
				go w.probe(e, n)
			}
		}
		if fresh == 0 {
			break
		}
		w.schedule(time.Now().Add(cfg.Probe / 4))
	}
	w.aud.final()
	res := &Result{Seed: cfg.Seed, Plan: cfg.Plan, Findings: w.aud.findings, Steps: w.steps, Trace: w.trace, Batches: w.aud.batches}
	w.stop()
	return res
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// running reports the execution's status in the model (called inside env).
func (w *world) running(arn string) bool {
	out, err := w.sf.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	return err == nil && out.Status == sfntypes.ExecutionStatusRunning
}

// branch is one branch of an execution's state machine: await the hook, in
// a loop; a timeout is caught and awaited again; a failed await invocation
// is retried (Lambda.*), with the same or a new task token.
func (w *world) branch(e *execState, b int) {
	d := w.newActor(fmt.Sprintf("%s.b%d", e.plan.Name, b))
	defer func() {
		ended := false
		w.env(d, "branch ends", func() {
			e.live--
			if e.live == 0 && w.running(e.arn) {
				w.sf.Succeed(e.arn, "{}")
				ended = true
				e.events++
			}
		})
		if ended {
			// The execution ended by itself: its hook's payloads go with it,
			// and the EventBridge rule disposes the hook. During the probes
			// a branch ends only once GET /hooks says nothing is pending, so
			// an end then excuses nothing.
			if !w.probing.Load() {
				w.aud.excuse(e, "succeeded")
			}
			w.eventBridge(e, 900+b)
			w.env(d, "end event handled", func() { e.events-- })
		}
	}()
	timeouts := 0
	single := false // a batch item too large was caught: await once without maxBatch
	for round := 0; ; round++ {
		if timeouts > 0 {
			// After a caught timeout the state machine escalates, waits, then
			// awaits again: longer after each timeout in a row.
			if !sleepCtx(w.ctx, min(time.Second<<min(timeouts, 12), time.Hour)) {
				return
			}
		}
		for {
			var running, finishing bool
			var wake chan struct{}
			if !w.env(d, "look", func() { running, finishing, wake = w.running(e.arn), e.finishing, e.wakeup }) {
				return
			}
			if finishing {
				return
			}
			if running {
				break
			}
			select {
			case <-wake:
			case <-w.ctx.Done():
				return
			}
		}
		if w.probing.Load() && round > 0 && !w.stillPending(e, b, round) {
			return // the probes are on: no new await unless payloads wait for one
		}
		if e.plan.Webhook && !w.createWebhook(e, b, round) {
			return
		}
		if e.plan.Create && !e.plan.Webhook && !w.createHook(e, b, round) {
			return
		}
		maxBatch := e.plan.MaxBatch
		if single {
			maxBatch, single = 0, false
		}
		var tok string
		var task *awsmodel.Task
		if !w.env(d, "TaskScheduled", func() { tok = e.newToken(); task = w.sf.NewTask(tok, e.arn); w.aud.task(e, task) }) {
			return
		}
		// The invocation runs beside the task: Step Functions moves on when
		// the task closes (a resume may complete it while the await's own
		// Lambda is still sending a resend), and only a failed invocation of
		// a task still open is retried.
		type invoked struct{ ok, invalid bool }
		start := func(try int, tok string) chan invoked {
			ch := make(chan invoked, 1)
			go func() {
				ok, invalid := w.invokeAwait(e, b, round, try, tok, maxBatch)
				ch <- invoked{ok, invalid}
			}()
			return ch
		}
		newTimeout := func() (<-chan time.Time, func()) {
			if e.plan.TimeoutSec <= 0 || w.probing.Load() {
				return nil, func() {}
			}
			t := time.NewTimer(time.Duration(e.plan.TimeoutSec) * time.Second)
			return t.C, func() { t.Stop() }
		}
		try := 0
		inv := start(try, tok)
		timeout, stopTimer := newTimeout()
		refused := false
	wait:
		for {
			select {
			case r := <-inv:
				inv = nil
				if r.ok {
					continue
				}
				if r.invalid {
					// hook-task answers a request it refuses (InvalidRequestError)
					// with an error the state machine does not retry: caught, the
					// branch ends.
					w.env(d, "TaskFailed InvalidRequestError", func() {
						if task.Open() {
							w.sf.FailTask(tok, "InvalidRequestError", "the await was refused")
							refused = true
						}
					})
					continue
				}
				failed := false
				if !w.env(d, "TaskFailed Lambda.Unknown", func() {
					if task.Open() {
						w.sf.FailTask(tok, "Lambda.Unknown", "the await invocation failed")
						failed = true
					}
				}) {
					stopTimer()
					return
				}
				if !failed {
					continue // answered by its token already: it outlives the invocation's error
				}
				if try >= e.plan.Retries {
					w.aud.exhausted(e, b, round)
					w.env(d, "ExecutionFailed", func() { w.sf.Fail(e.arn, "Lambda.Unknown", "await retries exhausted"); e.events++ })
					w.aud.excuse(e, "failed")
					w.eventBridge(e, 800+round)
					w.env(d, "end event handled", func() { e.events-- })
					continue
				}
				if !sleepCtx(w.ctx, time.Second<<min(try, 4)) {
					stopTimer()
					return
				}
				if !w.env(d, "TaskScheduled (retry)", func() {
					if e.plan.NewToken {
						tok = e.newToken()
					}
					task = w.sf.NewTask(tok, e.arn)
					w.aud.task(e, task)
				}) {
					stopTimer()
					return
				}
				try++
				inv = start(try, tok)
				stopTimer()
				timeout, stopTimer = newTimeout()
			case <-task.Done:
				break wait
			case <-timeout:
				timeout = nil
				w.env(d, "TaskTimedOut", func() {
					if task.Open() {
						w.sf.TimeOutTask(tok, "States.Timeout")
					}
				})
			case <-w.ctx.Done():
				stopTimer()
				return
			}
		}
		stopTimer()
		if refused {
			w.aud.branchEnded(e, b, "InvalidRequestError")
			return
		}
		var t struct{ Output, Error, Cause string }
		running := false
		if !w.env(d, "task closed", func() { t.Output, t.Error, t.Cause, running = task.Output, task.Error, task.Cause, w.running(e.arn) }) {
			return
		}
		state := task.State()
		if state == awsmodel.TaskSucceeded || t.Error == rejectError {
			timeouts = 0
		}
		switch {
		case state == awsmodel.TaskCanceled || !running:
			continue // the execution ended; wait for a redrive
		case state == awsmodel.TaskSucceeded && maxBatch > 0:
			for k, it := range w.aud.batch(e, tok, maxBatch, t.Output) {
				if !e.plan.Webhook {
					w.aud.delivered(e, b, tok, it)
					continue
				}
				var req hooks.WebhookRequest
				if err := json.Unmarshal([]byte(it), &req); err != nil || req.RequestID == "" {
					w.aud.find("webhook", "%s received %q in a batch, not a webhook request", e.plan.Name, it)
					continue
				}
				w.aud.delivered(e, b, tok, "webhook:"+req.Body)
				w.respond(e, b, fmt.Sprintf("%02d.%02d", round, k), req)
			}
		case t.Error == hooks.ErrorNameBatchItemTooLarge && maxBatch > 0:
			single = true // caught: the next await takes it without maxBatch
			w.aud.batchTooLarge()
			continue
		case state == awsmodel.TaskSucceeded && e.plan.Webhook:
			var req hooks.WebhookRequest
			if err := json.Unmarshal([]byte(t.Output), &req); err != nil || req.RequestID == "" {
				w.aud.find("webhook", "%s received %q, not a webhook request", e.plan.Name, t.Output)
				break
			}
			w.aud.delivered(e, b, tok, "webhook:"+req.Body)
			w.respond(e, b, fmt.Sprintf("%02d", round), req)
		case state == awsmodel.TaskSucceeded:
			w.aud.delivered(e, b, tok, t.Output)
		case t.Error == rejectError:
			w.aud.delivered(e, b, tok, "!reject:"+t.Cause)
		case state == awsmodel.TaskTimedOut || t.Error == "Lambda.Unknown":
			timeouts++
			continue
		default: // HookAwaitSupersededError, HookDisposedError, HookConflictError: caught, the branch ends
			w.aud.branchEnded(e, b, t.Error)
			return
		}
		if w.probing.Load() && !w.stillPending(e, b, round) {
			return
		}
	}
}

// stillPending asks the hook (GET /hooks/{token}, as a user would) whether
// acknowledged payloads still wait for an await: during the probes a
// branch awaits until none does.
func (w *world) stillPending(e *execState, b, round int) bool {
	a := w.newActor(fmt.Sprintf("%s.b%d.get%02d", e.plan.Name, b, round))
	var st *hooks.HookStatus
	err, _ := try(func() error {
		ctx, cancel := context.WithTimeout(w.ctx, lambdaTimeout)
		defer cancel()
		var err error
		st, err = a.c.GetHook(ctx, e.plan.Hook)
		return err
	})
	return err == nil && st.Pending > 0
}

// invokeAwait is one invocation of hook-task's await.
// invalid reports a request refused as such (ErrInvalidRequest).
func (w *world) invokeAwait(e *execState, b, round, try int, tok string, maxBatch int) (ok, invalid bool) {
	a := w.newActor(awaitName(e.plan.Name, b, round, try))
	ctx, cancel := context.WithTimeout(w.ctx, lambdaTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			if _, crash := r.(crashed); !crash {
				panic(r)
			}
			ok, invalid = false, false
		}
	}()
	in := hooks.AwaitInput{RegisterInput: hooks.RegisterInput{Token: e.plan.Hook, ExecutionARN: e.arn}, TaskToken: tok, MaxBatch: maxBatch}
	if e.plan.BigAttrs && !e.plan.Create {
		bigAttr(&in.RegisterInput, round)
	}
	err := a.c.Await(ctx, in)
	if err == nil {
		w.aud.registered(e)
	} else {
		w.aud.awaitFailed(e, a.name, err)
	}
	return err == nil, errors.Is(err, hooks.ErrInvalidRequest)
}

// bigAttr gives in another attribute of about 60 KB each round: each
// request stays within MaxHookDataBytes, together they would not.
func bigAttr(in *hooks.RegisterInput, round int) {
	pad := strings.Repeat("x", 60*1024)
	switch round % 3 {
	case 0:
		in.Metadata = json.RawMessage(`{"note":"` + pad + `"}`)
	case 1:
		in.Schema = json.RawMessage(`{"description":"` + pad + `"}`)
	case 2:
		in.Respond = json.RawMessage(`{"mode":"static","status":202,"body":"` + pad + `"}`)
	}
}

// createHook is the workflow's create state before an await (hook-task
// create): retried as the state machine's Retry does; a request refused as
// such (ErrInvalidRequest) is caught and ends the branch.
func (w *world) createHook(e *execState, b, round int) bool {
	for t := 0; ; t++ {
		a := w.newActor(fmt.Sprintf("%s.b%d.create%02d.try%d", e.plan.Name, b, round, t))
		err, _ := try(func() error {
			ctx, cancel := context.WithTimeout(w.ctx, lambdaTimeout)
			defer cancel()
			in := hooks.RegisterInput{Token: e.plan.Hook, ExecutionARN: e.arn}
			if e.plan.BigAttrs {
				bigAttr(&in, round)
			}
			_, err := a.c.Register(ctx, in)
			return err
		})
		switch {
		case err == nil:
			return true
		case errors.Is(err, hooks.ErrInvalidRequest), errors.Is(err, hooks.ErrConflict):
			w.aud.branchEnded(e, b, "create: "+err.Error())
			return false
		}
		if t >= e.plan.Retries || !sleepCtx(w.ctx, time.Second<<min(t, 4)) {
			return false
		}
	}
}

// try runs fn as one Lambda invocation: a crash is an unknown outcome.
func try(fn func() error) (err error, crash bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(crashed); !ok {
				panic(r)
			}
			err, crash = errors.New("crashed"), true
		}
	}()
	return fn(), false
}

func (w *world) action(i int, act Action) {
	e := w.execs[act.Exec]
	switch act.Kind {
	case ActResume, ActReject:
		a := w.newActor(resumerName(i))
		text := act.Text
		if act.N > 0 {
			text = strings.TrimSuffix(text, "}") + `,"pad":"` + strings.Repeat("x", act.N) + `"}`
		}
		if act.N < 0 {
			// -N is the payload's whole size (batch edge cases).
			text = strings.TrimSuffix(text, "}") + `,"pad":"` + strings.Repeat("x", -act.N-len(text)-9) + `"}`
		}
		u := w.aud.unit(e, text, act.Kind == ActReject, "")
		err, _ := try(func() error {
			ctx, cancel := context.WithTimeout(w.ctx, lambdaTimeout)
			defer cancel()
			var err error
			if act.Kind == ActReject {
				_, err = a.c.RejectHook(ctx, e.plan.Hook, rejectError, act.Text)
			} else {
				_, err = a.c.ResumeHook(ctx, e.plan.Hook, json.RawMessage(text))
			}
			return err
		})
		w.aud.outcome(u, err)
	case ActKeyed:
		u := w.aud.unit(e, act.Text, false, act.Key)
		for t := 0; t < 4; t++ {
			name := resumerName(i)
			if t > 0 {
				name = fmt.Sprintf("%s.retry%d", name, t)
			}
			a := w.newActor(name)
			err, _ := try(func() error {
				ctx, cancel := context.WithTimeout(w.ctx, lambdaTimeout)
				defer cancel()
				_, err := a.c.ResumeHook(ctx, e.plan.Hook, json.RawMessage(act.Text), hooks.WithIdempotencyKey(act.Key))
				return err
			})
			if w.aud.outcome(u, err) {
				return
			}
			// The caller retries with the same key, a little or a long time later.
			if !sleepCtx(w.ctx, time.Duration(1+a.rnd.IntN(20))*time.Second) {
				return
			}
		}
	case ActDispose:
		d := w.newActor(fmt.Sprintf("act%02d.wf", i))
		if !w.env(d, "workflow disposes", func() { e.finishing = true }) {
			return
		}
		w.aud.excuse(e, "disposed")
		for t := 0; t < 4; t++ {
			a := w.newActor(disposerName(i, t))
			err, _ := try(func() error {
				ctx, cancel := context.WithTimeout(w.ctx, lambdaTimeout)
				defer cancel()
				return a.c.Dispose(ctx, e.plan.Hook, e.arn)
			})
			// What was acknowledged while the dispose ran (before its
			// delete) goes with the hook too.
			w.aud.excuse(e, "disposed")
			if err == nil {
				return
			}
			if !sleepCtx(w.ctx, time.Second<<t) {
				return
			}
		}
	case ActStop, ActFail:
		d := w.newActor(fmt.Sprintf("act%02d.sfn", i))
		ended := false
		w.env(d, string(act.Kind), func() {
			if !w.running(e.arn) {
				return
			}
			ended = true
			e.events++
			if act.Kind == ActStop {
				w.sf.Stop(e.arn)
			} else {
				w.sf.Fail(e.arn, "States.TaskFailed", "another state failed")
			}
		})
		if !ended {
			return
		}
		w.aud.excuse(e, string(act.Kind))
		w.eventBridge(e, i)
		w.env(d, "end event handled", func() { e.events-- })
	case ActRedrive:
		d := w.newActor(fmt.Sprintf("act%02d.sfn", i))
		w.env(d, "redrive", func() {
			if w.running(e.arn) || e.finishing || e.live == 0 {
				return
			}
			if w.sf.Redrive(e.arn) == nil {
				close(e.wakeup)
				e.wakeup = make(chan struct{})
				w.aud.redriven(e)
			}
		})
	case ActTTL:
		d := w.newActor(fmt.Sprintf("act%02d.ttl", i))
		w.env(d, "TTL sweep", func() { w.aud.expired(w.db.ExpireTTL(time.Now())) })
	case ActPad:
		d := w.newActor(fmt.Sprintf("act%02d.sfn", i))
		w.env(d, fmt.Sprintf("history +%d events", act.N), func() { w.sf.Pad(e.arn, act.N) })
	case ActLag:
		d := w.newActor(fmt.Sprintf("act%02d.sfn", i))
		w.env(d, fmt.Sprintf("history lags %d events", act.N), func() { w.sf.SetLag(e.arn, act.N) })
		if sleepCtx(w.ctx, act.D) {
			w.env(d, "history catches up", func() { w.sf.SetLag(e.arn, 0) })
		}
	case ActBurst:
		done := make(chan struct{}, act.N)
		for k := range act.N {
			go func() {
				defer func() { done <- struct{}{} }()
				a := w.newActor(fmt.Sprintf("%s.b%03d", resumerName(i), k))
				text := fmt.Sprintf(`{"p":"r%d.%d"}`, i, k)
				var edge int
				if _, err := fmt.Sscanf(act.Text, "edge=%d", &edge); err == nil && k == 0 {
					text = strings.TrimSuffix(text, "}") + `,"pad":"` + strings.Repeat("x", edge-len(text)-9) + `"}`
				}
				reject := k%5 == 4
				if reject {
					text = fmt.Sprintf("cause-%d.%d", i, k)
				}
				u := w.aud.unit(e, text, reject, "")
				err, _ := try(func() error {
					ctx, cancel := context.WithTimeout(w.ctx, lambdaTimeout)
					defer cancel()
					var err error
					if reject {
						_, err = a.c.RejectHook(ctx, e.plan.Hook, rejectError, text)
					} else {
						_, err = a.c.ResumeHook(ctx, e.plan.Hook, json.RawMessage(text))
					}
					return err
				})
				w.aud.outcome(u, err)
			}()
		}
		for range act.N {
			<-done
		}
	case ActLink:
		w.link(i, e, act)
	case ActCalls:
		for k := range 2 {
			go w.caller(i, k, e, act.N)
		}
	}
}

// webhookDeadline and webhookMaxHeld are the simulated manual webhook's.
const (
	webhookDeadline = 3 * time.Second
	webhookMaxHeld  = 2
)

// createWebhook is the workflow's createWebhook before each await (it is
// idempotent for the execution): a manual webhook, at most 2 held callers.
func (w *world) createWebhook(e *execState, b, round int) bool {
	for t := 0; ; t++ {
		a := w.newActor(fmt.Sprintf("%s.b%d.create%02d.try%d", e.plan.Name, b, round, t))
		err, _ := try(func() error {
			ctx, cancel := context.WithTimeout(w.ctx, lambdaTimeout)
			defer cancel()
			_, err := a.c.CreateWebhook(ctx, hooks.CreateWebhookInput{Token: e.plan.Hook, ExecutionARN: e.arn,
				RespondWith: &hooks.RespondWith{Manual: true, Deadline: webhookDeadline}, MaxHeldCallers: webhookMaxHeld})
			return err
		})
		if err == nil {
			return true
		}
		if t >= e.plan.Retries || !sleepCtx(w.ctx, time.Second<<min(t, 4)) {
			return false
		}
	}
}

// respond is the workflow's respondWith for a request it received.
// label names the response's actor: the await's round, and for a batch
// the item's place in it (actor names must be unique: each actor's ids,
// ClientRequestTokens among them, come from a source seeded by its name).
func (w *world) respond(e *execState, b int, label string, req hooks.WebhookRequest) {
	for t := 0; t < 4; t++ {
		a := w.newActor(fmt.Sprintf("%s.b%d.respond%s.try%d", e.plan.Name, b, label, t))
		err, _ := try(func() error {
			ctx, cancel := context.WithTimeout(w.ctx, lambdaTimeout)
			defer cancel()
			return a.c.Respond(ctx, e.plan.Hook, e.arn, req.RequestID, hooks.Response{Status: 200, Body: []byte("ok " + req.Body)})
		})
		if err == nil || !sleepCtx(w.ctx, time.Second<<t) {
			return
		}
	}
}

// caller makes n requests to a webhook, one after another.
func (w *world) caller(i, k int, e *execState, n int) {
	for c := range n {
		name := callerName(i, k, c)
		w.request(name, e, fmt.Sprintf(`{"call":"%d.%d.%d"}`, i, k, c), false)
		rnd := rand.New(rand.NewPCG(w.cfg.Seed, hash64(name)))
		if !sleepCtx(w.ctx, time.Duration(200+rnd.IntN(500))*time.Millisecond) {
			return
		}
	}
}

// request is one HTTP request to a webhook, held until the workflow
// responds (or the deadline passes).
func (w *world) request(name string, e *execState, body string, probe bool) {
	a := w.newActor(name)
	a.onFault = func() { w.aud.callerFault(e) }
	u := w.aud.unit(e, "webhook:"+body, false, "")
	u.probe = probe
	live := w.aud.calling(e)
	err, _ := try(func() error {
		ctx, cancel := context.WithTimeout(w.ctx, 29*time.Second)
		defer cancel()
		r := httptest.NewRequest(http.MethodPost, "https://api.example/webhooks/"+e.plan.Hook, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		resp, err := a.c.ResumeWebhook(ctx, e.plan.Hook, r)
		if err == nil && string(resp.Body) != "ok "+body {
			w.aud.find("webhook", "%s: the caller of %s got %d %q, not its response", e.plan.Name, body, resp.Status, resp.Body)
		}
		var nr *hooks.NoResponseError
		if errors.As(err, &nr) {
			return nil // acknowledged; no response in time
		}
		return err
	})
	w.aud.done(e, live)
	if errors.Is(err, hooks.ErrTooManyWaiting) {
		w.aud.refusedHeld(e, body, live)
	}
	w.aud.outcome(u, err)
}

// ttlSweeper is DynamoDB's TTL process: every hour it deletes the items
// whose expiresAt has passed (DynamoDB takes up to a few days; an hour
// keeps runs short and is within what it may do).
func (w *world) ttlSweeper() {
	a := w.newActor("dynamodb.ttl")
	for sleepCtx(w.ctx, time.Hour) {
		w.env(a, "TTL sweep", func() { w.aud.expired(w.db.ExpireTTL(time.Now())) })
	}
}

// eventBridge is the EventBridge rule on the execution's end: it invokes
// hook-task's DisposeExecution, retried on errors.
func (w *world) eventBridge(e *execState, i int) {
	rnd := rand.New(rand.NewPCG(w.cfg.Seed, hash64(eventBridgeName(e.plan.Name, i, 0))))
	if !sleepCtx(w.ctx, time.Duration(rnd.IntN(3000))*time.Millisecond) {
		return
	}
	failed := false // an attempt that failed may have disposed some hooks
	for t := 0; t < 4; t++ {
		a := w.newActor(eventBridgeName(e.plan.Name, i, t))
		n := 0
		err, _ := try(func() error {
			ctx, cancel := context.WithTimeout(w.ctx, lambdaTimeout)
			defer cancel()
			var err error
			n, err = a.c.DisposeExecution(ctx, e.arn)
			return err
		})
		if err == nil {
			if n == 0 && !failed {
				// Nothing disposed: the hooks were gone already (what
				// was acknowledged after the end went with them: still
				// excused), or the execution runs again (redriven since
				// its end): it keeps its hooks, and what it loses later
				// counts.
				runs := false
				w.env(a, "end event disposed nothing", func() { runs = w.running(e.arn) })
				if runs {
					return
				}
			}
			w.aud.excuse(e, "events")
			return
		}
		failed = true
		if !sleepCtx(w.ctx, time.Second<<t) {
			return
		}
	}
}

// link: the workflow creates two links of one group (approve, valid 7
// days; reject, valid 30 days); a person presses the first, may press it
// again, and later the second.
func (w *world) link(i int, e *execState, act Action) {
	wf := w.newActor(resumerName(i) + ".create")
	var l1, l2 *hooks.Link
	err, _ := try(func() error {
		ctx, cancel := context.WithTimeout(w.ctx, lambdaTimeout)
		defer cancel()
		var err error
		l1, err = wf.c.CreateLink(ctx, hooks.CreateLinkInput{Token: e.plan.Hook, ExecutionARN: e.arn, Payload: json.RawMessage(`{"link":"` + act.Text + `","choice":"a"}`), Group: act.Text, Expiry: 7 * 24 * time.Hour})
		if err != nil {
			return err
		}
		l2, err = wf.c.CreateLink(ctx, hooks.CreateLinkInput{Token: e.plan.Hook, ExecutionARN: e.arn, Payload: json.RawMessage(`{"link":"` + act.Text + `","choice":"b"}`), Group: act.Text, Expiry: 30 * 24 * time.Hour})
		return err
	})
	if err != nil {
		return
	}
	ua := w.aud.unit(e, `{"choice":"a","link":"`+act.Text+`"}`, false, "link:"+l1.ID)
	ub := w.aud.unit(e, `{"choice":"b","link":"`+act.Text+`"}`, false, "link:"+l2.ID)
	w.aud.group(act.Text, ua, ub)
	press := func(name string, l *hooks.Link, u *unit) {
		a := w.newActor(name)
		err, _ := try(func() error {
			ctx, cancel := context.WithTimeout(w.ctx, lambdaTimeout)
			defer cancel()
			_, err := a.c.UseLink(ctx, l.ID, "")
			return err
		})
		w.aud.outcome(u, err)
	}
	press(resumerName(i), l1, ua)
	rnd := rand.New(rand.NewPCG(w.cfg.Seed, hash64(act.Text)))
	for k, d := range []time.Duration{[]time.Duration{time.Second, 26 * time.Hour}[rnd.IntN(2)], []time.Duration{2 * time.Second, 16 * 24 * time.Hour}[rnd.IntN(2)]} {
		if !sleepCtx(w.ctx, d) {
			return
		}
		if k == 0 {
			press(resumerName(i)+".again", l1, ua)
		} else {
			press(resumerName(i)+".sibling", l2, ub)
		}
	}
}

// probe resumes a running execution's hook once, at the end of a run: a
// plain resume, or (Plan.KeyedProbes) one with an idempotency key; either
// sends a delivery a dead resumer left unsent (docs/protocol.md, "Redrive").
// A webhook gets a request.
func (w *world) probe(e *execState, n int) {
	if e.plan.Webhook {
		w.request(fmt.Sprintf("probe%02d", n), e, fmt.Sprintf(`{"probe":%d}`, n), true)
		return
	}
	a := w.newActor(fmt.Sprintf("probe%02d", n))
	u := w.aud.unit(e, fmt.Sprintf(`{"probe":%d}`, n), false, "")
	u.probe = true
	var opts []hooks.ResumeOption
	if w.plan.KeyedProbes {
		opts = append(opts, hooks.WithIdempotencyKey(fmt.Sprintf("probe-%d", n)))
	}
	err, _ := try(func() error {
		ctx, cancel := context.WithTimeout(w.ctx, lambdaTimeout)
		defer cancel()
		_, err := a.c.ResumeHook(ctx, e.plan.Hook, json.RawMessage(u.text), opts...)
		return err
	})
	w.aud.outcome(u, err)
}

// Simulate runs one seed in its own synctest bubble.
func Simulate(t *testing.T, cfg Config) *Result {
	var res *Result
	synctest.Test(t, func(*testing.T) { res = Run(cfg) })
	return res
}
