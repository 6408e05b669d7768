#!/usr/bin/env bash
# Makes sure the wrk load generator is on PATH for the latency benchmark: installs the Debian
# package with apt-get when it is missing (as root, or through sudo without a password prompt),
# and otherwise says what to do and fails.
set -euo pipefail
command -v wrk >/dev/null 2>&1 && exit 0

install_with() {
	echo "make bench: wrk is missing; installing the Debian package (apt-get install wrk)"
	"$@" apt-get update -qq >/dev/null &&
		"$@" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || true
}

if command -v apt-get >/dev/null 2>&1; then
	if [ "$(id -u)" -eq 0 ]; then
		install_with env
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		install_with sudo -n
	fi
fi
command -v wrk >/dev/null 2>&1 && exit 0
cat >&2 <<'MESSAGE'
make bench: the latency benchmark needs the wrk load generator, and it could not be installed
  here (no apt-get, or neither root nor password-less sudo). Install it, e.g. 'sudo apt-get
  install wrk' (Debian/Ubuntu) or 'brew install wrk' (macOS), then run 'make bench' again.
MESSAGE
exit 1
