package buildtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// maxInitBytes bounds what the package inits of a function allocate.
// The Go runtime's first GC goal is 4 MB: a process whose inits and main
// allocate more runs a GC cycle inside its cold start. With the JSON
// Schema validator that compiled five drafts' meta-schemas at init
// (1.7 MB) every function allocated 3.6 MB in package inits and ran one
// cycle before its first invocation: about 3 ms of the +9.5 ms over the
// null function that `make coldstart` measured (issue 22), besides the
// validator's own 3.5–4 ms. The AWS SDK's service packages allocate about
// 2 MB. Allocation is counted, not time: it is the same on a busy machine.
const maxInitBytes = 3 << 20

// Each function's package inits allocate less than maxInitBytes, and no
// package of ours or outside the AWS SDK allocates more than 256 KiB.
func TestFunctionsInitAllocation(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "..", "functions", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no functions: %v", err)
	}
	tmp := t.TempDir()
	for _, dir := range dirs {
		fn := filepath.Base(dir)
		bin := filepath.Join(tmp, fn)
		build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", bin, "./functions/"+fn)
		build.Dir = filepath.Join("..", "..", "..")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", fn, err, out)
		}
		// Package inits run before main: main then fails on the missing
		// configuration or the refused runtime API; only the trace counts.
		run := exec.Command(bin)
		run.Env = []string{"GODEBUG=inittrace=1", "AWS_LAMBDA_RUNTIME_API=127.0.0.1:9", "HOME=" + tmp,
			"AWS_EC2_METADATA_DISABLED=true", "AWS_REGION=us-east-1", "HOOKS_TABLE=buildtest"}
		out, _ := run.CombinedOutput()
		total, n := 0, 0
		for _, line := range strings.Split(string(out), "\n") {
			// init <pkg> @<start> ms, <clock> ms clock, <bytes> bytes, <allocs> allocs
			f := strings.Fields(line)
			if len(f) < 9 || f[0] != "init" || f[8] != "bytes," {
				continue
			}
			b, err := strconv.Atoi(f[7])
			if err != nil {
				t.Fatalf("%s: unreadable inittrace line %q", fn, line)
			}
			n++
			total += b
			if b > 256<<10 && !strings.HasPrefix(f[1], "github.com/aws/aws-sdk-go-v2/") {
				t.Errorf("functions/%s: package %s allocates %d bytes at init", fn, f[1], b)
			}
		}
		if n == 0 {
			t.Fatalf("functions/%s printed no inittrace:\n%s", fn, out)
		}
		if total > maxInitBytes {
			t.Errorf("functions/%s: package inits allocate %d bytes, over %d", fn, total, maxInitBytes)
		}
		t.Logf("functions/%s: %d packages, %d bytes allocated at init", fn, n, total)
	}
}
