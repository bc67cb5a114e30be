package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/sfnhooks/sfnhooks/internal/testbench/awsmodel"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Finding is one broken promise.
type Finding struct {
	// Kind names the invariant: lost, duplicate, fifo, stuck, exhausted,
	// gone, link-twice, item-size, held-cap, webhook, batch; on the items:
	// counter, back.
	Kind string
	Msg  string
}

func (f Finding) String() string { return f.Kind + ": " + f.Msg }

// unit is one payload or rejection a user sent: one resume, or every
// attempt of one idempotency key (a keyed resume, a link's presses).
type unit struct {
	e       *execState
	text    string // canonical JSON, or "!reject:"+cause
	key     string
	probe   bool
	start   time.Time
	acked   bool
	ackAt   time.Time
	unknown bool
	refused bool
}

type delivery struct {
	e    *execState
	text string
	tok  string
	at   time.Time
}

// auditor checks the run against what a user can see: which resumes were
// acknowledged, refused or left unknown, what each task of each execution
// received, which tasks are still open, what the user did (dispose, stop).
// It never looks at the protocol's items.
type auditor struct {
	w  *world
	mu sync.Mutex

	units      []*unit
	deliveries []delivery
	tasks      map[*execState][]*awsmodel.Task
	excuses    map[*execState][]time.Time // disposed, stopped, failed, ended
	regAt      map[*execState]time.Time   // the last await that returned nil
	disturbAt  map[*execState]time.Time   // the last excuse or redrive
	lastErr    map[*execState]string
	groups     map[string][2]*unit
	findings   []Finding

	// Batch awaits seen: outputs, items, outputs of more than one item,
	// the largest output, HookBatchItemTooLargeError caught.
	batches BatchStats

	live     map[*execState][]*heldCall // a webhook's callers in progress (as its callers see them)
	faultyAt map[*execState]time.Time   // the last fault on one of its callers' calls

	itemBroken map[string]bool // kind/hook already reported by items
}

func newAuditor(w *world) *auditor {
	return &auditor{w: w, tasks: map[*execState][]*awsmodel.Task{}, excuses: map[*execState][]time.Time{},
		regAt: map[*execState]time.Time{}, disturbAt: map[*execState]time.Time{}, lastErr: map[*execState]string{}, groups: map[string][2]*unit{},
		live: map[*execState][]*heldCall{}, faultyAt: map[*execState]time.Time{}, itemBroken: map[string]bool{}}
}

func (a *auditor) find(kind, format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.findings = append(a.findings, Finding{Kind: kind, Msg: fmt.Sprintf(format, args...)})
}

// canonical is the JSON text with its keys sorted, so a payload is known
// by its value whatever its spacing or key order.
func canonical(s string) string {
	if strings.HasPrefix(s, "!reject:") {
		return s
	}
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (a *auditor) unit(e *execState, text string, reject bool, key string) *unit {
	if reject {
		text = "!reject:" + text
	}
	u := &unit{e: e, text: canonical(text), key: key, start: time.Now()}
	a.mu.Lock()
	a.units = append(a.units, u)
	a.mu.Unlock()
	return u
}

// definite reports errors after which nothing was stored or sent.
func definite(err error) bool {
	for _, d := range []error{hooks.ErrHookNotFound, hooks.ErrTooManyPending, hooks.ErrIdempotencyMismatch,
		hooks.ErrInvalidRequest, hooks.ErrInvalidToken, hooks.ErrInvalidPayload, hooks.ErrPayloadTooLarge, hooks.ErrTooManyWaiting} {
		if errors.Is(err, d) {
			return true
		}
	}
	return false
}

// outcome records one attempt of u; it reports whether the outcome is
// known (acknowledged or refused), so the caller stops retrying.
func (a *auditor) outcome(u *unit, err error) bool {
	if isSizeError(err) {
		a.find("item-size", "a write of %s's hook was refused by DynamoDB's 400 KB item limit: %v", u.e.plan.Name, err)
	}
	if errors.Is(err, hooks.ErrHookNotFound) && !u.probe {
		a.mu.Lock()
		reg, dist := a.regAt[u.e], a.disturbAt[u.e]
		a.mu.Unlock()
		if !reg.IsZero() && reg.After(dist) && u.start.After(reg) && !u.e.finishing && a.w.running(u.e.arn) {
			a.find("gone", "%s's hook answered 404 to a resume started at %s while the execution runs, no one disposed it and its last await (at %s) returned",
				u.e.plan.Name, a.rel(u.start), a.rel(reg))
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case err == nil:
		if !u.acked {
			u.acked, u.ackAt = true, time.Now()
		}
		return true
	case definite(err) || errors.Is(err, hooks.ErrLinkGone) || errors.Is(err, hooks.ErrLinkNotFound):
		if !u.acked && !u.unknown {
			u.refused = true
		}
		return true
	default:
		u.unknown = true
		return false
	}
}

func (a *auditor) rel(t time.Time) string {
	return t.Sub(a.w.start).Truncate(time.Millisecond).String()
}

func (a *auditor) delivered(e *execState, b int, tok, output string) {
	a.w.logf("%-28s received %s", fmt.Sprintf("%s.b%d", e.plan.Name, b), short(canonical(output)))
	a.mu.Lock()
	defer a.mu.Unlock()
	a.deliveries = append(a.deliveries, delivery{e: e, text: canonical(output), tok: tok, at: time.Now()})
}

// batch checks a batch await's output and returns its items: a JSON
// object {"items":[…]} of 1 to min(maxBatch, hooks.MaxBatchItems) items
// within Step Functions' 256 KiB (UTF-8 bytes of the output).
func (a *auditor) batch(e *execState, tok string, maxBatch int, output string) []string {
	if len(output) > hooks.MaxPayloadBytes {
		a.find("batch", "%s: task %s received %d bytes, over Step Functions' %d", e.plan.Name, tok, len(output), hooks.MaxPayloadBytes)
	}
	var b struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal([]byte(output), &b); err != nil || len(b.Items) == 0 {
		a.find("batch", "%s: task %s (maxBatch %d) received %s, not a batch", e.plan.Name, tok, maxBatch, short(output))
		return []string{output}
	}
	if len(b.Items) > min(maxBatch, hooks.MaxBatchItems) {
		a.find("batch", "%s: task %s received %d items, maxBatch %d", e.plan.Name, tok, len(b.Items), maxBatch)
	}
	a.mu.Lock()
	a.batches.Outputs++
	a.batches.Items += len(b.Items)
	if len(b.Items) > 1 {
		a.batches.Multi++
	}
	a.batches.MaxItems = max(a.batches.MaxItems, len(b.Items))
	a.batches.MaxBytes = max(a.batches.MaxBytes, len(output))
	a.mu.Unlock()
	items := make([]string, 0, len(b.Items))
	for _, it := range b.Items {
		items = append(items, string(it))
	}
	return items
}

func (a *auditor) batchTooLarge() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.batches.TooLarge++
}

// BatchStats counts what batch awaits received in a run.
type BatchStats struct {
	Outputs, Items, Multi, MaxItems, MaxBytes, TooLarge int
}

func (s *BatchStats) add(o BatchStats) {
	s.Outputs += o.Outputs
	s.Items += o.Items
	s.Multi += o.Multi
	s.TooLarge += o.TooLarge
	s.MaxItems = max(s.MaxItems, o.MaxItems)
	s.MaxBytes = max(s.MaxBytes, o.MaxBytes)
}

func (a *auditor) task(e *execState, t *awsmodel.Task) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tasks[e] = append(a.tasks[e], t)
}

func (a *auditor) registered(e *execState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.regAt[e] = time.Now()
}

func (a *auditor) excuse(e *execState, why string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.excuses[e] = append(a.excuses[e], time.Now())
	a.disturbAt[e] = time.Now()
}

func (a *auditor) redriven(e *execState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.disturbAt[e] = time.Now()
}

func (a *auditor) expired(keys []awsmodel.Key) {
	if len(keys) > 0 {
		a.w.logf("%-28s TTL deleted %d items", "dynamodb", len(keys))
	}
}

func (a *auditor) awaitFailed(e *execState, actor string, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lastErr[e] = actor + ": " + err.Error()
}

func (a *auditor) exhausted(e *execState, b, round int) {
	a.mu.Lock()
	last := a.lastErr[e]
	a.mu.Unlock()
	a.find("exhausted", "%s branch %d: await %d failed %d times in a row, the execution fails (last error: %s)", e.plan.Name, b, round, e.plan.Retries+1, last)
}

func (a *auditor) branchEnded(e *execState, b int, errName string) {
	a.w.logf("%-28s branch ends: %s", fmt.Sprintf("%s.b%d", e.plan.Name, b), errName)
}

func (a *auditor) group(name string, x, y *unit) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.groups[name] = [2]*unit{x, y}
}

// heldCall is one webhook request in progress: others is the most other
// callers of the webhook in progress at any time during it.
type heldCall struct{ others int }

// calling records a webhook's caller starting; done records it leaving.
func (a *auditor) calling(e *execState) *heldCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := &heldCall{others: len(a.live[e])}
	for _, o := range a.live[e] {
		o.others = max(o.others, len(a.live[e]))
	}
	a.live[e] = append(a.live[e], c)
	return c
}

func (a *auditor) done(e *execState, c *heldCall) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.live[e] = slices.DeleteFunc(a.live[e], func(x *heldCall) bool { return x == c })
}

func (a *auditor) callerFault(e *execState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.faultyAt[e] = time.Now()
}

// refusedHeld checks a 429 TooManyWaiting: fewer callers than the cap were
// held, so the cap was taken by a count a killed or faulted caller leaked;
// docs/protocol.md bounds that at the deadline + 5 s after the leak.
func (a *auditor) refusedHeld(e *execState, body string, c *heldCall) {
	others := c.others
	a.mu.Lock()
	last := a.faultyAt[e]
	a.mu.Unlock()
	if others < webhookMaxHeld && (last.IsZero() || time.Since(last) > webhookDeadline+7*time.Second) {
		a.find("held-cap", "%s: the request %s was refused 429 TooManyWaiting at %s while at most %d other callers were in progress (cap %d); the last faulted caller was at %s",
			e.plan.Name, body, a.rel(time.Now()), others, webhookMaxHeld, a.rel(last))
	}
}

// openTasks lists e's tasks still open while e runs.
func (a *auditor) openTasks(e *execState) []*awsmodel.Task {
	if !a.w.running(e.arn) {
		return nil
	}
	var open []*awsmodel.Task
	for _, t := range a.tasks[e] {
		if t.Open() && !slices.Contains(open, t) {
			open = append(open, t)
		}
	}
	return open
}

// final checks the invariants once the run is quiet.
func (a *auditor) final() {
	for _, e := range a.w.execs {
		for _, t := range a.openTasks(e) {
			a.find("stuck", "%s: task %s is still open after its probe: it waits for nothing that will come", e.plan.Name, t.Token)
		}
		a.checkDeliveries(e)
	}
	for name, g := range a.groups {
		n := 0
		for _, d := range a.deliveries {
			if d.text == g[0].text || d.text == g[1].text {
				n++
			}
		}
		if n > 1 {
			a.find("link-twice", "link group %s resumed its hook %d times", name, n)
		}
	}
	sort.SliceStable(a.findings, func(i, j int) bool { return a.findings[i].String() < a.findings[j].String() })
}

func (a *auditor) checkDeliveries(e *execState) {
	delivered := map[string]int{}
	pos := map[string]int{}
	for i, d := range a.deliveries {
		if d.e == e {
			delivered[d.text]++
			if _, ok := pos[d.text]; !ok {
				pos[d.text] = i
			}
		}
	}
	type tally struct{ acked, unknown, excused int }
	t := map[string]*tally{}
	byText := map[string][]*unit{}
	for _, u := range a.units {
		if u.e != e {
			continue
		}
		byText[u.text] = append(byText[u.text], u)
		x := t[u.text]
		if x == nil {
			x = &tally{}
			t[u.text] = x
		}
		switch {
		case u.acked && !u.probe:
			x.acked++
			if a.excusedAfter(e, u.start) {
				x.excused++
			}
		case u.acked || u.unknown:
			x.unknown++
		}
	}
	texts := make([]string, 0, len(t))
	for k := range t {
		texts = append(texts, k)
	}
	for k := range delivered {
		if t[k] == nil {
			texts = append(texts, k)
			t[k] = &tally{}
		}
	}
	sort.Strings(texts)
	for _, k := range texts {
		x, d := t[k], delivered[k]
		if d > x.acked+x.unknown {
			a.find("duplicate", "%s received %s %d times; acknowledged %d, unknown outcome %d", e.plan.Name, short(k), d, x.acked, x.unknown)
		}
		if d < x.acked-x.excused {
			a.find("lost", "%s received %s %d times; acknowledged %d (%d of them before a dispose or an end)", e.plan.Name, short(k), d, x.acked, x.excused)
		}
	}
	// FIFO: a payload acknowledged before another one began is received
	// first (docs/protocol.md, "Ordering"); payloads sent once, received once.
	var once []*unit
	for _, k := range texts {
		if us := byText[k]; len(us) == 1 && us[0].acked && !us[0].probe && delivered[k] == 1 {
			once = append(once, us[0])
		}
	}
	for _, x := range once {
		for _, y := range once {
			if x.ackAt.Before(y.start) && pos[x.text] > pos[y.text] {
				a.find("fifo", "%s received %s before %s, which was acknowledged (at %s) before the other began (at %s)",
					e.plan.Name, short(y.text), short(x.text), a.rel(x.ackAt), a.rel(y.start))
			}
		}
	}
}

// items checks two invariants of the protocol's items after each DynamoDB
// write. Unlike the other checks it reads the items: each breach is one
// step from a broken promise that something else happens to prevent, so a
// user cannot see it alone.
//   - L (docs/protocol.md, "Limits"): lim = dlv + maxPending. A cap one
//     too high until the next await lets one payload more be stored, which
//     a user cannot tell from the documented exemption (a requeued payload
//     may pass the cap).
//   - A delivery put back (its BACK# marker written) is no longer in
//     flight: one payload is in one place. A record left in flight beside
//     its payload stored anew is redriven again later, and only the marker
//     stops that second requeue.
func (a *auditor) items(op string) {
	if !strings.HasPrefix(op, "DynamoDB.") || strings.Contains(op, "Get") || strings.Contains(op, "Query") {
		return
	}
	items := a.w.db.Items()
	marks := map[string]bool{}
	for _, it := range items {
		pk, _ := it["pk"].(*ddbtypes.AttributeValueMemberS)
		sk, _ := it["sk"].(*ddbtypes.AttributeValueMemberS)
		if pk != nil && sk != nil && strings.HasPrefix(sk.Value, "BACK#") {
			marks[pk.Value+"/"+strings.TrimPrefix(sk.Value, "BACK#")] = true
		}
	}
	for _, it := range items {
		if sk, _ := it["sk"].(*ddbtypes.AttributeValueMemberS); sk == nil || sk.Value != "HOOK" {
			continue
		}
		if f, ok := it["inflight"].(*ddbtypes.AttributeValueMemberM); ok {
			pk, _ := it["pk"].(*ddbtypes.AttributeValueMemberS)
			id, _ := f.Value["id"].(*ddbtypes.AttributeValueMemberS)
			if pk != nil && id != nil && marks[pk.Value+"/"+id.Value] {
				a.broken(it, "back", fmt.Sprintf("delivery %s is in flight after %s, and its BACK# marker says it was put back (one payload in two places)", id.Value, op))
			}
		}
		lim, okL := num(it["lim"])
		mp, okM := num(it["maxPending"])
		if !okL || !okM {
			continue
		}
		dlv, _ := num(it["dlv"])
		if lim != dlv+mp {
			a.broken(it, "counter", fmt.Sprintf("lim %d, dlv %d, maxPending %d after %s (invariant L: lim = dlv + maxPending)", lim, dlv, mp, op))
		}
	}
}

// broken reports an item invariant once per hook and kind.
func (a *auditor) broken(it map[string]ddbtypes.AttributeValue, kind, msg string) {
	name := ""
	if tok, ok := it["token"].(*ddbtypes.AttributeValueMemberS); ok {
		name = tok.Value
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.itemBroken[kind+"/"+name] {
		a.itemBroken[kind+"/"+name] = true
		a.findings = append(a.findings, Finding{Kind: kind, Msg: "hook " + name + ": " + msg})
	}
}

// num reads a number attribute.
func num(v ddbtypes.AttributeValue) (int64, bool) {
	n, ok := v.(*ddbtypes.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseInt(n.Value, 10, 64)
	return x, err == nil
}

func (a *auditor) excusedAfter(e *execState, t time.Time) bool {
	for _, x := range a.excuses[e] {
		if !x.Before(t) {
			return true
		}
	}
	return false
}

// short keeps a payload's text readable in a finding.
func short(s string) string {
	if len(s) > 64 {
		return fmt.Sprintf("%s…(%d bytes)", s[:48], len(s))
	}
	return s
}
