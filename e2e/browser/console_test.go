//go:build browser

package browser

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/chromedp/chromedp"

	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
)

// consoleASL awaits hook $.token with the input's tags and metadata and a
// schema, then ends with the payload as output: a rejection or a dispose
// fails the execution with its error.
const consoleASL = `{
  "StartAt": "Await",
  "States": {
    "Await": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters": {
        "FunctionName": "%s",
        "Payload": {
          "action": "await",
          "token.$": "$.token",
          "executionArn.$": "$$.Execution.Id",
          "taskToken.$": "$$.Task.Token",
          "tags.$": "$.tags",
          "metadata.$": "$.metadata",
          "schema": {"type": "object", "required": ["approved"], "properties": {"approved": {"type": "boolean"}, "by": {"type": "string"}}, "additionalProperties": false}
        }
      },
      "ResultPath": "$.decision",
      "End": true
    }
  }
}`

// consoleCLI runs sfnhooks console against the dev API until the test ends
// and returns the launch URL it prints.
func consoleCLI(t *testing.T, api, stateMachine, artifacts string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sfnhooks")
	build := exec.Command("go", "build", "-o", bin, "./cmd/sfnhooks")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the CLI: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "console", "--endpoint", api, "--listen", "127.0.0.1:0", "--state-machine", stateMachine)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(artifacts, "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGINT); _ = cmd.Wait(); logf.Close() })
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "sfnhooks console: open "); ok {
			go func() {
				for lines.Scan() {
				}
			}()
			return u
		}
	}
	t.Fatalf("the console printed no URL: %v", lines.Err())
	return ""
}

// jsDo runs statements in the page: setting values and clicking through the
// DOM (chromedp's SetValue on a <select> and its mouse clicks after a full
// screenshot did not return in headless Chromium).
func jsDo(t *testing.T, ctx context.Context, steps ...string) {
	t.Helper()
	run(t, ctx, chromedp.Evaluate[bool]("(() => {"+strings.Join(steps, ";")+"; return true})()"))
}

func setValue(sel, v string) string {
	q, _ := json.Marshal(sel)
	val, _ := json.Marshal(v)
	return fmt.Sprintf("(e => { e.value = %s; e.dispatchEvent(new Event('input', {bubbles: true})) })(document.querySelector(%s))", val, q)
}

// present waits until sel is in the page, or fails with what the page shows.
func present(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	q, _ := json.Marshal(sel)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if run(t, ctx, chromedp.Evaluate[bool](fmt.Sprintf("!!document.querySelector(%s)", q))) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared; the page shows: %s", sel, run(t, ctx, chromedp.Evaluate[string](`document.body.innerText`)))
		}
	}
}

func click(sel string) string {
	q, _ := json.Marshal(sel)
	return fmt.Sprintf("document.querySelector(%s).click()", q)
}

// The operator console in Chromium against make dev's stack: the waiting
// hooks of a state machine are listed with execution, age, tags, metadata
// and pending count; a tag filter; pages; a resume typed into the editor
// that fails the hook's schema is refused in place (nothing sent) and the
// corrected one completes the execution; a rejection fails another
// execution with the error named; a dispose behind a confirmation removes a
// hook; a cross-site form POST from another local page is refused and
// changes nothing. Screenshots of the same run go to docs/console/.
func TestConsoleInBrowser(t *testing.T) {
	artifacts, err := filepath.Abs(filepath.Join(root, ".state", "browser"))
	if err != nil {
		t.Fatal(err)
	}
	shots, err := filepath.Abs(filepath.Join(root, "docs", "console"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{artifacts, shots} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	api := devServer(t, artifacts)
	var dev struct {
		BridgeURL string            `json:"bridgeUrl"`
		Functions map[string]string `json:"functions"`
	}
	raw, err := os.ReadFile(filepath.Join(root, ".state", "dev.json"))
	if err != nil || json.Unmarshal(raw, &dev) != nil || dev.Functions["hookTask"] == "" {
		t.Fatalf("read .state/dev.json: %v %s", err, raw)
	}
	ctx := context.Background()
	sf := sfn.NewFromConfig(devstack.AWSConfig(dev.BridgeURL))
	run1 := fmt.Sprintf("c%d", time.Now().UnixNano()%1e9)
	sm, err := sf.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String("sfnhooks-dev-console-" + run1),
		Definition: aws.String(fmt.Sprintf(consoleASL, dev.Functions["hookTask"])),
		RoleArn:    aws.String("arn:aws:iam::" + devstack.DefaultAccountID + ":role/sfnhooks-dev-example"),
	})
	if err != nil {
		t.Fatal(err)
	}
	smARN := aws.ToString(sm.StateMachineArn)

	// Four orders: two of customer acme, two of globex.
	type order struct{ token, customer, exec string }
	orders := map[string]*order{}
	waiting := func(tok string) bool {
		var h struct {
			Waiting bool `json:"waiting"`
		}
		return getJSON(t, api+"/hooks/"+tok, &h) == 200 && h.Waiting
	}
	for _, o := range []struct{ name, customer string }{{"resume", "acme"}, {"reject", "acme"}, {"dispose", "globex"}, {"keep", "globex"}} {
		tok := "console-" + o.name + "-" + run1
		in, _ := json.Marshal(map[string]any{"token": tok, "tags": []string{"customer:" + o.customer, "team:billing"},
			"metadata": map[string]any{"order": o.name, "amount": 120}})
		out, err := sf.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String(o.name + "-" + run1), Input: aws.String(string(in))})
		if err != nil {
			t.Fatal(err)
		}
		orders[o.name] = &order{token: tok, customer: o.customer, exec: aws.ToString(out.ExecutionArn)}
		// The hook is created when the execution's await runs, so the next
		// execution starts only once this one waits: the ages are in order.
		waitFor(t, tok+" to wait", func() bool { return waiting(tok) })
	}
	status := func(exec string) *sfn.DescribeExecutionOutput {
		out, err := sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(exec)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	launch := consoleCLI(t, api, smARN, artifacts)
	bctx := browser(t)
	res, err := chromedp.Run(bctx, chromedp.NavigateResponse(launch))
	if err != nil || res.Status != 200 {
		t.Fatalf("open the console: %v %v", err, res)
	}
	rows := func() []string {
		return run(t, bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#hooks tbody tr[data-token]")].map(r => r.dataset.token)`))
	}
	waitRows := func(what string, n int) []string {
		var got []string
		waitFor(t, what, func() bool { got = rows(); return len(got) == n })
		return got
	}

	// The waiting hooks, newest first, with what an operator needs.
	got := waitRows("4 waiting hooks", 4)
	if got[0] != orders["keep"].token || got[3] != orders["resume"].token {
		t.Fatalf("rows %v, want newest first", got)
	}
	row := run(t, bctx, chromedp.Text(`tr[data-token="`+orders["reject"].token+`"]`))
	for _, want := range []string{"customer:acme", "team:billing", `"order":"reject"`, "waiting", "reject-" + run1} {
		if !strings.Contains(row, want) {
			t.Errorf("row %q lacks %q", row, want)
		}
	}
	href := run(t, bctx, chromedp.Evaluate[string](`document.querySelector('tr[data-token="`+orders["reject"].token+`"] a').href`))
	if !strings.HasPrefix(href, "https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/") || !strings.Contains(href, "reject-"+run1) {
		t.Errorf("execution link %q", href)
	}
	// Other partitions link to their own console; an ARN whose region is
	// not plainly one (it becomes part of a host name) gets no link.
	for arn, want := range map[string]string{
		"arn:aws-cn:states:cn-north-1:123456789012:execution:sm:e1":          "https://console.amazonaws.cn/states/home?region=cn-north-1#/v2/executions/details/arn%3Aaws-cn%3Astates%3Acn-north-1%3A123456789012%3Aexecution%3Asm%3Ae1",
		"arn:aws-us-gov:states:us-gov-west-1:123456789012:execution:sm:e1":   "https://console.amazonaws-us-gov.com/states/home?region=us-gov-west-1#/v2/executions/details/arn%3Aaws-us-gov%3Astates%3Aus-gov-west-1%3A123456789012%3Aexecution%3Asm%3Ae1",
		"arn:aws:states:evil.example/x?:123456789012:execution:sm:e1":        "",
		"arn:aws:states:us-east-1.evil.example:123456789012:execution:sm:e1": "",
		"arn:aws-iso:states:us-iso-east-1:123456789012:execution:sm:e1":      "",
	} {
		got := run(t, bctx, chromedp.Evaluate[string](fmt.Sprintf(`executionLink(%q).href || ""`, arn)))
		if got != want {
			t.Errorf("link of %s: %q, want %q", arn, got, want)
		}
	}
	screenshot(t, bctx, filepath.Join(shots, "console-list.png"))

	// Pages of two.
	jsDo(t, bctx, setValue(`#limit`, "2"), click(`#apply`))
	first := waitRows("a page of 2", 2)
	jsDo(t, bctx, click(`#next`))
	var second []string
	waitFor(t, "the second page", func() bool { second = rows(); return len(second) == 2 && second[0] != first[0] })
	if second[0] != got[2] || second[1] != got[3] {
		t.Fatalf("pages %v then %v, want %v", first, second, got)
	}

	// Filter by tag.
	jsDo(t, bctx, setValue(`#limit`, "20"), setValue(`#tag`, "customer:acme"), click(`#apply`))
	acme := waitRows("the acme hooks", 2)
	if acme[0] != orders["reject"].token || acme[1] != orders["resume"].token {
		t.Fatalf("tag customer:acme: %v", acme)
	}
	screenshot(t, bctx, filepath.Join(shots, "console-filter.png"))

	// Resume with the editor: a payload that fails the schema is refused in
	// place, nothing sent; the corrected one completes the execution.
	rtok := orders["resume"].token
	jsDo(t, bctx, click(`tr[data-token="`+rtok+`"] button.resume`))
	present(t, bctx, `#payload`)
	present(t, bctx, `#schema`)
	jsDo(t, bctx, setValue(`#payload`, `{"approve": true}`), click(`#send`))
	var msg string
	waitFor(t, "the schema error", func() bool { msg = run(t, bctx, chromedp.Text(`#editor-error`)); return msg != "" })
	if !strings.Contains(msg, "SchemaValidation") || !strings.Contains(msg, "required") || !strings.Contains(msg, "nothing was sent") {
		t.Fatalf("schema error shown: %q", msg)
	}
	if !waiting(rtok) || status(orders["resume"].exec).Status != "RUNNING" {
		t.Fatal("a payload refused by the schema reached the hook")
	}
	screenshot(t, bctx, filepath.Join(shots, "console-schema-error.png"))
	jsDo(t, bctx, setValue(`#payload`, `{"approved": true, "by": "console"}`), click(`#send`))
	waitFor(t, "the resumed execution to succeed", func() bool { return status(orders["resume"].exec).Status == "SUCCEEDED" })
	var output struct {
		Decision map[string]any `json:"decision"`
	}
	if out := aws.ToString(status(orders["resume"].exec).Output); json.Unmarshal([]byte(out), &output) != nil ||
		output.Decision["approved"] != true || output.Decision["by"] != "console" || len(output.Decision) != 2 {
		t.Fatalf("resumed execution output %s", out)
	}
	waitRows("the resumed hook to leave the waiting list", 1)

	// Reject with an error name and cause.
	jtok := orders["reject"].token
	jsDo(t, bctx, click(`tr[data-token="`+jtok+`"] button.reject`))
	present(t, bctx, `#reject-error`)
	jsDo(t, bctx, setValue(`#reject-error`, "OrderRejected"), setValue(`#reject-cause`, "over the customer's limit"))
	screenshot(t, bctx, filepath.Join(shots, "console-reject.png"))
	jsDo(t, bctx, click(`#reject-send`))
	waitFor(t, "the rejected execution to fail", func() bool { return status(orders["reject"].exec).Status == "FAILED" })
	if st := status(orders["reject"].exec); aws.ToString(st.Error) != "OrderRejected" || aws.ToString(st.Cause) != "over the customer's limit" {
		t.Fatalf("rejected execution: %s %s", aws.ToString(st.Error), aws.ToString(st.Cause))
	}

	// A cross-site POST from another local page is refused: the console
	// answers 403 and the hook stays.
	dtok := orders["dispose"].token
	consoleOrigin := strings.Split(launch, "/?")[0]
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><form id="f" method="post" enctype="text/plain" action="%s/api/hooks/%s/dispose"><input name='{"executionArn":"%s","x":"' value='"}'></form><script>document.getElementById("f").submit()</script>`,
			consoleOrigin, dtok, orders["dispose"].exec)
	}))
	defer evil.Close()
	res, err = chromedp.Run(bctx, chromedp.NavigateResponse(evil.URL))
	if err != nil {
		t.Fatal(err)
	}
	var body string
	waitFor(t, "the forged POST's answer", func() bool {
		body = run(t, bctx, chromedp.Evaluate[string](`location.href + " " + document.body.innerText`))
		return strings.Contains(body, "/api/hooks/")
	})
	if !strings.Contains(body, "Forbidden") || !strings.Contains(body, "refuses") {
		t.Fatalf("forged cross-site POST answered: %q", body)
	}
	screenshot(t, bctx, filepath.Join(artifacts, "console-cross-site.png"))
	if !waiting(dtok) {
		t.Fatal("a cross-site POST disposed the hook")
	}

	// Dispose, behind a confirmation.
	if _, err := chromedp.Run(bctx, chromedp.NavigateResponse(launch)); err != nil {
		t.Fatal(err)
	}
	waitRows("the two globex hooks", 2)
	jsDo(t, bctx, click(`tr[data-token="`+dtok+`"] button.dispose`))
	present(t, bctx, `button.confirm-dispose`)
	if !waiting(dtok) {
		t.Fatal("the dispose button disposed before the confirmation")
	}
	screenshot(t, bctx, filepath.Join(shots, "console-dispose-confirm.png"))
	jsDo(t, bctx, click(`button.confirm-dispose`))
	if left := waitRows("the disposed hook to go", 1); left[0] != orders["keep"].token {
		t.Fatalf("after the dispose: %v", left)
	}
	var gone struct{}
	if code := getJSON(t, api+"/hooks/"+dtok, &gone); code != 404 {
		t.Fatalf("disposed hook: GET %d, want 404", code)
	}
	waitFor(t, "the disposed hook's execution to fail", func() bool { return status(orders["dispose"].exec).Status == "FAILED" })
	if e := aws.ToString(status(orders["dispose"].exec).Error); e != "HookDisposedError" {
		t.Errorf("disposed hook's execution failed with %q", e)
	}
}
