# Private PostgreSQL + PostGIS cluster for development and tests, kept in the project's
# git-ignored .pgdata/ folder. Sourced by scripts/run and scripts/test.
#
#   pg_ensure_running      install what is missing, create the cluster once, start it
#   pg_url DBNAME          the connection URL of a database of that cluster
#   pg_ensure_db DBNAME    create the database if it does not exist
#   pg_stop                stop the cluster (fast: open sessions are cut, as in an outage)
#
# Settings: GUICHET_PG_PORT (default 54329), GUICHET_PG_DIR (default <project>/.pgdata).

PG_PORT="${GUICHET_PG_PORT:-54329}"
PG_DIR="${GUICHET_PG_DIR:-$PWD/.pgdata}"

_as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# PostgreSQL refuses to run as root: the server runs as the `postgres` system user then.
_as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

_pg_bin() {
  local v
  v=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
  [ -n "$v" ] && echo "/usr/lib/postgresql/$v/bin"
}

pg_install_missing() {
  local bin
  bin=$(_pg_bin)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "Installing PostgreSQL (apt)…" >&2
    _as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive _as_root apt-get install -y -qq postgresql >/dev/null
    bin=$(_pg_bin)
  fi
  local v
  v=$(basename "$(dirname "$bin")")
  if [ ! -f "/usr/share/postgresql/$v/extension/postgis.control" ]; then
    echo "Installing PostGIS (apt: postgresql-$v-postgis-3)…" >&2
    _as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive _as_root apt-get install -y -qq "postgresql-$v-postgis-3" >/dev/null
  fi
}

# The data folder must be reachable by the `postgres` user; when the checkout lives in a
# private home (e.g. /root), the cluster goes to a per-checkout folder under /tmp instead and
# .pgdata points to it.
_pg_prepare_dir() {
  if [ ! -L "$PG_DIR" ] && [ ! -d "$PG_DIR/data" ]; then
    mkdir -p "$PG_DIR"
    if [ "$(id -u)" = 0 ]; then
      chown postgres:postgres "$PG_DIR"
      if ! runuser -u postgres -- test -w "$PG_DIR"; then
        rmdir "$PG_DIR"
        local alt
        alt="/tmp/guichet-pg-$(printf '%s' "$PWD" | sha1sum | cut -c1-12)"
        mkdir -p "$alt" && chown postgres:postgres "$alt"
        ln -s "$alt" "$PG_DIR"
      fi
    fi
  fi
  # The server process must not go through the symlink (it cannot enter the checkout).
  PG_DIR=$(readlink -f "$PG_DIR")
}

pg_ensure_running() {
  pg_install_missing
  local bin
  bin=$(_pg_bin)
  _pg_prepare_dir
  if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
    echo "Creating a private PostgreSQL cluster in $PG_DIR …" >&2
    _as_pg mkdir -p "$PG_DIR/data" "$PG_DIR/run"
    _as_pg "$bin/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat <<CONF | _as_pg tee -a "$PG_DIR/data/postgresql.conf" >/dev/null
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR/run'
max_connections = 300
shared_buffers = 256MB
fsync = on
log_min_messages = warning
CONF
  fi
  if ! _as_pg "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
    _as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start >/dev/null
  fi
  # Databases created later (tests make one each) inherit PostGIS from template1.
  _pg_psql postgres -c "CREATE EXTENSION IF NOT EXISTS postgis" template1 >/dev/null
}

_pg_psql() {
  local user=$1; shift
  local db="${*: -1}"
  set -- "${@:1:$#-1}"
  PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U "$user" -d "$db" "$@"
}

pg_url() {
  echo "postgres://postgres@127.0.0.1:$PG_PORT/$1"
}

pg_ensure_db() {
  if [ -z "$(_pg_psql postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'" postgres)" ]; then
    _pg_psql postgres -c "CREATE DATABASE \"$1\"" postgres
  fi
}

pg_stop() {
  local bin
  bin=$(_pg_bin)
  _as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null
}

pg_stop() {
  local bin
  bin=$(_pg_bin)
  _pg_prepare_dir
  _as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
}
