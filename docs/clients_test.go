package docs_test

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// clientContract is a client's contract.json: the routes it calls, the
// header names it sends and the error codes it has a typed error for, with
// their statuses.
type clientContract struct {
	Routes  map[string][2]string `json:"routes"`
	Headers struct {
		IdempotencyKey string `json:"idempotencyKey"`
		EncryptionKey  string `json:"encryptionKey"`
	} `json:"headers"`
	Errors map[string]int `json:"errors"`
}

// clientContracts are the clients' tables; each client's own tests check
// that its typed errors and calls are built from its table.
var clientContracts = []string{
	"../clients/typescript/src/contract.json",
	"../clients/python/src/sfnhooks_client/contract.json",
}

// apiSurface is what docs/openapi.yaml documents for the clients: each
// operation of /hooks… and /webhooks… (operationId → method, path), the
// header parameters of resumeHook, and every error code with the statuses
// it is documented under.
type apiSurface struct {
	ops     map[string][2]string
	headers []string
	codes   map[string][]int
}

func loadSurface(t *testing.T) apiSurface {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type param struct {
		Name string `yaml:"name"`
		In   string `yaml:"in"`
	}
	type resp struct {
		Ref   string   `yaml:"$ref"`
		Codes []string `yaml:"x-error-codes"`
	}
	type op struct {
		OperationID string          `yaml:"operationId"`
		Parameters  []param         `yaml:"parameters"`
		Responses   map[string]resp `yaml:"responses"`
	}
	var doc struct {
		Paths      map[string]map[string]yaml.Node `yaml:"paths"`
		Components struct {
			Responses map[string]resp `yaml:"responses"`
			Schemas   struct {
				Error struct {
					Properties struct {
						Error struct {
							Enum []string `yaml:"enum"`
						} `yaml:"error"`
					} `yaml:"properties"`
				} `yaml:"Error"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	s := apiSurface{ops: map[string][2]string{}, codes: map[string][]int{}}
	for _, c := range doc.Components.Schemas.Error.Properties.Error.Enum {
		s.codes[c] = nil
	}
	for path, methods := range doc.Paths {
		if !strings.HasPrefix(path, "/hooks") && !strings.HasPrefix(path, "/webhooks") {
			continue // /links: HTML pages for a person's browser, not a client's
		}
		for method, node := range methods {
			if !slices.Contains([]string{"get", "post", "put", "patch", "delete"}, method) {
				continue
			}
			var o op
			if err := node.Decode(&o); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			s.ops[o.OperationID] = [2]string{strings.ToUpper(method), path}
			if o.OperationID == "resumeHook" {
				for _, p := range o.Parameters {
					if p.In == "header" {
						s.headers = append(s.headers, p.Name)
					}
				}
			}
			for status, r := range o.Responses {
				if r.Ref != "" {
					r = doc.Components.Responses[strings.TrimPrefix(r.Ref, "#/components/responses/")]
				}
				for _, c := range r.Codes {
					n := 0
					for _, ch := range status {
						n = n*10 + int(ch-'0')
					}
					if !slices.Contains(s.codes[c], n) {
						s.codes[c] = append(s.codes[c], n)
					}
				}
			}
		}
	}
	return s
}

// TestClientContracts fails when a client's routes, header names or error
// codes drift from docs/openapi.yaml: every documented operation of /hooks
// and /webhooks is called with its method and path, every documented error
// code has a typed error (and no other code does), with a status the spec
// gives it (codes the spec lists in the Error schema only, such as
// HookConflict of hook-task, keep pkg/hooks' status).
func TestClientContracts(t *testing.T) {
	s := loadSurface(t)
	for _, file := range clientContracts {
		t.Run(strings.Split(file, "/")[2], func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var c clientContract
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			for id, want := range s.ops {
				if got, ok := c.Routes[id]; !ok {
					t.Errorf("%s: no route for operation %s (%s %s)", file, id, want[0], want[1])
				} else if got != want {
					t.Errorf("%s: operation %s is %s %s, openapi.yaml says %s %s", file, id, got[0], got[1], want[0], want[1])
				}
			}
			for id, got := range c.Routes {
				if _, ok := s.ops[id]; !ok {
					t.Errorf("%s: route %s (%s %s) is not an operation of openapi.yaml", file, id, got[0], got[1])
				}
			}
			for _, h := range []string{c.Headers.IdempotencyKey, c.Headers.EncryptionKey} {
				if !slices.Contains(s.headers, h) {
					t.Errorf("%s: header %q is not a header parameter of resumeHook (%v)", file, h, s.headers)
				}
			}
			for code, statuses := range s.codes {
				got, ok := c.Errors[code]
				switch {
				case !ok:
					t.Errorf("%s: no typed error for documented code %s", file, code)
				case len(statuses) > 0 && !slices.Contains(statuses, got):
					t.Errorf("%s: %s has status %d, openapi.yaml documents it under %v", file, code, got, statuses)
				}
			}
			for _, code := range slices.Sorted(maps.Keys(c.Errors)) {
				if _, ok := s.codes[code]; !ok {
					t.Errorf("%s: error code %s is not in openapi.yaml", file, code)
				}
			}
		})
	}
}
