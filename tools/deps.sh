# shellcheck shell=bash
# Sourced by tools/demo and tools/test: installs the Debian 12 packages gocxx needs, if missing.
# Usage: gocxx_install_deps demo|test [extra packages...]
#   demo  the library and the examples (what tools/demo builds and runs)
#   test  that, plus the tests and benchmarks (what tools/test builds and runs)
# tools/check-fresh-debian checks these lists in a clean Debian 12 root.

# The library (CMakeLists.txt: find_package/pkg_check_modules) and the demo.
GOCXX_DEPS_DEMO=(cmake ninja-build g++ pkg-config
                 libboost-context-dev  # Boost::context: the context switch
                 libdw-dev             # libdw: symbolized stacks
                 zlib1g-dev            # ZLIB: gzip for the pprof goroutine profile
                 libhttp-parser-dev    # http-parser: gocxx::http's HTTP/1.x parser
                 nlohmann-json3-dev    # nlohmann/json (header-only): the trace report's SAX parser
                 golang-go             # `go tool pprof`: the demo and tests read the profile back;
                                       # Go 1.19 runs the assessment's items (assess/)
                 libsqlite3-dev        # SQLite: the assessment's results store
                 libssl-dev            # OpenSSL libcrypto: SHA-256 of the assessment web app's tokens
                 libcmark-dev          # CommonMark: item statements on the web app's pages
                 golang-uber-goleak-dev   # goleak (GOPATH mode): the assessment grades fix items with it
                 golang-golang-x-sync-dev # errgroup, semaphore: used by the assessment's Go items
                 golang-github-mattn-go-sqlite3-dev)  # database/sql driver: the transaction items
# The tests and benchmarks (tests/CMakeLists.txt, bench/CMakeLists.txt).
GOCXX_DEPS_TEST=(libgtest-dev libgmock-dev  # GTest::gtest, GTest::gmock (Debian splits them)
                 libbenchmark-dev           # bench/micro_bench
                 gdb                        # the gdb extension's test (tests/gdb_test.sh)
                 prometheus                 # promtool and a real server: tests/metrics, prometheus_test
                 wrk                        # bench/compare_http
                 libtbb-dev libcuckoo-dev   # map_bench's references (optional in CMake)
                 clang-tidy-14 libclang-14-dev llvm-14-dev  # gocxx-vet (tools/vet): its plugin
                 chromium chromium-driver python3-selenium  # tests/browser: the web app in a browser
                 fonts-wqy-zenhei)          # CJK glyphs for its screenshots (the seed's dimension names)

gocxx_install_deps() {
  local packages=("${GOCXX_DEPS_DEMO[@]}")
  case "${1:-}" in
    demo) ;;
    test) packages+=("${GOCXX_DEPS_TEST[@]}") ;;
    *) echo "gocxx_install_deps: first argument must be 'demo' or 'test'" >&2; return 2 ;;
  esac
  shift
  packages+=("$@")
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
