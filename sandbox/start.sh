#!/usr/bin/env bash
# Starts the sandbox: the FHIR R4 server (Medplum in-memory) and the SMART
# authorization server (oidc-provider), both on 127.0.0.1, in the background.
#
#   sandbox/start.sh            # free ports
#   FHIR_PORT=8080 AUTH_PORT=8081 sandbox/start.sh
#   ACCESS_TOKEN_TTL=5 sandbox/start.sh   # short-lived access tokens
#   BULK_REQUIRES_ACCESS_TOKEN=false BULK_POLLS_BEFORE_DONE=0 sandbox/start.sh   # bulk export knobs
#   SANDBOX_RUN_DIR=/tmp/mine ACCESS_TOKEN_TTL=1 sandbox/start.sh   # a second, separate sandbox
#
# Installs the pinned npm packages first when node_modules is missing or stale,
# waits until both servers answer, and writes sandbox/.run/env (`export VAR=...`
# lines: URLs, process ids, test clients). Running it again while the servers
# are up prints the existing state and changes nothing. Stop with sandbox/stop.sh.
set -euo pipefail

SANDBOX_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Each run directory is one sandbox: a test that needs other settings starts its own
# beside the shared one instead of restarting it.
RUN_DIR="${SANDBOX_RUN_DIR:-$SANDBOX_DIR/.run}"
mkdir -p "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
# Absolute for the stop.sh calls below, which run after the `cd`.
[[ -n "${SANDBOX_RUN_DIR:-}" ]] && export SANDBOX_RUN_DIR="$RUN_DIR"
ENV_FILE="$RUN_DIR/env"
READY_TIMEOUT="${SANDBOX_READY_TIMEOUT:-60}"
if [[ -n "${SANDBOX_EXTRA_CLIENTS_FILE:-}" ]]; then # absolute, since the servers run in $SANDBOX_DIR
  SANDBOX_EXTRA_CLIENTS_FILE="$(cd "$(dirname "$SANDBOX_EXTRA_CLIENTS_FILE")" && pwd)/$(basename "$SANDBOX_EXTRA_CLIENTS_FILE")"
  export SANDBOX_EXTRA_CLIENTS_FILE
fi
cd "$SANDBOX_DIR"

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "sandbox: $tool is required but not installed" >&2; exit 127; }
done

# The recorded process runs our script (guards against a recycled pid).
is_ours() {
  local cmd
  [[ -n "${1:-}" ]] || return 1
  if [[ -r "/proc/$1/cmdline" ]]; then cmd="$(tr '\0' ' ' <"/proc/$1/cmdline")"; else cmd="$(ps -p "$1" -o command= 2>/dev/null)" || return 1; fi
  [[ "$cmd" == *"src/$2"* ]]
}

# What this start asks for; a running sandbox started with other settings is restarted.
WANT="${FHIR_PORT:-}|${AUTH_PORT:-}|${ACCESS_TOKEN_TTL:-}|${REFRESH_TOKEN_TTL:-}|${ID_TOKEN_TTL:-}|${SANDBOX_REDIRECT_URI:-}|${SANDBOX_EXTRA_CLIENTS_FILE:-}"
WANT+="|${BULK_POLLS_BEFORE_DONE:-}|${BULK_RETRY_AFTER:-}|${BULK_MAX_LINES_PER_FILE:-}|${BULK_REQUIRES_ACCESS_TOKEN:-}|${BULK_JOB_TTL:-}"

if [[ -f "$ENV_FILE" ]]; then
  # shellcheck disable=SC1090
  source "$ENV_FILE"
  if [[ "${SANDBOX_START_SETTINGS:-}" != "$WANT" ]]; then
    echo "sandbox: running with other settings, restarting"
  elif is_ours "${SANDBOX_FHIR_PID:-}" fhir-server.js && is_ours "${SANDBOX_AUTH_PID:-}" auth-server.js &&
    node src/wait-ready.js 5 "$SANDBOX_FHIR_PID,$SANDBOX_AUTH_PID" "$FHIR_BASE_URL/metadata" "$SMART_AUTH_ISSUER/healthz" 2>/dev/null; then
    echo "sandbox: already running (FHIR_BASE_URL=$FHIR_BASE_URL, env in $ENV_FILE)"
    exit 0
  else
    echo "sandbox: stale state in $ENV_FILE, restarting"
  fi
  "$SANDBOX_DIR/stop.sh" >/dev/null
fi

# npm ci when node_modules is absent or was installed from another lockfile.
lock_hash="$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write(c.createHash("sha256").update(f.readFileSync("package-lock.json")).digest("hex"))')"
if [[ ! -d node_modules || "$(cat node_modules/.sandbox-lock-hash 2>/dev/null)" != "$lock_hash" ]]; then
  echo "sandbox: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" >node_modules/.sandbox-lock-hash
fi

mkdir -p "$RUN_DIR"
node src/make-clients.js "$RUN_DIR" >/dev/null

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})'; }

# Detach from this shell (own session when setsid exists) so the servers outlive it.
launch() {
  local log="$1"; shift
  if command -v setsid >/dev/null; then
    setsid nohup "$@" >"$log" 2>&1 </dev/null &
  else
    nohup "$@" >"$log" 2>&1 </dev/null &
  fi
  echo $!
}

# Free ports are picked before the servers bind them (each needs the other's
# URL), so another process may take one in between: then try again.
for attempt in 1 2 3; do
  FHIR_PORT_USED="${FHIR_PORT:-$(free_port)}"
  AUTH_PORT_USED="${AUTH_PORT:-$(free_port)}"
  while [[ "$AUTH_PORT_USED" == "$FHIR_PORT_USED" ]]; do AUTH_PORT_USED="$(free_port)"; done
  FHIR_BASE_URL="http://127.0.0.1:$FHIR_PORT_USED/fhir/R4"
  AUTH_ISSUER="http://127.0.0.1:$AUTH_PORT_USED"

  AUTH_PID="$(launch "$RUN_DIR/auth.log" env AUTH_PORT="$AUTH_PORT_USED" FHIR_BASE_URL="$FHIR_BASE_URL" \
    SANDBOX_CLIENTS_FILE="$RUN_DIR/clients.json" node src/auth-server.js)"
  FHIR_PID="$(launch "$RUN_DIR/fhir.log" env FHIR_PORT="$FHIR_PORT_USED" AUTH_ISSUER="$AUTH_ISSUER" \
    BULK_POLLS_BEFORE_DONE="${BULK_POLLS_BEFORE_DONE:-}" BULK_RETRY_AFTER="${BULK_RETRY_AFTER:-}" \
    BULK_MAX_LINES_PER_FILE="${BULK_MAX_LINES_PER_FILE:-}" BULK_REQUIRES_ACCESS_TOKEN="${BULK_REQUIRES_ACCESS_TOKEN:-}" \
    BULK_JOB_TTL="${BULK_JOB_TTL:-}" node src/fhir-server.js)"

  # Record the pids at once, so stop.sh can clean up even if readiness fails.
  printf 'export SANDBOX_FHIR_PID=%s\nexport SANDBOX_AUTH_PID=%s\n' "$FHIR_PID" "$AUTH_PID" >"$ENV_FILE"

  if node src/wait-ready.js "$READY_TIMEOUT" "$FHIR_PID,$AUTH_PID" \
    "$AUTH_ISSUER/.well-known/openid-configuration" "$FHIR_BASE_URL/metadata" "$FHIR_BASE_URL/.well-known/smart-configuration"; then
    break
  fi
  "$SANDBOX_DIR/stop.sh" >/dev/null
  if [[ $attempt == 3 ]] || ! grep -q EADDRINUSE "$RUN_DIR/auth.log" "$RUN_DIR/fhir.log" || [[ -n "${FHIR_PORT:-}${AUTH_PORT:-}" ]]; then
    echo "sandbox: servers did not become ready; logs follow" >&2
    tail -n 30 "$RUN_DIR/auth.log" "$RUN_DIR/fhir.log" >&2 || true
    exit 1
  fi
  echo "sandbox: port taken, retrying"
done

tmp="$ENV_FILE.tmp"
{
  echo "# Written by sandbox/start.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ). Source it: . $ENV_FILE"
  echo "export SANDBOX_DIR='$SANDBOX_DIR'"
  echo "export SANDBOX_START_SETTINGS='$WANT'"
  echo "export SANDBOX_FHIR_PID=$FHIR_PID"
  echo "export SANDBOX_AUTH_PID=$AUTH_PID"
  echo "export FHIR_BASE_URL='$FHIR_BASE_URL'"
  echo "export SMART_ISS='$FHIR_BASE_URL'"
  echo "export SMART_AUTH_ISSUER='$AUTH_ISSUER'"
  echo "export SMART_AUTHORIZE_URL='$AUTH_ISSUER/auth'"
  echo "export SMART_TOKEN_URL='$AUTH_ISSUER/token'"
  echo "export SMART_JWKS_URL='$AUTH_ISSUER/jwks'"
  echo "export SMART_REGISTRATION_URL='$AUTH_ISSUER/reg'"
  echo "export SMART_INTROSPECTION_URL='$AUTH_ISSUER/token/introspection'"
  echo "export SMART_REVOCATION_URL='$AUTH_ISSUER/token/revocation'"
  echo "export SANDBOX_DEV_LAUNCH_URL='$AUTH_ISSUER/dev/launch'"
  echo "export SANDBOX_DEV_TOKEN_REQUESTS_URL='$AUTH_ISSUER/dev/token-requests'"
  echo "export SANDBOX_DEV_UNAUTHORIZED_URL='http://127.0.0.1:$FHIR_PORT_USED/dev/unauthorized'"
  echo "export SMART_LAUNCH='launch-pat-0001'"
  echo "export SMART_LAUNCH_PATIENT='pat-0001'"
  echo "export SMART_LAUNCH_ENCOUNTER='enc-0001-1'"
  echo "export SMART_USER_PRACTITIONER='practitioner'"
  echo "export SMART_USER_PATIENT='patient'"
  echo "export SANDBOX_ACCESS_TOKEN_TTL=${ACCESS_TOKEN_TTL:-3600}"
  echo "export SANDBOX_REFRESH_TOKEN_TTL=${REFRESH_TOKEN_TTL:-86400}"
  echo "export SANDBOX_PATIENT_COUNT=250"
  echo "export SANDBOX_BULK_POLLS_BEFORE_DONE=${BULK_POLLS_BEFORE_DONE:-2}"
  echo "export SANDBOX_BULK_RETRY_AFTER=${BULK_RETRY_AFTER:-1}"
  echo "export SANDBOX_BULK_MAX_LINES_PER_FILE=${BULK_MAX_LINES_PER_FILE:-500}"
  case "${BULK_REQUIRES_ACCESS_TOKEN:-true}" in [Ff][Aa][Ll][Ss][Ee] | 0 | [Nn][Oo]) echo "export SANDBOX_BULK_REQUIRES_ACCESS_TOKEN=false" ;; *) echo "export SANDBOX_BULK_REQUIRES_ACCESS_TOKEN=true" ;; esac
  echo "export SANDBOX_BULK_JOB_TTL=${BULK_JOB_TTL:-3600}"
  cat "$RUN_DIR/clients.env"
} >"$tmp"
mv "$tmp" "$ENV_FILE"
echo "sandbox: ready: FHIR_BASE_URL=$FHIR_BASE_URL SMART_AUTH_ISSUER=$AUTH_ISSUER (env in $ENV_FILE)"
