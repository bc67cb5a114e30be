package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/middleware"
)

// Ports of the stack that scripts/stack.sh starts, and the variables that move them.
// The defaults lie below Linux's ephemeral port range (32768–60999): a port in
// that range can be taken at any moment as the local port of some outgoing
// connection, and the bridge's listen then fails with EADDRINUSE.
const (
	DefaultMotoPort   = 27001
	DefaultBridgePort = 27000

	EnvMotoPort   = "SFNHOOKS_MOTO_PORT"
	EnvBridgePort = "SFNHOOKS_BRIDGE_PORT"
)

// Stack locates the offline AWS stack: moto on MotoURL, and the address the Lambda
// bridge must take, BridgeAddr, which is where moto's Step Functions interpreter
// sends its Lambda (and aws-sdk integration) calls.
type Stack struct {
	MotoURL    *url.URL // http://127.0.0.1:27001
	BridgeAddr string   // 127.0.0.1:27000
	Region     string   // us-east-1
}

// StackFromEnv returns the stack that scripts/stack.sh starts with the same
// environment: ports from SFNHOOKS_MOTO_PORT and SFNHOOKS_BRIDGE_PORT, or their
// defaults.
func StackFromEnv() (Stack, error) {
	motoPort, err := portFromEnv(EnvMotoPort, DefaultMotoPort)
	if err != nil {
		return Stack{}, err
	}
	bridgePort, err := portFromEnv(EnvBridgePort, DefaultBridgePort)
	if err != nil {
		return Stack{}, err
	}
	return Stack{
		MotoURL:    &url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(motoPort))},
		BridgeAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(bridgePort)),
		Region:     DefaultRegion,
	}, nil
}

func portFromEnv(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	p, err := strconv.Atoi(v)
	if err != nil || p <= 0 || p > 65535 {
		return 0, fmt.Errorf("devstack: %s=%q is not a port number", name, v)
	}
	return p, nil
}

// BridgeURL is the endpoint of the bridge: AWS clients pointed at it reach moto
// (proxied) and the bridge's functions (Lambda Invoke).
func (s Stack) BridgeURL() *url.URL {
	return &url.URL{Scheme: "http", Host: s.BridgeAddr}
}

// Ping checks that moto answers on MotoURL.
func (s Stack) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.MotoURL.JoinPath("/moto-api/config").String(), nil)
	if err != nil {
		return fmt.Errorf("devstack: ping moto: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("devstack: moto does not answer on %s: %w", s.MotoURL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 || !json.Valid(body) {
		return fmt.Errorf("devstack: %s/moto-api/config answered %s %q: not moto", s.MotoURL, resp.Status, truncate(body, 200))
	}
	return nil
}

// EnableStepFunctionsExecution switches on moto's Step Functions interpreter
// (POST /moto-api/config {"stepfunctions": {"execute_state_machine": true}}).
// moto keeps state machines of the interpreter apart from those of its
// non-executing backend: switch it on before creating any. moto 5.2.5 does not
// report this setting back (GET /moto-api/config omits it); scripts/stack.sh up
// checks it by running a Pass state machine.
func (s Stack) EnableStepFunctionsExecution(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.MotoURL.JoinPath("/moto-api/config").String(),
		strings.NewReader(`{"stepfunctions": {"execute_state_machine": true}}`))
	if err != nil {
		return fmt.Errorf("devstack: configure moto: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("devstack: configure moto at %s: %w", s.MotoURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("devstack: configure moto at %s: %s %q", s.MotoURL, resp.Status, truncate(body, 200))
	}
	return nil
}

// AWSConfig returns an SDK configuration for endpoint (the bridge's or moto's URL)
// that depends on nothing in the environment: region us-east-1, static credentials
// "test"/"test", and BaseEndpoint set for every service client. Its APIOptions
// are those given to AddAPIOptions, if any.
func AWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       DefaultRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
		APIOptions:   slices.Clip(slices.Clone(apiOptions)),
	}
}

// apiOptions are the SDK middleware options AWSConfig adds to every config.
var apiOptions []func(*middleware.Stack) error

// AddAPIOptions makes every later AWSConfig carry fns in its APIOptions, so
// that a test binary observes each AWS call of every client built on the
// stack, including clients its tests build themselves (the e2e package
// records the IAM actions each Lambda function uses this way). Call it
// before any AWSConfig, from TestMain: it is not safe to call concurrently
// with AWSConfig.
func AddAPIOptions(fns ...func(*middleware.Stack) error) {
	apiOptions = append(apiOptions, fns...)
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// DefaultPollInterval is a good interval to poll DescribeExecution at on the
// stack: moto starts an execution within a few milliseconds and runs a Pass or
// Lambda task in a few more (see the package doc).
const DefaultPollInterval = 20 * time.Millisecond
