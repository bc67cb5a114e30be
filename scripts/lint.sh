#!/usr/bin/env bash
# lint.sh — what `make lint` runs: gofmt, go vet, then cfn-lint and
# `sam validate --lint` on template.yaml. The template tools come from PyPI
# (requirements-lint.txt), installed into their own project-local virtualenv
# .state/venv-lint: aws-sam-cli brings its own boto3/Flask ranges, which must
# not move the moto stack's pins in .state/venv (requirements-dev.txt).
#
#   scripts/lint.sh            install the tools if needed, then lint
#   scripts/lint.sh install    create/refresh .state/venv-lint only
#   scripts/lint.sh template   cfn-lint and sam validate only
#
# Both template checks run offline: sam gets region us-east-1 and dummy
# credentials, and neither `sam validate` nor `sam validate --lint` calls AWS.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.state"
VENV="$STATE/venv-lint"
REQS="$ROOT/requirements-lint.txt"
STAMP="$VENV/.stamp"
TEMPLATE="$ROOT/template.yaml"

log() { printf 'lint: %s\n' "$*"; }
die() { printf 'lint: error: %s\n' "$*" >&2; exit 1; }

want_stamp() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$REQS" | cut -d' ' -f1
	else
		shasum -a 256 "$REQS" | cut -d' ' -f1
	fi
}

venv_ok() {
	[[ -x "$VENV/bin/cfn-lint" && -x "$VENV/bin/sam" && -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$(want_stamp)" ]]
}

cmd_install() {
	[[ -f "$REQS" ]] || die "$REQS is missing"
	venv_ok && return 0
	mkdir -p "$STATE"
	if [[ ! -x "$VENV/bin/python" ]]; then
		local python="${PYTHON:-python3}"
		command -v "$python" >/dev/null 2>&1 || die "$python not found: install Python 3 (3.9 or newer) with its venv module"
		log "creating virtualenv $VENV"
		"$python" -m venv "$VENV" || die "'$python -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"
	fi
	log "installing $(basename "$REQS") into $VENV (log: $STATE/pip-lint.log)"
	if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -r "$REQS" >"$STATE/pip-lint.log" 2>&1; then
		tail -n 20 "$STATE/pip-lint.log" >&2 || true
		die "pip install failed; full log in $STATE/pip-lint.log"
	fi
	want_stamp >"$STAMP"
}

cmd_go() {
	cd "$ROOT"
	local out
	out="$(gofmt -l $(git ls-files -co --exclude-standard '*.go'))"
	if [[ -n "$out" ]]; then
		printf 'gofmt would change:\n%s\n' "$out" >&2
		return 1
	fi
	log "gofmt: ok"
	go vet ./...
	log "go vet: ok"
}

cmd_template() {
	cmd_install
	cd "$ROOT"
	"$VENV/bin/cfn-lint" -- "$TEMPLATE"
	log "cfn-lint: ok ($("$VENV/bin/cfn-lint" --version))"
	# Offline and independent of the user's AWS configuration.
	env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_SESSION_TOKEN \
		AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
		AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
		AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
		AWS_EC2_METADATA_DISABLED=true SAM_CLI_TELEMETRY=0 \
		"$VENV/bin/sam" validate --lint --template-file "$TEMPLATE"
	log "sam validate --lint: ok"
}

case "${1:-all}" in
install) cmd_install ;;
go) cmd_go ;;
template) cmd_template ;;
all)
	cmd_go
	cmd_template
	;;
*)
	echo "usage: $0 [all|install|go|template]" >&2
	exit 2
	;;
esac
