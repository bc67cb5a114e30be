// Package httpapi holds what the HTTP adapters share: decoding API Gateway
// HTTP API (payload format 2.0) events and writing JSON answers and errors.
package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
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
// ("hooks" or "webhooks"), percent-decoded exactly once. It reads rawPath,
// which API Gateway leaves encoded, so "%2F" is seen as an encoded '/' and
// refused by token validation rather than splitting the path.
func Token(req *events.APIGatewayV2HTTPRequest, prefix string) (string, error) {
	raw := ""
	segs := strings.Split(strings.Trim(req.RawPath, "/"), "/")
	for i := len(segs) - 2; i >= 0; i-- {
		if segs[i] == prefix {
			raw = strings.Join(segs[i+1:], "/")
			break
		}
	}
	if raw == "" {
		raw = url.PathEscape(req.PathParameters["token"])
	}
	if raw == "" {
		return "", fmt.Errorf("%w: missing token in path", hooks.ErrInvalidToken)
	}
	tok, err := url.PathUnescape(raw)
	if err != nil {
		return "", fmt.Errorf("%w: bad percent-encoding in path: %v", hooks.ErrInvalidToken, err)
	}
	if err := hooks.ValidateToken(tok); err != nil {
		return "", err
	}
	return tok, nil
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
