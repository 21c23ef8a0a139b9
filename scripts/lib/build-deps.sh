# Native tools the Rust build needs: cmake and nasm build the vendored libjpeg-turbo with its
# SIMD code (crate turbojpeg-sys), a C compiler builds libwebp. Sourced by scripts/run and
# scripts/test; installs with apt what is missing.

ensure_build_deps() {
  local missing=()
  command -v cmake >/dev/null || missing+=(cmake)
  command -v nasm >/dev/null || missing+=(nasm)
  command -v cc >/dev/null || missing+=(build-essential)
  command -v pkg-config >/dev/null || missing+=(pkg-config)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing build tools (apt): ${missing[*]}…" >&2
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}
