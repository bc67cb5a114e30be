package sim

import (
	"os"
	"testing"
	"time"
)

// auditScenarios are hand-made plans for mutants of the test audit
// (cmd/mutate, M60 to M64) that the generated seeds did not kill: each
// runs clean on today's code and gives a finding with its mutant applied
// (go run ./cmd/mutate -pkgs ./internal/testbench/sim/ -only NAME).
var auditScenarios = []struct {
	name string
	seed uint64
	plan Plan
}{
	{
		// M63 (settle's "the task's end is in the history" true when any
		// task of the execution ended). T1 receives r0 and ends; the loop
		// parks T2. The history starts to hide its newest 4 events. r2
		// takes T2 and its SendTaskSuccess applies (T2 succeeds with r2;
		// the loop parks T3), but the answer is lost and the SDK's resend,
		// about 1 s later, is answered closed. The history now shows T1's
		// end and T2's TaskScheduled, not T2's end (events 9 to 12: T2's
		// TaskSucceeded, T3's three), for the 3 s the settlement reads it
		// again: r2's outcome is unknown (an error) and its record stays.
		// Taking T1's end for T2's, the settlement finds T2 over without
		// r2 and restores it into T3: r2 received twice (duplicate).
		name: "a closed answer whose own end lags the history is not requeued", seed: 1,
		plan: Plan{Execs: []ExecPlan{{Name: "E1", Hook: "approval-1", Branches: 1, Retries: 3}},
			Actions: []Action{
				{ID: 0, At: time.Second, Kind: ActResume, Text: `{"p":"r0"}`},
				{ID: 1, At: 2 * time.Second, Kind: ActLag, N: 4, D: 8 * time.Second},
				{ID: 2, At: 3 * time.Second, Kind: ActResume, Text: `{"p":"r2"}`},
			},
			Faults: []FaultRule{{Actor: "act02", Call: 2, Fault: Lost}}},
	},
}

// TestSimulatorAuditScenarios replays each audit scenario: none may find
// anything.
func TestSimulatorAuditScenarios(t *testing.T) {
	for _, sc := range auditScenarios {
		t.Run(sc.name, func(t *testing.T) {
			p := sc.plan
			r := Simulate(t, Config{Seed: sc.seed, Plan: &p})
			for _, f := range r.Findings {
				t.Errorf("seed %d: %s", sc.seed, f)
			}
			if r.Steps < 10 {
				t.Errorf("seed %d: %d steps: the scenario did not run", sc.seed, r.Steps)
			}
			if os.Getenv("AUDIT_TRACE") != "" {
				for _, l := range r.Trace {
					t.Log(l)
				}
			}
		})
	}
}
