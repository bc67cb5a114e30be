package iamactions

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// UnusedMarker starts the comment that keeps a grant no test uses. Write it
// as the comment of the line that holds the action, the reason after it:
//
//	Action:
//	  - dynamodb:GetItem
//	  - dynamodb:Query # unused-by-tests: <why it is kept though no test calls it>
//
// On a line with a flow list ([a, b] # unused-by-tests: …) it keeps every
// action of that line. A marker on a line that holds no granted action, or
// with no reason, is an error.
const UnusedMarker = "unused-by-tests:"

// commentRE finds where a YAML comment starts: a # at the start of the line
// or after white space.
var commentRE = regexp.MustCompile(`(?:^|[ \t])#`)

// marker returns the text after the marker if the comment on line starts
// with it.
func marker(line string) (reason string, ok bool) {
	loc := commentRE.FindStringIndex(line)
	if loc == nil {
		return "", false
	}
	rest, ok := strings.CutPrefix(strings.TrimLeft(line[loc[1]:], " \t"), UnusedMarker)
	if !ok {
		return "", false
	}
	return strings.TrimSpace(rest), true
}

// Grant is one action an IAM role allows.
type Grant struct {
	Role   string // logical id of the AWS::IAM::Role
	Sid    string // of its statement, if any
	Action string // as written; may hold IAM wildcards (* and ?)
	Line   int    // in the template
	// Reason is the text after "# unused-by-tests:" on the action's line:
	// why the grant is kept though no test uses it. Empty without a marker.
	Reason string
}

// Template is what a CloudFormation/SAM template says about functions and
// their roles.
type Template struct {
	// Functions maps each function's logical id to its role's logical id
	// (Properties.Role: !GetAtt <Role>.Arn).
	Functions map[string]string
	// Grants lists the actions of each role's inline policies' Allow
	// statements, in template order.
	Grants map[string][]Grant
}

// ParseTemplate reads a template. It understands the short intrinsic tags
// (!GetAtt, !Sub, …) as opaque values, and only the parts it needs: the
// Role of each AWS::Serverless::Function or AWS::Lambda::Function and the
// inline Policies of each AWS::IAM::Role.
func ParseTemplate(src []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("iamactions: parse template: %w", err)
	}
	if len(doc.Content) != 1 {
		return nil, errors.New("iamactions: template is empty")
	}
	resources := field(doc.Content[0], "Resources")
	if resources == nil || resources.Kind != yaml.MappingNode {
		return nil, errors.New("iamactions: template has no Resources mapping")
	}
	lines := strings.Split(string(src), "\n")
	t := &Template{Functions: map[string]string{}, Grants: map[string][]Grant{}}
	for i := 0; i+1 < len(resources.Content); i += 2 {
		id, res := resources.Content[i].Value, resources.Content[i+1]
		props := field(res, "Properties")
		switch scalar(field(res, "Type")) {
		case "AWS::Serverless::Function", "AWS::Lambda::Function":
			role, err := getAttArn(field(props, "Role"))
			if err != nil {
				return nil, fmt.Errorf("iamactions: %s (line %d): Role: %w", id, res.Line, err)
			}
			t.Functions[id] = role
		case "AWS::IAM::Role":
			grants, err := roleGrants(id, props, lines)
			if err != nil {
				return nil, err
			}
			t.Grants[id] = grants
		}
	}
	if err := checkMarkers(t, lines); err != nil {
		return nil, err
	}
	return t, nil
}

// roleGrants returns the Allow actions of the inline policies of role id.
func roleGrants(id string, props *yaml.Node, lines []string) ([]Grant, error) {
	var grants []Grant
	for _, pol := range items(field(props, "Policies")) {
		for _, st := range items(field(field(pol, "PolicyDocument"), "Statement")) {
			st = whenTrue(st)
			if field(st, "NotAction") != nil {
				return nil, fmt.Errorf("iamactions: %s (line %d): NotAction is not supported", id, st.Line)
			}
			if scalar(field(st, "Effect")) != "Allow" {
				continue
			}
			sid := scalar(field(st, "Sid"))
			actions := field(st, "Action")
			if actions == nil {
				return nil, fmt.Errorf("iamactions: %s (line %d): statement without Action", id, st.Line)
			}
			for _, a := range items(actions) {
				if a.Kind != yaml.ScalarNode || a.Tag != "!!str" {
					return nil, fmt.Errorf("iamactions: %s (line %d): action is not a plain string", id, a.Line)
				}
				reason, err := markerOn(lines, a.Line)
				if err != nil {
					return nil, err
				}
				grants = append(grants, Grant{Role: id, Sid: sid, Action: a.Value, Line: a.Line, Reason: reason})
			}
		}
	}
	return grants, nil
}

// whenTrue returns the statement of !If [Condition, statement, otherwise]
// (a grant the template makes under a condition is a grant), else n.
func whenTrue(n *yaml.Node) *yaml.Node {
	if n != nil && n.Tag == "!If" && n.Kind == yaml.SequenceNode && len(n.Content) == 3 {
		return n.Content[1]
	}
	return n
}

// markerOn returns the reason of the marker on line n (1-based), if any.
func markerOn(lines []string, n int) (string, error) {
	if n < 1 || n > len(lines) {
		return "", nil
	}
	reason, ok := marker(lines[n-1])
	if !ok {
		return "", nil
	}
	if reason == "" {
		return "", fmt.Errorf("iamactions: template line %d: %q gives no reason", n, "# "+UnusedMarker)
	}
	return reason, nil
}

// checkMarkers fails on a marker that keeps no grant (misplaced on its own
// line, or next to something that is not an Allow action).
func checkMarkers(t *Template, lines []string) error {
	onGrant := map[int]bool{}
	for _, gs := range t.Grants {
		for _, g := range gs {
			onGrant[g.Line] = true
		}
	}
	for i, l := range lines {
		if _, ok := marker(l); ok && !onGrant[i+1] {
			return fmt.Errorf("iamactions: template line %d: %q is not on the line of an allowed action", i+1, "# "+UnusedMarker)
		}
	}
	return nil
}

// getAttArn returns X of !GetAtt X.Arn, !GetAtt [X, Arn] or {Fn::GetAtt: [X, Arn]}.
func getAttArn(n *yaml.Node) (string, error) {
	if n == nil {
		return "", errors.New("missing")
	}
	var parts []string
	switch {
	case n.Tag == "!GetAtt" && n.Kind == yaml.ScalarNode:
		parts = strings.SplitN(n.Value, ".", 2)
	case n.Tag == "!GetAtt" && n.Kind == yaml.SequenceNode:
		for _, c := range n.Content {
			parts = append(parts, c.Value)
		}
	case n.Kind == yaml.MappingNode && field(n, "Fn::GetAtt") != nil:
		for _, c := range field(n, "Fn::GetAtt").Content {
			parts = append(parts, c.Value)
		}
	}
	if len(parts) != 2 || parts[0] == "" || parts[1] != "Arn" {
		return "", fmt.Errorf("not a !GetAtt <Role>.Arn (line %d)", n.Line)
	}
	return parts[0], nil
}

// field returns the value of key in mapping n, or nil.
func field(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// items returns the elements of sequence n, or n itself if it is a single value.
func items(n *yaml.Node) []*yaml.Node {
	switch {
	case n == nil:
		return nil
	case n.Kind == yaml.SequenceNode:
		return n.Content
	default:
		return []*yaml.Node{n}
	}
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// Finding is one disagreement between the template and the recorded calls.
type Finding struct {
	Function string
	Role     string
	Action   string // used but not granted: the action; otherwise the grant's
	Grant    *Grant // nil for an action used but not granted
}

func (f Finding) String() string {
	if f.Grant == nil {
		return fmt.Sprintf("%s (role %s) uses %s", f.Function, f.Role, f.Action)
	}
	s := fmt.Sprintf("%s (role %s) is granted %s (template.yaml line %d)", f.Function, f.Role, f.Action, f.Grant.Line)
	if f.Grant.Reason != "" {
		s += ": " + f.Grant.Reason
	}
	return s
}

// Report is the comparison of a template with the actions functions used.
type Report struct {
	Missing []Finding // used but not granted: AWS would deny the call
	Unused  []Finding // granted, never used, and no marker says why
	Kept    []Finding // granted, never used, kept by a marker
	// Marked are grants that carry a marker but were used: the marker may
	// be stale (or the use is rare, which is what it may say).
	Marked []Finding
}

// Check compares what each function of t used (function → actions, as
// Recorder.Used returns) with what its role grants. Every function of t is
// checked, also those that used nothing. A grant with wildcards is used if
// any action it matches was; IAM matches actions case-insensitively.
func Check(t *Template, used map[string][]string) (Report, error) {
	var r Report
	fns := make([]string, 0, len(t.Functions))
	for fn := range t.Functions {
		fns = append(fns, fn)
	}
	slices.Sort(fns)
	for fn := range used {
		if _, ok := t.Functions[fn]; !ok {
			return r, fmt.Errorf("iamactions: function %s made AWS calls but the template has no such function", fn)
		}
	}
	for _, fn := range fns {
		role := t.Functions[fn]
		grants, ok := t.Grants[role]
		if !ok {
			return r, fmt.Errorf("iamactions: function %s: the template has no AWS::IAM::Role %s", fn, role)
		}
		for _, a := range used[fn] {
			if !slices.ContainsFunc(grants, func(g Grant) bool { return matches(g.Action, a) }) {
				r.Missing = append(r.Missing, Finding{Function: fn, Role: role, Action: a})
			}
		}
		for i := range grants {
			g := &grants[i]
			f := Finding{Function: fn, Role: role, Action: g.Action, Grant: g}
			isUsed := slices.ContainsFunc(used[fn], func(a string) bool { return matches(g.Action, a) })
			switch {
			case isUsed && g.Reason != "":
				r.Marked = append(r.Marked, f)
			case isUsed:
			case g.Reason != "":
				r.Kept = append(r.Kept, f)
			default:
				r.Unused = append(r.Unused, f)
			}
		}
	}
	return r, nil
}

// matches reports whether the IAM action pattern (with * and ?) matches action.
func matches(pattern, action string) bool {
	ok, err := path.Match(strings.ToLower(pattern), strings.ToLower(action))
	return err == nil && ok
}
