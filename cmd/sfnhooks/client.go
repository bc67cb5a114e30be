package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// hooksAPI is what the commands need: the routes of the HTTP API.
type hooksAPI interface {
	Resume(ctx context.Context, token string, data []byte, idempotencyKey string) ([]byte, error)
	Get(ctx context.Context, token string) ([]byte, error)
	List(ctx context.Context, q listQuery) ([]byte, error)
	Reject(ctx context.Context, token, errorName, cause, idempotencyKey string) ([]byte, error)
	Heartbeat(ctx context.Context, token string) ([]byte, error)
	Dispose(ctx context.Context, token, executionARN, hookID string) ([]byte, error)
}

// listQuery is GET /hooks's query: an execution's hooks (ExecutionARN,
// NextToken) or a state machine's (StateMachineARN, Tag, Order, Cursor).
type listQuery struct {
	ExecutionARN, State, NextToken string
	StateMachineARN, Tag, Order    string
	Cursor                         string
	Limit                          int
}

// apiError is an answer other than 2xx: the API's {"error","message"}, or
// API Gateway's own {"message"} (no route, failed authorization).
type apiError struct {
	Status  int
	Code    string          `json:"error"`
	Message string          `json:"message"`
	Details json.RawMessage `json:"details"` // SchemaValidation: what failed
	Body    []byte          `json:"-"`
}

func (e *apiError) Error() string {
	code := e.Code
	if code == "" {
		code = http.StatusText(e.Status)
	}
	msg := e.Message
	if msg == "" {
		msg = strings.TrimSpace(string(e.Body))
	}
	if len(e.Details) > 0 && string(e.Details) != "null" {
		msg += "; details: " + string(e.Details)
	}
	return fmt.Sprintf("%s: %s (HTTP %d)", code, msg, e.Status)
}

// httpAPI calls the HTTP API, signing each request with SigV4 (service
// execute-api) when creds is set.
type httpAPI struct {
	endpoint string // no trailing slash
	client   *http.Client
	creds    aws.CredentialsProvider // nil: unsigned
	region   string
	signer   *v4.Signer
	now      func() time.Time
}

var _ hooksAPI = (*httpAPI)(nil)

func (a *httpAPI) Resume(ctx context.Context, token string, data []byte, key string) ([]byte, error) {
	h := http.Header{"Content-Type": {"application/json"}}
	if key != "" {
		h.Set("Idempotency-Key", key)
	}
	return a.do(ctx, http.MethodPost, "/hooks/"+url.PathEscape(token), nil, data, h)
}

func (a *httpAPI) Get(ctx context.Context, token string) ([]byte, error) {
	return a.do(ctx, http.MethodGet, "/hooks/"+url.PathEscape(token), nil, nil, nil)
}

func (a *httpAPI) List(ctx context.Context, q listQuery) ([]byte, error) {
	v := url.Values{}
	for k, x := range map[string]string{"executionArn": q.ExecutionARN, "stateMachineArn": q.StateMachineARN, "tag": q.Tag, "order": q.Order, "cursor": q.Cursor} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if q.ExecutionARN == "" && q.StateMachineARN == "" {
		v.Set("executionArn", "")
	}
	if q.State != "" {
		v.Set("state", q.State)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.NextToken != "" {
		v.Set("nextToken", q.NextToken)
	}
	return a.do(ctx, http.MethodGet, "/hooks", v, nil, nil)
}

func (a *httpAPI) Reject(ctx context.Context, token, errorName, cause, key string) ([]byte, error) {
	body, _ := json.Marshal(map[string]string{"error": errorName, "cause": cause})
	h := http.Header{"Content-Type": {"application/json"}}
	if key != "" {
		h.Set("Idempotency-Key", key)
	}
	return a.do(ctx, http.MethodPost, "/hooks/"+url.PathEscape(token)+"/reject", nil, body, h)
}

// Dispose disposes the hook of executionARN; with a hookID, only while the
// token is that hook (a 409 HookConflict otherwise).
func (a *httpAPI) Dispose(ctx context.Context, token, executionARN, hookID string) ([]byte, error) {
	q := url.Values{"executionArn": {executionARN}}
	if hookID != "" {
		q.Set("hookId", hookID)
	}
	return a.do(ctx, http.MethodDelete, "/hooks/"+url.PathEscape(token), q, nil, nil)
}

func (a *httpAPI) Heartbeat(ctx context.Context, token string) ([]byte, error) {
	return a.do(ctx, http.MethodPost, "/hooks/"+url.PathEscape(token)+"/heartbeat", nil, nil, nil)
}

// do sends one request and returns the body of a 2xx answer, an *apiError
// for any other status, or the transport's error.
func (a *httpAPI) do(ctx context.Context, method, path string, query url.Values, body []byte, h http.Header) ([]byte, error) {
	u := a.endpoint + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	if a.creds != nil {
		creds, err := a.creds.Retrieve(ctx)
		if err != nil {
			return nil, fmt.Errorf("AWS credentials: %w", err)
		}
		sum := sha256.Sum256(body)
		if err := a.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "execute-api", a.region, a.now()); err != nil {
			return nil, fmt.Errorf("sign request: %w", err)
		}
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode/100 == 2 {
		return out, nil
	}
	e := &apiError{Status: resp.StatusCode, Body: out}
	_ = json.Unmarshal(out, e)
	return nil, e
}

// isLoopback reports an endpoint on this machine (make dev), which checks
// no authorization.
func isLoopback(endpoint *url.URL) bool {
	host := endpoint.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// regionOf reads the region from an execute-api host name,
// {api-id}.execute-api.{region}.amazonaws.com.
func regionOf(endpoint *url.URL) string {
	parts := strings.Split(endpoint.Hostname(), ".")
	for i, p := range parts {
		if p == "execute-api" && i+1 < len(parts) {
			return parts[i+1]
		}
	}
	return ""
}

var errNoEndpoint = errors.New("no endpoint: set --endpoint or " + envEndpoint + " (the stack's ApiUrl output; http://127.0.0.1:3000 for make dev)")
