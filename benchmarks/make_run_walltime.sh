#!/usr/bin/env bash
# Prints the wall time of `make run` (the conformance suites against the embedded reference plus
# the HTML report), as a person or CI runs it. Bootstrap (.venv, node_modules) is done first and
# not timed, so the figure is the suite and the report alone. Extra arguments go to `make run`,
# e.g. benchmarks/make_run_walltime.sh PYTEST_ARGS="-m 'not property'".
# Exits with the status of `make run`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MAKE="${MAKE:-make}"
"$MAKE" --no-print-directory venv node >/dev/null

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
start=$(date +%s.%N)
status=0
"$MAKE" --no-print-directory run "$@" >"$log" 2>&1 || status=$?
end=$(date +%s.%N)

# pytest's closing line, e.g. "=== 120 passed, 3 skipped in 41.20s ===".
summary="$(grep -E '^=+ .*(passed|failed|error|skipped|no tests ran).* in [0-9.]+s' "$log" | tail -n 1 \
	| sed -E 's/^=+ //; s/ =+$//' || true)"
elapsed="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')"
printf 'make run wall time: %s s (exit %d; %s CPUs)\n' "$elapsed" "$status" "$(nproc)"
printf '  pytest: %s\n' "${summary:-no summary line (see make run output)}"
exit "$status"
