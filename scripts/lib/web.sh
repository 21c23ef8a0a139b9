# The citizen web app (mobile/ui) and its browser tests (tests/e2e): Node.js + npm, Debian's
# Chromium (no browser download), a real `guichet serve` with demo data. Sourced by
# scripts/run and scripts/test.

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

# Builds mobile/ui into mobile/ui/dist (served by the server at /).
build_ui() {
  [ -f mobile/ui/package.json ] || return 0
  ensure_node
  (cd mobile/ui && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
}

# Runs the unit tests of the web app's pure modules (Node.js's test runner). After build_ui.
test_ui() {
  [ -f mobile/ui/package.json ] || return 0
  (cd mobile/ui && npm test --silent)
}

# Runs the browser tests against a real server on a fresh database of the private cluster.
# Needs pg_* from postgres.sh and the debug binary built.
run_e2e() {
  [ -f tests/e2e/package.json ] || return 0
  ensure_node
  ensure_chromium
  command -v curl >/dev/null || _apt_install curl
  local bin=${CARGO_TARGET_DIR:-target}/debug/guichet port=${GUICHET_E2E_PORT:-8095}
  _pg_psql postgres -c "DROP DATABASE IF EXISTS guichet_e2e WITH (FORCE)" postgres
  _pg_psql postgres -c "CREATE DATABASE guichet_e2e" postgres
  local data
  data=$(mktemp -d)
  DATABASE_URL=$(pg_url guichet_e2e) "$bin" migrate
  DATABASE_URL=$(pg_url guichet_e2e) RUST_LOG=warn "$bin" demo
  DATABASE_URL=$(pg_url guichet_e2e) GUICHET_LISTEN=127.0.0.1:$port GUICHET_DATA_DIR="$data" \
    GUICHET_UI_DIR="$PWD/mobile/ui/dist" RUST_LOG=warn "$bin" serve &
  local server=$!
  local status=0
  for _ in $(seq 150); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
  (cd tests/e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error &&
    GUICHET_E2E_URL="http://127.0.0.1:$port" npm test) || status=$?
  kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true
  rm -rf "$data"
  return $status
}
