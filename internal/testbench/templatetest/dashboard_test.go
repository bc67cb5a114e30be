package templatetest

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/sfnhooks/sfnhooks/internal/emf"
	"github.com/sfnhooks/sfnhooks/pkg/hooks"
)

// The dashboard's body is JSON once CloudFormation substitutes ${…}, and
// every metric it reads from the sfnhooks namespace is one the functions
// write (hooks.Metric*, dimension Function of a function that writes EMF):
// a renamed metric would leave a widget silently empty.
func TestDashboardReadsWrittenMetrics(t *testing.T) {
	src, err := os.ReadFile("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tp, err := parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if cond := tp.resources("AWS::CloudWatch::Dashboard"); len(cond) != 1 {
		t.Fatalf("%d dashboards, want 1", len(cond))
	}
	body := tp.prop("HooksDashboard", "DashboardBody")
	if body == nil || len(body.Content) != 0 && body.Tag != "!Sub" {
		t.Fatalf("DashboardBody: %v", body)
	}
	text := regexp.MustCompile(`\$\{[^}]+\}`).ReplaceAllString(body.Value, "X")
	var d struct {
		Widgets []struct {
			Properties struct {
				Title   string  `json:"title"`
				Metrics [][]any `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(text), &d); err != nil {
		t.Fatalf("dashboard body is not JSON: %v", err)
	}
	written := []string{string(hooks.MetricAcknowledged), string(hooks.MetricDeliveredAtOnce), string(hooks.MetricStored), string(hooks.MetricNotFound),
		string(hooks.MetricContention), string(hooks.MetricTooMany), string(hooks.MetricWebhookHoldTime)}
	functions := []string{"resume-hook", "resume-webhook", "approval-link"} // functions/*/main.go: emf.New(os.Stdout, …)
	seen := 0
	for _, w := range d.Widgets {
		for _, m := range w.Properties.Metrics {
			if len(m) < 4 || m[0] != emf.Namespace {
				continue
			}
			seen++
			if name, _ := m[1].(string); !slices.Contains(written, name) {
				t.Errorf("widget %q reads %s/%v, which no function writes", w.Properties.Title, emf.Namespace, m[1])
			}
			if m[2] != emf.DimensionFunction || !slices.Contains(functions, m[3].(string)) {
				t.Errorf("widget %q: dimension %v=%v, want %s of a function that writes EMF", w.Properties.Title, m[2], m[3], emf.DimensionFunction)
			}
		}
	}
	if len(d.Widgets) != 6 || seen < 10 {
		t.Fatalf("%d widgets, %d sfnhooks metrics", len(d.Widgets), seen)
	}
}
