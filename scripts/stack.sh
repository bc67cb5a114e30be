#!/usr/bin/env bash
# stack.sh — the offline AWS test stack: moto server (DynamoDB + Step Functions that
# really executes state machines) on loopback. See DESIGN.md, "Testing against real
# AWS APIs, offline".
#
#   scripts/stack.sh install   create/refresh .state/venv from requirements-dev.txt
#   scripts/stack.sh up        start moto on 127.0.0.1:$SFNHOOKS_MOTO_PORT (idempotent)
#   scripts/stack.sh down      stop the moto that `up` started
#   scripts/stack.sh status    say whether it runs (exit 0) or not (exit 3)
#   scripts/stack.sh env       print shell exports for the stack: eval "$(scripts/stack.sh env)"
#
# moto is started with MOTO_PORT=$SFNHOOKS_BRIDGE_PORT: its Step Functions interpreter
# sends every call it makes (Lambda Invoke, aws-sdk:* integrations) to
# http://localhost:$MOTO_PORT. That port belongs to the Lambda bridge
# (internal/testbench/devstack), which runs our Go handlers in-process and proxies everything
# else to moto. The bridge is started by the tests (or the dev server), not here, so
# state machines can only call Lambda or aws-sdk integrations while a bridge runs.
#
# Environment:
#   SFNHOOKS_MOTO_PORT     where moto listens           (default 27001)
#   SFNHOOKS_BRIDGE_PORT   where the bridge listens     (default 27000)
#   SFNHOOKS_STACK_TIMEOUT seconds `up` waits for moto  (default 30)
#   PYTHON                 interpreter for the venv     (default python3)
#
# State (in .state/, ignored by git): venv/ and venv.stamp (hash of the requirements
# installed), shared; and per moto port, so stacks on other ports (a second checkout,
# a parallel run) never touch each other, stack-<moto port>/: moto.pid, moto.ports,
# moto.log (moto.log.1: the previous run), stack.env.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.state"
VENV="$STATE/venv"
PY="$VENV/bin/python"
REQS="$ROOT/requirements-dev.txt"
STAMP="$STATE/venv.stamp"
MOTO_PORT_="${SFNHOOKS_MOTO_PORT:-27001}"
RUN="$STATE/stack-$MOTO_PORT_"
PIDFILE="$RUN/moto.pid"
LOG="$RUN/moto.log"
ENVFILE="$RUN/stack.env"
PORTSFILE="$RUN/moto.ports"

BRIDGE_PORT="${SFNHOOKS_BRIDGE_PORT:-27000}"
TIMEOUT="${SFNHOOKS_STACK_TIMEOUT:-30}"
HOST=127.0.0.1
MOTO_URL="http://$HOST:$MOTO_PORT_"

for p in "$MOTO_PORT_" "$BRIDGE_PORT"; do
	if ! [[ "$p" =~ ^[0-9]+$ ]] || ((p < 1 || p > 65535)); then
		printf 'stack: error: %s is not a port number (SFNHOOKS_MOTO_PORT, SFNHOOKS_BRIDGE_PORT)\n' "$p" >&2
		exit 1
	fi
done

log() { printf 'stack: %s\n' "$*"; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# want_stamp is what the stamp file holds when the venv matches requirements-dev.txt.
want_stamp() {
	local sum
	if command -v sha256sum >/dev/null 2>&1; then
		sum="$(sha256sum "$REQS" | cut -d' ' -f1)"
	else
		sum="$(shasum -a 256 "$REQS" | cut -d' ' -f1)"
	fi
	printf '%s %s\n' "$sum" "$("$PY" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || echo none)"
}

venv_ok() {
	[[ -x "$PY" && -x "$VENV/bin/moto_server" ]] && [[ -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$(want_stamp)" ]]
}

cmd_install() {
	[[ -f "$REQS" ]] || die "$REQS is missing"
	mkdir -p "$STATE"
	if [[ ! -x "$PY" ]] || ! "$PY" -c 'import sys' >/dev/null 2>&1; then
		local python="${PYTHON:-python3}"
		command -v "$python" >/dev/null 2>&1 || die "$python not found: install Python 3 (3.9 or newer) with its venv module"
		log "creating virtualenv $VENV"
		rm -rf "$VENV"
		"$python" -m venv "$VENV" || die "'$python -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"
	fi
	if venv_ok; then
		log "venv up to date ($VENV)"
		return 0
	fi
	log "installing $(basename "$REQS") into $VENV (log: $STATE/pip.log)"
	if ! "$PY" -m pip install --disable-pip-version-check -r "$REQS" >"$STATE/pip.log" 2>&1; then
		tail -n 20 "$STATE/pip.log" >&2 || true
		die "pip install failed; full log in $STATE/pip.log"
	fi
	want_stamp >"$STAMP"
	log "installed $("$PY" -m pip show moto 2>/dev/null | sed -n 's/^Version: /moto /p')"
}

# http METHOD PATH [BODY]: prints the response body; fails when moto does not answer 2xx.
http() {
	"$PY" - "$1" "$MOTO_URL$2" "${3:-}" <<'EOF'
import sys, urllib.request
method, url, body = sys.argv[1], sys.argv[2], sys.argv[3]
req = urllib.request.Request(url, method=method, data=body.encode() if body else None,
                             headers={"Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req, timeout=3) as resp:
        sys.stdout.write(resp.read().decode())
except Exception as exc:  # connection refused, timeout, HTTP error
    sys.stderr.write(f"{exc}\n")
    sys.exit(1)
EOF
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# our_pid: prints the pid from the pid file when that process is alive and is a moto_server.
our_pid() {
	[[ -f "$PIDFILE" ]] || return 1
	local pid
	pid="$(cat "$PIDFILE")"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	local args
	if [[ -r "/proc/$pid/cmdline" ]]; then
		args="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
	else
		args="$(ps -p "$pid" -o args= 2>/dev/null || true)"
	fi
	[[ "$args" == *moto_server* ]] || return 1
	printf '%s\n' "$pid"
}

# sfn_execution_on: moto's Step Functions really executes state machines. moto 5.2.5's
# GET /moto-api/config does not report the stepfunctions section, so this runs a
# one-state Pass machine and checks that the execution succeeds with the Pass output
# (moto's non-executing backend leaves executions RUNNING without output).
sfn_execution_on() {
	"$PY" - "$MOTO_URL" <<'EOF'
import json, sys, time, uuid
import boto3
sfn = boto3.client("stepfunctions", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="test", aws_secret_access_key="test")
definition = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": True}, "End": True}}}
try:
    arn = sfn.create_state_machine(name="sfnhooks-stack-probe-" + uuid.uuid4().hex[:8],
                                   definition=json.dumps(definition),
                                   roleArn="arn:aws:iam::123456789012:role/sfn")["stateMachineArn"]
except Exception as exc:
    sys.stderr.write(f"stack: Step Functions probe: {exc}\n")
    sys.exit(1)
try:
    exe = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        d = sfn.describe_execution(executionArn=exe)
        if d["status"] == "SUCCEEDED" and json.loads(d.get("output") or "null") == {"ok": True}:
            sys.exit(0)
        if d["status"] not in ("RUNNING", "SUCCEEDED"):
            break
        time.sleep(0.05)
    sys.exit(1)
finally:
    sfn.delete_state_machine(stateMachineArn=arn)
EOF
}

configure() {
	http POST /moto-api/config '{"stepfunctions": {"execute_state_machine": true}}' >/dev/null ||
		die "moto at $MOTO_URL refused POST /moto-api/config"
	sfn_execution_on || die "moto at $MOTO_URL took POST /moto-api/config but does not execute state machines; see $LOG"
}

write_env() {
	cat >"$ENVFILE" <<EOF
SFNHOOKS_MOTO_PORT=$MOTO_PORT_
SFNHOOKS_BRIDGE_PORT=$BRIDGE_PORT
SFNHOOKS_MOTO_ENDPOINT=$MOTO_URL
SFNHOOKS_BRIDGE_ENDPOINT=http://$HOST:$BRIDGE_PORT
EOF
}

# running_ports: prints "MOTO_PORT BRIDGE_PORT" of the moto that `up` started
# (the ports asked for now when that moto predates the ports file).
running_ports() { cat "$PORTSFILE" 2>/dev/null || echo "$MOTO_PORT_ $BRIDGE_PORT"; }

# check_same_ports PID: fails when the running moto was started with other ports.
check_same_ports() {
	local ports
	ports="$(running_ports)"
	if [[ "$ports" != "$MOTO_PORT_ $BRIDGE_PORT" ]]; then
		die "moto (pid $1) already runs with moto port ${ports% *} and bridge port ${ports#* }, not $MOTO_PORT_ and $BRIDGE_PORT; use those ports, or run: $0 down"
	fi
}

cmd_up() {
	[[ "$BRIDGE_PORT" != "$MOTO_PORT_" ]] || die "SFNHOOKS_BRIDGE_PORT and SFNHOOKS_MOTO_PORT must differ (both $MOTO_PORT_)"
	local pid
	if pid="$(our_pid)"; then
		check_same_ports "$pid"
		http GET /moto-api/config >/dev/null 2>&1 ||
			die "moto (pid $pid) runs but does not answer on $MOTO_URL; see $LOG, or run: $0 down"
		configure
		write_env
		log "moto already up (pid $pid) on $MOTO_URL; Lambda calls go to bridge port $BRIDGE_PORT"
		return 0
	fi
	rm -f "$PIDFILE" "$PORTSFILE"
	if port_open "$MOTO_PORT_"; then
		die "port $MOTO_PORT_ on $HOST is taken by another process (not started by this script); stop it or set SFNHOOKS_MOTO_PORT to a free port"
	fi
	if port_open "$BRIDGE_PORT"; then
		log "note: bridge port $BRIDGE_PORT is in use already; tests that start a bridge wait for it or fail"
	fi

	venv_ok || cmd_install

	mkdir -p "$RUN"
	if [[ -f "$LOG" ]]; then mv -f "$LOG" "$LOG.1"; fi
	log "starting moto_server on $MOTO_URL (MOTO_PORT=$BRIDGE_PORT, log: $LOG)"
	# scripts/moto_server.py: moto's server with DynamoDB requests serialized (see there why).
	MOTO_PORT="$BRIDGE_PORT" nohup "$PY" "$ROOT/scripts/moto_server.py" -H "$HOST" -p "$MOTO_PORT_" >"$LOG" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$PIDFILE"
	echo "$MOTO_PORT_ $BRIDGE_PORT" >"$PORTSFILE"

	local deadline=$((SECONDS + TIMEOUT))
	until http GET /moto-api/config >/dev/null 2>&1; do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$PIDFILE" "$PORTSFILE"
			tail -n 30 "$LOG" >&2 || true
			die "moto_server exited during start-up; log above and in $LOG"
		fi
		if ((SECONDS >= deadline)); then
			kill "$pid" 2>/dev/null || true
			rm -f "$PIDFILE" "$PORTSFILE"
			tail -n 30 "$LOG" >&2 || true
			die "moto_server did not answer on $MOTO_URL within ${TIMEOUT}s; log above and in $LOG"
		fi
		sleep 0.2
	done
	if ! (configure); then
		kill "$pid" 2>/dev/null || true
		rm -f "$PIDFILE" "$PORTSFILE"
		die "stopped moto_server (pid $pid) again; log in $LOG"
	fi
	write_env
	log "moto up (pid $pid) on $MOTO_URL with Step Functions execution on; Lambda calls go to bridge port $BRIDGE_PORT"
}

cmd_down() {
	local pid
	if ! pid="$(our_pid)"; then
		rm -f "$PIDFILE" "$PORTSFILE" "$ENVFILE"
		log "moto not running"
		return 0
	fi
	kill "$pid" 2>/dev/null || true
	local i
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "moto (pid $pid) ignored SIGTERM for 10s; sending SIGKILL"
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$PIDFILE" "$PORTSFILE" "$ENVFILE"
	log "moto stopped (pid $pid)"
}

cmd_status() {
	local pid
	if pid="$(our_pid)"; then
		local ports
		ports="$(running_ports)"
		MOTO_PORT_="${ports% *}" BRIDGE_PORT="${ports#* }"
		MOTO_URL="http://$HOST:$MOTO_PORT_"
		if ! http GET /moto-api/config >/dev/null 2>&1; then
			log "moto process $pid exists but does not answer on $MOTO_URL; see $LOG"
			return 1
		fi
		local sfn=off
		sfn_execution_on 2>/dev/null && sfn=on
		log "moto up (pid $pid) on $MOTO_URL; Step Functions execution $sfn; Lambda calls go to bridge port $BRIDGE_PORT"
		if port_open "$BRIDGE_PORT"; then
			log "bridge port $BRIDGE_PORT: listening"
		else
			log "bridge port $BRIDGE_PORT: nothing listening (tests start the bridge themselves)"
		fi
		return 0
	fi
	if port_open "$MOTO_PORT_"; then
		log "moto not started by this script, but port $MOTO_PORT_ is taken by another process"
	else
		log "moto not running (start it with: $0 up)"
	fi
	return 3
}

cmd_env() {
	cat <<EOF
export SFNHOOKS_MOTO_PORT=$MOTO_PORT_
export SFNHOOKS_BRIDGE_PORT=$BRIDGE_PORT
export AWS_ENDPOINT_URL=http://$HOST:$BRIDGE_PORT
export AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
EOF
}

case "${1:-}" in
install) cmd_install ;;
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
env) cmd_env ;;
*)
	echo "usage: $0 install|up|down|status|env" >&2
	exit 2
	;;
esac
