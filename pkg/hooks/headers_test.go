package hooks

import (
	"slices"
	"sort"
	"testing"
)

// Headers that name credentials are left out of the request a workflow
// receives (issue 21): it is stored in DynamoDB and lands in the
// execution's history. Only authorization, proxy-authorization and cookie
// were dropped; a webhook that needs one keeps it by name.
func TestCredentialHeadersDropped(t *testing.T) {
	req := WebhookRequest{Headers: map[string][]string{
		"x-api-key": {"k"}, "api-key": {"k"}, "x-gitlab-token": {"t"}, "private-token": {"t"}, "x-auth-token": {"t"},
		"x-amz-security-token": {"t"}, "x-webhook-secret": {"s"}, "x-client-secret": {"s"}, "x-password": {"p"},
		"authorization": {"Bearer x"}, "cookie": {"a=b"},
		"content-type": {"application/json"}, "x-request-id": {"r"}, "idempotency-key": {"i"}, "x-github-delivery": {"d"}, "user-agent": {"u"},
	}, Cookies: map[string][]string{"a": {"b"}}}
	kept := func(f *HeaderFilter) []string {
		var names []string
		for k := range req.filtered(f).Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		return names
	}
	want := []string{"content-type", "idempotency-key", "user-agent", "x-github-delivery", "x-request-id"}
	if got := kept(nil); !slices.Equal(got, want) {
		t.Errorf("default filter keeps %v, want %v", got, want)
	}
	f, err := (&HeaderFilter{Keep: []string{"X-GitLab-Token"}}).normalize()
	if err != nil {
		t.Fatal(err)
	}
	if got := kept(f); !slices.Contains(got, "x-gitlab-token") || slices.Contains(got, "x-api-key") {
		t.Errorf("keep x-gitlab-token: %v, want it (alone of the credentials) kept", got)
	}
}
