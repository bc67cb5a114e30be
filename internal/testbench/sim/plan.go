package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"
)

// Plan is what one run does, drawn from its seed: the executions and their
// state machines, the actions of the outside world (resumes, disposes,
// stops, clock jumps…) and the faults of AWS calls. Shrinking removes
// actions and faults from a failing plan while the failure stays.
type Plan struct {
	Execs   []ExecPlan
	Actions []Action
	Faults  []FaultRule
	// KeyedProbes: the final probes carry idempotency keys.
	KeyedProbes bool
}

// ExecPlan is one execution: one hook awaited in a loop by one or two
// branches (a Parallel state whose branches await the same hook).
type ExecPlan struct {
	Name     string
	Hook     string
	Branches int
	// TimeoutSec is the await task's TimeoutSeconds (0: none); a timeout is
	// caught and the branch awaits again.
	TimeoutSec int
	// NewToken: a retried await task gets a new task token (else the same).
	NewToken bool
	// Retries of the await task on Lambda.* errors before the execution fails.
	Retries int
	// Webhook: the hook is a manual webhook (created first, held-caller cap
	// 2, deadline 3 s); each request received is answered with Respond.
	Webhook bool
	// BigAttrs: each of the first awaits gives another attribute of about
	// 60 KB (metadata, schema, respondWith), each within the per-request bound.
	BigAttrs bool
	// Create: each round begins with hook-task's create (Register), which
	// gives the round's data (with BigAttrs) in the await's place, as a
	// state machine with a create state before its await does.
	Create bool
	// MaxBatch: the loop's awaits are batch awaits (maxBatch; 0: single
	// awaits). A HookBatchItemTooLargeError is caught and the hook awaited
	// once without maxBatch.
	MaxBatch int
}

// ActionKind names what an action does.
type ActionKind string

const (
	ActResume  ActionKind = "resume"  // a plain resume
	ActKeyed   ActionKind = "keyed"   // a resume with an idempotency key, retried on unknown outcomes
	ActReject  ActionKind = "reject"  // RejectHook
	ActDispose ActionKind = "dispose" // the workflow disposes its hook (hook-task dispose)
	ActStop    ActionKind = "stop"    // StopExecution, then the EventBridge dispose
	ActFail    ActionKind = "fail"    // the execution fails (another state), then the EventBridge dispose
	ActRedrive ActionKind = "redrive" // RedriveExecution of a failed or stopped execution
	ActTTL     ActionKind = "ttl"     // DynamoDB's TTL sweep
	ActPad     ActionKind = "pad"     // the execution's history grows by N events (other states)
	ActLag     ActionKind = "lag"     // the history hides its newest N events for D
	ActLink    ActionKind = "link"    // the workflow creates a link (of a group), a person uses it (twice)
	ActCalls   ActionKind = "calls"   // two callers of a webhook, each making N requests one after another
	ActBurst   ActionKind = "burst"   // N plain resumes at once, every fifth a rejection (a collector's burst, batch awaits)
)

// Action is one thing the outside world does at instant At of the run.
type Action struct {
	// ID names the action's actors (act07, act07.retry1, …) and never
	// changes, so a fault rule names the same call once others are shrunk away.
	ID   int
	At   time.Duration
	Kind ActionKind
	Exec int
	Text string
	Key  string
	N    int
	D    time.Duration
}

// FaultRule puts a fault on the Call-th AWS call (from 1) of one actor.
type FaultRule struct {
	Actor string
	Call  int
	Fault Fault
}

func (a Action) format(exec string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "act%02d %8s %-7s %s", a.ID, a.At, a.Kind, exec)
	if a.Text != "" {
		fmt.Fprintf(&b, " %s", a.Text)
	}
	if a.Key != "" {
		fmt.Fprintf(&b, " key=%s", a.Key)
	}
	if a.N != 0 {
		fmt.Fprintf(&b, " n=%d", a.N)
	}
	if a.D != 0 {
		fmt.Fprintf(&b, " for=%s", a.D)
	}
	return b.String()
}

func (p *Plan) String() string {
	var b strings.Builder
	for _, e := range p.Execs {
		fmt.Fprintf(&b, "exec %s hook %q branches=%d timeout=%ds newToken=%v retries=%d webhook=%v bigAttrs=%v create=%v", e.Name, e.Hook, e.Branches, e.TimeoutSec, e.NewToken, e.Retries, e.Webhook, e.BigAttrs, e.Create)
		if e.MaxBatch > 0 {
			fmt.Fprintf(&b, " maxBatch=%d", e.MaxBatch)
		}
		b.WriteString("\n")
	}
	for _, a := range p.Actions {
		fmt.Fprintf(&b, "action %s\n", a.format(p.Execs[a.Exec].Name))
	}
	for _, f := range p.Faults {
		fmt.Fprintf(&b, "fault  %s call %d: %s\n", f.Actor, f.Call, f.Fault)
	}
	if p.KeyedProbes {
		b.WriteString("probes carry idempotency keys\n")
	}
	return b.String()
}

// without returns the plan without execution k, its actions and the
// faults of its actors.
func (p *Plan) without(k int) *Plan {
	q := &Plan{KeyedProbes: p.KeyedProbes}
	q.Execs = slices.Delete(slices.Clone(p.Execs), k, k+1)
	for _, a := range p.Actions {
		switch {
		case a.Exec == k:
			continue
		case a.Exec > k:
			a.Exec--
		}
		q.Actions = append(q.Actions, a)
	}
	for _, f := range p.Faults {
		if !strings.HasPrefix(f.Actor, p.Execs[k].Name+".") {
			q.Faults = append(q.Faults, f)
		}
	}
	return q
}

// actor names: stable, so a fault rule names the same call in every replay.
func resumerName(i int) string { return fmt.Sprintf("act%02d", i) }
func awaitName(e string, b, r, a int) string {
	return fmt.Sprintf("%s.b%d.await%02d.try%d", e, b, r, a)
}
func disposerName(i, try int) string            { return fmt.Sprintf("act%02d.try%d", i, try) }
func callerName(i, s, n int) string             { return fmt.Sprintf("act%02d.s%d.c%02d", i, s, n) }
func eventBridgeName(e string, n, t int) string { return fmt.Sprintf("%s.events%d.try%d", e, n, t) }

// Generate draws a plan from seed.
func Generate(seed uint64) *Plan {
	r := rand.New(rand.NewPCG(seed, 0x51e5))
	// Batch awaits draw from a stream of their own, so that the plans of
	// the other seeds' executions stay what they were before them.
	rb := rand.New(rand.NewPCG(seed, 0xba7c4))
	p := &Plan{}
	nExec := 1 + r.IntN(2)
	for i := range nExec {
		e := ExecPlan{
			Name:     fmt.Sprintf("E%d", i+1),
			Hook:     fmt.Sprintf("approval-%d", i+1),
			Branches: 1,
			NewToken: r.IntN(2) == 0,
			Retries:  3 + r.IntN(4),
		}
		if r.IntN(4) == 0 {
			e.Branches = 2
		}
		if r.IntN(3) == 0 {
			e.TimeoutSec = 1 + r.IntN(20)
		}
		switch r.IntN(6) {
		case 0:
			e.Webhook, e.Hook, e.TimeoutSec = true, fmt.Sprintf("wh-%d-0123456789abcdefghijkl", i+1), 0
		case 1:
			e.BigAttrs = true
			e.Create = r.IntN(2) == 0
		}
		if rb.IntN(3) == 0 {
			e.MaxBatch = []int{1, 3, 100}[rb.IntN(3)]
		}
		p.Execs = append(p.Execs, e)
	}
	p.KeyedProbes = r.IntN(2) == 0
	at := time.Duration(0)
	nAct := 4 + r.IntN(14)
	texts := []string{`{"approved":true}`, `{"approved":false}`}
	for i := range nAct {
		at += time.Duration(r.IntN(4000)) * time.Millisecond
		a := Action{ID: i, At: at, Exec: r.IntN(nExec)}
		switch k := r.IntN(100); {
		case k < 35:
			a.Kind = ActResume
		case k < 55:
			a.Kind, a.Key = ActKeyed, fmt.Sprintf("k%d", i)
		case k < 63:
			a.Kind = ActReject
		case k < 67:
			a.Kind = ActDispose
		case k < 70:
			a.Kind = ActStop
		case k < 74:
			a.Kind = ActFail
		case k < 79:
			a.Kind = ActRedrive
		case k < 83:
			a.Kind = ActTTL
			// a jump of the clock: past RedriveAfter, the idempotency TTL, a
			// link's life
			a.D = []time.Duration{15 * time.Second, 25 * time.Hour, 8 * 24 * time.Hour}[r.IntN(3)]
			at += a.D
			a.At = at
		case k < 88:
			a.Kind, a.N = ActPad, 500+r.IntN(11000)
		case k < 93:
			a.Kind, a.N, a.D = ActLag, 1+r.IntN(4), time.Duration(1+r.IntN(5))*time.Second
		default:
			// The presses come up to 16 days later (link): past a group item that
			// expired with its claiming link (7 days + 7).
			a.Kind, a.Text, a.D = ActLink, fmt.Sprintf("g%d", i), 16*24*time.Hour+time.Minute
		}
		if p.Execs[a.Exec].Webhook && a.Kind == ActDispose {
			// Not simulated: a webhook disposed while its loop's await is in
			// flight; that await then makes a plain hook again (hook-task's
			// await names no kind), which the webhook's callers cannot reach
			// (docs/simulation.md, "What it cannot see").
			a.Kind = ActStop
		}
		if p.Execs[a.Exec].Webhook && (a.Kind == ActResume || a.Kind == ActKeyed || a.Kind == ActReject || a.Kind == ActLink) {
			// a webhook's callers make requests
			a.Kind, a.Key, a.N, a.D = ActCalls, "", 20+r.IntN(60), 0
		}
		if a.Kind == ActResume && p.Execs[a.Exec].BigAttrs && r.IntN(2) == 0 {
			a.N = 255 * 1024 // a payload near the 256 KiB limit
		}
		if a.Kind == ActResume || a.Kind == ActKeyed {
			if r.IntN(4) == 0 {
				a.Text = texts[r.IntN(len(texts))] // identical payloads of different resumes
			} else {
				a.Text = fmt.Sprintf(`{"p":"r%d"}`, i)
			}
		}
		if a.Kind == ActReject {
			a.Text = fmt.Sprintf("cause-%d", i)
		}
		if ex := p.Execs[a.Exec]; a.Kind == ActResume && ex.MaxBatch > 0 && !ex.Webhook {
			switch k := rb.IntN(10); {
			case k < 2 && !ex.BigAttrs:
				// A payload at the edge of what a batch carries: within or
				// just over hooks.MaxBatchItemBytes (padded below).
				a.N = -(262120 + rb.IntN(25)) // the payload's total size
			case k < 6:
				// A burst: a backlog for the batch awaits, with rejections
				// in it and, now and then, a payload at the batch edge
				// (Text) or more payloads than a batch holds.
				a.Kind, a.N, a.Text = ActBurst, 3+rb.IntN(10), ""
				if ex.MaxBatch == 100 && rb.IntN(3) == 0 {
					a.N = 100 + rb.IntN(10)
				}
				if !ex.BigAttrs && rb.IntN(2) == 0 {
					a.Text = fmt.Sprintf("edge=%d", 262120+rb.IntN(25)) // the size of its first payload
				}
			}
		}
		p.Actions = append(p.Actions, a)
	}
	// Faults: on resumers, disposers, the EventBridge dispose and awaits.
	var names []string
	for i, a := range p.Actions {
		switch a.Kind {
		case ActResume, ActKeyed, ActReject, ActLink:
			names = append(names, resumerName(i))
		case ActCalls:
			for k := range 2 {
				names = append(names, callerName(i, k, r.IntN(a.N)))
			}
		case ActDispose:
			names = append(names, disposerName(i, 0))
		case ActStop, ActFail:
			names = append(names, eventBridgeName(p.Execs[a.Exec].Name, i, 0))
		}
	}
	for _, ex := range p.Execs {
		for b := range ex.Branches {
			for rd := range 6 {
				names = append(names, awaitName(ex.Name, b, rd, 0))
			}
		}
	}
	nf := r.IntN(6)
	for range nf {
		p.Faults = append(p.Faults, FaultRule{Actor: names[r.IntN(len(names))], Call: 1 + r.IntN(6), Fault: Fault(1 + r.IntN(5))})
	}
	sort.SliceStable(p.Faults, func(i, j int) bool { return p.Faults[i].Actor < p.Faults[j].Actor })
	return p
}
