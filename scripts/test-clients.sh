#!/usr/bin/env bash
# test-clients.sh — what `make test-clients` runs: the TypeScript and Python
# clients (clients/) against make dev's stack, which it starts (cmd/sfnhooks-dev,
# which starts moto through scripts/stack.sh when none answers) and stops, also on
# failure or Ctrl-C.
#
#   - Node >= 20 (Debian's nodejs package is installed when it is missing or older);
#     npm installs clients/typescript's dependencies from the registry; node --test.
#   - .state/venv-clients: clients/python (editable) with pytest, mypy and build
#     from PyPI; pytest.
#   - Each suite also packs its client (npm pack, a wheel), installs it from that
#     file in a temporary folder and resumes an execution with it.
#   - go test ./docs/ -run TestClientContracts: the clients' contract.json against
#     docs/openapi.yaml.
#
# Environment: SFNHOOKS_MOTO_PORT, SFNHOOKS_BRIDGE_PORT (scripts/stack.sh),
# SFNHOOKS_DEV_ADDR (default: a free loopback port), PYTHON (default python3).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STATE="$ROOT/.state/clients"
mkdir -p "$STATE"
log() { printf 'test-clients: %s\n' "$*"; }
die() { printf 'test-clients: error: %s\n' "$*" >&2; exit 1; }

# Node >= 20.
node_ok() { command -v node >/dev/null 2>&1 && [[ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge 20 ]]; }
if ! node_ok; then
	log "Node >= 20 is missing ($(node --version 2>/dev/null || echo none)): apt-get install -y nodejs npm"
	sudo=
	if [[ $(id -u) -ne 0 ]]; then sudo=sudo; fi
	$sudo apt-get update -qq >&2 || true
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >&2 || true
	node_ok || die "Node >= 20 is needed (found: $(node --version 2>/dev/null || echo none)); install it (Debian 13's nodejs is 20) and run again"
fi
command -v npm >/dev/null 2>&1 || die "npm is missing (apt-get install npm)"
log "node $(node --version), npm $(npm --version)"

# The Python venv of the clients' tests.
VENV="$ROOT/.state/venv-clients"
PY="$VENV/bin/python"
if [[ ! -x "$PY" ]]; then
	"${PYTHON:-python3}" -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
fi
log "installing clients/python (editable) with pytest, mypy, build into $VENV"
"$PY" -m pip install -q --disable-pip-version-check -e "$ROOT/clients/python[test]" build >"$STATE/pip.log" 2>&1 ||
	{ tail -n 20 "$STATE/pip.log" >&2; die "pip install failed; log in $STATE/pip.log"; }

log "npm ci in clients/typescript (package-lock.json)"
(cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error >"$STATE/npm.log" 2>&1) ||
	{ tail -n 20 "$STATE/npm.log" >&2; die "npm ci failed; log in $STATE/npm.log"; }

# The contract (no stack needed).
go test -count=1 -run '^TestClientContracts$' ./docs/

# make dev on its own state file and a free port (unless SFNHOOKS_DEV_ADDR).
addr="${SFNHOOKS_DEV_ADDR:-}"
if [[ -z "$addr" ]]; then
	addr="127.0.0.1:$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
fi
go build -o "$STATE/sfnhooks-dev" ./cmd/sfnhooks-dev
devjson="$STATE/dev.json"
rm -f "$devjson"
log "starting make dev on $addr (log: $STATE/dev.log)"
"$STATE/sfnhooks-dev" -root "$ROOT" -addr "$addr" -state "$devjson" >"$STATE/dev.log" 2>&1 &
devpid=$!
cleanup() {
	if kill -0 "$devpid" 2>/dev/null; then
		kill -INT "$devpid" 2>/dev/null || true # it stops the moto it started
		for _ in $(seq 1 150); do kill -0 "$devpid" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$devpid" 2>/dev/null || true
	fi
}
trap cleanup EXIT INT TERM
# A clean clone installs moto first: allow for it.
for _ in $(seq 1 1500); do
	[[ -s "$devjson" ]] && break
	kill -0 "$devpid" 2>/dev/null || { tail -n 30 "$STATE/dev.log" >&2; die "make dev exited; log above"; }
	sleep 0.2
done
[[ -s "$devjson" ]] || die "make dev did not come up in 5 minutes; log in $STATE/dev.log"
export SFNHOOKS_DEV_STATE="$devjson"
# The dev stack's AWS endpoint takes any credentials; the tests sign with these.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
# The SDK's notice about future Node versions is not a test's business.
export AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1

status=0
log "TypeScript client: node --test"
(cd clients/typescript && node --test --test-concurrency=1 test/*.test.js) || status=1
log "Python client: pytest"
(cd clients/python && "$PY" -m pytest -q) || status=1
exit $status
