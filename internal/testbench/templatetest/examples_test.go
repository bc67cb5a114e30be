package templatetest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// aslState is what these checks read of an ASL state.
type aslState struct {
	Type           string          `json:"Type"`
	Resource       string          `json:"Resource"`
	Next           string          `json:"Next"`
	End            bool            `json:"End"`
	Default        string          `json:"Default"`
	TimeoutSeconds int             `json:"TimeoutSeconds"`
	Parameters     json.RawMessage `json:"Parameters"`
	Choices        []struct {
		Next string `json:"Next"`
	} `json:"Choices"`
	Retry []struct {
		ErrorEquals []string `json:"ErrorEquals"`
	} `json:"Retry"`
	Catch []struct {
		ErrorEquals []string `json:"ErrorEquals"`
		Next        string   `json:"Next"`
	} `json:"Catch"`
}

type asl struct {
	StartAt string              `json:"StartAt"`
	States  map[string]aslState `json:"States"`
}

// action is the hook-task action a Task state sends ("" for none).
func (s aslState) action() string {
	var p struct {
		FunctionName string `json:"FunctionName"`
		Payload      struct {
			Action string `json:"action"`
		} `json:"Payload"`
	}
	if json.Unmarshal(s.Parameters, &p) != nil || p.FunctionName != "${HookTaskFunctionArn}" {
		return ""
	}
	return p.Payload.Action
}

// checkCopyMe holds the state machine README tells users to copy to what
// the README promises: every Next exists and every state is reachable;
// every hook-task state retries the transient errors; every await has a
// timeout and catches States.Timeout; and from an await, every path to the
// end passes a dispose, a timeout included (except a conflict: the hook is
// another execution's).
func checkCopyMe(src []byte) error {
	var m asl
	if err := json.Unmarshal(src, &m); err != nil {
		return err
	}
	var errs []string
	add := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	next := func(s aslState) []string {
		var n []string
		for _, t := range append([]string{s.Next, s.Default}, func() (c []string) {
			for _, ch := range s.Choices {
				c = append(c, ch.Next)
			}
			for _, ca := range s.Catch {
				c = append(c, ca.Next)
			}
			return
		}()...) {
			if t != "" {
				n = append(n, t)
			}
		}
		return n
	}
	if _, ok := m.States[m.StartAt]; !ok {
		add("StartAt %q is no state", m.StartAt)
	}
	reached := map[string]bool{}
	var walk func(string)
	walk = func(name string) {
		if reached[name] {
			return
		}
		reached[name] = true
		for _, n := range next(m.States[name]) {
			walk(n)
		}
	}
	walk(m.StartAt)
	for name, s := range m.States {
		for _, n := range next(s) {
			if _, ok := m.States[n]; !ok {
				add("%s: next state %q does not exist", name, n)
			}
		}
		if !reached[name] {
			add("%s is not reachable from %s", name, m.StartAt)
		}
		terminal := s.End || s.Type == "Succeed" || s.Type == "Fail"
		if !terminal && s.Type != "Choice" && s.Next == "" {
			add("%s has neither Next nor End", name)
		}
		if s.Type != "Task" || s.action() == "" {
			continue
		}
		retried := false
		for _, r := range s.Retry {
			if slices.Contains(r.ErrorEquals, "Lambda.Unknown") && slices.Contains(r.ErrorEquals, "ContentionError") && slices.Contains(r.ErrorEquals, "InternalError") {
				retried = true
			}
			if slices.Contains(r.ErrorEquals, "States.Timeout") || slices.Contains(r.ErrorEquals, "States.ALL") {
				add("%s retries %v: a timeout must reach its Catch", name, r.ErrorEquals)
			}
		}
		if !retried {
			add("%s (hook-task %s) has no Retry of Lambda.Unknown, InternalError and ContentionError", name, s.action())
		}
		if s.action() != "await" {
			continue
		}
		if !strings.HasSuffix(s.Resource, ".waitForTaskToken") {
			add("%s awaits without .waitForTaskToken", name)
		}
		if s.TimeoutSeconds <= 0 {
			add("%s awaits without TimeoutSeconds", name)
		}
		caught := false
		for _, c := range s.Catch {
			if slices.Contains(c.ErrorEquals, "States.Timeout") {
				caught = true
			}
		}
		if !caught {
			add("%s does not catch States.Timeout", name)
		}
		// Every path from the await to an end passes a dispose.
		var paths func(at string, seen map[string]bool)
		paths = func(at string, seen map[string]bool) {
			if seen[at] {
				return
			}
			seen[at] = true
			st := m.States[at]
			if st.action() == "dispose" {
				return
			}
			if st.End || st.Type == "Succeed" || st.Type == "Fail" {
				add("the path from %s to %s disposes nothing", name, at)
				return
			}
			for _, n := range next(st) {
				paths(n, maps(seen))
			}
		}
		for _, n := range []string{s.Next} {
			paths(n, map[string]bool{})
		}
		for _, c := range s.Catch {
			if slices.Equal(c.ErrorEquals, []string{"HookConflictError"}) {
				continue // another execution holds the hook: not ours to dispose
			}
			paths(c.Next, map[string]bool{})
		}
	}
	if len(errs) > 0 {
		slices.Sort(errs)
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

func maps(m map[string]bool) map[string]bool {
	c := make(map[string]bool, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// TestCopyMeStateMachine: examples/own-stack/order-approval.asl.json, the state
// machine the README tells users to copy; and the checks fail on copies
// without a timeout, without a dispose after it, or with a dangling Next.
func TestCopyMeStateMachine(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "own-stack", "order-approval.asl.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := checkCopyMe(src); err != nil {
		t.Errorf("examples/own-stack/order-approval.asl.json:\n%v", err)
	}
	for _, b := range [][2]string{
		{`"TimeoutSeconds": 86400,`, ``},
		{`"ResultPath": "$.timeout",
          "Next": "DisposeHook"`, `"ResultPath": "$.timeout",
          "Next": "TimedOut"`},
		{`"Next": "Decide"`, `"Next": "Decision"`},
		{`"ErrorEquals": [
            "States.Timeout"
          ],`, `"ErrorEquals": [
            "States.TaskFailed"
          ],`},
	} {
		if strings.Count(string(src), b[0]) != 1 {
			t.Errorf("the breaking edit's text occurs %d times, want once: %q", strings.Count(string(src), b[0]), b[0])
			continue
		}
		if err := checkCopyMe([]byte(strings.Replace(string(src), b[0], b[1], 1))); err == nil {
			t.Errorf("the checks pass on a copy edited %q → %q", b[0], b[1])
		} else {
			t.Logf("edit %.30q…: %v", b[0], err)
		}
	}
}

// TestExampleTemplatesWireTheCopyMe: both example templates deploy that
// state machine with ${HookTaskFunctionArn} bound, grant its role
// lambda:InvokeFunction on hook-task, and the nested one leaves the
// examples out.
func TestExampleTemplatesWireTheCopyMe(t *testing.T) {
	for _, c := range []struct{ file, defURI, fn string }{
		{"own-stack/template.yaml", "order-approval.asl.json", `ImportValue(Sub(${SfnhooksStackName}-HookTaskFunctionArn))`},
		{"nested-app/template.yaml", "../own-stack/order-approval.asl.json", "GetAtt(Sfnhooks.Outputs.HookTaskFunctionArn)"},
	} {
		src, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", c.file))
		if err != nil {
			t.Fatal(err)
		}
		tp, err := parse(src)
		if err != nil {
			t.Fatal(err)
		}
		var e errs
		e.want(c.file+" DefinitionUri", tp.prop("ApprovalStateMachine", "DefinitionUri"), c.defURI)
		e.want(c.file+" Type", tp.prop("ApprovalStateMachine", "Type"), "STANDARD")
		fn := strings.ReplaceAll(expr(tp.prop("ApprovalStateMachine", "DefinitionSubstitutions", "HookTaskFunctionArn")), "Fn::ImportValue", "ImportValue")
		if fn != strings.ReplaceAll(c.fn, "Fn::", "") {
			e.add("%s: HookTaskFunctionArn bound to %s, want %s", c.file, fn, c.fn)
		}
		pol := expr(tp.prop("ApprovalStateMachine", "Policies"))
		if !strings.Contains(pol, "Action: lambda:InvokeFunction") || !strings.Contains(strings.ReplaceAll(pol, "Fn::ImportValue", "ImportValue"), c.fn) {
			e.add("%s: the state machine's policy %s does not grant lambda:InvokeFunction on %s", c.file, pol, c.fn)
		}
		if c.file == "nested-app/template.yaml" {
			e.want("Location", tp.prop("Sfnhooks", "Location"), "../../template.yaml")
			e.want("IncludeExamples", tp.prop("Sfnhooks", "Parameters", "IncludeExamples"), "false")
		}
		if err := e.err(); err != nil {
			t.Error(err)
		}
	}
}
