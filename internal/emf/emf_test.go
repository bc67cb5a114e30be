package emf

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// A hold time is in milliseconds, a count is a Count; each call is one
// line. (The lines of a real handler run are checked in e2e/limits_test.go.)
func TestUnits(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "resume-webhook")
	l.now = func() time.Time { return time.UnixMilli(1700000000000) }
	l.Metric(context.Background(), hooks.MetricWebhookHoldTime, 250)
	l.Metric(context.Background(), hooks.MetricStored, 1)
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2: %s", len(lines), buf.String())
	}
	for i, want := range []struct {
		name, unit string
		value      float64
	}{{"WebhookHoldTime", "Milliseconds", 250}, {"Stored", "Count", 1}} {
		var line struct {
			AWS struct {
				Timestamp         int64
				CloudWatchMetrics []struct {
					Namespace  string
					Dimensions [][]string
					Metrics    []struct{ Name, Unit string }
				}
			} `json:"_aws"`
			Function string
		}
		var values map[string]any
		if err := json.Unmarshal(lines[i], &line); err != nil || json.Unmarshal(lines[i], &values) != nil {
			t.Fatalf("line %s: %v", lines[i], err)
		}
		d := line.AWS.CloudWatchMetrics
		if line.AWS.Timestamp != 1700000000000 || len(d) != 1 || d[0].Namespace != Namespace || len(d[0].Metrics) != 1 ||
			d[0].Metrics[0].Name != want.name || d[0].Metrics[0].Unit != want.unit || line.Function != "resume-webhook" || values[want.name] != want.value {
			t.Errorf("line %s, want %s %v %s", lines[i], want.name, want.value, want.unit)
		}
	}
}
