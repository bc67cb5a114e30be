package sim

import (
	"testing"
	"time"
)

func TestCraft(t *testing.T) {
	plans := map[string]*Plan{
		"big": {Execs: []ExecPlan{{Name: "E1", Hook: "approval-1", Branches: 1, Retries: 3, BigAttrs: true}},
			Actions: []Action{{At: time.Second, Kind: ActResume, Text: `{"p":"a"}`}, {At: 2 * time.Second, Kind: ActResume, Text: `{"p":"b"}`},
				{At: 3 * time.Second, Kind: ActResume, Text: `{"p":"c"}`}, {At: 10 * time.Second, Kind: ActResume, Text: `{"p":"d"}`, N: 255 * 1024}}},
		"link": {Execs: []ExecPlan{{Name: "E1", Hook: "approval-1", Branches: 1, Retries: 3}},
			Actions: []Action{{At: time.Second, Kind: ActLink, Text: "g0", D: 9 * 24 * time.Hour}},
			Faults:  []FaultRule{{Actor: "act00", Call: 5, Fault: Crash}}},
	}
	for name, p := range plans {
		for seed := uint64(1); seed <= 4; seed++ {
			r := Simulate(t, Config{Seed: seed, Plan: p})
			t.Logf("%s seed %d: %d steps, findings %v", name, seed, r.Steps, r.Findings)
			if name == "link" && seed == 1 {
				for _, l := range r.Trace {
					t.Log(l)
				}
			}
		}
	}
}
