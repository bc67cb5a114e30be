// Package httpapi holds what the HTTP adapters share: decoding API Gateway
// HTTP API (payload format 2.0) events and writing JSON answers and errors.
package httpapi

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// IsHTTPEvent reports whether a Lambda event is an API Gateway payload 2.0
// (or Lambda function URL) request rather than a direct invocation.
func IsHTTPEvent(raw json.RawMessage) bool {
	var probe struct {
		RequestContext struct {
			HTTP struct {
				Method string `json:"method"`
			} `json:"http"`
		} `json:"requestContext"`
	}
	return json.Unmarshal(raw, &probe) == nil && probe.RequestContext.HTTP.Method != ""
}

// Body returns the request body, decoding base64 when API Gateway sent it so.
func Body(req *events.APIGatewayV2HTTPRequest) ([]byte, error) {
	if !req.IsBase64Encoded {
		return []byte(req.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: body is flagged base64 but does not decode: %v", hooks.ErrInvalidPayload, err)
	}
	return b, nil
}

// Token returns the {token} path segment that follows segment prefix
// ("hooks" or "webhooks"), decoded exactly once, by API Gateway: an HTTP API
// percent-decodes the request path before it routes it, and hands the
// function pathParameters and rawPath already decoded (a request to
// /hooks/approval%20order-42 arrives as the token "approval order-42"). So
// the adapter decodes nothing: it takes pathParameters["token"] as it is,
// and only for an event without pathParameters (a hand-written test event)
// the segment of rawPath after prefix. A path with more segments after the
// token is refused here; TokenAndAction reads sub-routes. An encoded '/'
// (%2F) never reaches the function: API Gateway decodes it before routing,
// and /hooks/a/b matches no route (404 Not Found from API Gateway).
func Token(req *events.APIGatewayV2HTTPRequest, prefix string) (string, error) {
	tok, action, err := TokenAndAction(req, prefix)
	if err != nil {
		return "", err
	}
	if action != "" {
		return "", fmt.Errorf("%w: unexpected path segment %q after the token", hooks.ErrInvalidToken, action)
	}
	return tok, nil
}

// TokenAndAction is Token for routes with a fixed segment after the token
// (POST /hooks/{token}/reject): it returns the token and that segment
// ("reject"; empty for /hooks/{token}). The action comes from the route key
// when API Gateway gives one, else from rawPath.
func TokenAndAction(req *events.APIGatewayV2HTTPRequest, prefix string) (token, action string, err error) {
	var rest []string
	segs := strings.Split(strings.Trim(req.RawPath, "/"), "/")
	for i := range segs {
		if segs[i] == prefix && i+1 < len(segs) {
			rest = segs[i+1:]
			break
		}
	}
	if len(rest) > 2 {
		return "", "", fmt.Errorf("%w: path has %d segments after /%s/", hooks.ErrInvalidToken, len(rest), prefix)
	}
	if len(rest) == 2 {
		action = rest[1]
	}
	if _, path, ok := strings.Cut(req.RouteKey, " "); ok {
		_, after, found := strings.Cut(path, "{token}")
		if found {
			action = strings.Trim(after, "/")
		}
	}
	tok, ok := req.PathParameters["token"]
	if !ok && len(rest) > 0 {
		tok = rest[0]
	}
	if tok == "" {
		return "", "", fmt.Errorf("%w: missing token in path", hooks.ErrInvalidToken)
	}
	if err := hooks.ValidateToken(tok); err != nil {
		return "", "", err
	}
	return tok, action, nil
}

// JSON answers status with v as a JSON body.
func JSON(status int, v any) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(v)
	if err != nil {
		return Error(err)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"content-type": "application/json"},
		Body:       string(b),
	}
}

// Error answers err as the JSON body {"error","message"} with its status.
func Error(err error) events.APIGatewayV2HTTPResponse {
	api := hooks.ErrorFor(err)
	b, _ := json.Marshal(api)
	resp := events.APIGatewayV2HTTPResponse{
		StatusCode: api.Status,
		Headers:    map[string]string{"content-type": "application/json"},
		Body:       string(b),
	}
	if api.RetryAfter > 0 {
		resp.Headers["retry-after"] = strconv.Itoa(api.RetryAfter)
	}
	return resp
}

// MethodNotAllowed answers 405 with the Allow header.
func MethodNotAllowed(method string, allow ...string) events.APIGatewayV2HTTPResponse {
	r := Error(&hooks.APIError{
		Status:  http.StatusMethodNotAllowed,
		Code:    hooks.CodeMethodNotAllowed,
		Message: fmt.Sprintf("method %s is not allowed; use %s", method, strings.Join(allow, " or ")),
	})
	r.Headers["allow"] = strings.Join(allow, ", ")
	return r
}

// InvokeError is err as a direct Lambda invocation reports it: errorType is
// the error code + "Error" (HookNotFoundError, …), which a state machine can
// Catch by name.
func InvokeError(err error) error {
	api := hooks.ErrorFor(err)
	return messages.InvokeResponse_Error{Type: hooks.LambdaErrorType(api.Code), Message: api.Message}
}

// HeaderEdge is the header CloudFront adds to every request it sends to
// the API when the template's per-client limits are on (PublicEdgeRateLimit),
// with the stack's edge secret (HOOKS_EDGE_SECRET) as its value. Lower case,
// as API Gateway's payload 2.0 headers.
const HeaderEdge = "x-sfnhooks-edge"

// EnvEdgeSecret names the environment variable with the edge secret ("":
// no distribution in front, every request is served).
const EnvEdgeSecret = "HOOKS_EDGE_SECRET"

// ViaEdge reports whether req may be served: always without a secret, else
// only when it carries HeaderEdge with it (compared in constant time). A
// request without it reached the API's own URL, around the distribution and
// its per-client rate limit. It removes the header from req, so that it
// never reaches a workflow.
func ViaEdge(req *events.APIGatewayV2HTTPRequest, secret string) bool {
	got, ok := req.Headers[HeaderEdge]
	delete(req.Headers, HeaderEdge)
	if secret == "" {
		return true
	}
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(secret)) == 1
}
