// Command sfnhooks-dev is `make dev`: the local stack for a person.
//
// It uses the offline AWS stack (moto; it runs scripts/stack.sh up when none
// answers, and scripts/stack.sh down on exit if it did), binds the Lambda
// bridge with the real hook-task, resume-hook, resume-webhook and
// approval-link handlers, creates the hooks table and the example state
// machines, and serves the API Gateway routes of template.yaml on a local port (default
// http://127.0.0.1:3000) with the same handlers, fed payload format 2.0
// events. It writes the endpoints and ARNs to .state/dev.json, prints a curl
// walkthrough of the approval example, and stays in the foreground until
// Ctrl-C.
//
// Dev-only helper routes (not in template.yaml, no AWS CLI needed):
//
//	POST /dev/executions/{machine}          start an execution; body = input JSON
//	GET  /dev/executions/{machine}/{name}   describe it, with its hooks ("latest": the last one started here);
//	                                        "sent" is what its SendLinks state "emailed"
//
// As the EventBridge rule of template.yaml does on AWS with DisposeScope
// account, it disposes the hooks of every execution that ends on the local
// stack: the examples', a state machine given with -asl, or one created in
// moto by hand (devstack.EndedPoller with All: it polls Step Functions each
// second).
//
// Your own state machine: `make dev ASL=path/to/machine.asl.json` (or
// -asl a.asl.json,b.asl.json) creates it as sfnhooks-<name> (name: the file
// name without .asl.json or .json), with ${HookTaskFunctionArn},
// ${HooksKmsKeyArn}, ${PaymentWebhookSecretArn} and
// ${AwaitTimeoutSeconds} substituted as for the examples; start it with
// POST /dev/executions/<name>.
//
// Environment: SFNHOOKS_DEV_ADDR (default 127.0.0.1:3000), SFNHOOKS_MOTO_PORT,
// SFNHOOKS_BRIDGE_PORT (scripts/stack.sh), SFNHOOKS_DEV_ASL (as -asl),
// SFNHOOKS_AWAIT_TIMEOUT_SECONDS (${AwaitTimeoutSeconds}, default
// 86400, template.yaml's AwaitTimeoutSeconds).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/sfnhooks/sfnhooks/internal/adapter/approvallink"
	"github.com/sfnhooks/sfnhooks/internal/adapter/hooktask"
	"github.com/sfnhooks/sfnhooks/internal/adapter/resumehook"
	"github.com/sfnhooks/sfnhooks/internal/adapter/resumewebhook"
	"github.com/sfnhooks/sfnhooks/internal/testbench/apigwlocal"
	"github.com/sfnhooks/sfnhooks/internal/testbench/devstack"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Names of the local resources: those sam deploy gives a stack named
// "sfnhooks" (template.yaml: ${AWS::StackName}-<name>).
const (
	stackName = "sfnhooks"
	tableName = stackName + "-dev"
)

// function names on the bridge, as in template.yaml.
var (
	hookTaskName      = stackName + "-hook-task"
	resumeHookName    = stackName + "-resume-hook"
	resumeWebhookName = stackName + "-resume-webhook"
	approvalLinkName  = stackName + "-approval-link"
)

// The payment example's signing secret (template.yaml's PaymentWebhookSecret,
// named WebhookSecretsPrefix + stack name + "-payment"). Its value is fixed
// so that the README's openssl line signs a request by hand: a Standard
// Webhooks secret is "whsec_" + base64(key), and this key is the printable
// paymentSecretKey.
const (
	paymentSecretName = "sfnhooks/" + stackName + "-payment"
	paymentSecretKey  = "sfnhooks-dev-payment-secret-0001"
	paymentSecret     = "whsec_c2ZuaG9va3MtZGV2LXBheW1lbnQtc2VjcmV0LTAwMDE="
)

// examples are the state machines of template.yaml: name → definition file.
var examples = []struct{ short, file string }{
	{"approval", "examples/approval.asl.json"},
	{"payment", "examples/payment.asl.json"},
	{"approval-links", "examples/approval-links.asl.json"},
	{"sealed-approval", "examples/sealed.asl.json"},
}

func main() {
	addr := flag.String("addr", envOr("SFNHOOKS_DEV_ADDR", "127.0.0.1:3000"), "address of the local HTTP API")
	root := flag.String("root", ".", "repository root (scripts/, examples/, .state/)")
	state := flag.String("state", "", "where to write the endpoints and ARNs (default ROOT/.state/dev.json)")
	asl := flag.String("asl", os.Getenv("SFNHOOKS_DEV_ASL"), "your own state machines: comma-separated ASL files, each created as "+stackName+"-<file name>")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	// Ctrl-C for this process alone: make dev then exits 0 (takeTerminal).
	restore := takeTerminal()
	defer restore()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var files []string
	for f := range strings.SplitSeq(*asl, ",") {
		if f = strings.TrimSpace(f); f != "" {
			files = append(files, f)
		}
	}
	if err := run(ctx, log, *root, *addr, *state, files...); err != nil {
		fmt.Fprintf(os.Stderr, "make dev: %v\n", err)
		restore()
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// devState is .state/dev.json.
type devState struct {
	PID           int               `json:"pid"`
	APIURL        string            `json:"apiUrl"`
	BridgeURL     string            `json:"bridgeUrl"`
	MotoURL       string            `json:"motoUrl"`
	StartedMoto   bool              `json:"startedMoto"`
	TableName     string            `json:"tableName"`
	Functions     map[string]string `json:"functions"`
	StateMachines map[string]string `json:"stateMachines"`
	// KMSKeyARN is the key of the sealed approval example (HooksKmsKeyArn).
	KMSKeyARN   string `json:"kmsKeyArn"`
	Walkthrough string `json:"walkthrough"`
	// PaymentSecret is the payment example's signing secret (ARN, value).
	PaymentSecret map[string]string `json:"paymentSecret"`
}

// run is make dev until ctx is done. statePath is where the endpoints and
// ARNs are written ("": root/.state/dev.json); userASL are the user's own
// state machine definitions (-asl).
func run(ctx context.Context, log *slog.Logger, root, addr, statePath string, userASL ...string) error {
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	if statePath == "" {
		statePath = filepath.Join(root, ".state", "dev.json")
	}
	stk, err := devstack.StackFromEnv()
	if err != nil {
		return err
	}

	// One bridge per port on a machine: take the lock the tests take.
	_, bridgePort, _ := net.SplitHostPort(stk.BridgeAddr)
	lockPath := filepath.Join(os.TempDir(), "sfnhooks-bridge-"+bridgePort+".lock")
	lock, err := tryLock(lockPath)
	if err != nil {
		return fmt.Errorf("%w: another `make dev` or a `make test` run holds the Lambda bridge port %s (lock %s).%s\n"+
			"  Stop it first, or run this one on other ports: SFNHOOKS_MOTO_PORT=<port> SFNHOOKS_BRIDGE_PORT=<port> SFNHOOKS_DEV_ADDR=127.0.0.1:<port> make dev",
			err, bridgePort, lockPath, runningHint(statePath))
	}
	defer lock.Close()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w%s (set SFNHOOKS_DEV_ADDR to another address)", addr, err, runningHint(statePath))
	}
	apiURL := "http://" + ln.Addr().String()

	// The emulator: use the one that answers, or start it (and stop it on exit).
	startedMoto := false
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	pingErr := stk.Ping(pingCtx)
	cancel()
	if pingErr != nil {
		log.Info("starting the offline AWS stack", slog.String("cmd", "scripts/stack.sh up"), slog.String("moto", stk.MotoURL.String()))
		if err := stackScript(ctx, root, "up"); err != nil {
			return fmt.Errorf("scripts/stack.sh up: %w", err)
		}
		startedMoto = true
		defer func() {
			log.Info("stopping the offline AWS stack it started", slog.String("cmd", "scripts/stack.sh down"))
			if err := stackScript(context.Background(), root, "down"); err != nil {
				log.Error("scripts/stack.sh down", slog.Any("err", err))
			}
		}()
	} else {
		log.Info("using the offline AWS stack that runs", slog.String("moto", stk.MotoURL.String()))
	}
	if err := stk.EnableStepFunctionsExecution(ctx); err != nil {
		return err
	}

	cfg := devstack.AWSConfig(stk.BridgeURL().String())
	db := dynamodb.NewFromConfig(cfg)
	sf := sfn.NewFromConfig(cfg)
	client, err := hooks.New(cfg, func(o *hooks.Options) {
		o.TableName = tableName
		o.WebhookBaseURL = apiURL
	})
	if err != nil {
		return err
	}

	// The Lambda bridge, with the real handlers, under the names of template.yaml.
	fnLog := func(name string) *slog.Logger { return log.With(slog.String("fn", name)) }
	hookTask := devstack.NewHandler(hooktask.New(client, fnLog(hookTaskName)).Handle)
	resumeHook := devstack.NewHandler(resumehook.New(client, fnLog(resumeHookName)).Handle)
	resumeWebhook := devstack.NewHandler(resumewebhook.New(client, fnLog(resumeWebhookName)).Handle)
	approvalLink := devstack.NewHandler(approvallink.New(client, fnLog(approvalLinkName)).Handle)
	bridge := devstack.NewBridge(stk.MotoURL, map[string]lambda.Handler{
		hookTaskName:      hookTask,
		resumeHookName:    resumeHook,
		resumeWebhookName: resumeWebhook,
		approvalLinkName:  approvalLink,
	}, log.With(slog.String("component", "bridge")))
	var bridgeSrv *http.Server
	for deadline := time.Now().Add(5 * time.Second); ; {
		if bridgeSrv, _, err = devstack.ListenBridge(stk.BridgeAddr, bridge); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = bridgeSrv.Shutdown(sctx)
		_ = bridge.Close()
	}()

	if err := ensureTable(ctx, db); err != nil {
		return err
	}
	secretARN, err := ensureSecret(ctx, secretsmanager.NewFromConfig(cfg), paymentSecretName, paymentSecret)
	if err != nil {
		return err
	}
	hookTaskARN := "arn:aws:lambda:" + devstack.DefaultRegion + ":" + devstack.DefaultAccountID + ":function:" + hookTaskName
	keyARN, err := ensureKMSKey(ctx, kms.NewFromConfig(cfg))
	if err != nil {
		return err
	}
	machines := map[string]string{}
	for _, ex := range examples {
		arn, err := ensureStateMachine(ctx, sf, filepath.Join(root, ex.file), stackName+"-"+ex.short, hookTaskARN, keyARN, secretARN)
		if err != nil {
			return err
		}
		machines[ex.short] = arn
	}
	for _, file := range userASL {
		short := userMachineName(file)
		if _, taken := machines[short]; taken || short == "" {
			return fmt.Errorf("-asl %s: the name %q is taken or empty: rename the file", file, short)
		}
		arn, err := ensureStateMachine(ctx, sf, file, stackName+"-"+short, hookTaskARN, keyARN, secretARN)
		if err != nil {
			return fmt.Errorf("-asl %s: %w", file, err)
		}
		machines[short] = arn
		log.Info("your state machine", slog.String("file", file), slog.String("arn", arn), slog.String("start", "POST "+apiURL+"/dev/executions/"+short))
	}

	api, err := apigwlocal.New([]apigwlocal.Route{
		{Key: "POST /hooks/{token}", Function: resumeHook, FunctionName: resumeHookName},
		{Key: "GET /hooks/{token}", Function: resumeHook, FunctionName: resumeHookName},
		{Key: "GET /hooks", Function: resumeHook, FunctionName: resumeHookName},
		{Key: "DELETE /hooks/{token}", Function: resumeHook, FunctionName: resumeHookName},
		{Key: "POST /hooks/{token}/reject", Function: resumeHook, FunctionName: resumeHookName},
		{Key: "POST /hooks/{token}/heartbeat", Function: resumeHook, FunctionName: resumeHookName},
		{Key: "ANY /webhooks/{token}", Function: resumeWebhook, FunctionName: resumeWebhookName},
		{Key: "GET /links/{id}", Function: approvalLink, FunctionName: approvalLinkName},
		{Key: "POST /links/{id}", Function: approvalLink, FunctionName: approvalLinkName},
	}, log.With(slog.String("component", "api")))
	if err != nil {
		return err
	}
	dev := &devRoutes{sfn: sf, hooks: client, machines: machines, latest: map[string]string{}, log: log}
	api.Handle("POST /dev/executions/{machine}", http.HandlerFunc(dev.start))
	api.Handle("GET /dev/executions/{machine}/{name}", http.HandlerFunc(dev.describe))
	// What template.yaml's ExecutionEndedRule does on AWS: dispose the
	// hooks of every execution that ends, of any state machine on this
	// stack (moto emits no events).
	ended := &devstack.EndedPoller{SFN: sf, Target: hookTask, All: true, Log: log.With(slog.String("component", "ended-poller"))}
	go ended.Run(ctx)

	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	st := devState{
		PID:         os.Getpid(),
		APIURL:      apiURL,
		BridgeURL:   stk.BridgeURL().String(),
		MotoURL:     stk.MotoURL.String(),
		StartedMoto: startedMoto,
		TableName:   tableName,
		Functions: map[string]string{
			"hookTask":      hookTaskARN,
			"resumeHook":    strings.Replace(hookTaskARN, hookTaskName, resumeHookName, 1),
			"resumeWebhook": strings.Replace(hookTaskARN, hookTaskName, resumeWebhookName, 1),
			"approvalLink":  strings.Replace(hookTaskARN, hookTaskName, approvalLinkName, 1),
		},
		StateMachines: machines,
		KMSKeyARN:     keyARN,
		Walkthrough:   walkthrough(apiURL) + "\n" + sealedWalkthrough(apiURL, keyARN),
		PaymentSecret: map[string]string{"arn": secretARN, "value": paymentSecret, "key": paymentSecretKey},
	}
	if err := writeState(statePath, &st); err != nil {
		return err
	}
	defer os.Remove(statePath)
	printBanner(os.Stdout, &st, statePath)
	log.Info("make dev is ready; Ctrl-C stops it", slog.String("api", apiURL))

	select {
	case <-ctx.Done():
		log.Info("stopping")
		return nil
	case err := <-serveErr:
		return fmt.Errorf("HTTP server: %w", err)
	}
}

// runningHint names the dev server recorded in .state/dev.json, if its process lives.
func runningHint(statePath string) string {
	b, err := os.ReadFile(statePath)
	if err != nil {
		return ""
	}
	var st devState
	if json.Unmarshal(b, &st) != nil || st.PID <= 0 {
		return ""
	}
	if p, err := os.FindProcess(st.PID); err != nil || p.Signal(syscall.Signal(0)) != nil {
		return ""
	}
	return fmt.Sprintf("\n  make dev is already running: pid %d, API %s (%s).", st.PID, st.APIURL, statePath)
}

func stackScript(ctx context.Context, root, verb string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "stack.sh"), verb)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	// Not in our process group: Ctrl-C must not kill `stack.sh up` half-way;
	// we stop what it started ourselves.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd.Run()
}

// ensureTable creates the hooks table (hooks.TableDefinition, TTL on), or
// keeps the one a previous run left in this moto.
func ensureTable(ctx context.Context, db *dynamodb.Client) error {
	_, err := db.CreateTable(ctx, hooks.TableDefinition(tableName))
	if _, exists := errors.AsType[*dbtypes.ResourceInUseException](err); exists {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create table %s: %w", tableName, err)
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(tableName),
		TimeToLiveSpecification: &dbtypes.TimeToLiveSpecification{
			AttributeName: aws.String(hooks.TTLAttribute), Enabled: aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("enable TTL on %s: %w", tableName, err)
	}
	return nil
}

// ensureSecret creates the Secrets Manager secret name holding value, or
// sets that value on the one a previous run created, and returns its ARN.
func ensureSecret(ctx context.Context, sm *secretsmanager.Client, name, value string) (string, error) {
	out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err == nil {
		return aws.ToString(out.ARN), nil
	}
	if _, exists := errors.AsType[*smtypes.ResourceExistsException](err); !exists {
		return "", fmt.Errorf("create secret %s: %w", name, err)
	}
	put, err := sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		return "", fmt.Errorf("set secret %s: %w", name, err)
	}
	return aws.ToString(put.ARN), nil
}

// ensureStateMachine creates the state machine name from the ASL file, with
// ${HookTaskFunctionArn}, ${HooksKmsKeyArn} and ${PaymentWebhookSecretArn}
// substituted as template.yaml's DefinitionSubstitutions do, or updates the
// definition of the one a previous run created.
func ensureStateMachine(ctx context.Context, sf *sfn.Client, file, name, hookTaskARN, keyARN, secretARN string) (string, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	def := strings.NewReplacer("${HookTaskFunctionArn}", hookTaskARN, "${HooksKmsKeyArn}", keyARN, "${PaymentWebhookSecretArn}", secretARN,
		"${AwaitTimeoutSeconds}", envOr("SFNHOOKS_AWAIT_TIMEOUT_SECONDS", defaultAwaitTimeout)).Replace(string(raw))
	role := "arn:aws:iam::" + devstack.DefaultAccountID + ":role/" + stackName + "-example"
	out, err := sf.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(role),
	})
	if err == nil {
		// moto answers a create of an existing name with that machine,
		// unchanged (AWS refuses a different definition): set ours.
		if _, err := sf.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{
			StateMachineArn: out.StateMachineArn, Definition: aws.String(def),
		}); err != nil {
			return "", fmt.Errorf("update state machine %s: %w", name, err)
		}
		return aws.ToString(out.StateMachineArn), nil
	}
	if _, exists := errors.AsType[*sfntypes.StateMachineAlreadyExists](err); !exists {
		return "", fmt.Errorf("create state machine %s: %w", name, err)
	}
	arn := "arn:aws:states:" + devstack.DefaultRegion + ":" + devstack.DefaultAccountID + ":stateMachine:" + name
	if _, err := sf.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{
		StateMachineArn: aws.String(arn), Definition: aws.String(def),
	}); err != nil {
		return "", fmt.Errorf("update state machine %s: %w", name, err)
	}
	return arn, nil
}

// defaultAwaitTimeout is template.yaml's AwaitTimeoutSeconds default.
const defaultAwaitTimeout = "86400"

// userMachineName is the short name of a user's ASL file: its base name
// without .asl.json (or .json).
func userMachineName(file string) string {
	base := filepath.Base(file)
	for _, ext := range []string{".asl.json", ".json"} {
		if strings.HasSuffix(base, ext) {
			return strings.TrimSuffix(base, ext)
		}
	}
	return base
}

func writeState(path string, st *devState) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
