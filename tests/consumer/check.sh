#!/usr/bin/env bash
# Installs gocxx from BUILD_DIR into a scratch prefix, then builds and runs a consumer project
# both through find_package(gocxx CONFIG) and through add_subdirectory.
set -euo pipefail
source_dir=$1 build_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/tests/consumer" -B "$work/installed" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/installed" >/dev/null
"$work/installed/consumer"
cmake -S "$source_dir/tests/consumer" -B "$work/vendored" -G Ninja \
  -DGOCXX_SOURCE_DIR="$source_dir" >/dev/null
cmake --build "$work/vendored" >/dev/null
"$work/vendored/consumer"
