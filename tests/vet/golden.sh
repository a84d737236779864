#!/usr/bin/env bash
# One golden test of a gocxx-vet check (tests/vet/CMakeLists.txt registers one per check):
#   golden.sh CLANG_TIDY PLUGIN CXX SOURCE_DIR WORK_DIR CHECK [NAME]
# 1. tests/vet/<name>.cpp (NAME; default: CHECK without gocxx-, with _ for -), the cases (bad
#    ones reported, ok and NOLINT ones not), compiles;
# 2. clang-tidy's report on it, paths made relative, is <name>.expected;
# 3. with <name>.fixes: the fix-its applied (clang-tidy --fix) change the file as that diff says,
#    the fixed file compiles, and the check has nothing left to fix there.
# <name>.clang-tidy, if present, configures the check (its options). GOCXX_VET_UPDATE=1 rewrites
# the expected files instead of comparing.
set -euo pipefail
tidy=$1 plugin=$2 cxx=$3 src=$4 work=$5 check=$6 name=${7:-}
here=$src/tests/vet
[ -n "$name" ] || name=${check#gocxx-}
name=${name//-/_}
flags="-std=c++20 -I$src/include"
config=()
[ -f "$here/$name.clang-tidy" ] && config=(--config-file="$here/$name.clang-tidy")
rm -rf "$work"
mkdir -p "$work"
cp "$here/$name.cpp" "$work/input.cpp"
cp "$here/$name.cpp" "$work/fixed.cpp"
entry='{"directory": "%s", "file": "%s", "command": "%s %s -c %s"}'
printf "[$entry,\n $entry]\n" "$work" "$work/input.cpp" "$cxx" "$flags" "$work/input.cpp" \
  "$work" "$work/fixed.cpp" "$cxx" "$flags" "$work/fixed.cpp" > "$work/compile_commands.json"

vet() {  # vet FILE [clang-tidy options]: the report, with paths relative to the work directory
  local file=$1
  shift
  "$tidy" --quiet --load="$plugin" --checks="-*,$check" "${config[@]}" -p "$work" "$@" \
    "$file" 2>/dev/null | sed "s#$work/##g"
}
compare() {  # compare EXPECTED ACTUAL
  if [ "${GOCXX_VET_UPDATE:-0}" = 1 ]; then
    cp "$2" "$1"
  elif ! diff -u "$1" "$2"; then
    echo "FAIL: $check: $(basename "$2") differs from $(basename "$1") (GOCXX_VET_UPDATE=1 rewrites it)"
    exit 1
  fi
}

"$cxx" $flags -fsyntax-only "$work/input.cpp"
vet "$work/input.cpp" > "$work/report.txt" || true
if grep -q ': error: ' "$work/report.txt"; then
  cat "$work/report.txt"
  echo "FAIL: $check: clang-tidy-14 cannot compile $name.cpp"
  exit 1
fi
compare "$here/$name.expected" "$work/report.txt"
if [ -f "$here/$name.fixes" ]; then
  vet "$work/fixed.cpp" --fix > /dev/null || true
  diff -U0 "$work/input.cpp" "$work/fixed.cpp" | sed '1,2d' > "$work/fixes.diff" || true
  compare "$here/$name.fixes" "$work/fixes.diff"
  "$cxx" $flags -fsyntax-only "$work/fixed.cpp"
  vet "$work/fixed.cpp" --export-fixes="$work/left.yaml" > /dev/null || true
  if grep -q ReplacementText "$work/left.yaml" 2>/dev/null; then
    echo "FAIL: $check: the fixed file still has fix-its"
    exit 1
  fi
fi
echo "PASS: $check"
