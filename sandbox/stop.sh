#!/usr/bin/env bash
# Stops the sandbox servers by the process ids that sandbox/start.sh recorded in
# sandbox/.run/env (or $SANDBOX_RUN_DIR/env). Does nothing (and succeeds) when they are
# not running.
set -euo pipefail

SANDBOX_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ENV_FILE="${SANDBOX_RUN_DIR:-$SANDBOX_DIR/.run}/env"

if [[ ! -f "$ENV_FILE" ]]; then
  echo "sandbox: not running (no $ENV_FILE)"
  exit 0
fi
SANDBOX_FHIR_PID="$(sed -n 's/^export SANDBOX_FHIR_PID=//p' "$ENV_FILE")"
SANDBOX_AUTH_PID="$(sed -n 's/^export SANDBOX_AUTH_PID=//p' "$ENV_FILE")"

# Only signal a pid that still runs our script (a recorded pid may have been reused).
is_ours() {
  local cmd
  [[ -n "${1:-}" ]] || return 1
  if [[ -r "/proc/$1/cmdline" ]]; then cmd="$(tr '\0' ' ' <"/proc/$1/cmdline")"; else cmd="$(ps -p "$1" -o command= 2>/dev/null)" || return 1; fi
  [[ "$cmd" == *"src/$2"* ]]
}

stop_one() {
  local pid="$1" script="$2"
  is_ours "$pid" "$script" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    is_ours "$pid" "$script" || { echo "sandbox: stopped $script (pid $pid)"; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  echo "sandbox: killed $script (pid $pid)"
}

stop_one "$SANDBOX_FHIR_PID" fhir-server.js
stop_one "$SANDBOX_AUTH_PID" auth-server.js
rm -f "$ENV_FILE"
