#!/usr/bin/env bash
# Installs Debian's chromium (for make test-browser) when it is missing, and
# prints the path of the browser. Needs root (CI and the dev machines run as
# root) or sudo.
set -euo pipefail
bin=${SFNHOOKS_CHROMIUM:-}
for c in "$bin" /usr/bin/chromium /usr/bin/chromium-browser; do
	if [[ -n "$c" && -x "$c" ]]; then
		echo "$c"
		exit 0
	fi
done
sudo=
if [[ $(id -u) -ne 0 ]]; then sudo=sudo; fi
echo "chromium is missing: apt-get install -y chromium" >&2
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
echo /usr/bin/chromium
