# The citizen app's desktop build (mobile/src-tauri, Tauri 2 on WebKitGTK) and its end-to-end
# tests (tests/native): the built app under Xvfb, driven through WebDriver (tauri-driver in
# front of WebKitGTK's WebKitWebDriver), against a real `guichet serve` on its own database.
# Sourced by .ci/run and scripts/test, after web.sh and postgres.sh.

# tauri-driver from crates.io, pinned, kept in a cache folder between runs.
TAURI_DRIVER_VERSION=2.0.4
NATIVE_TOOLS_DIR="${GUICHET_TOOLS_DIR:-$HOME/.cache/guichet/tools}"

# The system libraries the desktop build links (WebKitGTK, the tray icon library Tauri's Linux
# bundle expects, SVG icons), WebKitWebDriver and Xvfb, and tauri-driver.
ensure_native_deps() {
  local need=() pkg
  for pkg in libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev webkit2gtk-driver xvfb xauth; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "Installing the desktop app's system packages (apt): ${need[*]}…" >&2
    _apt_install "${need[@]}"
  fi
  TAURI_DRIVER="$NATIVE_TOOLS_DIR/bin/tauri-driver"
  if ! "$TAURI_DRIVER" --help 2>/dev/null | grep -q tauri-driver ||
    [ "$(cat "$NATIVE_TOOLS_DIR/tauri-driver.version" 2>/dev/null)" != "$TAURI_DRIVER_VERSION" ]; then
    echo "Installing tauri-driver $TAURI_DRIVER_VERSION (cargo install)…" >&2
    # Its own target folder: the workspace's would rebuild for nothing.
    CARGO_TARGET_DIR="$NATIVE_TOOLS_DIR/target" cargo install tauri-driver --locked \
      --version "$TAURI_DRIVER_VERSION" --root "$NATIVE_TOOLS_DIR" --force
    rm -rf "$NATIVE_TOOLS_DIR/target"
    echo "$TAURI_DRIVER_VERSION" >"$NATIVE_TOOLS_DIR/tauri-driver.version"
  fi
  export TAURI_DRIVER
}

# The desktop app with the web UI embedded (the default `embed-ui` feature), debug build, and
# its .deb package, with the Tauri CLI of the npm workspace (after build_ui, which installs it).
# The package reuses the binary's build: `tauri build --debug` asks cargo for the same features.
build_native_app() {
  cargo build -p guichet-app
  (cd mobile/src-tauri && ../../node_modules/.bin/tauri build --debug --bundles deb --ci)
  local deb
  deb=$(ls "${CARGO_TARGET_DIR:-target}"/debug/bundle/deb/Guichet_*_amd64.deb)
  dpkg-deb --contents "$deb" | grep -q ' usr/bin/guichet-app$' ||
    { echo "$deb holds no usr/bin/guichet-app" >&2; return 1; }
}

# The native journeys (tests/native/journeys/*.test.mjs), one app launch per file, each against
# a server of its own cloned from a demo template made here. Needs pg_* from postgres.sh, the
# debug `guichet` binary and build_native_app.
run_native_tests() {
  [ -f tests/native/package.json ] || return 0
  ensure_node
  ensure_native_deps
  local bin template=guichet_native_template status=0 db photo
  bin=$(realpath "${CARGO_TARGET_DIR:-target}/debug/guichet")
  # The photo a citizen picks: a 12-megapixel camera JPEG with EXIF orientation, GPS and XMP.
  cargo build -q -p guichet-tests --example camera_photo
  photo=$(mktemp --suffix=.jpg)
  "${CARGO_TARGET_DIR:-target}/debug/examples/camera_photo" "$photo" 4032 3024
  for db in $(_pg_psql postgres -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'guichet\_native\_%'" postgres); do
    _pg_psql postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" postgres
  done
  _pg_psql postgres -c "CREATE DATABASE $template" postgres
  DATABASE_URL=$(pg_url "$template") "$bin" migrate
  DATABASE_URL=$(pg_url "$template") RUST_LOG=warn "$bin" demo
  (cd tests/native && npm ci --no-audit --no-fund --loglevel=error &&
    GUICHET_NATIVE_BIN="$bin" GUICHET_NATIVE_PG="$(pg_url postgres)" GUICHET_NATIVE_TEMPLATE=$template \
    GUICHET_NATIVE_PHOTO="$photo" GUICHET_NATIVE_APP="$(realpath "${CARGO_TARGET_DIR:-target}/debug/guichet-app")" \
    GUICHET_UI_DIR="$PWD/../../mobile/ui/dist" \
    xvfb-run --auto-servernum --server-args="-screen 0 1280x1024x24" npm test -- "$@") || status=$?
  _pg_psql postgres -c "DROP DATABASE IF EXISTS $template WITH (FORCE)" postgres
  rm -f "$photo"
  return $status
}
