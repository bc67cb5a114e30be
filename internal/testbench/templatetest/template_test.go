package templatetest

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/sfnhooks/sfnhooks/internal/testbench/iamactions"
)

// tmpl is a parsed template: its source and its root mapping.
type tmpl struct {
	src  []byte
	root *yaml.Node
}

func parse(src []byte) (*tmpl, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("template is not a mapping")
	}
	return &tmpl{src: src, root: doc.Content[0]}, nil
}

// at walks mapping keys from n; nil when a key is missing.
func at(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

func (t *tmpl) get(keys ...string) *yaml.Node { return at(t.root, keys...) }

// prop returns Resources.<id>.Properties.<keys…>.
func (t *tmpl) prop(id string, keys ...string) *yaml.Node {
	return at(t.get("Resources", id, "Properties"), keys...)
}

// resources returns the logical ids of the resources of type typ, in order.
func (t *tmpl) resources(typ string) []string {
	var ids []string
	rs := t.get("Resources")
	for i := 0; rs != nil && i+1 < len(rs.Content); i += 2 {
		if expr(at(rs.Content[i+1], "Type")) == typ {
			ids = append(ids, rs.Content[i].Value)
		}
	}
	return ids
}

// expr renders a node canonically, intrinsics as calls, so that checks
// compare one string: !If [C, !Ref P, !Ref AWS::NoValue] and
// {"Fn::If": [C, {Ref: P}, {Ref: AWS::NoValue}]} are both
// "If(C, Ref(P), Ref(AWS::NoValue))"; !GetAtt X.Arn is "GetAtt(X.Arn)".
func expr(n *yaml.Node) string {
	if n == nil {
		return "<missing>"
	}
	fn := strings.TrimPrefix(n.Tag, "!")
	custom := strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") // !!str, !!int: YAML's own
	switch n.Kind {
	case yaml.ScalarNode:
		if custom {
			return fn + "(" + n.Value + ")"
		}
		return n.Value
	case yaml.SequenceNode:
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			parts[i] = expr(c)
		}
		if custom {
			if fn == "GetAtt" {
				return "GetAtt(" + strings.Join(parts, ".") + ")"
			}
			return fn + "(" + strings.Join(parts, ", ") + ")"
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case yaml.MappingNode:
		if len(n.Content) == 2 {
			k := n.Content[0].Value
			if k == "Ref" || k == "Condition" {
				return k + "(" + expr(n.Content[1]) + ")"
			}
			if name, ok := strings.CutPrefix(k, "Fn::"); ok {
				v := expr(n.Content[1])
				if strings.HasPrefix(v, "[") {
					v = strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
				}
				if name == "GetAtt" {
					v = strings.ReplaceAll(v, ", ", ".")
				}
				return name + "(" + v + ")"
			}
		}
		parts := make([]string, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			parts = append(parts, n.Content[i].Value+": "+expr(n.Content[i+1]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	default:
		return fmt.Sprintf("<kind %d>", n.Kind)
	}
}

// list returns the elements of sequence n (none for nil or a scalar).
func list(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// errs collects the failures of one check.
type errs []string

func (e *errs) want(what string, got *yaml.Node, want string) {
	if g := expr(got); g != want {
		*e = append(*e, fmt.Sprintf("%s: got %s, want %s", what, g, want))
	}
}

func (e *errs) add(format string, args ...any) { *e = append(*e, fmt.Sprintf(format, args...)) }

func (e errs) err() error {
	if len(e) == 0 {
		return nil
	}
	return errors.New(strings.Join(e, "\n"))
}

// functions: each function's logical id, role and reserved concurrency
// parameter, condition and default.
var functions = []struct{ id, role, param, cond, reserved string }{
	{"ResumeHookFunction", "ResumeHookRole", "ResumeHookReservedConcurrency", "ReserveResumeHook", "100"},
	{"ResumeWebhookFunction", "ResumeWebhookRole", "ResumeWebhookReservedConcurrency", "ReserveResumeWebhook", "100"},
	// Issue 21: the approval links have a function, and a concurrency, of
	// their own: held webhook callers cannot take it.
	{"ApprovalLinkFunction", "ApprovalLinkRole", "ApprovalLinkReservedConcurrency", "ReserveApprovalLink", "10"},
	{"HookTaskFunction", "HookTaskRole", "HookTaskReservedConcurrency", "ReserveHookTask", "100"},
}

// param checks a parameter's type and default.
func param(e *errs, t *tmpl, name, typ, def string) {
	p := t.get("Parameters", name)
	if p == nil {
		e.add("parameter %s is missing", name)
		return
	}
	e.want(name+" Type", at(p, "Type"), typ)
	e.want(name+" Default", at(p, "Default"), def)
}

// encrypted: an SQS queue encrypted at rest (SSE-SQS or a KMS key).
func encrypted(e *errs, t *tmpl, queue string) {
	if got := t.get("Resources", queue, "Type"); expr(got) != "AWS::SQS::Queue" {
		e.add("%s: type %s, want AWS::SQS::Queue", queue, expr(got))
		return
	}
	sse, key := expr(t.prop(queue, "SqsManagedSseEnabled")), expr(t.prop(queue, "KmsMasterKeyId"))
	switch {
	case sse == "true":
	case sse == "If(HasDataKey, Ref(AWS::NoValue), true)" && key == "If(HasDataKey, Ref(DataKmsKeyArn), Ref(AWS::NoValue))":
	case key != "<missing>" && !strings.HasPrefix(key, "If("):
	default:
		e.add("%s is not encrypted (SqsManagedSseEnabled: true, KmsMasterKeyId, or SSE-SQS unless DataKmsKeyArn is set): %s, %s", queue, sse, key)
	}
}

// queueOf returns X of GetAtt(X.Arn).
func queueOf(n *yaml.Node) string {
	s, ok := strings.CutPrefix(expr(n), "GetAtt(")
	if !ok {
		return ""
	}
	return strings.TrimSuffix(strings.TrimSuffix(s, ")"), ".Arn")
}

// grants: every Allow action of role's inline policies, as iamactions reads
// them (statements under an !If are not among them; see tracing).
func grants(t *tmpl, role string) ([]iamactions.Grant, error) {
	parsed, err := iamactions.ParseTemplate(t.src)
	if err != nil {
		return nil, err
	}
	g, ok := parsed.Grants[role]
	if !ok {
		return nil, fmt.Errorf("no role %s", role)
	}
	return g, nil
}

// granted reports whether a grant of gs allows action (IAM wildcards, any case).
func granted(gs []iamactions.Grant, action string) *iamactions.Grant {
	for i, g := range gs {
		if ok, _ := path.Match(strings.ToLower(g.Action), strings.ToLower(action)); ok {
			return &gs[i]
		}
	}
	return nil
}

// alarmMetrics lists "namespace metric dimension=value…" of every metric an
// alarm watches (a single metric, or each MetricStat of its Metrics).
func alarmMetrics(t *tmpl, id string) []string {
	one := func(m *yaml.Node) string {
		s := expr(at(m, "Namespace")) + " " + expr(at(m, "MetricName"))
		for _, d := range list(at(m, "Dimensions")) {
			s += " " + expr(at(d, "Name")) + "=" + expr(at(d, "Value"))
		}
		return s
	}
	p := t.get("Resources", id, "Properties")
	if at(p, "MetricName") != nil {
		return []string{one(p)}
	}
	var out []string
	if ms := at(p, "Metrics"); ms != nil {
		for _, m := range ms.Content {
			if metric := at(m, "MetricStat", "Metric"); metric != nil {
				out = append(out, one(metric))
			}
		}
	}
	return out
}

type check struct {
	name string
	run  func(t *tmpl) error
	// breaks are edits of the template that each remove (part of) the
	// property: old (which must occur exactly once) becomes new. The check
	// must fail on each edited copy.
	breaks [][2]string
}

var checks = []check{
	{
		name: "throttle parameters and their defaults",
		run: func(t *tmpl) error {
			var e errs
			param(&e, t, "HooksThrottleRate", "Number", "100")
			param(&e, t, "HooksThrottleBurst", "Number", "200")
			// Issue 21: GET /hooks reads up to 100 items a request: its own, lower bucket.
			param(&e, t, "ListHooksThrottleRate", "Number", "5")
			param(&e, t, "ListHooksThrottleBurst", "Number", "10")
			param(&e, t, "WebhooksThrottleRate", "Number", "50")
			param(&e, t, "WebhooksThrottleBurst", "Number", "100")
			return e.err()
		},
		breaks: [][2]string{{"  HooksThrottleBurst:\n    Type: Number\n    Default: 200", "  HooksThrottleBurst:\n    Type: Number\n    Default: 10000"},
			{"  WebhooksThrottleRate:\n    Type: Number\n    Default: 50", "  WebhooksThrottleRate:\n    Type: String\n    Default: 50"},
			{"  HooksThrottleRate:\n", "  HooksRate:\n"},
		},
	},
	{
		// Issue 21: the link pages are not served by resume-webhook, whose
		// concurrency held webhook callers can fill.
		name: "the approval links are served by approval-link, with its own integration",
		run: func(t *tmpl) error {
			var e errs
			for _, id := range t.resources("AWS::ApiGatewayV2::Route") {
				if key := expr(t.prop(id, "RouteKey")); strings.HasSuffix(key, " /links/{id}") {
					e.want(key+" Target", t.prop(id, "Target"), "Sub(integrations/${ApprovalLinkIntegration})")
				}
			}
			e.want("ApprovalLinkIntegration IntegrationUri", t.prop("ApprovalLinkIntegration", "IntegrationUri"), "GetAtt(ApprovalLinkFunction.Arn)")
			e.want("LinkApiPermission FunctionName", t.prop("LinkApiPermission", "FunctionName"), "Ref(ApprovalLinkFunction)")
			return e.err()
		},
		breaks: [][2]string{{"      RouteKey: GET /links/{id}\n      Target: !Sub integrations/${ApprovalLinkIntegration}", "      RouteKey: GET /links/{id}\n      Target: !Sub integrations/${ResumeWebhookIntegration}"},
			{"      IntegrationUri: !GetAtt ApprovalLinkFunction.Arn", "      IntegrationUri: !GetAtt ResumeWebhookFunction.Arn"},
		},
	},
	{
		// Issue 21: API Gateway's route throttling is one bucket for every
		// caller; per-client limits need WAF, which HTTP APIs do not take.
		name: "per-client limits: CloudFront and a WAF rate-based rule in front of the public routes, off by default",
		run: func(t *tmpl) error {
			var e errs
			param(&e, t, "PublicEdgeRateLimit", "Number", "0")
			e.want("PublicEdge", t.get("Conditions", "PublicEdge"), "Not(Equals(Ref(PublicEdgeRateLimit), 0))")
			for _, id := range []string{"PublicEdgeWebAcl", "PublicEdgeDistribution"} {
				e.want(id+" Condition", t.get("Resources", id, "Condition"), "PublicEdge")
			}
			e.want("web ACL scope", t.prop("PublicEdgeWebAcl", "Scope"), "CLOUDFRONT")
			rules := list(t.prop("PublicEdgeWebAcl", "Rules"))
			if len(rules) == 0 || expr(at(rules[0], "Name")) != "per-client-rate" {
				e.add("web ACL rules: %d, the first not per-client-rate: want the rate-based rule first", len(rules))
			} else {
				e.want("rate rule action", at(rules[0], "Action"), "{Block: {}}")
				e.want("rate rule limit", at(rules[0], "Statement", "RateBasedStatement", "Limit"), "Ref(PublicEdgeRateLimit)")
				e.want("rate rule key", at(rules[0], "Statement", "RateBasedStatement", "AggregateKeyType"), "IP")
			}
			cfg := t.prop("PublicEdgeDistribution", "DistributionConfig")
			e.want("distribution web ACL", at(cfg, "WebACLId"), "GetAtt(PublicEdgeWebAcl.Arn)")
			origins := list(at(cfg, "Origins"))
			if len(origins) != 1 {
				e.add("distribution origins: %d, want the API", len(origins))
			} else {
				e.want("origin", at(origins[0], "DomainName"), "Sub(${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix})")
				hdrs := list(at(origins[0], "OriginCustomHeaders"))
				secret := "Select(2, Split(/, Ref(AWS::StackId)))"
				if len(hdrs) != 1 || expr(at(hdrs[0], "HeaderName")) != "X-Sfnhooks-Edge" || expr(at(hdrs[0], "HeaderValue")) != secret {
					e.add("the origin does not send X-Sfnhooks-Edge with the edge secret: %v", expr(at(origins[0], "OriginCustomHeaders")))
				}
				e.want("HOOKS_EDGE_SECRET", t.get("Globals", "Function", "Environment", "Variables", "HOOKS_EDGE_SECRET"), "If(PublicEdge, "+secret+", )")
			}
			e.want("HOOKS_WEBHOOK_BASE_URL", t.get("Globals", "Function", "Environment", "Variables", "HOOKS_WEBHOOK_BASE_URL"),
				"If(PublicEdge, Sub(https://${PublicEdgeDistribution.DomainName}), Sub(https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}))")
			e.want("rule: us-east-1", t.get("Rules", "PublicEdgeNeedsUsEast1", "Assertions"), "[{Assert: Equals(Ref(AWS::Region), us-east-1), AssertDescription: PublicEdgeRateLimit needs the stack in us-east-1 (a web ACL for CloudFront is created there).}]")
			return e.err()
		},
		breaks: [][2]string{{"              Limit: !Ref PublicEdgeRateLimit", "              Limit: 2000000000"},
			{"          - !Sub https://${PublicEdgeDistribution.DomainName}\n", "          - !Sub https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}\n"},
			{"        WebACLId: !GetAtt PublicEdgeWebAcl.Arn\n", ""},
			{"              - HeaderName: X-Sfnhooks-Edge\n", "              - HeaderName: X-Other\n"},
			{"  PublicEdgeRateLimit:\n    Type: Number\n    Default: 0", "  PublicEdgeRateLimit:\n    Type: Number\n    Default: 1000"},
		},
	},
	{
		// Issue 21: log fingerprints of tokens are keyed per deployment.
		name: "log fingerprints are keyed with a key generated per deployment",
		run: func(t *tmpl) error {
			var e errs
			e.want("HOOKS_FINGERPRINT_KEY", t.get("Globals", "Function", "Environment", "Variables", "HOOKS_FINGERPRINT_KEY"),
				"Sub({{resolve:secretsmanager:${LogFingerprintKey}:SecretString}})")
			e.want("LogFingerprintKey type", t.get("Resources", "LogFingerprintKey", "Type"), "AWS::SecretsManager::Secret")
			e.want("LogFingerprintKey length", t.prop("LogFingerprintKey", "GenerateSecretString", "PasswordLength"), "32")
			return e.err()
		},
		breaks: [][2]string{{"        HOOKS_FINGERPRINT_KEY: !Sub \"{{resolve:secretsmanager:${LogFingerprintKey}:SecretString}}\"\n", ""},
			{"      GenerateSecretString:\n        PasswordLength: 32\n        ExcludePunctuation: true\n\n  # ----", "      GenerateSecretString:\n        PasswordLength: 8\n        ExcludePunctuation: true\n\n  # ----"},
		},
	},
	{
		// Issue 21: the resume roles read what the settle path needs (the
		// history), and every role reads executions, and hook-task opens
		// sealed payloads, of this stack's state machines by name only,
		// unless DisposeScope=account.
		name: "execution reads and kms:Decrypt scoped to this stack's state machines, by name",
		run: func(t *tmpl) error {
			var e errs
			names := []string{"approval", "approval-links", "payment", "sealed-approval"}
			var exact []string
			for _, n := range names {
				exact = append(exact, "Sub(arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-"+n+":*)")
			}
			want := "If(DisposeStackOnly, [" + strings.Join(exact, ", ") + "], Sub(arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:*:*))"
			for _, f := range functions {
				found := false
				for _, pol := range list(t.prop(f.role, "Policies")) {
					for _, st := range list(at(pol, "PolicyDocument", "Statement")) {
						if expr(at(st, "Sid")) != "ReadExecutions" {
							continue
						}
						found = true
						e.want(f.role+" ReadExecutions Resource", at(st, "Resource"), want)
						actions := expr(at(st, "Action"))
						if f.role != "HookTaskRole" && actions != "states:GetExecutionHistory" {
							e.add("%s reads executions with %s, want states:GetExecutionHistory only (the settle path)", f.role, actions)
						}
					}
					for _, st := range list(at(pol, "PolicyDocument", "Statement")) {
						if x := expr(st); strings.Contains(x, "kms:Decrypt") && strings.Contains(x, "Ref(HooksKmsKeyArn)") && !strings.Contains(x, want) {
							e.add("%s: kms:Decrypt is not limited to this stack's state machines by name: %s", f.role, x)
						}
					}
				}
				if !found {
					e.add("%s has no ReadExecutions statement", f.role)
				}
			}
			return e.err()
		},
		breaks: [][2]string{{"                Action: states:GetExecutionHistory # settling a task", "                Action: [states:GetExecutionHistory, states:DescribeExecution] # settling a task"},
			{"                          - !Sub arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-sealed-approval:*\n", "                          - !Sub arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-*:*\n"},
		},
	},
	{
		// Issue 21: one parameter puts the data at rest under your own KMS
		// key (table, log groups, queues, secrets); off by default.
		name: "DataKmsKeyArn encrypts the table, log groups, queues and secrets, off by default",
		run: func(t *tmpl) error {
			var e errs
			param(&e, t, "DataKmsKeyArn", "String", "")
			e.want("HasDataKey", t.get("Conditions", "HasDataKey"), "Not(Equals(Ref(DataKmsKeyArn), ))")
			e.want("HooksTable SSESpecification", t.prop("HooksTable", "SSESpecification"),
				"{SSEEnabled: true, SSEType: If(HasDataKey, KMS, Ref(AWS::NoValue)), KMSMasterKeyId: If(HasDataKey, Ref(DataKmsKeyArn), Ref(AWS::NoValue))}")
			onKey := "If(HasDataKey, Ref(DataKmsKeyArn), Ref(AWS::NoValue))"
			for _, id := range t.resources("AWS::Logs::LogGroup") {
				e.want(id+" KmsKeyId", t.prop(id, "KmsKeyId"), onKey)
			}
			for _, id := range t.resources("AWS::SQS::Queue") {
				e.want(id+" KmsMasterKeyId", t.prop(id, "KmsMasterKeyId"), onKey)
				e.want(id+" SqsManagedSseEnabled", t.prop(id, "SqsManagedSseEnabled"), "If(HasDataKey, Ref(AWS::NoValue), true)")
			}
			for _, id := range t.resources("AWS::SecretsManager::Secret") {
				e.want(id+" KmsKeyId", t.prop(id, "KmsKeyId"), onKey)
			}
			return e.err()
		},
		breaks: [][2]string{{"        KMSMasterKeyId: !If [HasDataKey, !Ref DataKmsKeyArn, !Ref AWS::NoValue]\n", ""},
			{"      LogGroupName: !Sub /aws/apigateway/${AWS::StackName}-http-api\n      RetentionInDays: !Ref LogRetentionDays\n      KmsKeyId: !If [HasDataKey, !Ref DataKmsKeyArn, !Ref AWS::NoValue]\n", "      LogGroupName: !Sub /aws/apigateway/${AWS::StackName}-http-api\n      RetentionInDays: !Ref LogRetentionDays\n"},
			{"  DataKmsKeyArn:\n    Type: String\n    Default: \"\"", "  DataKmsKeyArn:\n    Type: String\n    Default: \"arn:aws:kms:us-east-1:111122223333:key/x\""},
		},
	},
	{
		name: "route throttling uses the parameters, per route group",
		run: func(t *tmpl) error {
			var e errs
			const stage = "HttpApiStage"
			want := map[string]string{ // route key → parameter prefix
				"POST /hooks/{token}":           "Hooks",
				"GET /hooks/{token}":            "Hooks",
				"GET /hooks":                    "ListHooks",
				"DELETE /hooks/{token}":         "ListHooks",
				"POST /hooks/{token}/reject":    "Hooks",
				"POST /hooks/{token}/heartbeat": "Hooks",
				"ANY /webhooks/{token}":         "Webhooks",
				"GET /links/{id}":               "Webhooks", // approval links: public, as the webhook route
				"POST /links/{id}":              "Webhooks",
			}
			var routes []string
			for _, id := range t.resources("AWS::ApiGatewayV2::Route") {
				key := expr(t.prop(id, "RouteKey"))
				routes = append(routes, id)
				prefix, ok := want[key]
				if !ok {
					e.add("route %s (%s) has no throttling of its own", id, key)
					continue
				}
				e.want(key+" rate", t.prop(stage, "RouteSettings", key, "ThrottlingRateLimit"), "Ref("+prefix+"ThrottleRate)")
				e.want(key+" burst", t.prop(stage, "RouteSettings", key, "ThrottlingBurstLimit"), "Ref("+prefix+"ThrottleBurst)")
				delete(want, key)
			}
			for key := range want {
				e.add("no route %s", key)
			}
			e.want("default rate", t.prop(stage, "DefaultRouteSettings", "ThrottlingRateLimit"), "Ref(WebhooksThrottleRate)")
			e.want("default burst", t.prop(stage, "DefaultRouteSettings", "ThrottlingBurstLimit"), "Ref(WebhooksThrottleBurst)")
			// RouteSettings name routes that must exist when the stage is updated.
			e.want(stage+" DependsOn", t.get("Resources", stage, "DependsOn"), "["+strings.Join(routes, ", ")+"]")
			return e.err()
		},
		breaks: [][2]string{{"        ANY /webhooks/{token}:\n          ThrottlingRateLimit: !Ref WebhooksThrottleRate", "        ANY /webhooks/{token}:\n          ThrottlingRateLimit: !Ref HooksThrottleRate"},
			{"        GET /hooks/{token}:\n          ThrottlingRateLimit: !Ref HooksThrottleRate\n          ThrottlingBurstLimit: !Ref HooksThrottleBurst\n", ""},
			{"      DefaultRouteSettings:\n        ThrottlingRateLimit: !Ref WebhooksThrottleRate\n        ThrottlingBurstLimit: !Ref WebhooksThrottleBurst\n", ""},
			{"    DependsOn: [PostHookRoute, GetHookRoute, ListHooksRoute, DisposeHookRoute, RejectHookRoute, HeartbeatHookRoute, WebhookRoute, LinkPageRoute, LinkUseRoute]\n", ""},
			{"        POST /hooks/{token}/heartbeat:\n          ThrottlingRateLimit: !Ref HooksThrottleRate\n          ThrottlingBurstLimit: !Ref HooksThrottleBurst\n", ""},
			{"        POST /links/{id}:\n          ThrottlingRateLimit: !Ref WebhooksThrottleRate\n          ThrottlingBurstLimit: !Ref WebhooksThrottleBurst\n", ""},
		},
	},
	{
		name: "reserved concurrency per function, -1 disables it",
		run: func(t *tmpl) error {
			var e errs
			var ids []string
			for _, f := range functions {
				ids = append(ids, f.id)
			}
			if got := t.resources("AWS::Serverless::Function"); !slices.Equal(got, ids) {
				e.add("functions %v, want %v: a new function needs its reserved concurrency and alarms (and a line in functions)", got, ids)
			}
			for _, f := range functions {
				param(&e, t, f.param, "Number", f.reserved)
				e.want(f.param+" MinValue", t.get("Parameters", f.param, "MinValue"), "-1")
				if d := expr(t.get("Parameters", f.param, "Description")); !strings.Contains(d, "-1") || !strings.Contains(d, "quota") {
					e.add("%s: the description must say -1 disables it and why (a low account quota): %q", f.param, d)
				}
				e.want(f.cond, t.get("Conditions", f.cond), "Not(Equals(Ref("+f.param+"), -1))")
				e.want(f.id+" ReservedConcurrentExecutions", t.prop(f.id, "ReservedConcurrentExecutions"),
					"If("+f.cond+", Ref("+f.param+"), Ref(AWS::NoValue))")
			}
			return e.err()
		},
		breaks: [][2]string{{"      ReservedConcurrentExecutions: !If [ReserveHookTask, !Ref HookTaskReservedConcurrency, !Ref AWS::NoValue]\n", ""},
			{"ReserveResumeHook: !Not [!Equals [!Ref ResumeHookReservedConcurrency, -1]]", "ReserveResumeHook: !Not [!Equals [!Ref ResumeHookReservedConcurrency, 0]]"},
			{"  ResumeWebhookReservedConcurrency:\n    Type: Number\n    Default: 100\n    MinValue: -1", "  ResumeWebhookReservedConcurrency:\n    Type: Number\n    Default: 100\n    MinValue: 0"},
			{"New accounts may have a\n      concurrency quota too low", "New accounts may have a\n      concurrency limit too low"},
			{"  # ---------------------------------------------------------------- HTTP API\n", "  ExtraFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      Role: !GetAtt HookTaskRole.Arn\n\n  # ---------------------------------------------------------------- HTTP API\n"},
		},
	},
	{
		name: "EventBridge target has an encrypted dead-letter queue it may send to",
		run: func(t *tmpl) error {
			var e errs
			targets := t.prop("ExecutionEndedRule", "Targets")
			if targets == nil || len(targets.Content) == 0 {
				return errors.New("ExecutionEndedRule has no target")
			}
			for _, tg := range targets.Content {
				q := queueOf(at(tg, "DeadLetterConfig", "Arn"))
				if q == "" {
					e.add("target %s: DeadLetterConfig.Arn is %s, want !GetAtt <queue>.Arn", expr(at(tg, "Id")), expr(at(tg, "DeadLetterConfig", "Arn")))
					continue
				}
				encrypted(&e, t, q)
				found := false
				for _, id := range t.resources("AWS::SQS::QueuePolicy") {
					if expr(t.prop(id, "Queues")) != "[Ref("+q+")]" {
						continue
					}
					for _, st := range list(t.prop(id, "PolicyDocument", "Statement")) {
						if expr(at(st, "Effect")) == "Allow" && expr(at(st, "Principal")) == "{Service: events.amazonaws.com}" &&
							expr(at(st, "Action")) == "sqs:SendMessage" && expr(at(st, "Resource")) == "GetAtt("+q+".Arn)" &&
							expr(at(st, "Condition", "ArnEquals", "aws:SourceArn")) == "GetAtt(ExecutionEndedRule.Arn)" {
							found = true
						}
					}
				}
				if !found {
					e.add("no queue policy lets events.amazonaws.com send to %s for ExecutionEndedRule (aws:SourceArn)", q)
				}
			}
			return e.err()
		},
		breaks: [][2]string{{"            Principal: {Service: events.amazonaws.com}", "            Principal: {Service: sns.amazonaws.com}"},
			{"          DeadLetterConfig:\n            Arn: !GetAtt ExecutionEndedDeadLetterQueue.Arn\n", ""},
			{"              ArnEquals: {aws:SourceArn: !GetAtt ExecutionEndedRule.Arn}", "              ArnEquals: {aws:SourceArn: !GetAtt HookTaskFunction.Arn}"},
			{"  ExecutionEndedDeadLetterQueue:\n    Type: AWS::SQS::Queue\n    Properties:\n      SqsManagedSseEnabled: !If [HasDataKey, !Ref AWS::NoValue, true]\n", "  ExecutionEndedDeadLetterQueue:\n    Type: AWS::SQS::Queue\n    Properties:\n"},
		},
	},
	{
		name: "hook-task's asynchronous invocations have an encrypted on-failure queue the role may send to",
		run: func(t *tmpl) error {
			var e errs
			var configs []string
			for _, id := range t.resources("AWS::Lambda::EventInvokeConfig") {
				if expr(t.prop(id, "FunctionName")) == "Ref(HookTaskFunction)" {
					configs = append(configs, id)
				}
			}
			if len(configs) != 1 {
				return fmt.Errorf("EventInvokeConfigs of HookTaskFunction: %v, want one", configs)
			}
			q := queueOf(t.prop(configs[0], "DestinationConfig", "OnFailure", "Destination"))
			if q == "" {
				return fmt.Errorf("%s: OnFailure destination is %s, want !GetAtt <queue>.Arn", configs[0], expr(t.prop(configs[0], "DestinationConfig", "OnFailure", "Destination")))
			}
			encrypted(&e, t, q)
			gs, err := grants(t, "HookTaskRole")
			if err != nil {
				return err
			}
			ok := false
			for _, pol := range list(t.prop("HookTaskRole", "Policies")) {
				for _, st := range list(at(pol, "PolicyDocument", "Statement")) {
					if expr(at(st, "Effect")) == "Allow" && expr(at(st, "Action")) == "sqs:SendMessage" && expr(at(st, "Resource")) == "GetAtt("+q+".Arn)" {
						ok = true
					}
				}
			}
			if !ok || granted(gs, "sqs:SendMessage") == nil {
				e.add("HookTaskRole does not grant sqs:SendMessage on %s", q)
			}
			return e.err()
		},
		breaks: [][2]string{{"      SqsManagedSseEnabled: !If [HasDataKey, !Ref AWS::NoValue, true]\n      KmsMasterKeyId: !If [HasDataKey, !Ref DataKmsKeyArn, !Ref AWS::NoValue]\n      MessageRetentionPeriod: 1209600\n  HookTaskFailureQueuePolicy:", "      MessageRetentionPeriod: 1209600\n  HookTaskFailureQueuePolicy:"},
			{"                Resource: !GetAtt HookTaskFailureQueue.Arn\n", "                Resource: \"*\"\n"},
			{"        OnFailure:\n          Destination: !GetAtt HookTaskFailureQueue.Arn", "        OnSuccess:\n          Destination: !GetAtt HookTaskFailureQueue.Arn"},
		},
	},
	{
		name: "alarms to AlarmTopicArn, only when it is set",
		run: func(t *tmpl) error {
			var e errs
			param(&e, t, "AlarmTopicArn", "String", "")
			e.want("condition Alarms", t.get("Conditions", "Alarms"), `Not(Equals(Ref(AlarmTopicArn), ))`)
			watched := map[string]bool{}
			for _, id := range t.resources("AWS::CloudWatch::Alarm") {
				// An example state machine's alarm exists only with the
				// examples (IncludeExamples=true): ExampleAlarms.
				wantCond := "Alarms"
				if strings.Contains(expr(t.prop(id, "Namespace")), "AWS/States") {
					wantCond = "ExampleAlarms"
				}
				e.want(id+" Condition", t.get("Resources", id, "Condition"), wantCond)
				e.want(id+" AlarmActions", t.prop(id, "AlarmActions"), "[Ref(AlarmTopicArn)]")
				for _, m := range alarmMetrics(t, id) {
					watched[m] = true
				}
			}
			var want []string
			for _, f := range functions {
				for _, m := range []string{"Errors", "Throttles", "AsyncEventsDropped"} {
					want = append(want, "AWS/Lambda "+m+" FunctionName=Ref("+f.id+")")
				}
			}
			want = append(want,
				"AWS/ApiGateway 5xx ApiId=Ref(HttpApi)",
				"AWS/DynamoDB ReadThrottleEvents TableName=Ref(HooksTable)",
				"AWS/DynamoDB WriteThrottleEvents TableName=Ref(HooksTable)",
				"AWS/DynamoDB ReadThrottleEvents TableName=Ref(HooksTable) GlobalSecondaryIndexName=byExecution",
				"AWS/DynamoDB WriteThrottleEvents TableName=Ref(HooksTable) GlobalSecondaryIndexName=byExecution",
				"AWS/SQS ApproximateNumberOfMessagesVisible QueueName=GetAtt(ExecutionEndedDeadLetterQueue.QueueName)",
				"AWS/SQS ApproximateNumberOfMessagesVisible QueueName=GetAtt(HookTaskFailureQueue.QueueName)",
				"AWS/States ExecutionsFailed StateMachineArn=Ref(ApprovalStateMachine)",
				"AWS/States ExecutionsFailed StateMachineArn=Ref(PaymentStateMachine)",
			)
			for _, w := range want {
				if !watched[w] {
					e.add("no alarm watches %s", w)
				}
			}
			return e.err()
		},
		breaks: [][2]string{{"      MetricName: AsyncEventsDropped\n      Dimensions: [{Name: FunctionName, Value: !Ref HookTaskFunction}]", "      MetricName: Errors\n      Dimensions: [{Name: FunctionName, Value: !Ref HookTaskFunction}]"},
			{"  Alarms: !Not [!Equals [!Ref AlarmTopicArn, \"\"]]", "  Alarms: !Equals [!Ref AlarmTopicArn, \"\"]"},
			{"  HttpApi5xxAlarm:\n    Type: AWS::CloudWatch::Alarm\n    Condition: Alarms\n", "  HttpApi5xxAlarm:\n    Type: AWS::CloudWatch::Alarm\n"},
			{"              MetricName: WriteThrottleEvents\n              Dimensions: [{Name: TableName, Value: !Ref HooksTable}]\n", "              MetricName: ConsumedWriteCapacityUnits\n              Dimensions: [{Name: TableName, Value: !Ref HooksTable}]\n"},
			{"      Dimensions: [{Name: QueueName, Value: !GetAtt HookTaskFailureQueue.QueueName}]", "      Dimensions: [{Name: QueueName, Value: !GetAtt ExecutionEndedDeadLetterQueue.QueueName}]"},
			{"      Dimensions: [{Name: StateMachineArn, Value: !Ref PaymentStateMachine}]", "      Dimensions: [{Name: StateMachineArn, Value: !Ref ApprovalStateMachine}]"},
		},
	},
	{
		name: "table deletion protection",
		run: func(t *tmpl) error {
			if got := expr(t.prop("HooksTable", "DeletionProtectionEnabled")); got != "true" {
				return fmt.Errorf("HooksTable DeletionProtectionEnabled: %s, want true", got)
			}
			return nil
		},
		breaks: [][2]string{{"      DeletionProtectionEnabled: true\n", "      DeletionProtectionEnabled: false\n"},
			{"      DeletionProtectionEnabled: true\n", ""},
		},
	},
	{
		name: "table on-demand maximum throughput, -1 or 0 for none",
		run: func(t *tmpl) error {
			var e errs
			for _, side := range []string{"Read", "Write"} {
				p, cond := "TableMax"+side+"RequestUnits", "TableMax"+side
				// Issue 21: a default that bounds the bill (-1 or 0 lifts it).
				param(&e, t, p, "Number", map[string]string{"Read": "2000", "Write": "1000"}[side])
				e.want(cond, t.get("Conditions", cond), "Not(Or(Equals(Ref("+p+"), -1), Equals(Ref("+p+"), 0)))")
			}
			e.want("HooksTable OnDemandThroughput", t.prop("HooksTable", "OnDemandThroughput"),
				"If(TableMaxThroughput, {MaxReadRequestUnits: If(TableMaxRead, Ref(TableMaxReadRequestUnits), Ref(AWS::NoValue)), "+
					"MaxWriteRequestUnits: If(TableMaxWrite, Ref(TableMaxWriteRequestUnits), Ref(AWS::NoValue))}, Ref(AWS::NoValue))")
			e.want("TableMaxThroughput", t.get("Conditions", "TableMaxThroughput"), "Or(Condition(TableMaxRead), Condition(TableMaxWrite))")
			return e.err()
		},
		breaks: [][2]string{{"MaxWriteRequestUnits: !If [TableMaxWrite, !Ref TableMaxWriteRequestUnits, !Ref AWS::NoValue]", "MaxWriteRequestUnits: !Ref TableMaxWriteRequestUnits"},
			{"TableMaxRead: !Not [!Or [!Equals [!Ref TableMaxReadRequestUnits, -1], !Equals [!Ref TableMaxReadRequestUnits, 0]]]", "TableMaxRead: !Not [!Equals [!Ref TableMaxReadRequestUnits, -1]]"},
			{"  TableMaxWriteRequestUnits:\n    Type: Number\n    Default: 1000", "  TableMaxWriteRequestUnits:\n    Type: Number\n    Default: -1"},
			{"  TableMaxReadRequestUnits:\n    Type: Number\n    Default: 2000", "  TableMaxReadRequestUnits:\n    Type: Number\n    Default: -1"},
		},
	},
	{
		name: "API ARN output for callers' IAM policies",
		run: func(t *tmpl) error {
			const want = "Sub(arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${HttpApi}/*)"
			if got := expr(t.get("Outputs", "ApiArn", "Value")); got != want {
				return fmt.Errorf("Outputs.ApiArn: %s, want %s", got, want)
			}
			return nil
		},
		breaks: [][2]string{{"  ApiArn:\n", "  ApiId:\n"},
			{"${HttpApi}/*\n    Export: {Name: !Sub \"${AWS::StackName}-ApiArn\"}", "${HttpApi}\n    Export: {Name: !Sub \"${AWS::StackName}-ApiArn\"}"},
		},
	},
	{
		name: "active tracing is an option of functions and state machines",
		run: func(t *tmpl) error {
			var e errs
			param(&e, t, "Tracing", "String", "PassThrough")
			e.want("Tracing AllowedValues", t.get("Parameters", "Tracing", "AllowedValues"), "[Active, PassThrough]")
			e.want("Globals.Function.Tracing", t.get("Globals", "Function", "Tracing"), "Ref(Tracing)")
			for _, f := range functions {
				if n := t.prop(f.id, "Tracing"); n != nil {
					e.add("%s overrides the global Tracing with %s", f.id, expr(n))
				}
			}
			e.want("TracingActive", t.get("Conditions", "TracingActive"), "Equals(Ref(Tracing), Active)")
			for _, sm := range t.resources("AWS::Serverless::StateMachine") {
				e.want(sm+" Tracing.Enabled", t.prop(sm, "Tracing", "Enabled"), "If(TracingActive, true, false)")
			}
			// Lambda and Step Functions send trace segments with the
			// function's or state machine's role: each needs
			// xray:PutTraceSegments when (and only when) tracing is active.
			roles := []string{"ExampleStateMachineRole"}
			for _, f := range functions {
				roles = append(roles, f.role)
			}
			for _, role := range roles {
				found := false
				for _, pol := range list(t.prop(role, "Policies")) {
					for _, st := range list(at(pol, "PolicyDocument", "Statement")) {
						s := expr(st)
						if strings.HasPrefix(s, "If(TracingActive, {") && strings.Contains(s, "xray:PutTraceSegments") && strings.HasSuffix(s, ", Ref(AWS::NoValue))") {
							found = true
						}
					}
				}
				if !found {
					e.add("%s has no statement granting xray:PutTraceSegments under !If TracingActive", role)
				}
			}
			return e.err()
		},
		breaks: [][2]string{{"    Handler: bootstrap\n    Tracing: !Ref Tracing\n", "    Handler: bootstrap\n"},
			{"  Tracing:\n    Type: String\n    Default: PassThrough", "  Tracing:\n    Type: String\n    Default: Active"},
			{"  TracingActive: !Equals [!Ref Tracing, Active]", "  TracingActive: !Equals [!Ref Tracing, PassThrough]"},
			{"                - TracingActive\n                - Sid: Tracing\n", "                - Alarms\n                - Sid: Tracing\n"},
		},
	},
	{
		name: "access log names the caller (IAM user ARN, JWT sub)",
		run: func(t *tmpl) error {
			format := expr(t.prop("HttpApiStage", "AccessLogSettings", "Format"))
			var e errs
			for _, v := range []string{"$context.identity.userArn", "$context.authorizer.claims.sub"} {
				if !strings.Contains(format, `"`+v+`"`) {
					e.add("the access log format has no %s", v)
				}
			}
			return e.err()
		},
		breaks: [][2]string{{`"jwtSub":"$context.authorizer.claims.sub"`, `"jwtSub":"-"`},
			{`"userArn":"$context.identity.userArn",`, ``},
		},
	},
	{
		// Issue 21: respond checks, in its transaction, that the execution
		// it names holds the webhook: hook-task alone needs the action.
		name: "only hook-task grants dynamodb:ConditionCheckItem",
		run: func(t *tmpl) error {
			var e errs
			for _, f := range functions {
				gs, err := grants(t, f.role)
				if err != nil {
					return err
				}
				g := granted(gs, "dynamodb:ConditionCheckItem")
				switch {
				case g != nil && f.role != "HookTaskRole":
					e.add("%s grants %s (line %d)", f.role, g.Action, g.Line)
				case g == nil && f.role == "HookTaskRole":
					e.add("HookTaskRole does not grant dynamodb:ConditionCheckItem (respond's check of the execution)")
				}
			}
			return e.err()
		},
		breaks: [][2]string{{"                  - dynamodb:ConditionCheckItem # respond: the response", "                  - dynamodb:DescribeTable # respond: the response"},
			{"                  - dynamodb:GetItem\n                  - dynamodb:PutItem\n                  - dynamodb:UpdateItem\n                  - dynamodb:DeleteItem # unused-by-tests: as resume-hook's", "                  - dynamodb:GetItem\n                  - dynamodb:PutItem\n                  - dynamodb:UpdateItem\n                  - dynamodb:ConditionCheckItem\n                  - dynamodb:DeleteItem # unused-by-tests: as resume-hook's"},
			{"                  - dynamodb:GetItem\n                  - dynamodb:PutItem\n                  - dynamodb:UpdateItem\n                  - dynamodb:DeleteItem\n                  - dynamodb:BatchWriteItem # unused-by-tests: that dispose", "                  - dynamodb:GetItem\n                  - dynamodb:PutItem\n                  - dynamodb:UpdateItem\n                  - dynamodb:DeleteItem\n                  - dynamodb:* # unused-by-tests: that dispose"},
		},
	},
	{
		// Issue 13: resume-hook fails a task (reject) and heartbeats one
		// (heartbeat); resume-webhook does neither.
		name: "resume-webhook cannot fail a task; resume-hook only for reject and heartbeat",
		run: func(t *tmpl) error {
			var e errs
			for role, want := range map[string]bool{"ResumeHookRole": true, "ResumeWebhookRole": false} {
				gs, err := grants(t, role)
				if err != nil {
					return err
				}
				if granted(gs, "states:SendTaskSuccess") == nil {
					e.add("%s does not grant states:SendTaskSuccess", role)
				}
				for _, a := range []string{"states:SendTaskFailure", "states:SendTaskHeartbeat"} {
					switch g := granted(gs, a); {
					case g != nil && !want:
						e.add("%s grants %s (line %d)", role, g.Action, g.Line)
					case g == nil && want:
						e.add("%s does not grant %s (POST /hooks/{token}/reject, /heartbeat)", role, a)
					}
				}
			}
			return e.err()
		},
		breaks: [][2]string{{"                  - states:SendTaskFailure\n                  - states:SendTaskHeartbeat\n", "                  - states:SendTaskFailure\n"},
			{"                Action: states:SendTaskSuccess\n                Resource: \"*\"\n              - Sid: ReadExecutions\n                Effect: Allow\n                Action: states:GetExecutionHistory # unused-by-tests: pkg/hooks settles", "                Action: states:SendTask*\n                Resource: \"*\"\n              - Sid: ReadExecutions\n                Effect: Allow\n                Action: states:GetExecutionHistory # unused-by-tests: pkg/hooks settles"},
		},
	},
	{
		// Issue 21: listing an execution's hooks hands out plain tokens
		// (enough to resume) and webhook URLs (each webhook's credential):
		// an operator action. HTTP APIs authorize per route, so GET /hooks
		// needs SigV4 whatever ResumeAuth gives the other /hooks routes.
		name: "GET /hooks is AWS_IAM whatever ResumeAuth says",
		run: func(t *tmpl) error {
			var e errs
			found := 0
			for _, id := range t.resources("AWS::ApiGatewayV2::Route") {
				if k := expr(t.prop(id, "RouteKey")); k != "GET /hooks" && k != "DELETE /hooks/{token}" {
					continue
				}
				found++
				e.want(id+" AuthorizationType", t.prop(id, "AuthorizationType"), "AWS_IAM")
				if a := t.prop(id, "AuthorizerId"); a != nil {
					e.add("%s has an AuthorizerId (%s): an IAM route takes none", id, expr(a))
				}
			}
			if found != 2 {
				e.add("%d routes GET /hooks and DELETE /hooks/{token}, want 2", found)
			}
			return e.err()
		},
		breaks: [][2]string{{"      RouteKey: GET /hooks\n      Target: !Sub integrations/${ResumeHookIntegration}\n      AuthorizationType: AWS_IAM\n",
			"      RouteKey: GET /hooks\n      Target: !Sub integrations/${ResumeHookIntegration}\n      AuthorizationType: !If [ResumeAuthIAM, AWS_IAM, !If [ResumeAuthJWT, JWT, NONE]]\n"},
			{"      RouteKey: GET /hooks\n      Target: !Sub integrations/${ResumeHookIntegration}\n      AuthorizationType: AWS_IAM\n",
				"      RouteKey: GET /hooks\n      Target: !Sub integrations/${ResumeHookIntegration}\n      AuthorizationType: NONE\n"},
		},
	},
	{
		name: "hook-task's resource policy names only the rule and the state machines' role",
		run: func(t *tmpl) error {
			want := []string{
				"events.amazonaws.com SourceArn=GetAtt(ExecutionEndedRule.Arn)",
				"GetAtt(ExampleStateMachineRole.Arn) SourceArn=<missing>",
			}
			var got []string
			for _, id := range t.resources("AWS::Lambda::Permission") {
				if expr(t.prop(id, "FunctionName")) != "Ref(HookTaskFunction)" {
					continue
				}
				if a := expr(t.prop(id, "Action")); a != "lambda:InvokeFunction" {
					return fmt.Errorf("%s: Action %s", id, a)
				}
				got = append(got, expr(t.prop(id, "Principal"))+" SourceArn="+expr(t.prop(id, "SourceArn")))
			}
			if !slices.Equal(got, want) {
				return fmt.Errorf("hook-task's permissions: %q, want %q", got, want)
			}
			return nil
		},
		breaks: [][2]string{{"      Principal: !GetAtt ExampleStateMachineRole.Arn", "      Principal: !Ref AWS::AccountId"},
			{"      SourceArn: !GetAtt ExecutionEndedRule.Arn\n", "      SourceArn: !Sub arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/*\n"},
			{"  # ---------------------------------------------------------------- failure queues\n", "  ExtraPermission:\n    Type: AWS::Lambda::Permission\n    Properties:\n      Action: lambda:InvokeFunction\n      FunctionName: !Ref HookTaskFunction\n      Principal: s3.amazonaws.com\n\n  # ---------------------------------------------------------------- failure queues\n"},
		},
	},
	{
		// A stack that serves only its users' own state machines (nested,
		// or published to the Serverless Application Repository) leaves
		// out the examples, and by default serves every state machine of
		// the account: DisposeScope=stack would silently leave a user's
		// own state machines out.
		name: "IncludeExamples=false leaves out the examples; DisposeScope defaults to account",
		run: func(t *tmpl) error {
			var e errs
			param(&e, t, "IncludeExamples", "String", "true")
			param(&e, t, "DisposeScope", "String", "account")
			e.want("Examples", t.get("Conditions", "Examples"), "Equals(Ref(IncludeExamples), true)")
			if as := list(t.get("Rules", "StackScopeNeedsExamples", "Assertions")); len(as) != 1 {
				e.add("rule StackScopeNeedsExamples: %d assertions, want 1", len(as))
			} else {
				e.want("rule StackScopeNeedsExamples", at(as[0], "Assert"), "Equals(Ref(IncludeExamples), true)")
			}
			var ids []string
			for _, typ := range []string{"AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine", "AWS::SecretsManager::Secret"} {
				ids = append(ids, t.resources(typ)...)
			}
			ids = append(ids, "ExampleStateMachineRole", "StateMachinesPermission")
			for _, id := range ids {
				if id == "LogFingerprintKey" {
					continue // the functions' own secret
				}
				c := expr(t.get("Resources", id, "Condition"))
				if c != "Examples" && c != "SealedExample" && c != "ExampleAlarms" {
					e.add("%s: Condition %s, want Examples (or SealedExample)", id, c)
				}
			}
			e.want("SealedExample", t.get("Conditions", "SealedExample"), "And(Condition(Examples), Condition(HasHooksKey))")
			for _, o := range []string{"HookTaskFunctionArn", "ApiUrl", "ApiArn", "ApiId", "TableName"} {
				if t.get("Outputs", o, "Export") == nil {
					e.add("output %s is not exported (a stack beside this one imports it)", o)
				}
			}
			e.want("ServerlessRepo license", t.get("Metadata", "AWS::ServerlessRepo::Application", "SpdxLicenseId"), "Apache-2.0")
			return e.err()
		},
		breaks: [][2]string{{"  PaymentWebhookSecret:\n    Type: AWS::SecretsManager::Secret\n    Condition: Examples\n", "  PaymentWebhookSecret:\n    Type: AWS::SecretsManager::Secret\n"},
			{"  DisposeScope:\n    Type: String\n    Default: account", "  DisposeScope:\n    Type: String\n    Default: stack"},
			{"  ExampleStateMachineRole:\n    Type: AWS::IAM::Role\n    Condition: Examples\n", "  ExampleStateMachineRole:\n    Type: AWS::IAM::Role\n"},
		},
	},
}

func TestTemplate(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	project, err := parse(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if err := c.run(project); err != nil {
				t.Errorf("template.yaml:\n%v", err)
			}
			// The check can fail: without (part of) the property it does.
			if len(c.breaks) == 0 {
				t.Fatal("no edit shows that the check can fail")
			}
			for _, b := range c.breaks {
				old, repl := b[0], b[1]
				if n := strings.Count(string(src), old); n != 1 {
					t.Errorf("the breaking edit's text occurs %d times in template.yaml, want once: %q", n, old)
					continue
				}
				broken, err := parse([]byte(strings.Replace(string(src), old, repl, 1)))
				if err != nil {
					t.Errorf("broken copy (%q → %q): %v", old, repl, err)
					continue
				}
				if err := c.run(broken); err == nil {
					t.Errorf("the check passes on a template without the property (edit %q → %q)", old, repl)
				} else {
					t.Logf("edit %.40q…: %v", old, err)
				}
			}
		})
	}
}

func TestExpr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"!Ref X", "Ref(X)"},
		{"{Ref: X}", "Ref(X)"},
		{"!GetAtt Q.Arn", "GetAtt(Q.Arn)"},
		{"!GetAtt [Q, Arn]", "GetAtt(Q.Arn)"},
		{`{"Fn::GetAtt": [Q, Arn]}`, "GetAtt(Q.Arn)"},
		{"!If [C, !Ref P, !Ref AWS::NoValue]", "If(C, Ref(P), Ref(AWS::NoValue))"},
		{`{"Fn::If": [C, {Ref: P}, {Ref: AWS::NoValue}]}`, "If(C, Ref(P), Ref(AWS::NoValue))"},
		{"!Not [!Equals [!Ref P, -1]]", "Not(Equals(Ref(P), -1))"},
		{`{"Fn::Not": [{"Fn::Equals": [{Ref: P}, -1]}]}`, "Not(Equals(Ref(P), -1))"},
		{"{a: 1, b: [x, y]}", "{a: 1, b: [x, y]}"},
	}
	for _, tc := range tests {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(tc.in), &n); err != nil {
			t.Fatal(err)
		}
		if got := expr(n.Content[0]); got != tc.want {
			t.Errorf("expr(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
