package version_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The Makefile's build sets the version with -ldflags -X on this package's
// Version; a binary built that way reports it (`sfnhooks version`).
func TestLdflagsSetVersion(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	const x = "-X github.com/sfnhooks/sfnhooks/internal/version.Version="
	if !strings.Contains(string(mk), x) {
		t.Fatalf("the Makefile's BUILD_FLAGS do not set %q", x)
	}
	bin := filepath.Join(t.TempDir(), "sfnhooks")
	build := exec.Command("go", "build", "-ldflags", x+"v9.8.7-test", "-o", bin, "../../cmd/sfnhooks")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil || string(out) != "sfnhooks v9.8.7-test\n" {
		t.Fatalf("sfnhooks version: %q, %v; want %q", out, err, "sfnhooks v9.8.7-test\n")
	}
}
