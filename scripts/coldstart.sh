#!/usr/bin/env bash
# coldstart.sh — what `make coldstart` runs: the cold start of each function's
# `bootstrap` under the AWS Lambda Runtime Interface Emulator (RIE), and the size
# of each stripped bootstrap (issue 5; DESIGN.md's target: < 15 ms init).
#
#   scripts/coldstart.sh            sizes, run, inittrace (in that order)
#   scripts/coldstart.sh sizes      bootstrap size per function, linux/arm64 and linux/amd64
#   scripts/coldstart.sh run        cold start under RIE (host arch), COLDSTART_RUNS per function
#   scripts/coldstart.sh inittrace  Go package init times (GODEBUG=inittrace=1)
#   scripts/coldstart.sh install    install RIE into .state/bin (pinned; also done by run)
#
# How a cold start is measured. RIE starts the bootstrap lazily, on the first
# invocation, so each sample is: start RIE on free loopback ports, wait until it
# accepts connections, send the first invocation (an event each handler answers
# without AWS: an invalid token, or an unknown hook-task action), read the answer,
# stop RIE. Columns (ms):
#   total    RIE exec → first invocation answered (process start → first answer)
#   rie-up   RIE exec → RIE accepts connections (RIE's own startup, not ours)
#   invoke   first invocation sent → answered: spawn bootstrap, init, handle, reply
#   init     RIE's "INIT REPORT(durationMs)": bootstrap spawned → its first
#            /runtime/invocation/next, i.e. what Lambda bills as Init Duration
#   rpt-init RIE's REPORT line "Init Duration". This RIE starts init asynchronously,
#            so it times only the call that starts it (< 1 ms); shown, not used.
# A null function (aws-lambda-go echo handler, same build flags; generated, not
# committed) runs beside ours, interleaved, so what our binary adds over the
# runtime, aws-lambda-go and RIE is the difference of the two.
#
# The bootstraps run with dummy static credentials, AWS_EC2_METADATA_DISABLED and
# no shared config files, under `env -i`, so config.LoadDefaultConfig stays offline.
#
# Environment:
#   COLDSTART_RUNS       samples per function (default 20; inittrace uses the same)
#   COLDSTART_FUNCTIONS  functions to measure (default: resume-hook resume-webhook approval-link hook-task)
#   GO                   go command (default go)
# Needs: Linux (RIE runs Linux binaries), bash >= 5 (EPOCHREALTIME, /dev/tcp), Go.
# State (in .state/, ignored by git): bin/aws-lambda-rie; coldstart/ (builds, logs).
set -euo pipefail
export LC_ALL=C

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
GO="${GO:-go}"
RUNS="${COLDSTART_RUNS:-20}"
read -r -a FUNCTIONS <<<"${COLDSTART_FUNCTIONS:-resume-hook resume-webhook approval-link hook-task}"
STATE="$ROOT/.state"
WORK="$STATE/coldstart"
# The emulator, pinned: the version the Go module proxy serves for it.
RIE_MODULE=github.com/aws/aws-lambda-runtime-interface-emulator
RIE_VERSION=v0.0.0-20261030222936-bef5c4ba774d
RIE="$STATE/bin/aws-lambda-rie"
# Keep in step with BUILD_FLAGS in the Makefile.
BUILD_FLAGS=(-tags lambda.norpc -trimpath -ldflags=-s\ -w)
BASELINE=null-function

log() { printf 'coldstart: %s\n' "$*" >&2; }
die() { printf 'coldstart: error: %s\n' "$*" >&2; exit 1; }

[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "COLDSTART_RUNS=$RUNS is not a positive number"
[[ -n "${EPOCHREALTIME:-}" ]] || die "bash >= 5 is needed (EPOCHREALTIME); this is $BASH_VERSION"

# Cleanup: the RIE of the sample in progress (it SIGKILLs its bootstrap on SIGTERM).
rie_pid=""
cleanup() {
	if [[ -n "$rie_pid" ]]; then
		kill -TERM "$rie_pid" 2>/dev/null || true
		wait "$rie_pid" 2>/dev/null || true
		rie_pid=""
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

# ms N: microseconds → milliseconds with two decimals.
ms() { printf '%d.%02d' $(($1 / 1000)) $(($1 % 1000 / 10)); }

# build GOARCH FUNCTION → path of its bootstrap, built as the Makefile builds it.
build() {
	local arch=$1 fn=$2 out="$WORK/build/linux-$1/$2/bootstrap" src
	if [[ "$fn" == "$BASELINE" ]]; then
		write_baseline
		src="$WORK/baseline/main.go"
	else
		src="./functions/$fn"
	fi
	CGO_ENABLED=0 GOOS=linux GOARCH="$arch" "$GO" build "${BUILD_FLAGS[@]}" -o "$out" "$src" ||
		die "build $fn for linux/$arch failed"
	echo "$out"
}

# write_baseline writes the null function: aws-lambda-go's runtime loop and an
# echo handler, nothing else. Built as a file list, so it resolves aws-lambda-go
# through this module's go.mod.
write_baseline() {
	mkdir -p "$WORK/baseline"
	cat >"$WORK/baseline/main.go" <<-'EOF'
		// Command null-function is the cold start baseline of scripts/coldstart.sh.
		package main

		import (
			"context"
			"encoding/json"

			"github.com/aws/aws-lambda-go/lambda"
		)

		func main() {
			lambda.StartHandlerFunc(func(_ context.Context, ev json.RawMessage) (json.RawMessage, error) { return ev, nil })
		}
	EOF
}

cmd_install() {
	if [[ -x "$RIE" ]] && "$GO" version -m "$RIE" 2>/dev/null | grep -q "[[:space:]]${RIE_MODULE}[[:space:]]*${RIE_VERSION}"; then
		return 0
	fi
	log "installing $RIE_MODULE/cmd/aws-lambda-rie@$RIE_VERSION into .state/bin"
	mkdir -p "$STATE/bin"
	GOBIN="$STATE/bin" CGO_ENABLED=0 "$GO" install "$RIE_MODULE/cmd/aws-lambda-rie@$RIE_VERSION" ||
		die "go install of the Runtime Interface Emulator failed"
}

cmd_sizes() {
	local fn arch b
	declare -A size
	for arch in arm64 amd64; do
		for fn in "${FUNCTIONS[@]}"; do
			b="$(build "$arch" "$fn")"
			size[$fn.$arch]=$(stat -c %s "$b")
		done
	done
	printf '\nStripped bootstrap sizes (%s, %s)\n' "$("$GO" env GOVERSION)" "${BUILD_FLAGS[*]}"
	printf '%-16s %24s %24s\n' function linux/arm64 linux/amd64
	for fn in "${FUNCTIONS[@]}"; do
		printf '%-16s %24s %24s\n' "$fn" "$(human "${size[$fn.arm64]}")" "$(human "${size[$fn.amd64]}")"
	done
}

human() { awk -v b="$1" 'BEGIN { printf "%.2f MiB (%d B)", b / 1048576, b }'; }

# event FUNCTION: the first invocation, answered without AWS; expect FUNCTION:
# a string the answer must contain.
event() {
	case $1 in
	resume-hook) echo '{"version":"2.0","routeKey":"POST /hooks/{token}","rawPath":"/hooks/bad\u0007token","headers":{"content-type":"application/json"},"requestContext":{"http":{"method":"POST","path":"/hooks/bad\u0007token"}},"body":"{}"}' ;;
	resume-webhook) echo '{"version":"2.0","routeKey":"ANY /webhooks/{token}","rawPath":"/webhooks/bad\u0007token","requestContext":{"http":{"method":"POST","path":"/webhooks/bad\u0007token"}},"body":""}' ;;
	approval-link) echo '{"version":"2.0","routeKey":"GET /links/{id}","rawPath":"/links/bad.id","pathParameters":{"id":"bad.id"},"requestContext":{"http":{"method":"GET","path":"/links/bad.id"}},"body":""}' ;;
	hook-task) echo '{"action":"coldstart-probe","token":"coldstart"}' ;;
	"$BASELINE") echo '{"probe":"coldstart"}' ;;
	*) echo '{}' ;;
	esac
}
expect() {
	case $1 in
	resume-hook) echo '"statusCode":400' ;;    # invalid token
	resume-webhook) echo '"statusCode":404' ;; # an invalid token is an unknown webhook
	approval-link) echo '"statusCode":404' ;;  # an invalid id is an unknown link: no AWS call
	hook-task) echo 'unknown action' ;;
	"$BASELINE") echo '"probe":"coldstart"' ;;
	*) echo '' ;;
	esac
}

# free_port: a loopback port below the ephemeral range (so no outgoing
# connection holds it) that nothing listens on. Racy by nature: a sample whose
# RIE cannot bind is retried on other ports.
free_port() {
	local p i probe low
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range
	((low > 11000)) || low=32768
	for ((i = 0; i < 100; i++)); do
		p=$((10000 + RANDOM % (low - 10000)))
		if ! { exec {probe}<>"/dev/tcp/127.0.0.1/$p"; } 2>/dev/null; then
			echo "$p"
			return 0
		fi
		exec {probe}>&-
	done
	die "no free loopback port found"
}

# nap: sleep 0.5 ms without forking (read times out on a FIFO we hold open).
nap() { read -r -t 0.0005 -u "$NAP_FD" _ || true; }

# start_rie FUNCTION BOOTSTRAP: starts RIE on free ports and waits until it
# accepts a connection; sets rie_pid, port, fd (that connection), t0 and tready.
# Returns 1 when RIE could not bind its ports (the caller retries).
start_rie() {
	local fn=$1 bootstrap=$2 api
	port=$(free_port) || exit 1
	api=$(free_port) || exit 1
	[[ "$port" != "$api" ]] || return 1
	t0=$(now_us)
	env -i PATH="$PATH" HOME="$WORK" \
		HOOKS_TABLE=sfnhooks-coldstart AWS_REGION=us-east-1 \
		AWS_ACCESS_KEY_ID=AKIDCOLDSTART AWS_SECRET_ACCESS_KEY=coldstart-dummy-secret \
		AWS_EC2_METADATA_DISABLED=true \
		AWS_CONFIG_FILE="$WORK/no-such-config" AWS_SHARED_CREDENTIALS_FILE="$WORK/no-such-credentials" \
		AWS_LAMBDA_FUNCTION_NAME="$fn" \
		"$RIE" --runtime-interface-emulator-address "127.0.0.1:$port" \
		--runtime-api-address "127.0.0.1:$api" "$bootstrap" >"$logf" 2>&1 &
	rie_pid=$!
	# The connection that succeeds carries the invocation.
	until { exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; do
		if ! kill -0 "$rie_pid" 2>/dev/null; then
			cleanup
			grep -q 'address already in use' "$logf" && return 1
			die "RIE exited before listening; see $logf"
		fi
		(($(now_us) - t0 < 10000000)) || die "RIE did not listen on 127.0.0.1:$port within 10 s; see $logf"
		nap
	done
	tready=$(now_us)
}

# sample FUNCTION BOOTSTRAP: one cold start; appends to $WORK/samples/FUNCTION.*.
sample() {
	local fn=$1 bootstrap=$2 logf body resp line rc t0 tready t1 t2 fd port status init rptinit try
	logf="$WORK/logs/$fn.log"
	body=$(event "$fn")
	for ((try = 1; ; try++)); do
		start_rie "$fn" "$bootstrap" && break
		((try < 5)) || die "RIE could not bind free ports 5 times; see $logf"
	done

	t1=$(now_us)
	printf 'POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
		"$port" "${#body}" "$body" >&"$fd"
	resp=""
	while :; do
		line=""
		rc=0
		IFS= read -r -t 30 -u "$fd" line || rc=$?
		resp+="$line"$'\n'
		((rc == 0)) && continue
		((rc > 128)) && die "$fn: no answer within 30 s; see $logf"
		break # EOF: RIE closed the connection after the answer
	done
	t2=$(now_us)
	exec {fd}>&-
	cleanup

	status=${resp%%$'\r'*}
	[[ "$status" == "HTTP/1.1 200 "* ]] || die "$fn: RIE answered '$status'; see $logf"
	[[ "$resp" == *"$(expect "$fn")"* ]] || die "$fn: unexpected answer: ${resp##*$'\r\n\r\n'}; see $logf"
	init=$(sed -n 's/.*INIT REPORT(durationMs: \([0-9.]*\)).*/\1/p' "$logf" | head -n1)
	rptinit=$(sed -n 's/.*Init Duration: \([0-9.]*\) ms.*/\1/p' "$logf" | head -n1)
	[[ -n "$init" ]] || die "$fn: no INIT REPORT in $logf"

	{ ms $((t2 - t0)) && echo; } >>"$WORK/samples/$fn.total"
	{ ms $((tready - t0)) && echo; } >>"$WORK/samples/$fn.rie-up"
	{ ms $((t2 - t1)) && echo; } >>"$WORK/samples/$fn.invoke"
	echo "$init" >>"$WORK/samples/$fn.init"
	echo "${rptinit:-NaN}" >>"$WORK/samples/$fn.rpt-init"
}

# stats FILE → "min median p90 max" (nearest rank).
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		m = int((NR + 1) / 2); p = int(NR * 0.9); if (p < NR * 0.9) p++
		printf "%.1f/%.1f/%.1f/%.1f", v[1], v[m], v[p], v[NR] }'
}
median() { stats "$1" | cut -d/ -f2; }

cmd_run() {
	local hostos hostarch fn i metric
	read -r hostos hostarch < <("$GO" env GOHOSTOS GOHOSTARCH | paste -sd' ')
	[[ "$hostos" == linux ]] || die "RIE runs Linux binaries; this host is $hostos"
	cmd_install
	declare -A boot
	local targets=("$BASELINE" "${FUNCTIONS[@]}")
	for fn in "${targets[@]}"; do
		boot[$fn]="$(build "$hostarch" "$fn")"
	done
	rm -rf "$WORK/samples" "$WORK/logs"
	mkdir -p "$WORK/samples" "$WORK/logs"
	rm -f "$WORK/nap.fifo"
	mkfifo "$WORK/nap.fifo"
	exec {NAP_FD}<>"$WORK/nap.fifo"
	rm -f "$WORK/nap.fifo"

	log "RIE $RIE_VERSION; $RUNS cold starts per function on linux/$hostarch (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
	# Interleaved (one of each per round), so a burst of load elsewhere hits all alike.
	for ((i = 1; i <= RUNS; i++)); do
		for fn in "${targets[@]}"; do
			sample "$fn" "${boot[$fn]}"
		done
	done

	printf '\nCold start under RIE, linux/%s, %d runs, ms as min/median/p90/max (load average after: %s)\n' \
		"$hostarch" "$RUNS" "$(cut -d' ' -f1-3 /proc/loadavg)"
	printf '%-16s' function
	for metric in total rie-up invoke init rpt-init; do printf ' %-24s' "$metric"; done
	echo
	for fn in "${targets[@]}"; do
		printf '%-16s' "$fn"
		for metric in total rie-up invoke init rpt-init; do printf ' %-24s' "$(stats "$WORK/samples/$fn.$metric")"; done
		echo
	done
	printf '\nOver the null function (median init / median invoke, ms); target: init < 15 ms\n'
	for fn in "${FUNCTIONS[@]}"; do
		awk -v fn="$fn" -v i="$(median "$WORK/samples/$fn.init")" -v bi="$(median "$WORK/samples/$BASELINE.init")" \
			-v v="$(median "$WORK/samples/$fn.invoke")" -v bv="$(median "$WORK/samples/$BASELINE.invoke")" \
			'BEGIN { printf "%-16s init %.1f (%+.1f)  invoke %.1f (%+.1f)  %s\n", fn, i, i - bi, v, v - bv, (i < 15 ? "init < 15 ms: met" : "init < 15 ms: NOT met") }'
	done
	log "logs of the last sample per function: $WORK/logs/"
}

# inittrace: run each bootstrap outside RIE with GODEBUG=inittrace=1 and a runtime
# API address nobody serves: the Go runtime traces every package init, then main
# runs (config.LoadDefaultConfig, clients) and aws-lambda-go exits on the refused
# /next. Prints, as medians over the runs, the time until main starts, the sum of
# package inits, and the slowest package inits.
cmd_inittrace() {
	local hostarch fn i b dead
	hostarch=$("$GO" env GOHOSTARCH)
	dead=$(free_port)
	mkdir -p "$WORK/inittrace"
	printf '\nGo package init (GODEBUG=inittrace=1, linux/%s, %d runs; medians, ms; tracing slows init: rank by it, time with run)\n' "$hostarch" "$RUNS"
	for fn in "$BASELINE" "${FUNCTIONS[@]}"; do
		b="$(build "$hostarch" "$fn")"
		: >"$WORK/inittrace/$fn.txt"
		for ((i = 1; i <= RUNS; i++)); do
			echo "run $i" >>"$WORK/inittrace/$fn.txt"
			env -i PATH="$PATH" HOME="$WORK" GODEBUG=inittrace=1 \
				HOOKS_TABLE=sfnhooks-coldstart AWS_REGION=us-east-1 \
				AWS_ACCESS_KEY_ID=AKIDCOLDSTART AWS_SECRET_ACCESS_KEY=coldstart-dummy-secret \
				AWS_EC2_METADATA_DISABLED=true \
				AWS_CONFIG_FILE="$WORK/no-such-config" AWS_SHARED_CREDENTIALS_FILE="$WORK/no-such-credentials" \
				AWS_LAMBDA_RUNTIME_API="127.0.0.1:$dead" "$b" >/dev/null 2>"$WORK/inittrace/stderr" || true
			grep '^init ' "$WORK/inittrace/stderr" >>"$WORK/inittrace/$fn.txt" || true
		done
		# "init <pkg> @<start> ms, <clock> ms clock, <bytes> bytes, <allocs> allocs"
		awk -v fn="$fn" '
			function med(s,   a, n, i, j, t) {
				n = split(s, a, " ")
				for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
				return a[int((n + 1) / 2)] + 0
			}
			/^run / { if (r) { main = main " " end; sum = sum " " tot } r++; end = 0; tot = 0; next }
			/^init / {
				at = $3; sub(/^@/, "", at); c = $5 + 0
				if (at + c > end) end = at + c
				tot += c; clk[$2] = clk[$2] " " c; n[$2]++
			}
			END {
				main = main " " end; sum = sum " " tot
				printf "%-16s main starts at %.2f, package inits sum %.2f (%d packages); slowest:", fn, med(main), med(sum), length(n)
				for (p in clk) m[p] = med(clk[p])
				for (k = 0; k < 4; k++) {
					best = ""; for (p in m) if (best == "" || m[p] > m[best]) best = p
					if (best == "") break
					printf " %s %.2f;", best, m[best]; delete m[best]
				}
				print ""
			}' "$WORK/inittrace/$fn.txt"
	done
}

case "${1:-all}" in
install) cmd_install ;;
sizes) cmd_sizes ;;
run) cmd_run ;;
inittrace) cmd_inittrace ;;
all)
	cmd_sizes
	cmd_run
	cmd_inittrace
	;;
*) die "usage: scripts/coldstart.sh [all|sizes|run|inittrace|install]" ;;
esac
