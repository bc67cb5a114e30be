package devstack

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"reflect"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Lambda Invoke API constants the bridge answers with.
const (
	invokePathPrefix = "/2015-03-31/functions/"
	invokePathSuffix = "/invocations"

	// DefaultAccountID is the account moto uses, and the one in the function ARNs the
	// bridge puts in each invocation's lambdacontext.
	DefaultAccountID = "123456789012"
	// DefaultRegion is the region of the stack when a request does not name one.
	DefaultRegion = "us-east-1"
	// DefaultInvokeTimeout is the deadline of an invocation's context when
	// Bridge.Timeout is zero: Lambda's maximum function timeout.
	DefaultInvokeTimeout = 15 * time.Minute

	// Payload limits of the Lambda Invoke API.
	maxSyncPayload  = 6 * 1024 * 1024
	maxAsyncPayload = 1024 * 1024
)

var (
	functionNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	qualifierRE    = regexp.MustCompile(`^[A-Za-z0-9$_-]{1,128}$`)
)

// Bridge answers the Lambda Invoke API
// (POST /2015-03-31/functions/{name}/invocations) by running Go Lambda handlers
// in-process, and reverse-proxies every other request, unchanged, to an upstream
// (moto). moto's Step Functions interpreter sends all its calls to
// http://localhost:$MOTO_PORT; with the bridge on that port, a state machine's
// lambda:invoke tasks run our real handlers and its aws-sdk:* tasks reach moto.
//
// Each invocation gets a context that carries a lambdacontext.LambdaContext (a
// random AwsRequestID and the invoked function's ARN, qualifier included) and a
// deadline of Timeout. Answers follow the Invoke API:
//
//   - success: 200, the handler's output as the body, X-Amz-Executed-Version: $LATEST;
//   - handler error: 200, X-Amz-Function-Error: Unhandled and the body
//     {"errorMessage": …, "errorType": …} (see ErrorResponse), which Step Functions
//     matches against Retry and Catch;
//   - InvocationType Event: 202 at once, the handler runs in the background;
//   - InvocationType DryRun: 204;
//   - unknown function: 404, X-Amzn-ErrorType: ResourceNotFoundException.
//
// aws-lambda-go's lambda.NewHandler returns a handler whose Invoke is not safe for
// concurrent use (its output aliases a pooled buffer that the next invocation
// reuses), so the bridge runs the invocations of one such handler one at a time, as
// a single Lambda instance would. A handler made with NewHandler is run
// concurrently.
//
// A Bridge is safe for concurrent use. Timeout must be set before it serves.
type Bridge struct {
	// Timeout is the deadline of each invocation's context; zero means
	// DefaultInvokeTimeout.
	Timeout time.Duration

	upstream *url.URL
	logger   *slog.Logger
	proxy    *httputil.ReverseProxy

	mu        sync.RWMutex
	functions map[string]*function

	// Event (asynchronous) invocations run under baseCtx and are tracked by async.
	baseCtx context.Context
	cancel  context.CancelFunc
	async   sync.WaitGroup
}

type function struct {
	handler    lambda.Handler
	concurrent bool
	mu         sync.Mutex // serialises Invoke when !concurrent
}

// NewBridge returns a Bridge that runs functions (keyed by function name) and
// proxies every other request to upstream. A nil logger discards logs.
func NewBridge(upstream *url.URL, functions map[string]lambda.Handler, logger *slog.Logger) *Bridge {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Bridge{
		upstream:  upstream,
		logger:    logger,
		functions: make(map[string]*function, len(functions)),
		baseCtx:   ctx,
		cancel:    cancel,
	}
	for name, h := range functions {
		b.functions[name] = newFunction(h)
	}
	b.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(upstream)
			// Keep the caller's Host: it is part of the SigV4 signature, and moto
			// builds URLs in its answers from it, which then point back here.
			pr.Out.Host = pr.In.Host
		},
		FlushInterval: -1,
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelError),
		ErrorHandler:  b.proxyError,
	}
	return b
}

func newFunction(h lambda.Handler) *function {
	_, concurrent := h.(concurrentHandler)
	return &function{handler: h, concurrent: concurrent}
}

// Handle registers h as the function name, replacing none: it returns an error when
// name is taken or is not a valid Lambda function name.
func (b *Bridge) Handle(name string, h lambda.Handler) error {
	if !functionNameRE.MatchString(name) {
		return fmt.Errorf("devstack: %q is not a Lambda function name", name)
	}
	if h == nil {
		return fmt.Errorf("devstack: function %q: nil handler", name)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.functions[name]; ok {
		return fmt.Errorf("devstack: function %q is already registered", name)
	}
	b.functions[name] = newFunction(h)
	return nil
}

// Remove unregisters the function name; later invocations of it answer 404.
func (b *Bridge) Remove(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.functions, name)
}

// Close cancels the contexts of running Event invocations and waits for them to
// return. Synchronous invocations end with their HTTP requests (http.Server.Shutdown).
func (b *Bridge) Close() error {
	b.cancel()
	b.async.Wait()
	return nil
}

// ServeHTTP implements http.Handler.
func (b *Bridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target, ok := invocationTarget(r)
	if !ok {
		b.proxy.ServeHTTP(w, r)
		return
	}
	b.invoke(w, r, target)
}

// invocationTarget returns the {name} path segment of a Lambda Invoke request,
// unescaped, or false for any other request.
func invocationTarget(r *http.Request) (string, bool) {
	if r.Method != http.MethodPost {
		return "", false
	}
	p := r.URL.EscapedPath()
	if !strings.HasPrefix(p, invokePathPrefix) || !strings.HasSuffix(p, invokePathSuffix) {
		return "", false
	}
	seg := strings.TrimSuffix(strings.TrimPrefix(p, invokePathPrefix), invokePathSuffix)
	if seg == "" || strings.Contains(seg, "/") {
		return "", false
	}
	name, err := url.PathUnescape(seg)
	if err != nil {
		return "", false
	}
	return name, true
}

// functionRef is a parsed FunctionName of the Invoke API.
type functionRef struct {
	name, qualifier, region, account string
}

func (f functionRef) arn() string {
	arn := "arn:aws:lambda:" + f.region + ":" + f.account + ":function:" + f.name
	if f.qualifier != "" {
		arn += ":" + f.qualifier
	}
	return arn
}

// parseFunctionName accepts the forms the Invoke API does: a name
// ("echo-task"), a name with a qualifier ("echo-task:live"), a partial ARN
// ("123456789012:function:echo-task") and a full ARN
// ("arn:aws:lambda:us-east-1:123456789012:function:echo-task[:live]").
// Region and account are empty when the reference does not name them.
func parseFunctionName(s string) (functionRef, error) {
	var ref functionRef
	parts := strings.Split(s, ":")
	switch {
	case parts[0] == "arn":
		if (len(parts) != 7 && len(parts) != 8) || parts[2] != "lambda" || parts[5] != "function" {
			return ref, fmt.Errorf("%q is not a Lambda function ARN", s)
		}
		ref.region, ref.account, ref.name = parts[3], parts[4], parts[6]
		if len(parts) == 8 {
			ref.qualifier = parts[7]
		}
	case len(parts) >= 3 && parts[1] == "function":
		if len(parts) > 4 {
			return ref, fmt.Errorf("%q is not a partial Lambda function ARN", s)
		}
		ref.account, ref.name = parts[0], parts[2]
		if len(parts) == 4 {
			ref.qualifier = parts[3]
		}
	case len(parts) <= 2:
		ref.name = parts[0]
		if len(parts) == 2 {
			ref.qualifier = parts[1]
		}
	default:
		return ref, fmt.Errorf("%q is not a Lambda function name or ARN", s)
	}
	if !functionNameRE.MatchString(ref.name) {
		return ref, fmt.Errorf("%q is not a valid Lambda function name", ref.name)
	}
	if ref.qualifier != "" && !qualifierRE.MatchString(ref.qualifier) {
		return ref, fmt.Errorf("%q is not a valid Lambda function qualifier", ref.qualifier)
	}
	return ref, nil
}

// sigV4Region returns the region of the SigV4 credential scope in an Authorization
// header ("AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/lambda/aws4_request, …").
func sigV4Region(authorization string) string {
	_, cred, ok := strings.Cut(authorization, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	scope := strings.Split(strings.TrimSpace(cred), "/")
	if len(scope) != 5 {
		return ""
	}
	return scope[2]
}

func (b *Bridge) invoke(w http.ResponseWriter, r *http.Request, target string) {
	ref, err := parseFunctionName(target)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "ValidationException", err.Error())
		return
	}
	if q := r.URL.Query().Get("Qualifier"); q != "" && ref.qualifier == "" {
		if !qualifierRE.MatchString(q) {
			writeAPIError(w, http.StatusBadRequest, "ValidationException",
				fmt.Sprintf("%q is not a valid Lambda function qualifier", q))
			return
		}
		ref.qualifier = q
	}
	if ref.region == "" {
		ref.region = sigV4Region(r.Header.Get("Authorization"))
	}
	if ref.region == "" {
		ref.region = DefaultRegion
	}
	if ref.account == "" {
		ref.account = DefaultAccountID
	}

	b.mu.RLock()
	fn := b.functions[ref.name]
	b.mu.RUnlock()
	if fn == nil {
		b.logger.WarnContext(r.Context(), "devstack bridge: invoke of unknown function",
			slog.String("function", ref.name))
		writeAPIError(w, http.StatusNotFound, "ResourceNotFoundException",
			"Function not found: "+ref.arn())
		return
	}

	invocationType := r.Header.Get("X-Amz-Invocation-Type")
	limit := maxSyncPayload
	switch invocationType {
	case "", "RequestResponse":
		invocationType = "RequestResponse"
	case "Event":
		limit = maxAsyncPayload
	case "DryRun":
		w.Header().Set("X-Amzn-RequestId", newRequestID())
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		writeAPIError(w, http.StatusBadRequest, "InvalidParameterValueException",
			fmt.Sprintf("unsupported InvocationType %q", invocationType))
		return
	}

	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(limit)))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException",
				fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", limit))
			return
		}
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestContentException",
			fmt.Sprintf("reading the request body: %v", err))
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}

	lc := &lambdacontext.LambdaContext{
		AwsRequestID:       newRequestID(),
		InvokedFunctionArn: ref.arn(),
	}
	if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" {
		if raw, err := base64.StdEncoding.DecodeString(cc); err == nil {
			_ = json.Unmarshal(raw, &lc.ClientContext)
		}
	}

	if invocationType == "Event" {
		b.async.Add(1)
		go func() {
			defer b.async.Done()
			b.run(b.baseCtx, fn, lc, invocationType, payload)
		}()
		w.Header().Set("X-Amzn-RequestId", lc.AwsRequestID)
		w.WriteHeader(http.StatusAccepted)
		return
	}

	out, invokeErr := b.run(r.Context(), fn, lc, invocationType, payload)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-RequestId", lc.AwsRequestID)
	h.Set("X-Amz-Executed-Version", "$LATEST")
	if invokeErr != nil {
		h.Set("X-Amz-Function-Error", "Unhandled")
		out, _ = json.Marshal(invokeErr)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// run invokes fn with the Lambda context lc and returns its output, or the error
// body Lambda would answer with.
func (b *Bridge) run(parent context.Context, fn *function, lc *lambdacontext.LambdaContext,
	invocationType string, payload []byte) (out []byte, invokeErr *messages.InvokeResponse_Error) {
	timeout := b.Timeout
	if timeout <= 0 {
		timeout = DefaultInvokeTimeout
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, lc)
	log := b.logger.With(
		slog.String("function", lc.InvokedFunctionArn),
		slog.String("requestId", lc.AwsRequestID),
		slog.String("invocationType", invocationType),
	)

	start := time.Now()
	if !fn.concurrent {
		fn.mu.Lock()
		defer fn.mu.Unlock()
	}
	func() {
		defer func() {
			if v := recover(); v != nil {
				log.ErrorContext(ctx, "devstack bridge: handler panicked",
					slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
				invokeErr = &messages.InvokeResponse_Error{
					Message: fmt.Sprintf("%v", v),
					Type:    typeName(v),
				}
			}
		}()
		res, err := fn.handler.Invoke(ctx, payload)
		if err != nil {
			resp := ErrorResponse(err)
			if _, direct := err.(messages.InvokeResponse_Error); !direct {
				if _, wrapped := errors.AsType[messages.InvokeResponse_Error](err); wrapped {
					log.WarnContext(ctx, "devstack bridge: handler returned a wrapped messages.InvokeResponse_Error; "+
						"the AWS Lambda Go runtime reports it only when returned unwrapped",
						slog.String("errorType", resp.Type), slog.String("runtimeErrorType", typeName(err)))
				}
			}
			invokeErr = &resp
			return
		}
		// The output may alias a buffer the handler reuses: copy it while we own it.
		out = bytes.Clone(res)
	}()

	attrs := []any{slog.Duration("duration", time.Since(start))}
	if invokeErr != nil {
		attrs = append(attrs, slog.String("errorType", invokeErr.Type), slog.String("errorMessage", invokeErr.Message))
		log.InfoContext(ctx, "devstack bridge: invocation failed", attrs...)
	} else {
		log.DebugContext(ctx, "devstack bridge: invocation succeeded", attrs...)
	}
	return out, invokeErr
}

// ErrorResponse is the body the bridge answers a handler error with, built as the
// AWS Lambda Go runtime builds it: when err is, or wraps, a
// messages.InvokeResponse_Error, that value; otherwise errorType is the name of
// err's type (of the type pointed to, for a pointer: "ConflictError" for a
// *hooks.ConflictError, "errorString" for errors.New, "wrapError" for fmt.Errorf
// with %w) and errorMessage is err.Error().
//
// The runtime (aws-lambda-go lambda/errors.go) recognises a
// messages.InvokeResponse_Error only when the handler returns it unwrapped; the
// bridge also unwraps it, and logs a warning when it had to.
func ErrorResponse(err error) messages.InvokeResponse_Error {
	if ire, ok := errors.AsType[messages.InvokeResponse_Error](err); ok {
		return messages.InvokeResponse_Error{Message: ire.Message, Type: ire.Type}
	}
	return messages.InvokeResponse_Error{Message: err.Error(), Type: typeName(err)}
}

// typeName is the errorType aws-lambda-go reports for a value: its type's name,
// or the pointed-to type's name for a pointer.
func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return ""
	}
	if t.Kind() == reflect.Pointer {
		return t.Elem().Name()
	}
	return t.Name()
}

// writeAPIError writes an error of the Lambda API itself (not of the function).
func writeAPIError(w http.ResponseWriter, status int, errorType, message string) {
	body, _ := json.Marshal(struct {
		Type    string `json:"Type"`
		Message string `json:"Message"`
	}{Type: "User", Message: message})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", errorType)
	h.Set("X-Amzn-RequestId", newRequestID())
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (b *Bridge) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	b.logger.ErrorContext(r.Context(), "devstack bridge: upstream request failed",
		slog.String("upstream", b.upstream.String()), slog.String("method", r.Method),
		slog.String("path", r.URL.Path), slog.Any("err", err))
	body, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{
		Type:    "ServiceUnavailable",
		Message: fmt.Sprintf("devstack bridge: upstream %s: %v (is the stack up? scripts/stack.sh up)", b.upstream, err),
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadGateway)
	_, _ = w.Write(body)
}

// newRequestID returns a random request id in the UUID form Lambda uses.
func newRequestID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ListenBridge binds addr (such as "127.0.0.1:27000") and serves b on it in a new
// goroutine. The caller stops it with srv.Shutdown (or Close) and then b.Close.
// When addr is taken, the error says so and wraps syscall.EADDRINUSE.
func ListenBridge(addr string, b *Bridge) (*http.Server, net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("devstack: bridge address %s is already in use "+
				"(another bridge: a test process or a dev server?): %w", addr, err)
		}
		return nil, nil, fmt.Errorf("devstack: listen for the bridge on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           b,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(b.logger.Handler(), slog.LevelError),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.logger.Error("devstack bridge: serve failed", slog.String("addr", addr), slog.Any("err", err))
		}
	}()
	return srv, ln, nil
}

// concurrentHandler marks handlers whose Invoke is safe for concurrent use.
type concurrentHandler interface {
	lambda.Handler
	invokesConcurrently()
}

// NewHandler is lambda.NewHandler for the bridge: it accepts the same handler
// functions and options, and its result is safe for concurrent use, so the bridge
// runs concurrent invocations concurrently, as Lambda runs them on separate
// instances. (Each Invoke builds a fresh aws-lambda-go handler: the one of
// lambda.NewHandler returns output that aliases a buffer its next Invoke reuses.)
// Do not pass lambda.WithEnableSIGTERM.
func NewHandler(handlerFunc any, options ...lambda.Option) lambda.Handler {
	return &freshHandler{fn: handlerFunc, options: options}
}

type freshHandler struct {
	fn      any
	options []lambda.Option
}

func (h *freshHandler) invokesConcurrently() {}

// Invoke implements lambda.Handler.
func (h *freshHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := lambda.NewHandlerWithOptions(h.fn, h.options...).Invoke(ctx, payload)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(out), nil
}
