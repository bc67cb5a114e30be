// Command suite runs the JSON-Schema-Test-Suite
// (github.com/json-schema-org/JSON-Schema-Test-Suite, a checkout given as
// the argument) against internal/jsonschema, configured as sfnhooks uses it,
// and prints the tests passed per draft: the required tests, and
// optional/format (asserted for drafts 4, 6 and 7 only). A test whose schema
// is refused (remote references are) counts as failed.
//
//	go run ./internal/jsonschema/suite [-v] PATH/TO/JSON-Schema-Test-Suite
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/sfnhooks/sfnhooks/internal/jsonschema"
)

type group struct {
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Tests       []struct {
		Description string          `json:"description"`
		Data        json.RawMessage `json:"data"`
		Valid       bool            `json:"valid"`
	} `json:"tests"`
}

// The drafts' $schema, for the suite's schemas that name none.
var drafts = []struct{ dir, uri string }{
	{"draft4", "http://json-schema.org/draft-04/schema#"},
	{"draft6", "http://json-schema.org/draft-06/schema#"},
	{"draft7", "http://json-schema.org/draft-07/schema#"},
	{"draft2019-09", "https://json-schema.org/draft/2019-09/schema"},
	{"draft2020-12", "https://json-schema.org/draft/2020-12/schema"},
}

func main() {
	verbose := flag.Bool("v", false, "print each failed test")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: suite [-v] PATH/TO/JSON-Schema-Test-Suite")
		os.Exit(2)
	}
	root := flag.Arg(0)
	for _, d := range drafts {
		for _, part := range []string{"", "optional", "optional/format"} {
			files, _ := filepath.Glob(filepath.Join(root, "tests", d.dir, part, "*.json"))
			sort.Strings(files)
			pass, total, refused := 0, 0, 0
			failed := map[string]int{}
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
				var groups []group
				if err := json.Unmarshal(b, &groups); err != nil {
					fmt.Fprintln(os.Stderr, f, err)
					os.Exit(1)
				}
				for _, g := range groups {
					sch, cerr := compile(g.Schema, d.uri)
					for _, tc := range g.Tests {
						total++
						name := strings.TrimSuffix(filepath.Base(f), ".json")
						if cerr != nil {
							refused++
							failed[name]++
							if *verbose {
								fmt.Printf("  %s %s: %s / %s: schema refused: %v\n", d.dir, name, g.Description, tc.Description, cerr)
							}
							continue
						}
						inst, err := jsonschema.Decode(bytes.NewReader(tc.Data))
						if err != nil {
							fmt.Fprintln(os.Stderr, f, err)
							os.Exit(1)
						}
						if ok, _ := sch.Validate(inst, 20); ok == tc.Valid {
							pass++
						} else {
							failed[name]++
							if *verbose {
								fmt.Printf("  %s %s: %s / %s: got valid=%v\n", d.dir, name, g.Description, tc.Description, ok)
							}
						}
					}
				}
			}
			var ff []string
			for _, k := range sortedKeys(failed) {
				ff = append(ff, fmt.Sprintf("%s:%d", k, failed[k]))
			}
			label := "required"
			if part != "" {
				label = part
			}
			fmt.Printf("%-13s %-16s pass %4d / %4d (schema refused %d)  %s\n", d.dir, label, pass, total, refused, strings.Join(ff, " "))
		}
	}
}

// compile compiles a suite schema, giving it its draft's $schema when it
// names none (sfnhooks' default is 2020-12).
func compile(raw json.RawMessage, uri string) (*jsonschema.Schema, error) {
	doc, err := jsonschema.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	if m, ok := doc.(map[string]any); ok {
		if _, has := m["$schema"]; !has {
			m["$schema"] = uri
		}
	}
	return jsonschema.Compile(doc)
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
