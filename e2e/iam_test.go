package e2e

// IAM matches the code. moto enforces no IAM, so a grant missing from
// template.yaml would only show on AWS. TestMain records the IAM action of
// every AWS call the Lambda functions make across this package's tests and
// checks them against each function's role in template.yaml, both ways:
//
//   - an action a function used that its role does not allow fails the run,
//     always (also under -run: any use seen is a use);
//   - an action a role allows that its function never used fails the run,
//     unless the action's line in template.yaml ends with a comment
//     "# unused-by-tests: <why it is kept>" (iamactions.UnusedMarker). This
//     is only concluded from a whole run: no -run, -skip or -list filter, no
//     -short, every test passed.
//
// A call is the function's when the code of the function's adapter
// (internal/adapter/<x>, what functions/<x>/main.go runs) is on the calling
// goroutine's stack ("handler"), or else when it is made inside a hooks.Client
// method that the adapter's interface to the library lists ("Client.<Method>":
// tests also drive the library directly, e.g. the crash tests' resumer, and the
// function makes the same calls for that method). Other calls (the tests'
// own setup and checks) belong to no function. Every client the tests build
// with devstack.AWSConfig carries the recorder.

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/sfnhooks/sfnhooks/internal/adapter/approvallink"
	"github.com/sfnhooks/sfnhooks/internal/adapter/hooktask"
	"github.com/sfnhooks/sfnhooks/internal/adapter/resumehook"
	"github.com/sfnhooks/sfnhooks/internal/adapter/resumewebhook"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/internal/testbench/iamactions"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// iamFunctions ties each function of template.yaml to its adapter's
// interface to hooks.Client, declared in the adapter package
// (TestIAMFunctionAdapters checks the ties against the Makefile and
// functions/*/main.go).
var iamFunctions = map[string]reflect.Type{
	"ResumeHookFunction":    reflect.TypeFor[resumehook.Resumer](),
	"ResumeWebhookFunction": reflect.TypeFor[resumewebhook.Resumer](),
	"ApprovalLinkFunction":  reflect.TypeFor[approvallink.Linker](),
	"HookTaskFunction":      reflect.TypeFor[hooktask.Hooks](),
}

var (
	hooksPkg = reflect.TypeFor[hooks.Client]().PkgPath()
	// adapterFunction: adapter package path → function.
	// methodFunction: hooks.Client method → the function whose adapter calls it.
	adapterFunction, methodFunction = functionsByCode()
	iamRecorder                     = &iamactions.Recorder{Attribute: attributeCall}
)

func functionsByCode() (byPkg, byMethod map[string]string) {
	byPkg, byMethod = map[string]string{}, map[string]string{}
	for fn, api := range iamFunctions {
		byPkg[api.PkgPath()] = fn
		for m := range api.Methods() {
			if other, dup := byMethod[m.Name]; dup {
				panic(fmt.Sprintf("hooks.Client.%s is called by both %s and %s: attribute its calls otherwise", m.Name, fn, other))
			}
			byMethod[m.Name] = fn
		}
	}
	return byPkg, byMethod
}

// TestMain runs the tests, then checkIAM: after every test, whatever their
// order.
func TestMain(m *testing.M) {
	devstack.AddAPIOptions(iamRecorder.Middleware)
	code := m.Run()
	if err := checkIAM(os.Stdout, code == 0 && wholeSuite()); err != nil {
		fmt.Fprintln(os.Stdout, err)
		code = 1
	}
	os.Exit(code)
}

// wholeSuite reports whether this run executes every test of the package:
// no -run, -skip or -list filter and no -short. Only then does "no test
// used this grant" mean something.
func wholeSuite() bool {
	for _, name := range []string{"test.run", "test.skip", "test.list"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return !testing.Short()
}

// attributeCall names the function an AWS call is made for, from the
// calling goroutine's stack (see the comment at the top of this file).
func attributeCall(context.Context) (iamactions.Caller, error) {
	pcs := make([]uintptr, 128)
	n := runtime.Callers(1, pcs)
	for n == len(pcs) {
		pcs = make([]uintptr, 2*len(pcs))
		n = runtime.Callers(1, pcs)
	}
	frames := runtime.CallersFrames(pcs[:n])
	var library, entry string // innermost pkg/hooks function; outermost exported Client method
	for more := true; more; {
		var f runtime.Frame
		f, more = frames.Next()
		pkg, name := splitFuncName(f.Function)
		if fn, ok := adapterFunction[pkg]; ok {
			return iamactions.Caller{Function: fn, Via: "handler"}, nil
		}
		if pkg != hooksPkg {
			continue
		}
		if library == "" {
			library = f.Function
		}
		// A goroutine a Client method starts (a closure, (*Client).M.func1)
		// makes its calls for that method.
		if m, ok := strings.CutPrefix(name, "(*Client)."); ok {
			if i := strings.Index(m, ".func"); i > 0 {
				m = m[:i]
			}
			name = "(*Client)." + m
		}
		if m, ok := strings.CutPrefix(name, "(*Client)."); ok && token.IsIdentifier(m) && token.IsExported(m) {
			entry = m
		}
	}
	switch {
	case entry != "":
		// A method no adapter calls (Resume, used by Go callers with roles
		// of their own) is no function's.
		return iamactions.Caller{Function: methodFunction[entry], Via: "Client." + entry}, nil
	case library != "":
		return iamactions.Caller{}, fmt.Errorf("made by %s outside any hooks.Client method (on a goroutine of its own?): tie it to a function in e2e/iam_test.go", library)
	default:
		return iamactions.Caller{}, nil
	}
}

// splitFuncName splits a runtime function name
// (example.com/a/pkg.(*T).Method) into package path and the rest.
func splitFuncName(s string) (pkg, name string) {
	slash := strings.LastIndexByte(s, '/')
	dot := strings.IndexByte(s[slash+1:], '.')
	if dot < 0 {
		return s, ""
	}
	return s[:slash+1+dot], s[slash+2+dot:]
}

// checkIAM compares what the functions used with template.yaml (see the top
// of this file); whole says whether unused grants are to be concluded. It
// writes the table of actions used to w when testing.Verbose() or when the
// check fails.
func checkIAM(w io.Writer, whole bool) error {
	uses := iamRecorder.Uses()
	if len(uses) == 0 && iamRecorder.Err() == nil {
		if whole || testing.Verbose() {
			fmt.Fprintln(w, "iam: no Lambda function made an AWS call (were the stack tests skipped?): template.yaml not checked")
		}
		return nil
	}
	src, err := os.ReadFile(filepath.Join("..", "template.yaml"))
	if err != nil {
		return fmt.Errorf("iam: %w", err)
	}
	tmpl, err := iamactions.ParseTemplate(src)
	if err != nil {
		return fmt.Errorf("iam: %w", err)
	}
	for fn := range iamFunctions {
		if _, ok := tmpl.Functions[fn]; !ok {
			return fmt.Errorf("iam: template.yaml has no function %s", fn)
		}
	}
	report, err := iamactions.Check(tmpl, iamRecorder.Used())
	if err != nil {
		return fmt.Errorf("iam: %w", err)
	}

	var problems []string
	if err := iamRecorder.Err(); err != nil {
		problems = append(problems, "AWS calls that could not be recorded:\n  "+strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	if len(report.Missing) > 0 {
		problems = append(problems, "used but not granted by template.yaml (AWS would deny these calls):"+lines(report.Missing))
	}
	if whole && len(report.Unused) > 0 {
		problems = append(problems, "granted by template.yaml but used by no test: remove the grant, or end its line with "+
			"\"# "+iamactions.UnusedMarker+" <why it is kept>\":"+lines(report.Unused))
	}
	if testing.Verbose() || len(problems) > 0 {
		writeUses(w, tmpl, uses)
	}
	if testing.Verbose() {
		if len(report.Kept) > 0 {
			fmt.Fprintln(w, "iam: granted, used by no test, kept by their comment:"+lines(report.Kept))
		}
		if len(report.Marked) > 0 {
			fmt.Fprintln(w, "iam: used in this run though marked "+iamactions.UnusedMarker+" (is the comment stale?):"+lines(report.Marked))
		}
		if !whole {
			fmt.Fprintln(w, "iam: not the whole suite, or a test failed: unused grants not checked")
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("iam: FAIL: %s", strings.Join(problems, "\niam: FAIL: "))
	}
	return nil
}

func lines(fs []iamactions.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("\n  " + f.String())
	}
	return b.String()
}

// writeUses writes, for each function, each action it used: through which
// operations, in how many calls, and how the calls were tied to it.
func writeUses(w io.Writer, tmpl *iamactions.Template, uses map[iamactions.Use]int) {
	keys := slices.SortedFunc(maps.Keys(uses), func(a, b iamactions.Use) int {
		return cmp.Or(cmp.Compare(a.Function, b.Function), cmp.Compare(a.Action, b.Action),
			cmp.Compare(a.Operation, b.Operation), cmp.Compare(a.Via, b.Via))
	})
	fmt.Fprintln(w, "iam: actions used by the Lambda functions in this run:")
	for i, u := range keys {
		if i == 0 || u.Function != keys[i-1].Function {
			fmt.Fprintf(w, "  %s (role %s)\n", u.Function, tmpl.Functions[u.Function])
		}
		if i == 0 || u.Function != keys[i-1].Function || u.Action != keys[i-1].Action {
			fmt.Fprintf(w, "    %-28s", u.Action)
		} else {
			fmt.Fprint(w, ",")
		}
		fmt.Fprintf(w, " %s ×%d (%s)", u.Operation, uses[u], u.Via)
		if i == len(keys)-1 || u.Function != keys[i+1].Function || u.Action != keys[i+1].Action {
			fmt.Fprintln(w)
		}
	}
}

// TestIAMFunctionAdapters: iamFunctions names, for each function, the
// adapter package that its Makefile target builds (build-<Function> →
// functions/<dir>/main.go → internal/adapter/<x>).
func TestIAMFunctionAdapters(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets := regexp.MustCompile(`(?m)^build-(\w+):\n\t\$\(call lambda_bootstrap,([\w-]+)\)`).FindAllStringSubmatch(string(mk), -1)
	built := map[string]bool{}
	adapterPrefix := strings.TrimSuffix(hooksPkg, "pkg/hooks") + "internal/adapter/"
	for _, m := range targets {
		fn, dir := m[1], m[2]
		built[fn] = true
		api, ok := iamFunctions[fn]
		if !ok {
			t.Errorf("Makefile builds %s (functions/%s), which iamFunctions does not know", fn, dir)
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "functions", dir, "main.go"), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		var adapters []string
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(p, adapterPrefix) {
				adapters = append(adapters, p)
			}
		}
		if len(adapters) != 1 || adapters[0] != api.PkgPath() {
			t.Errorf("functions/%s/main.go (%s) imports the adapters %q; iamFunctions says %s", dir, fn, adapters, api.PkgPath())
		}
	}
	for fn := range iamFunctions {
		if !built[fn] {
			t.Errorf("iamFunctions names %s, which the Makefile does not build", fn)
		}
	}
}

// emptyAnswers answers every AWS request 200 {}: an item that is not there.
type emptyAnswers struct{}

func (emptyAnswers) Do(*http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body:       io.NopCloser(strings.NewReader("{}")),
	}, nil
}

// TestAttributeCall ties calls to functions as the top of this file says;
// AWS is a stub here, so this needs no stack.
func TestAttributeCall(t *testing.T) {
	rec := &iamactions.Recorder{Attribute: attributeCall}
	cfg := devstack.AWSConfig("http://127.0.0.1:1")
	cfg.HTTPClient = emptyAnswers{}
	cfg.APIOptions = []func(*middleware.Stack) error{rec.Middleware} // only this recorder
	client, err := hooks.New(cfg, func(o *hooks.Options) { o.TableName = "t" })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// The resume-hook function's code: GET /hooks/{token}.
	h := resumehook.New(client, slog.New(slog.DiscardHandler))
	var ev events.APIGatewayV2HTTPRequest
	ev.RawPath, ev.RequestContext.HTTP.Method = "/hooks/tok", http.MethodGet
	if resp, err := h.HandleHTTP(ctx, ev); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /hooks/tok: %d, %v; want 404", resp.StatusCode, err)
	}
	// The library method that function calls, called directly.
	if _, err := client.GetHook(ctx, "tok"); !errors.Is(err, hooks.ErrHookNotFound) {
		t.Fatalf("GetHook: %v", err)
	}
	// A test's own call is no function's.
	key := map[string]dbtypes.AttributeValue{"pk": &dbtypes.AttributeValueMemberS{Value: "x"}}
	if _, err := dynamodb.NewFromConfig(cfg).GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: key}); err != nil {
		t.Fatal(err)
	}

	want := map[iamactions.Use]int{
		{Caller: iamactions.Caller{Function: "ResumeHookFunction", Via: "handler"}, Action: "dynamodb:GetItem", Operation: "DynamoDB.GetItem"}:        1,
		{Caller: iamactions.Caller{Function: "ResumeHookFunction", Via: "Client.GetHook"}, Action: "dynamodb:GetItem", Operation: "DynamoDB.GetItem"}: 1,
	}
	if got := rec.Uses(); !reflect.DeepEqual(got, want) {
		t.Errorf("recorded %v, want %v", got, want)
	}
	if err := rec.Err(); err != nil {
		t.Error(err)
	}
}

func TestSplitFuncName(t *testing.T) {
	tests := []struct{ in, pkg, name string }{
		{"github.com/sfnhooks/sfnhooks/pkg/hooks.(*Client).ResumeHook", "github.com/sfnhooks/sfnhooks/pkg/hooks", "(*Client).ResumeHook"},
		{"github.com/sfnhooks/sfnhooks/pkg/hooks.(*Client).ResumeHook.func1", "github.com/sfnhooks/sfnhooks/pkg/hooks", "(*Client).ResumeHook.func1"},
		{"github.com/a/b.v2/c.F", "github.com/a/b.v2/c", "F"},
		{"runtime.goexit", "runtime", "goexit"},
		{"main", "main", ""},
	}
	for _, tc := range tests {
		if pkg, name := splitFuncName(tc.in); pkg != tc.pkg || name != tc.name {
			t.Errorf("splitFuncName(%q) = %q, %q; want %q, %q", tc.in, pkg, name, tc.pkg, tc.name)
		}
	}
}

// The resume functions seal payloads but can never open one
// (docs/sealed.md): their roles grant kms:GenerateDataKey and no action that
// decrypts (kms:Decrypt, kms:ReEncrypt*, wildcards included: the check asks
// whether a call would be allowed), while hook-task's role grants
// kms:Decrypt for its action open.
func TestIAMResumeRolesCannotDecrypt(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := iamactions.ParseTemplate(src)
	if err != nil {
		t.Fatal(err)
	}
	decrypting := []string{"kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo"}
	for _, tc := range []struct {
		fn          string
		used        []string
		wantMissing []string
	}{
		{"ResumeHookFunction", append([]string{"kms:GenerateDataKey"}, decrypting...), decrypting},
		{"ResumeWebhookFunction", append([]string{"kms:GenerateDataKey"}, decrypting...), decrypting},
		{"HookTaskFunction", []string{"kms:Decrypt"}, nil},
	} {
		report, err := iamactions.Check(tmpl, map[string][]string{tc.fn: tc.used})
		if err != nil {
			t.Fatal(err)
		}
		var missing []string
		for _, f := range report.Missing {
			if f.Function == tc.fn {
				missing = append(missing, f.Action)
			}
		}
		if !slices.Equal(missing, tc.wantMissing) {
			t.Errorf("%s: of %v its role denies %v, want %v", tc.fn, tc.used, missing, tc.wantMissing)
		}
	}
}
