#!/usr/bin/env bash
# test.sh — what `make test` runs: vet, then every test (unit and end-to-end)
# against the offline AWS stack. It starts the stack if none runs and stops
# what it started, also on failure or Ctrl-C. A stack that was already up
# (make dev, scripts/stack.sh up) is used and left running.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STACK="$ROOT/scripts/stack.sh"

started=""
if ! "$STACK" status >/dev/null 2>&1; then
	"$STACK" up
	started=1
fi
cleanup() { if [[ -n "$started" ]]; then "$STACK" down || true; fi; }
trap cleanup EXIT INT TERM

# Tests that need the stack fail, not skip, when it is missing.
export SFNHOOKS_REQUIRE_STACK=1
go vet ./...
# -p 1: the end-to-end packages share the bridge port moto calls back on.
# -parallel 8: the end-to-end tests mostly wait on executions (Wait states,
# Retry intervals); 8 at a time keeps moto busy without starving it on 2 cores.
go test -p 1 -parallel 8 -count=1 ${GOTESTFLAGS:-} ./... 2>&1 | tee "$ROOT/.state/test.log"
