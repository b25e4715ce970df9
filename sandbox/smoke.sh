#!/usr/bin/env bash
# Smoke test of the sandbox with curl (and node for JWT signing and PKCE).
# Uses the running sandbox (sandbox/.run/env) or starts one and stops it after.
# Ends with a line "N passed, M failed"; exits non-zero if anything failed.
set -uo pipefail

SANDBOX_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$SANDBOX_DIR"
for tool in curl node; do
  command -v "$tool" >/dev/null || { echo "smoke: $tool is required" >&2; exit 127; }
done

started=""
if [[ ! -f .run/env ]]; then
  ./start.sh || exit 1
  started=1
fi
# shellcheck disable=SC1091
source .run/env
trap '[[ -n "$started" ]] && ./stop.sh >/dev/null' EXIT

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"; [[ -n "$started" ]] && ./stop.sh >/dev/null' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }
check() { # check "description" command...
  local what="$1"; shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}
# json FILE EXPR: prints a JavaScript expression evaluated on the JSON in FILE (as `b`).
json() { node -e 'const b=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));const v=eval(process.argv[2]);process.stdout.write(v===undefined?"":typeof v==="string"?v:JSON.stringify(v))' "$1" "$2"; }
b64url_random() { node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))'; }
s256() { node -e 'process.stdout.write(require("crypto").createHash("sha256").update(process.argv[1]).digest("base64url"))' "$1"; }
assertion() { node src/client-assertion.js "$1" "$2" "$3" "$4" "$SMART_TOKEN_URL"; }
# http METHOD URL [curl args...]: body to $TMP/body, headers to $TMP/headers, prints the status.
http() { local m="$1" u="$2"; shift 2; curl -s -X "$m" -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' "$@" "$u"; }
header() { grep -i "^$1:" "$TMP/headers" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
redirect_of() { curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$@"; }

echo "# sandbox at $FHIR_BASE_URL (authorization server $SMART_AUTH_ISSUER)"

# --- discovery ---------------------------------------------------------------
status=$(http GET "$FHIR_BASE_URL/metadata")
check "GET /metadata without a token: 200 CapabilityStatement 4.0.1" \
  test "$status $(json "$TMP/body" 'b.resourceType+" "+b.fhirVersion')" = "200 CapabilityStatement 4.0.1"
status=$(http GET "$FHIR_BASE_URL/.well-known/smart-configuration")
check "smart-configuration: token endpoint, S256, SMART capabilities" \
  test "$status $(json "$TMP/body" 'b.token_endpoint+" "+b.code_challenge_methods_supported.join()+" "+b.capabilities.includes("client-confidential-asymmetric")+" "+b.capabilities.includes("launch-ehr")')" \
  = "200 $SMART_TOKEN_URL S256 true true"

# --- no token -------------------------------------------------------------------
status=$(http GET "$FHIR_BASE_URL/Patient")
check "GET /Patient without a token: 401 with WWW-Authenticate: Bearer" \
  test "$status $(header WWW-Authenticate | cut -d' ' -f1)" = "401 Bearer"
status=$(http GET "$FHIR_BASE_URL/Patient" -H 'Authorization: Bearer not.a.jwt')
check "GET /Patient with a bad token: 401 invalid_token" test "$status" = 401 -a -n "$(header WWW-Authenticate | grep invalid_token)"

# --- Backend Services -----------------------------------------------------------
backend_token() { # client key kid alg scope -> access token
  curl -s -X POST "$SMART_TOKEN_URL" -d grant_type=client_credentials --data-urlencode "scope=$5" \
    -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
    -d "client_assertion=$(assertion "$1" "$2" "$3" "$4")" >"$TMP/token"
  json "$TMP/token" 'b.access_token'
}
ES_TOKEN=$(backend_token "$SMART_BACKEND_ES384_CLIENT_ID" "$SMART_BACKEND_ES384_KEY_PATH" "$SMART_BACKEND_ES384_KID" ES384 'system/*.rs')
check "client_credentials with an ES384 client assertion" test -n "$ES_TOKEN" -a "$(json "$TMP/token" 'b.token_type+" "+b.scope')" = "Bearer system/*.rs"
RS_TOKEN=$(backend_token "$SMART_BACKEND_RS384_CLIENT_ID" "$SMART_BACKEND_RS384_KEY_PATH" "$SMART_BACKEND_RS384_KID" RS384 'system/Patient.read')
status=$(http GET "$FHIR_BASE_URL/Patient/pat-0001" -H "Authorization: Bearer $RS_TOKEN")
check "client_credentials with an RS384 client assertion, then a read" test "$status" = 200 -a -n "$RS_TOKEN"
curl -s -X POST "$SMART_TOKEN_URL" -u "$SMART_BACKEND_SECRET_CLIENT_ID:$SMART_BACKEND_SECRET_CLIENT_SECRET" \
  -d grant_type=client_credentials -d 'scope=system/*.read' >"$TMP/token"
check "client_credentials with client_secret_basic" test -n "$(json "$TMP/token" 'b.access_token')"
replayed=$(assertion "$SMART_BACKEND_ES384_CLIENT_ID" "$SMART_BACKEND_ES384_KEY_PATH" "$SMART_BACKEND_ES384_KID" ES384)
curl -s -o /dev/null -X POST "$SMART_TOKEN_URL" -d grant_type=client_credentials -d 'scope=system/*.rs' \
  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer -d "client_assertion=$replayed"
status=$(http POST "$SMART_TOKEN_URL" -d grant_type=client_credentials -d 'scope=system/*.rs' \
  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer -d "client_assertion=$replayed")
check "a replayed client assertion (same jti) is rejected" test "$status $(json "$TMP/body" b.error)" = "401 invalid_client"

# Paged search following next links.
url="$FHIR_BASE_URL/Patient?_count=50"
seen=0 pages=0 total=""
while [[ -n "$url" && $pages -lt 20 ]]; do
  status=$(http GET "$url" -H "Authorization: Bearer $ES_TOKEN")
  [[ "$status" == 200 ]] || break
  total=$(json "$TMP/body" 'b.total')
  seen=$((seen + $(json "$TMP/body" '(b.entry||[]).length')))
  pages=$((pages + 1))
  url=$(json "$TMP/body" '(b.link||[]).find(l=>l.relation==="next")?.url')
done
check "Patient?_count=50 paged by next links: $seen resources in $pages pages = Bundle.total $total" \
  test "$seen" = "$total" -a "$pages" -gt 1
status=$(http POST "$FHIR_BASE_URL/Patient" -H "Authorization: Bearer $ES_TOKEN" -H 'Content-Type: application/fhir+json' -d '{"resourceType":"Patient"}')
check "create with a read-only scope: 403 insufficient_scope" test "$status" = 403

# --- FHIR REST writes ------------------------------------------------------------
curl -s -X POST "$SMART_TOKEN_URL" -u "$SMART_BACKEND_SECRET_CLIENT_ID:$SMART_BACKEND_SECRET_CLIENT_SECRET" \
  -d grant_type=client_credentials -d 'scope=system/*.cruds' >"$TMP/token"
W=(-H "Authorization: Bearer $(json "$TMP/token" b.access_token)" -H 'Content-Type: application/fhir+json')
mrn="smoke-$(b64url_random | cut -c1-8)"
new_patient="{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:smoke\",\"value\":\"$mrn\"}],\"name\":[{\"family\":\"Smoke\"}]}"
status=$(http POST "$FHIR_BASE_URL/Patient" "${W[@]}" -H "If-None-Exist: identifier=urn:smoke|$mrn" -d "$new_patient")
location=$(header Location)
id=$(json "$TMP/body" b.id)
check "conditional create: 201 with Location $location" test "$status" = 201 -a -n "$location" -a -n "$id"
status=$(http POST "$FHIR_BASE_URL/Patient" "${W[@]}" -H "If-None-Exist: identifier=urn:smoke|$mrn" -d "$new_patient")
check "conditional create again: 200 with the same resource" test "$status $(json "$TMP/body" b.id)" = "200 $id"
etag=$(curl -s -o /dev/null -D - "${W[@]}" "$FHIR_BASE_URL/Patient/$id" | grep -i '^etag:' | cut -d' ' -f2 | tr -d '\r')
updated=$(json "$TMP/body" 'JSON.stringify({...b,active:false})')
status=$(http PUT "$FHIR_BASE_URL/Patient/$id" "${W[@]}" -H 'If-Match: W/"stale"' -d "$updated")
check "update with a stale If-Match: 412" test "$status" = 412
status=$(http PUT "$FHIR_BASE_URL/Patient/$id" "${W[@]}" -H "If-Match: $etag" -d "$updated")
check "update with the current If-Match ($etag): 200 and a new ETag" test "$status" = 200 -a "$(header ETag)" != "$etag"
status=$(http GET "$FHIR_BASE_URL/Patient/$id/_history" "${W[@]}")
check "history: 2 versions, newest first" test "$status $(json "$TMP/body" 'b.entry.length+" "+b.entry[0].resource.active')" = "200 2 false"
tx="{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[
 {\"fullUrl\":\"urn:uuid:6f1c1c52-6c1a-4a59-9d38-3a4a1c0c0001\",\"resource\":{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:smoke\",\"value\":\"$mrn-tx\"}]},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},
 {\"resource\":{\"resourceType\":\"Patient\",\"id\":\"$id\"},\"request\":{\"method\":\"PUT\",\"url\":\"Patient/$id\",\"ifMatch\":\"W/\\\"stale\\\"\"}}]}"
status=$(http POST "$FHIR_BASE_URL" "${W[@]}" -d "$tx")
http GET "$FHIR_BASE_URL/Patient?identifier=urn:smoke|$mrn-tx" "${W[@]}" >/dev/null
check "a failing transaction is rolled back ($status, nothing created)" test "$status $(json "$TMP/body" b.total)" = "412 0"
status=$(http DELETE "$FHIR_BASE_URL/Patient/$id" "${W[@]}")
check "delete: 200, then read: 404" test "$status $(http GET "$FHIR_BASE_URL/Patient/$id" "${W[@]}")" = "200 404"

# --- Authorization code + PKCE, login over plain HTTP --------------------------
# authorize CLIENT SCOPE JAR [extra authorize params...] -> prints the code.
# Uses $VERIFIER and $STATE (set them first with new_pkce) and the login form $LOGIN_FORM.
new_pkce() { VERIFIER=$(b64url_random); STATE=$(b64url_random); }
authorize() {
  local client="$1" scope="$2" jar="$3"; shift 3
  local r1 r2 r3
  r1=$(redirect_of -c "$jar" -b "$jar" -G "$SMART_AUTHORIZE_URL" --data-urlencode response_type=code \
    --data-urlencode "client_id=$client" --data-urlencode "redirect_uri=$SMART_REDIRECT_URI" --data-urlencode "scope=$scope" \
    --data-urlencode "state=$STATE" --data-urlencode "aud=$FHIR_BASE_URL" --data-urlencode "code_challenge=$(s256 "$VERIFIER")" \
    --data-urlencode code_challenge_method=S256 "$@")
  [[ "$r1" == 303\ */interaction/* ]] || { echo "authorize: $r1" >&2; return 1; }
  r2=$(redirect_of -c "$jar" -b "$jar" -X POST "${r1#* }/login" -d "${LOGIN_FORM:-username=practitioner}")
  [[ "$r2" == 303\ * ]] || { echo "login: $r2" >&2; return 1; }
  r3=$(redirect_of -c "$jar" -b "$jar" "${r2#* }")
  [[ "$r3" == 303\ "$SMART_REDIRECT_URI"* ]] || { echo "resume: $r3" >&2; return 1; }
  node -e 'const u=new URL(process.argv[1]);if(u.searchParams.get("state")!==process.argv[2])process.exit(1);process.stdout.write(u.searchParams.get("code"))' "${r3#* }" "$STATE"
}

new_pkce
CODE=$(authorize "$SMART_PUBLIC_CLIENT_ID" 'openid fhirUser launch/patient offline_access patient/*.rs' "$TMP/jar1")
check "authorize (public client, PKCE S256) -> login -> callback with code and state" test -n "$CODE"
curl -s -X POST "$SMART_TOKEN_URL" -d grant_type=authorization_code -d "code=$CODE" -d "redirect_uri=$SMART_REDIRECT_URI" \
  -d "client_id=$SMART_PUBLIC_CLIENT_ID" -d "code_verifier=$VERIFIER" >"$TMP/token"
AT=$(json "$TMP/token" b.access_token)
RT=$(json "$TMP/token" b.refresh_token)
PATIENT=$(json "$TMP/token" b.patient)
check "code exchange: access, refresh and id token with patient=$PATIENT, scope includes launch/patient" \
  test -n "$AT" -a -n "$RT" -a "$PATIENT" = pat-0001 -a -n "$(json "$TMP/token" 'b.scope.split(" ").includes("launch/patient")||undefined')"
fhir_user=$(json "$TMP/token" 'JSON.parse(Buffer.from(b.id_token.split(".")[1],"base64url")).fhirUser')
check "id_token carries fhirUser ($fhir_user)" test "$fhir_user" = "$FHIR_BASE_URL/Practitioner/prac-0001"
status=$(http GET "$FHIR_BASE_URL/Patient/$PATIENT" -H "Authorization: Bearer $AT")
check "read Patient/$PATIENT in context: 200 with ETag $(header ETag)" test "$status" = 200 -a -n "$(header ETag)"

curl -s -X POST "$SMART_TOKEN_URL" -d grant_type=refresh_token -d "refresh_token=$RT" -d "client_id=$SMART_PUBLIC_CLIENT_ID" >"$TMP/token"
RT2=$(json "$TMP/token" b.refresh_token)
check "refresh: new access token, rotated refresh token, patient kept" \
  test -n "$(json "$TMP/token" b.access_token)" -a -n "$RT2" -a "$RT2" != "$RT" -a "$(json "$TMP/token" b.patient)" = "$PATIENT"
status=$(http POST "$SMART_TOKEN_URL" -d grant_type=refresh_token -d "refresh_token=$RT" -d "client_id=$SMART_PUBLIC_CLIENT_ID")
check "the old refresh token is rejected after rotation (invalid_grant)" test "$status $(json "$TMP/body" b.error)" = "400 invalid_grant"

status=$(http GET "$SMART_AUTHORIZE_URL?response_type=code&client_id=$SMART_PUBLIC_CLIENT_ID&redirect_uri=$SMART_REDIRECT_URI&scope=openid&state=x")
check "authorize without code_challenge is refused (PKCE required)" \
  test -n "$(header Location | grep -E 'error=invalid_request')" -o "$status" = 400

# --- EHR launch, confidential clients ---------------------------------------------
new_pkce
CODE=$(authorize "$SMART_CONFIDENTIAL_CLIENT_ID" 'launch openid fhirUser patient/*.rs' "$TMP/jar2" --data-urlencode "launch=$SMART_LAUNCH")
curl -s -X POST "$SMART_TOKEN_URL" -u "$SMART_CONFIDENTIAL_CLIENT_ID:$SMART_CONFIDENTIAL_CLIENT_SECRET" -d grant_type=authorization_code \
  -d "code=$CODE" -d "redirect_uri=$SMART_REDIRECT_URI" -d "code_verifier=$VERIFIER" >"$TMP/token"
check "EHR launch ($SMART_LAUNCH), client_secret_basic: patient and encounter in the token response" \
  test "$(json "$TMP/token" 'b.patient+" "+b.encounter')" = "$SMART_LAUNCH_PATIENT $SMART_LAUNCH_ENCOUNTER"

new_pkce
CODE=$(authorize "$SMART_ASYMMETRIC_CLIENT_ID" 'launch/patient patient/Observation.rs' "$TMP/jar3")
curl -s -X POST "$SMART_TOKEN_URL" -d grant_type=authorization_code -d "code=$CODE" -d "redirect_uri=$SMART_REDIRECT_URI" \
  -d "code_verifier=$VERIFIER" -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
  -d "client_assertion=$(assertion "$SMART_ASYMMETRIC_CLIENT_ID" "$SMART_ASYMMETRIC_KEY_PATH" "$SMART_ASYMMETRIC_KID" ES384)" >"$TMP/token"
AT=$(json "$TMP/token" b.access_token)
status=$(http GET "$FHIR_BASE_URL/Observation?patient=$(json "$TMP/token" b.patient)" -H "Authorization: Bearer $AT")
check "private_key_jwt app (ES384): Observation search for the patient in context" \
  test "$status $(json "$TMP/body" b.total)" = "200 4"

# --- Bulk Data export ($export, status, files) ----------------------------------
BT=$(backend_token "$SMART_BACKEND_ES384_CLIENT_ID" "$SMART_BACKEND_ES384_KEY_PATH" "$SMART_BACKEND_ES384_KID" ES384 'system/*.rs')
B=(-H "Authorization: Bearer $BT")
status=$(http GET "$FHIR_BASE_URL/\$export" "${B[@]}" -H 'Accept: application/fhir+json')
check "bulk kick-off without Prefer: respond-async: 400 OperationOutcome" test "$status $(json "$TMP/body" b.resourceType)" = "400 OperationOutcome"
status=$(http GET "$FHIR_BASE_URL/\$export?_type=Patient,Observation" "${B[@]}" -H 'Accept: application/fhir+json' -H 'Prefer: respond-async')
status_url=$(header Content-Location)
check "bulk kick-off (system, _type=Patient,Observation, Backend Services token): 202 with Content-Location" \
  test "$status" = 202 -a -n "$status_url"
polls=0 progress=""
while :; do
  status=$(http GET "$status_url" "${B[@]}" -H 'Accept: application/json')
  [[ "$status" == 202 && $polls -lt 30 ]] || break
  polls=$((polls + 1))
  progress=$(header X-Progress)
  retry=$(header Retry-After)
  sleep "${retry:-1}"
done
cp "$TMP/body" "$TMP/manifest"
check "bulk status: $polls x 202 (X-Progress: ${progress:-none}), then 200 application/json manifest with Expires" \
  test "$status $(header Content-Type) $(json "$TMP/manifest" 'typeof b.transactionTime+" "+Array.isArray(b.output)')" = "200 application/json string true" -a -n "$(header Expires)"
requires_token=$(json "$TMP/manifest" 'String(b.requiresAccessToken)')
F=() # file requests carry the token only when the manifest asks for it (else the URLs are signed)
[[ "$requires_token" == true ]] && F=("${B[@]}")
obs_total=$(curl -s "${B[@]}" "$FHIR_BASE_URL/Observation?_summary=count" | node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(0,"utf8")).total))')
check "bulk manifest: Observation counts add up to the server's $obs_total, over more than one file" \
  test "$(json "$TMP/manifest" 'b.output.filter(o=>o.type==="Observation").reduce((n,o)=>n+o.count,0)')" = "$obs_total" \
  -a "$(json "$TMP/manifest" 'b.output.filter(o=>o.type==="Observation").length')" -gt 1
bad=0
while read -r url count type; do
  got=$(curl -s "${F[@]}" "$url" | node -e 'const ls=require("fs").readFileSync(0,"utf8").split("\n");const last=ls.pop();const ok=last===""&&ls.every(l=>JSON.parse(l).resourceType===process.argv[1]);process.stdout.write(ok?String(ls.length):"bad")' "$type")
  [[ "$got" == "$count" ]] || { bad=$((bad + 1)); echo "# $url: $got lines, manifest count $count" >&2; }
done < <(json "$TMP/manifest" 'b.output.map(o=>o.url+" "+o.count+" "+o.type).join("\n")'; echo)
check "bulk files: every file's NDJSON line count equals its count, each line its type (requiresAccessToken=$requires_token)" test "$bad" = 0
file_url=$(json "$TMP/manifest" 'b.output.find(o=>o.type==="Observation").url')
fstatus=$(curl -s "${F[@]}" -o "$TMP/file" -D "$TMP/headers" -w '%{http_code}' "$file_url")
size=$(wc -c <"$TMP/file")
check "bulk file download: 200 application/fhir+ndjson, $size bytes, Accept-Ranges: bytes" \
  test "$fstatus $(header Content-Type) $(header Accept-Ranges)" = "200 application/fhir+ndjson bytes"
half=$((size / 2))
fstatus=$(curl -s "${F[@]}" -H "Range: bytes=$half-" -o "$TMP/part" -D "$TMP/headers" -w '%{http_code}' "$file_url")
check "bulk file with Range: bytes=$half-: 206, Content-Range bytes $half-$((size - 1))/$size, the file's tail" \
  test "$fstatus $(header Content-Range)" = "206 bytes $half-$((size - 1))/$size" -a "$(tail -c +$((half + 1)) "$TMP/file" | cmp -s - "$TMP/part" && echo same)" = same
status=$(http DELETE "$status_url" "${B[@]}")
check "bulk DELETE on the status URL: 202" test "$status" = 202
status=$(http GET "$status_url" "${B[@]}" -H 'Accept: application/json')
check "bulk status after DELETE: 404 OperationOutcome, and the file is gone (404)" \
  test "$status $(json "$TMP/body" b.resourceType) $(curl -s -o /dev/null -w '%{http_code}' "${F[@]}" "$file_url")" = "404 OperationOutcome 404"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
