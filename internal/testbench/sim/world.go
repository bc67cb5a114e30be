package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing/synctest"
	"time"

	"github.com/sfnhooks/sfnhooks/internal/testbench/awsmodel"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// world is one simulation run: the AWS model, the actors, the scheduler
// that lets one actor's AWS call proceed at a time, and the auditor.
type world struct {
	cfg  Config
	plan *Plan

	db *awsmodel.DynamoDB
	sf *awsmodel.StepFunctions

	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	pending []*pendingCall
	over    bool
	wake    chan struct{}

	faults   map[string]map[int]Fault
	faultEnd time.Time // no fault after this instant (the quiet phase)
	start    time.Time
	steps    int

	execs   []*execState
	probing atomic.Bool // the run's probes started: branches stop awaiting
	aud     *auditor
	trace   []string
}

type pendingCall struct {
	a    *actor
	op   string
	seq  int
	resp chan grant
}

type grant struct {
	f  Fault
	ok bool
}

// actor is one Lambda invocation (or one Step Functions branch): a name
// that orders it among the pending calls, its own pkg/hooks client (its
// own container), its own call count for the fault plan.
type actor struct {
	w     *world
	name  string
	calls int
	c     *hooks.Client
	rnd   *rand.Rand
	// onFault, when set, is told of each fault put on the actor's calls.
	onFault func()
}

func (w *world) newActor(name string) *actor {
	a := &actor{w: w, name: name, rnd: rand.New(rand.NewPCG(w.cfg.Seed, hash64(name)))}
	c, err := hooks.New(awsConfig(), func(o *hooks.Options) {
		o.TableName = "sim"
		o.DynamoDB = simDynamoDB{a: a, inner: w.db}
		o.StepFunctions = simSFN{a: a, inner: w.sf}
		o.KMS = unusedKMS{}
		o.Secrets = unusedSecrets{}
		o.NewID = func() string { return fmt.Sprintf("%s-%016x", sanitize(name), a.rnd.Uint64()) }
		o.Jitter = func(d time.Duration) time.Duration { return time.Duration(a.rnd.Int64N(int64(d) + 1)) }
	})
	if err != nil {
		panic(err)
	}
	a.c = c
	return a
}

// gate blocks the actor until the scheduler lets its call proceed, and
// says which fault to apply; ok is false when the run is over.
func (w *world) gate(a *actor, op string) (Fault, bool) {
	a.calls++
	pc := &pendingCall{a: a, op: op, seq: a.calls, resp: make(chan grant, 1)}
	w.mu.Lock()
	if w.over {
		w.mu.Unlock()
		return None, false
	}
	w.pending = append(w.pending, pc)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	g := <-pc.resp
	return g.f, g.ok
}

// env runs fn, a change Step Functions or DynamoDB makes by itself (a task
// scheduled or timed out, an execution stopped, a TTL sweep), as one step
// of the schedule: never at the same time as an AWS call.
func (w *world) env(a *actor, what string, fn func()) bool {
	a.calls++
	pc := &pendingCall{a: a, op: "env " + what, seq: a.calls, resp: make(chan grant, 1)}
	w.mu.Lock()
	if w.over {
		w.mu.Unlock()
		return false
	}
	w.pending = append(w.pending, pc)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	if g := <-pc.resp; !g.ok {
		return false
	}
	fn()
	return true
}

// faultFor is the plan's fault for the n-th call of an actor, during the
// faulty phase only. Step Functions' own changes take no fault.
func (w *world) faultFor(pc *pendingCall) Fault {
	if strings.HasPrefix(pc.op, "env ") || !time.Now().Before(w.faultEnd) {
		return None
	}
	f := w.faults[pc.a.name][pc.seq]
	if f == Conflict && !strings.HasPrefix(pc.op, "DynamoDB.") {
		return Refused
	}
	if f == Conflict && (pc.op == "DynamoDB.GetItem" || pc.op == "DynamoDB.Query" || pc.op == "DynamoDB.BatchGetItem") {
		return Refused
	}
	if strings.HasSuffix(pc.op, "(resend)") && (f == Lost) {
		return None
	}
	return f
}

// schedule runs the scheduler until until: at each step every actor has
// run as far as it can (synctest.Wait), and one pending call, chosen by the
// seed, proceeds. Time moves only while every actor waits: by a latency
// after each call, or to the next timer when nothing is pending.
func (w *world) schedule(until time.Time) {
	for {
		synctest.Wait()
		w.mu.Lock()
		if len(w.pending) == 0 {
			w.mu.Unlock()
			d := time.Until(until)
			if d <= 0 {
				return
			}
			t := time.NewTimer(d)
			select {
			case <-w.wake:
			case <-t.C:
			}
			t.Stop()
			continue
		}
		// Each call's turn is drawn from the seed, its actor and its
		// number, not from a shared stream: removing an actor (shrinking)
		// leaves the others' order as it was.
		i := 0
		for j, pc := range w.pending {
			if w.prio(pc) < w.prio(w.pending[i]) {
				i = j
			}
		}
		pc := w.pending[i]
		w.pending = slices.Delete(w.pending, i, i+1)
		f := w.faultFor(pc)
		if f != None && pc.a.onFault != nil {
			pc.a.onFault()
		}
		w.steps++
		w.mu.Unlock()
		w.logf("%-28s %s%s", pc.a.name, pc.op, faultNote(f))
		pc.resp <- grant{f: f, ok: true}
		synctest.Wait()
		// The call's round trip: a little time passes before the next one.
		time.Sleep(time.Duration(w.prio(pc)%3000) * time.Microsecond)
	}
}

// prio is a pending call's place in the queue: lowest goes first.
func (w *world) prio(pc *pendingCall) uint64 {
	return hash64(fmt.Sprintf("%d/%s/%d", w.cfg.Seed, pc.a.name, pc.seq))
}

// stop ends the run: every waiting call is answered errShutdown, every
// actor's context is canceled.
func (w *world) stop() {
	w.mu.Lock()
	w.over = true
	p := w.pending
	w.pending = nil
	w.mu.Unlock()
	w.cancel()
	for _, pc := range p {
		pc.resp <- grant{ok: false}
	}
	synctest.Wait()
}

func faultNote(f Fault) string {
	if f == None {
		return ""
	}
	return "  ← " + f.String()
}

func (w *world) logf(format string, args ...any) {
	at := time.Since(w.start)
	w.trace = append(w.trace, fmt.Sprintf("%10s  ", at.Truncate(time.Microsecond))+fmt.Sprintf(format, args...))
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, s)
}

func hash64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
