package iamactions

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const fixture = `AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Table:
    Type: AWS::DynamoDB::Table
  FnA:
    Type: AWS::Serverless::Function
    Properties:
      Role: !GetAtt RoleA.Arn
  FnB:
    Type: AWS::Lambda::Function
    Properties:
      Role: {"Fn::GetAtt": [RoleB, Arn]}
  RoleA:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
      Policies:
        - PolicyName: a
          PolicyDocument:
            Statement:
              - Sid: Logs
                Effect: Allow
                Action: [logs:CreateLogStream, logs:PutLogEvents] # unused-by-tests: the Lambda service logs with the role
                Resource: !GetAtt Logs.Arn
              - Sid: Table
                Effect: Allow
                Action: # an ordinary comment
                  - dynamodb:GetItem
                  - dynamodb:DeleteItem #   unused-by-tests:  redrive only  
                Resource: !GetAtt Table.Arn
              - Effect: Deny
                Action: dynamodb:Scan
                Resource: "*"
  RoleB:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: b
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: states:*
                Resource: "*"
`

func TestParseTemplate(t *testing.T) {
	got, err := ParseTemplate([]byte(fixture))
	if err != nil {
		t.Fatal(err)
	}
	want := &Template{
		Functions: map[string]string{"FnA": "RoleA", "FnB": "RoleB"},
		Grants: map[string][]Grant{
			"RoleA": {
				{Role: "RoleA", Sid: "Logs", Action: "logs:CreateLogStream", Line: 25, Reason: "the Lambda service logs with the role"},
				{Role: "RoleA", Sid: "Logs", Action: "logs:PutLogEvents", Line: 25, Reason: "the Lambda service logs with the role"},
				{Role: "RoleA", Sid: "Table", Action: "dynamodb:GetItem", Line: 30},
				{Role: "RoleA", Sid: "Table", Action: "dynamodb:DeleteItem", Line: 31, Reason: "redrive only"},
			},
			"RoleB": {{Role: "RoleB", Action: "states:*", Line: 44}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseTemplate =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseTemplateErrors(t *testing.T) {
	tests := []struct {
		name, old, new, want string
	}{
		{"marker without reason", "# unused-by-tests: the Lambda service logs with the role", "# unused-by-tests:", "gives no reason"},
		{"marker on no action", "# an ordinary comment", "# unused-by-tests: misplaced", "not on the line of an allowed action"},
		{"marker on a denied action", "Action: dynamodb:Scan", "Action: dynamodb:Scan # unused-by-tests: denied", "not on the line of an allowed action"},
		{"NotAction", "Action: states:*", "NotAction: states:*", "NotAction"},
		{"role by Ref", "Role: !GetAtt RoleA.Arn", "Role: !Ref RoleA", "not a !GetAtt"},
		{"role missing", "      Role: !GetAtt RoleA.Arn\n", "      MemorySize: 128\n", "Role: missing"},
		{"action not a string", "Action: states:*", "Action: !Sub states:*", "not a plain string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(fixture, tc.old, tc.new, 1)
			if src == fixture {
				t.Fatalf("fixture has no %q", tc.old)
			}
			_, err := ParseTemplate([]byte(src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseTemplate: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestParseProjectTemplate: the project's template parses, and each function
// has its own role.
func TestParseProjectTemplate(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := ParseTemplate(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ResumeHookFunction":    "ResumeHookRole",
		"ResumeWebhookFunction": "ResumeWebhookRole",
		"ApprovalLinkFunction":  "ApprovalLinkRole",
		"HookTaskFunction":      "HookTaskRole",
	}
	if !reflect.DeepEqual(tmpl.Functions, want) {
		t.Errorf("functions and roles = %v, want %v", tmpl.Functions, want)
	}
	for _, role := range want {
		if len(tmpl.Grants[role]) == 0 {
			t.Errorf("%s grants nothing", role)
		}
	}
}

func TestCheck(t *testing.T) {
	tmpl, err := ParseTemplate([]byte(fixture))
	if err != nil {
		t.Fatal(err)
	}
	type found struct{ Missing, Unused, Kept, Marked []string }
	list := func(fs []Finding) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Function+" "+f.Action)
		}
		return out
	}
	tests := []struct {
		name string
		used map[string][]string
		want found
	}{
		{
			name: "nothing used",
			want: found{
				Unused: []string{"FnA dynamodb:GetItem", "FnB states:*"},
				Kept:   []string{"FnA logs:CreateLogStream", "FnA logs:PutLogEvents", "FnA dynamodb:DeleteItem"},
			},
		},
		{
			name: "used and granted, wildcard, a marked grant used",
			used: map[string][]string{"FnA": {"dynamodb:DeleteItem", "dynamodb:GetItem"}, "FnB": {"states:SendTaskSuccess", "states:SendTaskFailure"}},
			want: found{
				Kept:   []string{"FnA logs:CreateLogStream", "FnA logs:PutLogEvents"},
				Marked: []string{"FnA dynamodb:DeleteItem"},
			},
		},
		{
			name: "used, not granted (a denied action is no grant; IAM ignores case)",
			used: map[string][]string{"FnA": {"dynamodb:getitem", "dynamodb:PutItem", "dynamodb:Scan"}, "FnB": {"dynamodb:GetItem"}},
			want: found{
				Missing: []string{"FnA dynamodb:PutItem", "FnA dynamodb:Scan", "FnB dynamodb:GetItem"},
				Unused:  []string{"FnB states:*"},
				Kept:    []string{"FnA logs:CreateLogStream", "FnA logs:PutLogEvents", "FnA dynamodb:DeleteItem"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Check(tmpl, tc.used)
			if err != nil {
				t.Fatal(err)
			}
			got := found{list(r.Missing), list(r.Unused), list(r.Kept), list(r.Marked)}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Check =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
	if _, err := Check(tmpl, map[string][]string{"FnC": {"s3:GetObject"}}); err == nil {
		t.Error("Check accepted a function the template does not have")
	}
}

func TestMarker(t *testing.T) {
	tests := []struct {
		line, reason string
		ok           bool
	}{
		{line: "  - states:X # unused-by-tests: rare path", reason: "rare path", ok: true},
		{line: "  - states:X #unused-by-tests:rare", reason: "rare", ok: true},
		{line: "# unused-by-tests: at the start", reason: "at the start", ok: true},
		{line: "  - states:X # unused-by-tests:", reason: "", ok: true},
		{line: "  - states:X"},
		{line: "  - states:X # see unused-by-tests: below"},
		{line: `  # a line ending with "# unused-by-tests: <why>"`},
		{line: "  - states:X#unused-by-tests: not a comment"},
	}
	for _, tc := range tests {
		if reason, ok := marker(tc.line); reason != tc.reason || ok != tc.ok {
			t.Errorf("marker(%q) = %q, %v; want %q, %v", tc.line, reason, ok, tc.reason, tc.ok)
		}
	}
}
