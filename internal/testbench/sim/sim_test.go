package sim

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// envInt reads a whole number from the environment (make sim sets them).
func envInt(t *testing.T, name string, def uint64) uint64 {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

// kinds lists the kinds of a run's findings, once each.
func kinds(r *Result) []string {
	var k []string
	for _, f := range r.Findings {
		if !slices.Contains(k, f.Kind) {
			k = append(k, f.Kind)
		}
	}
	return k
}

// Shrink makes a failing plan smaller while a run with the same seed still
// finds kind: it drops executions, then runs of actions (halves, quarters,
// … single ones), then faults, and the probes' keys, keeping each removal
// that still fails. It stops after budget runs.
func Shrink(t *testing.T, seed uint64, p *Plan, kind string, budget int) (*Plan, *Result) {
	t.Helper()
	best := Simulate(t, Config{Seed: seed, Plan: p})
	fails := func(r *Result) bool { return slices.Contains(kinds(r), kind) }
	if !fails(best) {
		return p, best
	}
	runs := 0
	try := func(q *Plan) bool {
		if runs >= budget {
			return false
		}
		runs++
		if r := Simulate(t, Config{Seed: seed, Plan: q}); fails(r) {
			p, best = q, r
			return true
		}
		return false
	}
	for changed := true; changed && runs < budget; {
		changed = false
		for k := len(p.Execs) - 1; k >= 0 && len(p.Execs) > 1; k-- {
			if try(p.without(k)) {
				changed = true
			}
		}
		for n := max(1, len(p.Actions)/2); n >= 1; n /= 2 {
			for i := 0; i+n <= len(p.Actions); {
				q := *p
				q.Actions = slices.Delete(slices.Clone(p.Actions), i, i+n)
				if try(&q) {
					changed = true
				} else {
					i += n
				}
			}
		}
		for i := 0; i < len(p.Faults); {
			q := *p
			q.Faults = slices.Delete(slices.Clone(p.Faults), i, i+1)
			if try(&q) {
				changed = true
			} else {
				i++
			}
		}
		if p.KeyedProbes {
			q := *p
			q.KeyedProbes = false
			changed = try(&q) || changed
		}
	}
	return p, best
}

// report prints a finding's seed, its shrunk plan and schedule.
func report(t *testing.T, seed uint64, kind string, p *Plan, r *Result) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "FINDING %s, seed %d (replay: make sim SEED=%d SEEDS=1)\n", kind, seed, seed)
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "  %s\n", f)
	}
	fmt.Fprintf(&b, "shrunk plan:\n%s", indent(p.String()))
	var steps []string
	for _, l := range r.Trace {
		// A branch looking at its execution and a TTL sweep that deleted
		// nothing only clutter the schedule.
		if !strings.HasSuffix(l, "env look") && !strings.HasSuffix(l, "env TTL sweep") {
			steps = append(steps, l)
		}
	}
	fmt.Fprintf(&b, "schedule (%d steps, %d shown):\n%s", len(r.Trace), len(steps), indent(strings.Join(steps, "\n")+"\n"))
	t.Log(b.String())
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n  ") + "\n"
}

// TestSimulator runs SFNHOOKS_SIM_SEEDS seeds (default 120, make test) from
// SFNHOOKS_SIM_SEED (default 1) and fails on any finding, printing each
// finding kind's first seed with its shrunk plan and schedule.
func TestSimulator(t *testing.T) {
	seeds := envInt(t, "SFNHOOKS_SIM_SEEDS", 120)
	first := envInt(t, "SFNHOOKS_SIM_SEED", 1)
	shrinkBudget := int(envInt(t, "SFNHOOKS_SIM_SHRINK", 120))
	begin := time.Now()
	steps := 0
	var batches BatchStats
	firstSeed := map[string]uint64{}
	count := map[string]int{}
	var order []string
	for s := first; s < first+seeds; s++ {
		r := Simulate(t, Config{Seed: s})
		steps += r.Steps
		batches.add(r.Batches)
		for _, k := range kinds(r) {
			if _, ok := firstSeed[k]; !ok {
				firstSeed[k] = s
				order = append(order, k)
			}
			count[k]++
		}
	}
	el := time.Since(begin)
	t.Logf("sim: %d schedules in %s (%.1f schedules/s, %d steps), seeds %d..%d", seeds, el.Round(time.Millisecond), float64(seeds)/el.Seconds(), steps, first, first+seeds-1)
	t.Logf("sim: batch awaits received %d batches, %d payloads (%d batches of more than one, the largest %d items, %d bytes); %d HookBatchItemTooLargeError caught",
		batches.Outputs, batches.Items, batches.Multi, batches.MaxItems, batches.MaxBytes, batches.TooLarge)
	for _, k := range order {
		t.Logf("sim: finding %-10s in %d of %d schedules, first at seed %d (after %d schedules)", k, count[k], seeds, firstSeed[k], firstSeed[k]-first+1)
	}
	for _, k := range order {
		s := firstSeed[k]
		p, r := Shrink(t, s, Generate(s), k, shrinkBudget)
		report(t, s, k, p, r)
	}
	if len(order) > 0 {
		t.Errorf("sim: %d kinds of finding: %v", len(order), order)
	}
}

// TestSimulatorReplays holds the simulator to its first promise: one seed,
// one schedule.
func TestSimulatorReplays(t *testing.T) {
	for _, s := range []uint64{3, 17} {
		a := Simulate(t, Config{Seed: s})
		b := Simulate(t, Config{Seed: s})
		if !slices.Equal(a.Trace, b.Trace) {
			for i := range min(len(a.Trace), len(b.Trace)) {
				if a.Trace[i] != b.Trace[i] {
					t.Fatalf("seed %d: step %d differs:\n  %s\n  %s", s, i, a.Trace[i], b.Trace[i])
				}
			}
			t.Fatalf("seed %d: %d steps, then %d", s, len(a.Trace), len(b.Trace))
		}
		if len(a.Trace) < 20 {
			t.Errorf("seed %d: only %d steps: the run did nothing", s, len(a.Trace))
		}
	}
}
