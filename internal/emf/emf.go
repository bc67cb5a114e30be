// Package emf writes metrics in CloudWatch embedded metric format: one
// JSON line per metric on the function's log stream (stdout), which
// CloudWatch Logs turns into metrics. Nothing on the request path waits for
// AWS: a metric is one write to stdout.
//
// Why not a library: the Go EMF libraries are not among the modules this
// project may use (go-partial.tsv serves none), and the format needs
// about fifty lines
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
//
// The template sets LogFormat JSON: for an OS-only runtime (provided.al2023)
// Lambda structures only its own system logs and does not re-encode a line
// that is already JSON, so these lines reach CloudWatch Logs as written.
package emf

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// Namespace is the CloudWatch namespace of sfnhooks' metrics.
const Namespace = "sfnhooks"

// DimensionFunction is the one dimension: the function that emitted.
const DimensionFunction = "Function"

// Logger writes one EMF line per metric to w. It is safe for concurrent use.
type Logger struct {
	mu       sync.Mutex
	w        io.Writer
	function string
	now      func() time.Time
}

// New returns a Logger for function (the Function dimension) writing to w.
func New(w io.Writer, function string) *Logger {
	return &Logger{w: w, function: function, now: time.Now}
}

type metricDef struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type directive struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []metricDef `json:"Metrics"`
}

type metadata struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

// Metric writes m with value v; it fits hooks.Options.Metrics. A write
// error is dropped: metrics never fail a request.
func (l *Logger) Metric(_ context.Context, m hooks.Metric, v float64) {
	unit := "Count"
	if m == hooks.MetricWebhookHoldTime {
		unit = "Milliseconds"
	}
	line, err := json.Marshal(map[string]any{
		"_aws": metadata{
			Timestamp: l.now().UnixMilli(),
			CloudWatchMetrics: []directive{{
				Namespace:  Namespace,
				Dimensions: [][]string{{DimensionFunction}},
				Metrics:    []metricDef{{Name: string(m), Unit: unit}},
			}},
		},
		DimensionFunction: l.function,
		string(m):         v,
	})
	if err != nil {
		return
	}
	line = append(line, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.w.Write(line) // one write per line: lines never interleave
}
