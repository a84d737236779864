#!/usr/bin/env bash
# Installs gocxx from BUILD_DIR into a scratch prefix, then builds and runs a consumer project
# both through find_package(gocxx CONFIG) and through add_subdirectory.
# Each step's output is kept in a log and printed only when that step fails.
set -euo pipefail
source_dir=$1 build_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step() {
  if ! "$@" >"$work/log" 2>&1; then
    echo "FAILED: $*" >&2
    cat "$work/log" >&2
    exit 1
  fi
}
step cmake --install "$build_dir" --prefix "$work/prefix"
step cmake -S "$source_dir/tests/consumer" -B "$work/installed" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix"
step cmake --build "$work/installed"
"$work/installed/consumer"
step cmake -S "$source_dir/tests/consumer" -B "$work/vendored" -G Ninja \
  -DGOCXX_SOURCE_DIR="$source_dir"
step cmake --build "$work/vendored"
"$work/vendored/consumer"
