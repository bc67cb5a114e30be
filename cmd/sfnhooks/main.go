// Command sfnhooks resumes, inspects, lists, rejects and heartbeats hooks
// from a terminal or a script, through the deployed HTTP API.
//
//	go install github.com/sfnhooks/sfnhooks/cmd/sfnhooks@latest
//
//	sfnhooks resume TOKEN --data JSON|@file|@- [--idempotency-key K]
//	sfnhooks get TOKEN
//	sfnhooks list --execution ARN [--state waiting|pending] [--limit N]
//	sfnhooks list --state-machine ARN [--state waiting|pending|idle] [--tag K:V] [--order newest|oldest] [--limit N] [--max N]
//	sfnhooks dispose TOKEN --execution ARN [--hook-id ID]
//	sfnhooks console [--listen 127.0.0.1:PORT] [--state-machine ARN]
//	sfnhooks reject TOKEN --error NAME --cause TEXT [--idempotency-key K]
//	sfnhooks heartbeat TOKEN
//
// Every command takes --endpoint URL (default $SFNHOOKS_ENDPOINT: the
// stack's ApiUrl output, or http://127.0.0.1:3000 for make dev), --json
// (print the API's JSON answer as it is) and --region.
//
// Requests to AWS are signed with SigV4 (service execute-api) with the
// caller's AWS credentials from the default chain (environment, shared
// config and SSO, instance or container role): the caller needs only
// execute-api:Invoke on the API, and the API's routes and authorization
// apply as for any client. The region is --region, else the one in the
// endpoint's host name, else AWS_REGION. A loopback endpoint (make dev,
// which checks no authorization) gets unsigned requests unless --sign is
// given.
//
// Exit status: 0 success; 1 any other failure (5xx, network); 2 usage or
// invalid input (400); 3 not found (404); 4 conflict or refused (409, 422); 5 too large
// (413); 6 not authorized (401, 403); 7 busy, retry (429, 503, 504). The
// message on stderr is the API's error code and message.
//
// A token is given as it is and percent-encoded into the path; a token
// with '/', '?' or '#' is refused (exit 2): API Gateway decodes the path
// before routing, so no route of the API receives it as it is.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/sfnhooks/sfnhooks/internal/version"
)

const envEndpoint = "SFNHOOKS_ENDPOINT"

// Exit statuses (the package doc and the README list them).
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitNotFound = 3
	exitConflict = 4
	exitTooLarge = 5
	exitDenied   = 6
	exitRetry    = 7
)

// exitCode maps an HTTP status to the exit status.
func exitCode(status int) int {
	switch {
	case status/100 == 2:
		return exitOK
	case status == http.StatusNotFound:
		return exitNotFound
	case status == http.StatusConflict, status == http.StatusUnprocessableEntity:
		return exitConflict
	case status == http.StatusRequestEntityTooLarge:
		return exitTooLarge
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return exitDenied
	case status == http.StatusTooManyRequests, status == http.StatusServiceUnavailable, status == http.StatusGatewayTimeout:
		return exitRetry
	case status/100 == 4:
		return exitUsage
	default:
		return exitFailure
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand: its flags beyond the common ones, how many
// positional arguments it takes, and what it does.
type command struct {
	name, args, summary string
	flags               func(fs *flag.FlagSet, o *opts)
	nargs               int
	run                 func(ctx context.Context, api hooksAPI, o *opts, pos []string, stdin io.Reader, stdout io.Writer) error
}

// opts are the parsed flags of a command line.
type opts struct {
	endpoint, region string
	json, sign       bool
	// resume
	data, idempotencyKey string
	// list
	execution, state string
	limit            int
	stateMachine     string
	tag, order       string
	max              int
	// dispose
	hookID string
	// console
	listen string
	open   bool
	// reject
	errorName, cause string
}

func commonFlags(fs *flag.FlagSet, o *opts) {
	fs.StringVar(&o.endpoint, "endpoint", o.endpoint, "base URL of the API (default $"+envEndpoint+")")
	fs.StringVar(&o.region, "region", o.region, "AWS region to sign for (default: from the endpoint, else AWS_REGION)")
	fs.BoolVar(&o.json, "json", o.json, "print the API's JSON answer")
	fs.BoolVar(&o.sign, "sign", o.sign, "sign requests to a loopback endpoint too")
}

var commands = []command{
	{name: "resume", args: "TOKEN", summary: "resume the hook with a JSON payload", nargs: 1,
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.StringVar(&o.data, "data", "", "the payload: JSON, @file, or @- for stdin (required)")
			fs.StringVar(&o.idempotencyKey, "idempotency-key", "", "apply the payload once for this key")
		},
		run: runResume},
	{name: "get", args: "TOKEN", summary: "show the hook and whether an await is parked on it", nargs: 1, run: runGet},
	{name: "list", summary: "list an execution's hooks, or a state machine's", nargs: 0,
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.StringVar(&o.execution, "execution", "", "the execution's ARN (this or --state-machine is required)")
			fs.StringVar(&o.stateMachine, "state-machine", "", "the state machine's ARN: its hooks across executions, by age")
			fs.StringVar(&o.state, "state", "", "only hooks that are waiting (an await is parked), pending (payloads stored) or idle (--state-machine)")
			fs.StringVar(&o.tag, "tag", "", "only hooks with this tag, key:value (--state-machine)")
			fs.StringVar(&o.order, "order", "", "newest (default) or oldest first (--state-machine)")
			fs.IntVar(&o.limit, "limit", 0, "hooks per request (1-100, 1-50 with --state-machine; every page is fetched)")
			fs.IntVar(&o.max, "max", 0, "stop after this many hooks (0: all)")
		},
		run: runList},
	{name: "dispose", args: "TOKEN", summary: "dispose the hook of an execution (its await fails with HookDisposedError)", nargs: 1,
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.StringVar(&o.execution, "execution", "", "the ARN of the execution that holds the hook (required)")
			fs.StringVar(&o.hookID, "hook-id", "", "dispose only while the token is this hook (its hookId from get or list): not one the execution created again since")
		},
		run: runDispose},
	{name: "console", summary: "serve the operator console on loopback (docs/operators.md)", nargs: 0,
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "loopback address to serve on")
			fs.StringVar(&o.stateMachine, "state-machine", "", "the state machine shown first")
		},
		run: runConsole},
	{name: "reject", args: "TOKEN", summary: "fail the hook's await with an error a state machine can Catch", nargs: 1,
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.StringVar(&o.errorName, "error", "", "the error name (required)")
			fs.StringVar(&o.cause, "cause", "", "the cause")
			fs.StringVar(&o.idempotencyKey, "idempotency-key", "", "apply the rejection once for this key")
		},
		run: runReject},
	{name: "heartbeat", args: "TOKEN", summary: "send a heartbeat to the await parked on the hook", nargs: 1, run: runHeartbeat},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sfnhooks COMMAND [flags]")
	fmt.Fprintln(w)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %-6s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintln(w, "\nflags of every command: --endpoint URL, --json, --region R, --sign; sfnhooks COMMAND -h lists the others.")
	fmt.Fprintln(w, "sfnhooks version (or --version) prints the version.")
	fmt.Fprintln(w, "exit status: 0 ok, 1 failure, 2 usage or invalid input (400), 3 not found (404), 4 conflict or refused (409, 422),")
	fmt.Fprintln(w, "             5 too large (413), 6 not authorized (401, 403), 7 busy: retry (429, 503, 504)")
}

// run is the command line args (without the program name); it returns the
// exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o := &opts{endpoint: os.Getenv(envEndpoint)}
	top := flag.NewFlagSet("sfnhooks", flag.ContinueOnError)
	top.SetOutput(stderr)
	top.Usage = func() { usage(stderr) }
	commonFlags(top, o)
	showVersion := top.Bool("version", false, "print the version and exit")
	if err := top.Parse(args); err != nil {
		return parseExit(err)
	}
	if *showVersion || top.Arg(0) == "version" {
		fmt.Fprintln(stdout, "sfnhooks", version.Version)
		return exitOK
	}
	if top.NArg() == 0 {
		usage(stderr)
		return exitUsage
	}
	name := top.Arg(0)
	var cmd *command
	for i := range commands {
		if commands[i].name == name {
			cmd = &commands[i]
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "sfnhooks: unknown command %q\n\n", name)
		usage(stderr)
		return exitUsage
	}
	fs := flag.NewFlagSet("sfnhooks "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	commonFlags(fs, o)
	if cmd.flags != nil {
		cmd.flags(fs, o)
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: sfnhooks %s %s [flags]\n  %s\n\nflags:\n", name, cmd.args, cmd.summary)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, top.Args()[1:])
	if err != nil {
		return parseExit(err)
	}
	if len(pos) != cmd.nargs {
		fmt.Fprintf(stderr, "sfnhooks %s: want %d argument(s) (%s), got %d\n", name, cmd.nargs, cmd.args, len(pos))
		return exitUsage
	}
	if cmd.nargs == 1 && strings.ContainsAny(pos[0], "/?#") {
		// API Gateway HTTP APIs decode the path before routing: /hooks/a%2Fb
		// becomes /hooks/a/b, which no route matches, and a decoded ? or #
		// would cut the token short (README, "Tokens in URLs").
		fmt.Fprintf(stderr, "sfnhooks %s: a token with '/', '?' or '#' cannot travel over the HTTP API (API Gateway decodes the path before routing); use the Go API or a direct invocation of resume-hook\n", name)
		return exitUsage
	}
	api, err := newAPI(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "sfnhooks: %v\n", err)
		if errors.Is(err, errUsage) {
			return exitUsage
		}
		return exitFailure
	}
	if err := cmd.run(ctx, api, o, pos, stdin, stdout); err != nil {
		if ae, ok := errors.AsType[*apiError](err); ok {
			if o.json && json.Valid(ae.Body) {
				_, _ = stdout.Write(append(bytes.TrimSpace(ae.Body), '\n'))
			}
			fmt.Fprintf(stderr, "sfnhooks %s: %v\n", name, ae)
			return exitCode(ae.Status)
		}
		fmt.Fprintf(stderr, "sfnhooks %s: %v\n", name, err)
		if errors.Is(err, errUsage) {
			return exitUsage
		}
		return exitFailure
	}
	return exitOK
}

var errUsage = errors.New("usage")

func usageErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

func parseExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// parseInterspersed parses flags that come before, between or after the
// positional arguments (sfnhooks resume TOKEN --data …), which the flag
// package alone stops at; "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// newAPI is the HTTP API client of the options: signed with the default
// AWS credentials unless the endpoint is on loopback (and --sign is not
// set).
func newAPI(ctx context.Context, o *opts) (*httpAPI, error) {
	if o.endpoint == "" {
		return nil, fmt.Errorf("%w: %w", errUsage, errNoEndpoint)
	}
	u, err := url.Parse(o.endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageErr("--endpoint %q: want http(s)://host[:port]", o.endpoint)
	}
	api := &httpAPI{
		endpoint: strings.TrimRight(o.endpoint, "/"),
		client:   &http.Client{Timeout: 60 * time.Second},
		now:      time.Now,
	}
	if isLoopback(u) && !o.sign {
		return api, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	api.region = o.region
	if api.region == "" {
		api.region = regionOf(u)
	}
	if api.region == "" {
		api.region = cfg.Region
	}
	if api.region == "" {
		return nil, usageErr("no region to sign for: set --region or AWS_REGION")
	}
	if cfg.Credentials == nil {
		return nil, errors.New("no AWS credentials found (environment, shared config, SSO or role)")
	}
	api.creds, api.signer = cfg.Credentials, v4.NewSigner()
	return api, nil
}

func runResume(ctx context.Context, api hooksAPI, o *opts, pos []string, stdin io.Reader, stdout io.Writer) error {
	if o.data == "" {
		return usageErr("--data is required (JSON, @file or @-; send null for no data)")
	}
	data := []byte(o.data)
	switch {
	case o.data == "@-":
		b, err := io.ReadAll(stdin)
		if err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
		data = b
	case strings.HasPrefix(o.data, "@"):
		b, err := os.ReadFile(o.data[1:])
		if err != nil {
			return usageErr("--data: %v", err)
		}
		data = b
	}
	out, err := api.Resume(ctx, pos[0], data, o.idempotencyKey)
	if err != nil {
		return err
	}
	return show(stdout, o, out, func(w io.Writer, h hookView) {
		fmt.Fprintf(w, "resumed %s (execution %s)\n", h.Token, h.ExecutionARN)
	})
}

func runGet(ctx context.Context, api hooksAPI, o *opts, pos []string, _ io.Reader, stdout io.Writer) error {
	out, err := api.Get(ctx, pos[0])
	if err != nil {
		return err
	}
	return show(stdout, o, out, func(w io.Writer, h hookView) {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "token\t%s\nkind\t%s\nexecution\t%s\nwaiting\t%v\npending\t%d\ndelivered\t%d\ncreated\t%s\n",
			h.Token, h.Kind, h.ExecutionARN, h.Waiting, h.Pending, h.Delivered, h.CreatedAt)
		if h.WaitingUntil != "" {
			fmt.Fprintf(tw, "waiting until\t%s (then the await's task times out)\n", h.WaitingUntil)
		}
		if h.URL != "" {
			fmt.Fprintf(tw, "url\t%s\n", h.URL)
		}
		if len(h.Metadata) > 0 {
			fmt.Fprintf(tw, "metadata\t%s\n", h.Metadata)
		}
		_ = tw.Flush()
	})
}

func runList(ctx context.Context, api hooksAPI, o *opts, _ []string, _ io.Reader, stdout io.Writer) error {
	if (o.execution == "") == (o.stateMachine == "") {
		return usageErr("--execution ARN or --state-machine ARN is required (one of them)")
	}
	var all []json.RawMessage
	q := listQuery{ExecutionARN: o.execution, StateMachineARN: o.stateMachine, State: o.state, Tag: o.tag, Order: o.order, Limit: o.limit}
	for {
		out, err := api.List(ctx, q)
		if err != nil {
			return err
		}
		var page struct {
			Hooks     []json.RawMessage `json:"hooks"`
			NextToken string            `json:"nextToken"`
			Cursor    string            `json:"cursor"`
		}
		if err := json.Unmarshal(out, &page); err != nil {
			return fmt.Errorf("list answer %.200q: %w", out, err)
		}
		all = append(all, page.Hooks...)
		if o.max > 0 && len(all) >= o.max {
			all = all[:o.max]
			break
		}
		if page.NextToken == "" && page.Cursor == "" {
			break
		}
		q.NextToken, q.Cursor = page.NextToken, page.Cursor
	}
	if all == nil {
		all = []json.RawMessage{}
	}
	if o.json {
		b, _ := json.Marshal(map[string]any{"hooks": all})
		_, err := stdout.Write(append(b, '\n'))
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	if o.stateMachine != "" {
		fmt.Fprintln(tw, "TOKEN\tKIND\tWAITING\tPENDING\tAGE\tTAGS\tEXECUTION")
	} else {
		fmt.Fprintln(tw, "TOKEN\tKIND\tWAITING\tPENDING\tURL")
	}
	for _, raw := range all {
		var h hookView
		if err := json.Unmarshal(raw, &h); err != nil {
			return fmt.Errorf("list entry %.200q: %w", raw, err)
		}
		if o.stateMachine != "" {
			created, _ := time.Parse(time.RFC3339Nano, h.CreatedAt)
			age := time.Since(created).Round(time.Second)
			fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%v\t%s\t%s\n", h.Token, h.Kind, h.Waiting, h.Pending, age, strings.Join(h.Tags, ","), h.ExecutionARN)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%s\n", h.Token, h.Kind, h.Waiting, h.Pending, h.URL)
	}
	return tw.Flush()
}

func runDispose(ctx context.Context, api hooksAPI, o *opts, pos []string, _ io.Reader, stdout io.Writer) error {
	if o.execution == "" {
		return usageErr("--execution ARN is required (a hook is disposed only while that execution holds it)")
	}
	out, err := api.Dispose(ctx, pos[0], o.execution, o.hookID)
	if err != nil {
		return err
	}
	if o.json {
		_, err := stdout.Write(append(bytes.TrimSpace(out), '\n'))
		return err
	}
	_, err = fmt.Fprintf(stdout, "disposed %s (execution %s)\n", pos[0], o.execution)
	return err
}

func runReject(ctx context.Context, api hooksAPI, o *opts, pos []string, _ io.Reader, stdout io.Writer) error {
	if o.errorName == "" {
		return usageErr("--error NAME is required")
	}
	out, err := api.Reject(ctx, pos[0], o.errorName, o.cause, o.idempotencyKey)
	if err != nil {
		return err
	}
	return show(stdout, o, out, func(w io.Writer, h hookView) {
		fmt.Fprintf(w, "rejected %s with %s (execution %s)\n", h.Token, o.errorName, h.ExecutionARN)
	})
}

func runHeartbeat(ctx context.Context, api hooksAPI, o *opts, pos []string, _ io.Reader, stdout io.Writer) error {
	out, err := api.Heartbeat(ctx, pos[0])
	if err != nil {
		return err
	}
	if o.json {
		if len(bytes.TrimSpace(out)) == 0 {
			out = []byte("{}")
		}
		_, err := stdout.Write(append(bytes.TrimSpace(out), '\n'))
		return err
	}
	_, err = fmt.Fprintf(stdout, "heartbeat sent to the await parked on %s\n", pos[0])
	return err
}

// hookView is the part of the API's hook JSON the text output shows.
type hookView struct {
	Token        string          `json:"token"`
	Kind         string          `json:"kind"`
	ExecutionARN string          `json:"executionArn"`
	CreatedAt    string          `json:"createdAt"`
	URL          string          `json:"url"`
	Metadata     json.RawMessage `json:"metadata"`
	Waiting      bool            `json:"waiting"`
	WaitingUntil string          `json:"waitingUntil"`
	Pending      int64           `json:"pending"`
	Delivered    int64           `json:"delivered"`
	Tags         []string        `json:"tags"`
}

// show writes the answer out: as it is with --json, else through text.
func show(w io.Writer, o *opts, out []byte, text func(io.Writer, hookView)) error {
	if o.json {
		_, err := w.Write(append(bytes.TrimSpace(out), '\n'))
		return err
	}
	var h hookView
	if err := json.Unmarshal(out, &h); err != nil {
		return fmt.Errorf("answer %.200q: %w", out, err)
	}
	text(w, h)
	return nil
}
