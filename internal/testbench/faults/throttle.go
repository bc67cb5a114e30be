package faults

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Throttler answers the first Attempts attempts of each AWS request
// with a throttling error, on the wire, the way DynamoDB and Step Functions
// do, so that the SDK's retryer (not pkg/hooks) has to absorb it. Put it in
// aws.Config.HTTPClient.
type Throttler struct {
	Inner aws.HTTPClient
	// Attempts is how many attempts of each request are throttled; the
	// attempt after them goes through.
	Attempts int

	throttled atomic.Int64
}

// Throttled counts the throttling answers given so far.
func (t *Throttler) Throttled() int64 { return t.throttled.Load() }

// Do implements aws.HTTPClient.
func (t *Throttler) Do(r *http.Request) (*http.Response, error) {
	target := r.Header.Get("X-Amz-Target")
	if attempt(r) > t.Attempts {
		return t.Inner.Do(r)
	}
	t.throttled.Add(1)
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	typ := "ThrottlingException"
	if strings.HasPrefix(target, "DynamoDB_") {
		typ = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
	}
	body := fmt.Sprintf(`{"__type":%q,"message":"Rate exceeded (injected by faults.Throttler)"}`, typ)
	return &http.Response{
		Status:        "400 Bad Request",
		StatusCode:    http.StatusBadRequest,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Requestid": {"faults-throttle"}},
		Body:          io.NopCloser(bytes.NewReader([]byte(body))),
		ContentLength: int64(len(body)),
		Request:       r,
	}, nil
}

// attempt reads the SDK's amz-sdk-request header ("attempt=2; max=3").
func attempt(r *http.Request) int {
	for part := range strings.SplitSeq(r.Header.Get("Amz-Sdk-Request"), ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "attempt="); ok {
			n, err := strconv.Atoi(v)
			if err == nil {
				return n
			}
		}
	}
	return 1
}

// LoseAnswer lets a request through to Inner and then loses its answer
// (the connection resets), once for each request Match selects on its
// first attempt: the write is applied, and the SDK's retryer resends it,
// as it does on AWS when a response is lost. moto never loses an answer.
type LoseAnswer struct {
	Inner aws.HTTPClient
	// Match selects the requests whose answer is lost, by their
	// X-Amz-Target ("DynamoDB_20120810.UpdateItem").
	Match func(target string) bool

	lost atomic.Int64
}

// Lost counts the answers lost so far.
func (l *LoseAnswer) Lost() int64 { return l.lost.Load() }

// Do implements aws.HTTPClient.
func (l *LoseAnswer) Do(r *http.Request) (*http.Response, error) {
	resp, err := l.Inner.Do(r)
	if err != nil || attempt(r) > 1 || !l.Match(r.Header.Get("X-Amz-Target")) {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	l.lost.Add(1)
	return nil, fmt.Errorf("read: connection reset by peer (answer lost by faults.LoseAnswer)")
}
