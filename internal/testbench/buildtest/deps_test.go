package buildtest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// No function links text/template, nor any package of the test bench.
//
// text/template (html/template builds on it): its
// reflection (reflect.Value.MethodByName) makes the linker keep every
// exported method of every type in the binary. resume-webhook's arm64
// bootstrap was 18.0 MB with the link page's html/template, 11.7 MB without
// (issue 21: each bootstrap must stay within 12 MB; `make build` and
// `ls -l bin/*/bootstrap` measure them).
func TestFunctionsLinkNoTextTemplate(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "..", "functions", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no functions: %v", err)
	}
	for _, dir := range dirs {
		cmd := exec.Command("go", "list", "-tags", "lambda.norpc", "-deps", "./functions/"+filepath.Base(dir))
		cmd.Dir = filepath.Join("..", "..", "..")
		cmd.Env = append(cmd.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", dir, err)
		}
		for _, pkg := range strings.Fields(string(out)) {
			if pkg == "text/template" || pkg == "html/template" {
				t.Errorf("functions/%s links %s", filepath.Base(dir), pkg)
			}
			// The test bench (internal/testbench) never ships in a Lambda.
			if strings.Contains(pkg, "/internal/testbench/") {
				t.Errorf("functions/%s links the test bench package %s", filepath.Base(dir), pkg)
			}
		}
	}
}
