package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// hotSize reads a size from the environment (make stress sets the full
// size), else def.
func hotSize(t *testing.T, env string, def int) int {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive number", env, v)
	}
	return n
}

// TestHotHook: many concurrent resumes of one hook through POST
// /hooks/{token} (the real resume-hook handler), while the collect example
// awaits it in a loop (issue 10). Every resume is acknowledged (no 503:
// appends do not fight over a counter), every payload is delivered once,
// and a resume acknowledged before another began is delivered before it.
// make test runs 200 resumes with 50 in flight (the previous protocol
// answered a third of them 503); make stress runs 500 with 64 in flight
// (SFNHOOKS_HOT_RESUMES, SFNHOOKS_HOT_INFLIGHT).
func TestHotHook(t *testing.T) {
	t.Parallel()
	total := hotSize(t, "SFNHOOKS_HOT_RESUMES", 200)
	inFlight := hotSize(t, "SFNHOOKS_HOT_INFLIGHT", 50)
	e := newEnv(t)
	token := "hot-" + randomSuffix()
	arn := e.start("collect", map[string]any{"token": token, "count": total, "pauseSeconds": 0})
	e.waiting(token)

	type span struct{ start, end time.Time }
	spans := make([]span, total)
	statuses := make([]int, total)
	bodies := make([]string, total)
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	for i := range total {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			spans[i].start = time.Now()
			r := e.post(token, fmt.Sprintf(`{"n":%d}`, i), nil)
			spans[i].end = time.Now()
			statuses[i], bodies[i] = r.Status, r.Body
		})
	}
	wg.Wait()
	for i, st := range statuses {
		if st != http.StatusOK {
			t.Errorf("resume %d: status %d body %s, want 200", i, st, bodies[i])
		}
	}
	if t.Failed() {
		return
	}

	// The loop receives one payload per await, each a Step Functions
	// round trip on the emulator: give it time by the payload count (this
	// is no speed check; make scale measures throughput).
	var out collectOutput
	e.succeededWithin(arn, &out, time.Duration(total)*time.Second)
	pos := make([]int, total) // delivery position of each payload
	for i := range pos {
		pos[i] = -1
	}
	for p, raw := range out.Received {
		var v struct{ N *int }
		if err := json.Unmarshal(raw, &v); err != nil || v.N == nil || *v.N < 0 || *v.N >= total {
			t.Fatalf("received %s: not a payload of this test", raw)
		}
		if pos[*v.N] >= 0 {
			t.Errorf("payload %d delivered twice (at %d and %d)", *v.N, pos[*v.N], p)
		}
		pos[*v.N] = p
	}
	for i, p := range pos {
		if p < 0 {
			t.Errorf("payload %d acknowledged but never delivered", i)
		}
	}
	// FIFO: a resume acknowledged before another one began comes first.
	violations := 0
	for a := range total {
		for b := range total {
			if spans[a].end.Before(spans[b].start) && pos[a] > pos[b] {
				violations++
				if violations <= 5 {
					t.Errorf("payload %d was acknowledged before payload %d was sent, but delivered after it (%d > %d)", a, b, pos[a], pos[b])
				}
			}
		}
	}
	t.Logf("%d resumes, %d in flight: all acknowledged, %d delivered, %d order violations", total, inFlight, len(out.Received), violations)
}
