# Sourced by tools/demo and tools/test: installs the Debian packages gocxx needs, if missing.
# Usage: gocxx_install_deps [extra packages...]
gocxx_install_deps() {
  local packages=(cmake ninja-build g++ pkg-config libboost-context-dev libdw-dev
                  libgtest-dev libbenchmark-dev
                  gdb  # the gdb extension's test (tests/gdb_test.sh)
                  libtbb-dev libcuckoo-dev  # map_bench's references
                  golang-go  # `go tool pprof` for the pprof profile test (zlib1g-dev: via libdw-dev)
                  "$@")
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "gocxx: installing missing packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "gocxx: run as root or install: ${missing[*]}" >&2; return 1; }
    sudo=sudo
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
}
