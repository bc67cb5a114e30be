package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// walkthrough is the approval example, step by step, with curl.
func walkthrough(api string) string {
	return strings.ReplaceAll(`# 1. Start the approval workflow for order 42 (dev-only helper route; on AWS:
#    aws stepfunctions start-execution --state-machine-arn <ApprovalStateMachineArn> --input '{"orderId":"42"}')
curl -s -X POST API/dev/executions/approval -d '{"orderId":"42"}'

# 2. The execution now waits on hook approval-42 ("waiting": true)
curl -s API/hooks/approval-42

# 3. Approve it (on AWS this route needs SigV4, a JWT or nothing: template parameter ResumeAuth)
curl -s -X POST API/hooks/approval-42 -H 'content-type: application/json' -d '{"approved": true, "comment": "LGTM"}'

# 4. The execution succeeded: "status": "SUCCEEDED", "outcome": "approved"
curl -s API/dev/executions/approval/latest

# Approval by emailed links: start, then open the "approve" URL that "sent" shows
# in a browser and press its button (a GET alone changes nothing)
curl -s -X POST API/dev/executions/approval-links -d '{"orderId":"43"}'
curl -s API/dev/executions/approval-links/latest     # "sent": {"approve": "API/links/…", "reject": …}
curl -s API/dev/executions/approval-links/latest     # after the click: "status": "SUCCEEDED", "outcome": "approved"
`, "API", api)
}

func printBanner(w io.Writer, st *devState, statePath string) {
	fmt.Fprintf(w, "\nsfnhooks dev stack is up (written to %s)\n\n", statePath)
	fmt.Fprintf(w, "  HTTP API        %s   (POST|GET /hooks/{token}, GET /hooks?executionArn=…, ANY /webhooks/{token}, GET|POST /links/{id})\n", st.APIURL)
	fmt.Fprintf(w, "  AWS endpoint    %s   (DynamoDB, Step Functions, Lambda; region us-east-1, keys test/test)\n", st.BridgeURL)
	fmt.Fprintf(w, "  table           %s\n", st.TableName)
	for _, k := range sortedNames(st.Functions) {
		fmt.Fprintf(w, "  function        %s\n", st.Functions[k])
	}
	for _, k := range sortedNames(st.StateMachines) {
		fmt.Fprintf(w, "  state machine   %s\n", st.StateMachines[k])
	}
	if ps := st.PaymentSecret; ps != nil {
		fmt.Fprintf(w, "  payment secret  %s = %s (Standard Webhooks; README, \"Verified webhooks\")\n", ps["arn"], ps["value"])
	}
	fmt.Fprintf(w, "  KMS key         %s   (sealed payloads: %s)\n", st.KMSKeyARN, devKeyAlias)
	fmt.Fprintf(w, "\nTry the approval example:\n\n%s\n", st.Walkthrough)
	fmt.Fprint(w, "Your own state machine: make dev ASL=path/to/yours.asl.json (${HookTaskFunctionArn} substituted), then\n"+
		"POST /dev/executions/<file name without .asl.json>. Every execution that ends here has its hooks disposed.\n\n")
	fmt.Fprint(w, "Ctrl-C stops the dev server")
	if st.StartedMoto {
		fmt.Fprint(w, " and the emulator it started")
	}
	fmt.Fprint(w, ".\n\n")
}

func sortedNames(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
