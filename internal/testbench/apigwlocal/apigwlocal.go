// Package apigwlocal serves Lambda functions behind API Gateway HTTP API
// routes on a local net/http server, the way API Gateway calls them: each
// request becomes a payload format 2.0 event (events.APIGatewayV2HTTPRequest),
// the function is invoked with its JSON, and the function's answer
// (events.APIGatewayV2HTTPResponse, or any other JSON, which API Gateway
// sends as a 200 body) becomes the HTTP response.
//
// It is development and test infrastructure (make dev, handler tests). It
// does not authorize requests: routes behind AWS_IAM or JWT on AWS are open
// here.
package apigwlocal

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
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Limits of API Gateway HTTP APIs.
const (
	// MaxBodyBytes is the largest request body API Gateway accepts (10 MB).
	MaxBodyBytes = 10 * 1024 * 1024
	// DefaultTimeout is the integration timeout of an HTTP API (30 s): a
	// function that answers later gets the caller a 503.
	DefaultTimeout = 30 * time.Second
	// AccountID is the account in the events' requestContext.
	AccountID = "123456789012"
	// APIID is the API id in the events' requestContext.
	APIID = "local"
)

// Route binds an API Gateway route key ("POST /hooks/{token}",
// "ANY /webhooks/{token}") to a function, invoked as Lambda invokes it: with
// the event's JSON.
type Route struct {
	Key      string
	Function lambda.Handler
	// FunctionName names the function in the Lambda context (its ARN) and
	// in the log.
	FunctionName string
}

// Server answers HTTP requests by invoking the function of the matching
// route. Requests that match no route get API Gateway's 404
// {"message":"Not Found"}.
type Server struct {
	// Timeout is the integration timeout; zero means DefaultTimeout.
	Timeout time.Duration
	// Logger gets one line per request; nil discards.
	Logger *slog.Logger

	mux *http.ServeMux
}

// New returns a Server for routes. It fails on a malformed or duplicate
// route key.
func New(routes []Route, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{Logger: logger, mux: http.NewServeMux()}
	seen := map[string]bool{}
	for _, rt := range routes {
		method, path, ok := strings.Cut(rt.Key, " ")
		if !ok || method == "" || !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("apigwlocal: route key %q: want \"METHOD /path\"", rt.Key)
		}
		if rt.Function == nil {
			return nil, fmt.Errorf("apigwlocal: route %q: nil function", rt.Key)
		}
		if seen[rt.Key] {
			return nil, fmt.Errorf("apigwlocal: route %q declared twice", rt.Key)
		}
		seen[rt.Key] = true
		pattern := path
		if method != "ANY" {
			pattern = method + " " + path
		}
		rt := rt
		s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			// net/http lets GET patterns match HEAD; API Gateway does not.
			if method != "ANY" && r.Method != method {
				notFound(w)
				return
			}
			s.serve(w, r, &rt, pathParams(path, r))
		})
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { notFound(w) })
	return s, nil
}

// Handle adds a plain net/http handler for pattern (http.ServeMux syntax),
// for routes that are not API Gateway's, such as a dev server's helpers.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// pathParams returns the {name} segments of path as the request matched them
// (percent-decoded, as API Gateway's pathParameters are).
func pathParams(path string, r *http.Request) map[string]string {
	var params map[string]string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := strings.TrimSuffix(strings.Trim(seg, "{}"), "...")
			name = strings.TrimSuffix(name, "+")
			if params == nil {
				params = map[string]string{}
			}
			params[name] = r.PathValue(name)
		}
	}
	return params
}

// ServeHTTP implements http.Handler. Like API Gateway's HTTP APIs, it
// percent-decodes the path before routing: an encoded '/' (%2F) becomes a
// separator, so /hooks/a%2Fb matches no {token} route (404 Not Found), and
// the events carry the decoded path (rawPath, requestContext.http.path)
// and decoded pathParameters.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.RawPath != "" {
		r2 := *r
		u := *r.URL
		u.RawPath = "" // route on the decoded path
		r2.URL = &u
		r = &r2
	}
	if p := r.URL.Path; p != "" && path.Clean(p) != p && path.Clean(p)+"/" != p {
		// An empty or dot segment (an encoded '/' next to another '/'):
		// API Gateway matches no route; net/http would redirect.
		notFound(w)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, rt *Route, params map[string]string) {
	start := time.Now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
			return
		}
		writeMessage(w, http.StatusBadRequest, "Bad Request")
		return
	}
	ev := NewRequest(r, rt.Key, params, body)
	payload, err := json.Marshal(ev)
	if err != nil {
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}

	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       newID(),
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:" + AccountID + ":function:" + rt.FunctionName,
	})
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := rt.Function.Invoke(ctx, payload)
		done <- result{bytes.Clone(out), err}
	}()

	log := s.Logger.With(slog.String("route", rt.Key), slog.String("path", r.URL.EscapedPath()),
		slog.String("function", rt.FunctionName), slog.String("requestId", ev.RequestContext.RequestID))
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		// API Gateway gives up on the integration; the function may still run.
		log.WarnContext(r.Context(), "apigw: integration timeout", slog.Duration("after", time.Since(start)))
		writeMessage(w, http.StatusServiceUnavailable, "Service Unavailable")
		return
	}
	if res.err != nil {
		log.ErrorContext(r.Context(), "apigw: function error", slog.Any("err", res.err))
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	resp, err := DecodeResponse(res.out)
	if err == nil {
		err = WriteResponse(w, resp)
	}
	if err != nil {
		log.ErrorContext(r.Context(), "apigw: bad function response", slog.Any("err", err))
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	log.InfoContext(r.Context(), "apigw", slog.String("method", r.Method),
		slog.Int("status", resp.StatusCode), slog.Duration("duration", time.Since(start)))
}

// NewRequest converts r, whose body has been read into body, into the event
// API Gateway sends for routeKey with the matched path parameters:
// rawPath percent-decoded (as an HTTP API sends it: a request to
// /hooks/a%20b arrives as "/hooks/a b"), rawQueryString as received, header
// names lower-cased with repeated values joined by commas, cookies in
// Cookies (not in the headers), query parameters joined by commas, and the
// body as text when it is valid UTF-8, base64 (IsBase64Encoded) otherwise.
func NewRequest(r *http.Request, routeKey string, pathParams map[string]string, body []byte) events.APIGatewayV2HTTPRequest {
	now := time.Now().UTC()
	headers := map[string]string{}
	for name, vals := range r.Header {
		name = strings.ToLower(name)
		if name == "cookie" {
			continue
		}
		headers[name] = strings.Join(vals, ",")
	}
	host, port := r.Host, ""
	if h, p, err := net.SplitHostPort(r.Host); err == nil {
		host, port = h, p
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	if _, ok := headers["content-length"]; !ok && len(body) > 0 {
		headers["content-length"] = strconv.Itoa(len(body))
	}
	sourceIP := r.RemoteAddr
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = h
	}
	if sourceIP != "" {
		if xff := headers["x-forwarded-for"]; xff != "" {
			headers["x-forwarded-for"] = xff + ", " + sourceIP
		} else {
			headers["x-forwarded-for"] = sourceIP
		}
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	headers["x-forwarded-proto"] = proto
	if port != "" {
		headers["x-forwarded-port"] = port
	}

	var cookies []string
	for _, line := range r.Header.Values("Cookie") {
		for c := range strings.SplitSeq(line, ";") {
			if c = strings.TrimSpace(c); c != "" {
				cookies = append(cookies, c)
			}
		}
	}

	var query map[string]string
	if r.URL.RawQuery != "" {
		if vals, err := url.ParseQuery(r.URL.RawQuery); err == nil && len(vals) > 0 {
			query = make(map[string]string, len(vals))
			for k, v := range vals {
				query[k] = strings.Join(v, ",")
			}
		}
	}

	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               r.URL.Path, // decoded, as an HTTP API sends it
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        pathParams,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     routeKey,
			AccountID:    AccountID,
			Stage:        "$default",
			RequestID:    newID(),
			APIID:        APIID,
			DomainName:   host,
			DomainPrefix: strings.Split(host, ".")[0],
			Time:         now.Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// DecodeResponse reads a function's output as API Gateway does for payload
// format 2.0: a JSON object with a statusCode is the response; any other
// valid JSON is sent as the body of a 200 with content-type
// application/json.
func DecodeResponse(out []byte) (events.APIGatewayV2HTTPResponse, error) {
	var probe map[string]json.RawMessage
	if json.Unmarshal(out, &probe) == nil {
		if _, ok := probe["statusCode"]; ok {
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				return resp, fmt.Errorf("apigwlocal: function response: %w", err)
			}
			return resp, nil
		}
	}
	if !json.Valid(out) {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("apigwlocal: function output is not JSON: %.200q", out)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusOK,
		Headers:    map[string]string{"content-type": "application/json"},
		Body:       string(out),
	}, nil
}

// WriteResponse writes resp to w: headers, then multi-value headers added
// to them, cookies as Set-Cookie headers, the status, and the body
// (base64-decoded when IsBase64Encoded). Nothing is written when the body
// does not decode.
func WriteResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) error {
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return fmt.Errorf("apigwlocal: response body is flagged base64 but does not decode: %w", err)
		}
		body = b
	}
	status := resp.StatusCode
	if status < 100 || status > 599 {
		return fmt.Errorf("apigwlocal: response status %d", status)
	}
	h := w.Header()
	for _, k := range sortedKeys(resp.Headers) {
		h.Set(k, resp.Headers[k])
	}
	for _, k := range sortedKeys(resp.MultiValueHeaders) {
		for _, v := range resp.MultiValueHeaders[k] {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" && len(body) > 0 {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// writeMessage answers as API Gateway does when it, not the function,
// answers: {"message": "..."}.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func notFound(w http.ResponseWriter) { writeMessage(w, http.StatusNotFound, "Not Found") }

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
