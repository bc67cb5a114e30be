#!/usr/bin/env bash
# lint.sh — what `make lint` runs: gofmt, go vet, the link check of
# README.md, CHANGELOG.md and docs/*.md (docs/links_test.go, offline), then
# cfn-lint and `sam validate --lint` on template.yaml and the example
# templates (examples/own-stack, examples/nested-app), and checkov on
# template.yaml. The template tools come
# from PyPI (requirements-lint.txt), installed into their own project-local
# virtualenv .state/venv-lint: aws-sam-cli brings its own boto3/Flask ranges,
# which must not move the moto stack's pins in .state/venv
# (requirements-dev.txt). checkov pins boto3 exactly, to a version
# aws-sam-cli refuses, so it has a virtualenv of its own too
# (requirements-checkov.txt, .state/venv-checkov). checkov must report no
# failed check: each waiver is a `# checkov:skip=<id>: <reason>` comment on
# the resource in template.yaml.
#
#   scripts/lint.sh            install the tools if needed, then lint
#   scripts/lint.sh install    create/refresh .state/venv-lint only
#   scripts/lint.sh template   cfn-lint, sam validate and checkov only
#   scripts/lint.sh links      the documentation's link check only
#   scripts/lint.sh checkov    checkov only
#
# Both template checks run offline: sam gets region us-east-1 and dummy
# credentials, and neither `sam validate` nor `sam validate --lint` calls AWS.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.state"
VENV="$STATE/venv-lint"
REQS="$ROOT/requirements-lint.txt"
STAMP="$VENV/.stamp"
CHECKOV_VENV="$STATE/venv-checkov"
CHECKOV_REQS="$ROOT/requirements-checkov.txt"
TEMPLATE="$ROOT/template.yaml"
# Every template cfn-lint and sam validate check (checkov: TEMPLATE only).
TEMPLATES=("$TEMPLATE" "$ROOT/examples/own-stack/template.yaml" "$ROOT/examples/nested-app/template.yaml")

log() { printf 'lint: %s\n' "$*"; }
die() { printf 'lint: error: %s\n' "$*" >&2; exit 1; }

# want_stamp FILE: what a virtualenv's stamp holds when it matches FILE.
want_stamp() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d' ' -f1
	else
		shasum -a 256 "$1" | cut -d' ' -f1
	fi
}

# venv_ok VENV REQS TOOL...: the virtualenv has the tools and was made from REQS.
venv_ok() {
	local venv=$1 reqs=$2 tool
	shift 2
	for tool in "$@"; do
		[[ -x "$venv/bin/$tool" ]] || return 1
	done
	[[ -f "$venv/.stamp" ]] && [[ "$(cat "$venv/.stamp")" == "$(want_stamp "$reqs")" ]]
}

# install_venv VENV REQS LOG TOOL...: create or refresh VENV from REQS.
install_venv() {
	local venv=$1 reqs=$2 logfile=$3
	shift 3
	[[ -f "$reqs" ]] || die "$reqs is missing"
	venv_ok "$venv" "$reqs" "$@" && return 0
	mkdir -p "$STATE"
	if [[ ! -x "$venv/bin/python" ]]; then
		local python="${PYTHON:-python3}"
		command -v "$python" >/dev/null 2>&1 || die "$python not found: install Python 3 (3.9 or newer) with its venv module"
		log "creating virtualenv $venv"
		"$python" -m venv "$venv" || die "'$python -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"
	fi
	log "installing $(basename "$reqs") into $venv (log: $logfile)"
	if ! "$venv/bin/python" -m pip install --disable-pip-version-check -r "$reqs" >"$logfile" 2>&1; then
		tail -n 20 "$logfile" >&2 || true
		die "pip install failed; full log in $logfile"
	fi
	want_stamp "$reqs" >"$venv/.stamp"
}

cmd_install() {
	install_venv "$VENV" "$REQS" "$STATE/pip-lint.log" cfn-lint sam
	install_venv "$CHECKOV_VENV" "$CHECKOV_REQS" "$STATE/pip-checkov.log" checkov
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
	cmd_links
}

# cmd_links: every relative link and #anchor of README.md, CHANGELOG.md and
# docs/*.md resolves (http(s) links: syntax only, offline), and the error
# tables of README.md and docs/errors.md match the codes of pkg/hooks.
cmd_links() {
	cd "$ROOT"
	go test -count=1 -run '^(TestDocLinks|TestErrorTables)' ./docs/ >/dev/null || {
		go test -count=1 -run '^(TestDocLinks|TestErrorTables)' ./docs/ >&2 || true
		die "broken links, or an error table that differs from the code, in README.md, CHANGELOG.md or docs/"
	}
	log "links: ok"
}

cmd_template() {
	cmd_install
	cd "$ROOT"
	local tpl
	for tpl in "${TEMPLATES[@]}"; do
		"$VENV/bin/cfn-lint" -- "$tpl"
		log "cfn-lint ${tpl#"$ROOT"/}: ok ($("$VENV/bin/cfn-lint" --version))"
		# Offline and independent of the user's AWS configuration.
		env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_SESSION_TOKEN \
			AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
			AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
			AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
			AWS_EC2_METADATA_DISABLED=true SAM_CLI_TELEMETRY=0 \
			"$VENV/bin/sam" validate --lint --template-file "$tpl"
		log "sam validate --lint ${tpl#"$ROOT"/}: ok"
	done
	cmd_checkov
}

# cmd_checkov: checkov on template.yaml (CloudFormation checks), offline
# (no Bridgecrew platform, no download of external checks); fails on any
# failed check. The waivers are checkov:skip comments in the template.
cmd_checkov() {
	install_venv "$CHECKOV_VENV" "$CHECKOV_REQS" "$STATE/pip-checkov.log" checkov
	cd "$ROOT"
	local out
	if ! out="$(env -u BC_API_KEY "$CHECKOV_VENV/bin/checkov" --quiet --compact --framework cloudformation \
		--skip-download --file "$TEMPLATE" 2>&1)"; then
		printf '%s\n' "$out" >&2
		die "checkov: failed checks (fix them, or waive one with a '# checkov:skip=<id>: <reason>' comment)"
	fi
	log "checkov: ok ($("$CHECKOV_VENV/bin/checkov" --version); $(summary_line))"
}

# summary_line: checkov's counts, without the quiet flag.
summary_line() {
	env -u BC_API_KEY "$CHECKOV_VENV/bin/checkov" --framework cloudformation --skip-download --file "$TEMPLATE" --compact 2>/dev/null |
		grep -m1 -E 'Passed checks: [0-9]+, Failed checks: [0-9]+, Skipped checks: [0-9]+' || true
}

case "${1:-all}" in
install) cmd_install ;;
go) cmd_go ;;
links) cmd_links ;;
template) cmd_template ;;
checkov) cmd_checkov ;;
all)
	cmd_go
	cmd_template
	;;
*)
	echo "usage: $0 [all|install|go|links|template|checkov]" >&2
	exit 2
	;;
esac
