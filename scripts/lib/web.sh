# The web apps and their browser tests (tests/e2e): Node.js + npm, Debian's Chromium (no
# browser download), a real `guichet serve` with demo data. Sourced by scripts/run and
# scripts/test. The citizen app (mobile/ui), the back office (server/backoffice) and the
# modules both import (shared/web) are npm workspaces of the root package.json, with one
# package-lock.json.

_apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

ensure_node() {
  command -v npm >/dev/null || { echo "Installing Node.js (apt)…" >&2; _apt_install nodejs npm; }
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] || { echo "Installing Chromium (apt)…" >&2; _apt_install chromium; }
}

# Builds mobile/ui into mobile/ui/dist (served by the server at /), server/backoffice into
# server/backoffice/dist (served at /backoffice/) and the API's documentation page into
# server/api-docs/dist (served at /api/docs/).
build_ui() {
  [ -f package.json ] || return 0
  ensure_node
  npm ci --no-audit --no-fund --loglevel=error
  npm run build --silent -w mobile/ui -w server/backoffice -w server/api-docs
}

# Runs the unit tests of the pure modules of shared/web and of both apps (Node.js's test
# runner). After build_ui.
test_ui() {
  [ -f package.json ] || return 0
  npm test --silent -w shared/web -w mobile/ui -w server/backoffice
}

# Starts `guichet serve` (the debug build) on a fresh database NAME of the private cluster,
# with the demo data (loaded once into NAME_template, which the browser tests clone again),
# the built web apps, no map tiles, rate limits off (clients here call far more often than people do), on
# 127.0.0.1:PORT; returns once it is ready. Needs pg_* from postgres.sh and the debug binary
# built. Sets DEMO_SERVER_PID; stop_demo_server stops it and removes its data.
start_demo_server() {
  local name=$1 port=$2 bin db
  command -v curl >/dev/null || _apt_install curl
  bin=$(realpath "${CARGO_TARGET_DIR:-target}/debug/guichet")
  for db in $(_pg_psql postgres -tAc "SELECT datname FROM pg_database WHERE datname LIKE '${name//_/\\_}%'" postgres); do
    _pg_psql postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" postgres
  done
  _pg_psql postgres -c "CREATE DATABASE ${name}_template" postgres
  DATABASE_URL=$(pg_url "${name}_template") "$bin" migrate
  DATABASE_URL=$(pg_url "${name}_template") RUST_LOG=warn "$bin" demo
  _pg_psql postgres -c "CREATE DATABASE $name TEMPLATE ${name}_template" postgres
  DEMO_SERVER_DATA=$(mktemp -d)
  # Exported: the browser tests start servers of their own with the same web apps. No map
  # tiles: nothing may be fetched from outside (the journeys that test tiles set their own).
  export GUICHET_UI_DIR="$PWD/mobile/ui/dist" GUICHET_BACKOFFICE_DIR="$PWD/server/backoffice/dist" \
    GUICHET_API_DOCS_DIR="$PWD/server/api-docs/dist" GUICHET_MAP_TILES=""
  DATABASE_URL=$(pg_url "$name") GUICHET_LISTEN=127.0.0.1:$port GUICHET_DATA_DIR="$DEMO_SERVER_DATA" \
    GUICHET_RATE_LIMITS=off RUST_LOG=warn "$bin" serve &
  DEMO_SERVER_PID=$!
  for _ in $(seq 150); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && return 0; sleep 0.2; done
  echo "guichet serve did not get ready on port $port" >&2
  stop_demo_server
  return 1
}

stop_demo_server() {
  kill "$DEMO_SERVER_PID" 2>/dev/null || true
  wait "$DEMO_SERVER_PID" 2>/dev/null || true
  rm -rf "$DEMO_SERVER_DATA"
}

# Runs the browser tests against a real server on a fresh database of the private cluster.
# Needs pg_* from postgres.sh and the debug binary built. The shared server (GUICHET_E2E_URL)
# runs on a copy of the demo template; journey files that need a server of their own
# (tests/e2e/tests/server.ts: the back office's, with an SMTP listener) clone it again.
run_e2e() {
  [ -f tests/e2e/package.json ] || return 0
  ensure_node
  ensure_chromium
  local port=${GUICHET_E2E_PORT:-8095} status=0
  start_demo_server guichet_e2e "$port"
  (cd tests/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error &&
    GUICHET_E2E_URL="http://127.0.0.1:$port" GUICHET_E2E_BIN="$(realpath "${CARGO_TARGET_DIR:-target}/debug/guichet")" \
    GUICHET_E2E_PG="$(pg_url postgres)" GUICHET_E2E_TEMPLATE=guichet_e2e_template npm test -- "$@") || status=$?
  stop_demo_server
  return $status
}
