# Fuzzing of /api/v1 with schemathesis (PyPI) against the OpenAPI document the server serves:
# a real `guichet serve` (debug build, demo data, rate limits off) started by
# start_demo_server (web.sh). Sourced by scripts/test and scripts/fuzz-api; needs pg_* from
# postgres.sh and the debug binary built.

SCHEMATHESIS_VERSION=4.32.5
SCHEMATHESIS_VENV=${GUICHET_CACHE:-$HOME/.cache/guichet}/schemathesis-$SCHEMATHESIS_VERSION

# Installs schemathesis from PyPI into its own virtual environment, once, with every
# dependency pinned (tests/fuzz/requirements.txt; its version is in the folder's name).
ensure_schemathesis() {
  [ -x "$SCHEMATHESIS_VENV/bin/schemathesis" ] && return 0
  echo "Installing schemathesis $SCHEMATHESIS_VERSION (PyPI) into $SCHEMATHESIS_VENV…" >&2
  python3 -c 'import ensurepip' 2>/dev/null || _apt_install python3-venv
  rm -rf "$SCHEMATHESIS_VENV"
  python3 -m venv "$SCHEMATHESIS_VENV"
  "$SCHEMATHESIS_VENV/bin/pip" install --quiet --disable-pip-version-check \
    -r tests/fuzz/requirements.txt
}

# The number and tracking code of a filing's receipt, on one line.
_receipt() {
  python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["request_number"], r["tracking_code"])'
}

# Fuzzes every operation of /api/v1 in passes: public ones as anybody, citizens' with a
# citizen's session, agents' and admins' with an admin's, then what may end those sessions. EXAMPLES cases per operation and phase (default 20); any other
# arguments go to `schemathesis run` (e.g. --seed 1, --max-failures 1). Fails on any failed
# check: a 5xx, a status, content type or body the document does not describe.
run_api_fuzz() {
  local examples=${1:-20}
  shift || true
  ensure_schemathesis
  local port=${GUICHET_FUZZ_PORT:-8096} status=0
  local base="http://127.0.0.1:$port"
  start_demo_server guichet_fuzz "$port"
  _fuzz_fixtures "$base" || status=$?
  if [ "$status" != 0 ]; then
    echo "could not prepare the sessions and requests the fuzzing acts on" >&2
    stop_demo_server
    return "$status"
  fi
  local -a common=(
    --url "$base"
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
    --max-examples "$examples"
    --phases examples,coverage,fuzzing
    # One worker: Python 3.11's parser is not safe when Hypothesis describes strategies from
    # several threads at once ("AST constructor recursion depth mismatch").
    --workers 1
    --request-timeout 30
    --suppress-health-check all
    --no-shrink
  )
  local schema="$base/api/v1/openapi.json"
  local -a st=("$SCHEMATHESIS_VENV/bin/schemathesis" --config-file tests/fuzz/schemathesis.toml)
  local agent_api='^/api/v1/(agent|admin)/' citizen_api='^/api/v1/(citizen|requests)/'
  # Calls that may end the session the others use (logging out, changing one's password, an
  # admin removing the second factor of an id that is their own) come last.
  local ends_session='^/api/v1/(agent/logout|citizen/logout|citizen/password|admin/agents/\{id\}/totp/reset)$'
  # The live stream holds its answer open for minutes: tests/tests/live.rs covers it.
  # Each pass: what it fuzzes, then its arguments to `schemathesis run`, separated by ";".
  local -a passes=(
    "the public operations, as anybody;--exclude-path-regex;$agent_api"
    "the citizens' operations, with a citizen's session;--include-path-regex;$citizen_api;--exclude-path-regex;$ends_session;--header;Authorization: Bearer $GUICHET_FUZZ_CITIZEN"
    "the agent and administration operations, as an admin;--include-path-regex;$agent_api;--exclude-path-regex;$ends_session;--exclude-path;/api/v1/agent/events;--header;Authorization: Bearer $GUICHET_FUZZ_ADMIN"
    "what ends a citizen's session;--include-path-regex;^/api/v1/citizen/(logout|password)\$;--header;Authorization: Bearer $GUICHET_FUZZ_CITIZEN"
    "what ends an admin's session;--include-path-regex;$ends_session;--exclude-path-regex;^/api/v1/citizen/;--header;Authorization: Bearer $GUICHET_FUZZ_ADMIN"
  )
  local pass
  for pass in "${passes[@]}"; do
    local -a args
    IFS=';' read -r -a args <<<"$pass"
    echo "Fuzzing ${args[0]} ($examples examples per operation and phase)…" >&2
    timeout 900 "${st[@]}" run "$schema" "${common[@]}" "${args[@]:1}" "$@" || { status=$?; break; }
  done
  stop_demo_server
  return $status
}

# What the fuzzing acts on, in GUICHET_FUZZ_*: an admin's session; a citizen with a verified
# address (set in the database: the link goes by e-mail) and a session; an incident (a report
# without photo) and the citizen's contact request, with their tracking codes.
_fuzz_fixtures() {
  local base=$1
  export GUICHET_FUZZ_ADMIN GUICHET_FUZZ_CITIZEN GUICHET_FUZZ_INCIDENT GUICHET_FUZZ_INCIDENT_CODE \
    GUICHET_FUZZ_REQUEST GUICHET_FUZZ_REQUEST_CODE
  local json='content-type: application/json'
  GUICHET_FUZZ_ADMIN=$(curl -sf -H "$json" \
    -d '{"email":"admin@guichet.example","password":"guichet-demo"}' \
    "$base/api/v1/agent/login" | _field token) || return 1
  curl -sf -o /dev/null -H "$json" \
    -d '{"email":"fuzz@guichet.example","password":"un mot de passe de test"}' \
    "$base/api/v1/citizen/register" || return 1
  _pg_psql postgres -c \
    "UPDATE citizens SET email_verified_at = now() WHERE email = 'fuzz@guichet.example'" guichet_fuzz
  GUICHET_FUZZ_CITIZEN=$(curl -sf -H "$json" \
    -d '{"email":"fuzz@guichet.example","password":"un mot de passe de test"}' \
    "$base/api/v1/citizen/login" | _field token) || return 1
  read -r GUICHET_FUZZ_INCIDENT GUICHET_FUZZ_INCIDENT_CODE < <(curl -sf \
    -F 'report={"client_id":"6f0f3e52-8a7b-4c1d-9e2f-3a4b5c6d7e8f","category":"voirie","lat":48.1113,"lon":-1.68,"description":"Nid-de-poule"}' \
    "$base/api/v1/reports" | _receipt)
  read -r GUICHET_FUZZ_REQUEST GUICHET_FUZZ_REQUEST_CODE < <(curl -sf -H "$json" \
    -H "Authorization: Bearer $GUICHET_FUZZ_CITIZEN" \
    -d '{"client_id":"1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f","demarche":"demande-contact","data":{"subject":"information","message":"Horaires ?","last_name":"Martin","first_name":"Léa","contact_email":"fuzz@guichet.example","reply_channel":"email"}}' \
    "$base/api/v1/requests" | _receipt)
  [ -n "$GUICHET_FUZZ_INCIDENT" ] && [ -n "$GUICHET_FUZZ_REQUEST" ]
}

_field() {
  python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}
