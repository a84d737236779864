#!/usr/bin/env bash
# Tests the gdb extension (tools/gdb/gocxx.py) with gdb in batch mode, twice:
#   live  gdb runs tests/gdb_target up to gdb_target_ready(), the extension auto-loaded from the
#         program's .debug_gdb_scripts section; then writes a core file with generate-core-file
#         (whatever ulimit -c and core_pattern say) and kills the program;
#         Last, as it calls into the program: tests/gdb_wait_reasons.py checks the script's
#         wait-reason strings against the runtime's;
#   core  gdb opens that core file, the extension loaded with `source`.
# Both times: `info goroutines` and `goroutine N bt` must show each goroutine's state, wait
# reason, creation site and stack. Nothing depends on timing.
# Usage: gdb_test.sh GDB SOURCE_DIR GDB_TARGET
set -euo pipefail
gdb=$1 source_dir=$2 target=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# gdb_target's goroutines, in the order it creates them (checked against what it prints).
ready_line="gdb_target: ready sender=2 waiter=3 sleeper=5"

common=(-batch -nx -iex 'set debuginfod enabled off' -iex 'set pagination off'
        -iex 'set width 0' -iex 'set confirm off')
# Each command's output follows a "==== <command>" line.
commands=()
for c in 'info goroutines' 'goroutine 1 bt' 'goroutine 2 bt' 'goroutine 3 bt' 'goroutine 5 bt' \
         'goroutine 5 info frame' 'goroutine 4 bt'; do
  commands+=(-ex "echo ==== $c\\n" -ex "$c")
done
export GOCXX_MAXPROCS=4
# generate-core-file stops copying a mapping at the first page it cannot read: goroutine stacks
# with guard regions (Linux 6.13+) would be missing from the core. mprotect'd guard pages are
# mappings of their own, which gdb skips.
export GOCXX_STACK_GUARD=mprotect
timeout 300 "$gdb" "${common[@]}" -iex "add-auto-load-safe-path $target" \
  -ex 'set disable-randomization off' -ex 'set startup-with-shell off' \
  -ex 'break gdb_target_ready' -ex 'run' \
  "${commands[@]}" \
  -ex "generate-core-file $work/core" \
  -ex 'echo ==== wait reasons\n' -ex "source $source_dir/tests/gdb_wait_reasons.py" \
  -ex 'kill' \
  "$target" </dev/null >"$work/live.out" 2>&1 || true

if grep -q "ptrace: Operation not permitted" "$work/live.out"; then
  echo "SKIP: gdb may not trace processes here (ptrace: Operation not permitted)"
  exit 77
fi

timeout 300 "$gdb" "${common[@]}" -ex "source $source_dir/tools/gdb/gocxx.py" \
  "${commands[@]}" "$target" "$work/core" </dev/null >"$work/core.out" 2>&1 || true

failures=0
section() {  # the output of one command (of all of them: "")
  [ -n "$2" ] || { cat "$1"; return; }
  awk -v h="==== $2" '$0 == h { on = 1; next } /^==== / { on = 0 } on' "$1"
}
check() {  # mode file section description [!] regex
  local mode=$1 file=$2 sect=$3 what=$4 negate=""
  shift 4
  if [ "$1" = "!" ]; then negate=1; shift; fi
  if section "$file" "$sect" | grep -Eq -- "$1"; then found=1; else found=""; fi
  if { [ -n "$found" ] && [ -z "$negate" ]; } || { [ -z "$found" ] && [ -n "$negate" ]; }; then
    echo "ok   $mode: $what"
  else
    echo "FAIL $mode: $what (${negate:+no }/$1/ in '$sect')"
    failures=$((failures + 1))
  fi
}

grep -qF "$ready_line" "$work/live.out" ||
  { echo "FAIL: gdb_target did not print '$ready_line'"; cat "$work/live.out"; exit 1; }
[ -s "$work/core" ] || { echo "FAIL: no core file"; cat "$work/live.out"; exit 1; }
check live "$work/live.out" "wait reasons" "wait-reason table matches the runtime" '^wait reasons: ok$'

for mode in live core; do
  out=$work/$mode.out
  check $mode "$out" "info goroutines" "goroutine 1 running on the selected thread" \
    '^\* +1 +running \(thread [0-9]+\) +main\(\) at .*tests/gdb_target\.cpp:[0-9]+$'
  check $mode "$out" "info goroutines" "goroutine 2: chan send, created by start_sender" \
    '^  +2 +waiting +chan send +gdb_target::start_sender\(.*\) in goroutine 1 at .*tests/gdb_target\.cpp:[0-9]+$'
  check $mode "$out" "info goroutines" "goroutine 3: sync.WaitGroup.Wait, created by start_waiter" \
    '^  +3 +waiting +sync\.WaitGroup\.Wait +gdb_target::start_waiter\(.*\) in goroutine 1 at .*tests/gdb_target\.cpp:[0-9]+$'
  check $mode "$out" "info goroutines" "goroutine 5: sleep, created in goroutine 4 by start_sleeper's lambda" \
    '^  +5 +waiting +sleep +gdb_target::start_sleeper\(.*\)::<lambda\(\)>::operator\(\) in goroutine 4 at .*tests/gdb_target\.cpp:[0-9]+$'
  check $mode "$out" "info goroutines" "dead goroutine 4 not listed" ! '^[ *] +4 '
  check $mode "$out" "goroutine 1 bt" "running goroutine: its thread's stack" '^#0 +gdb_target_ready \('
  check $mode "$out" "goroutine 1 bt" "running goroutine: main_goroutine" ' gdb_target::main_goroutine \('
  check $mode "$out" "goroutine 2 bt" "bt starts at the goroutine's first frame" '^#1 +0x[0-9a-f]+ in gocxx::detail::switch_context '
  check $mode "$out" "goroutine 2 bt" "bt: gopark" ' gocxx::detail::gopark \(.*kChanSend'
  check $mode "$out" "goroutine 2 bt" "bt: send_forever, the function that blocked" ' gdb_target::send_forever \('
  check $mode "$out" "goroutine 2 bt" "bt ends at goroutine_entry" 'goroutine_entry \(t=.*\) at .*scheduler\.cpp:[0-9]+$'
  check $mode "$out" "goroutine 2 bt" "bt hides the thread's own frame" ! 'gdb_target_ready|make_fcontext|\?\?'
  check $mode "$out" "goroutine 3 bt" "bt: WaitGroup::wait" ' gocxx::sync::WaitGroup::wait \('
  check $mode "$out" "goroutine 3 bt" "bt: wait_forever" ' gdb_target::wait_forever \('
  check $mode "$out" "goroutine 5 bt" "bt: time::sleep" ' gocxx::time::sleep \('
  check $mode "$out" "goroutine 5 bt" "bt: sleep_forever" ' gdb_target::sleep_forever \('
  check $mode "$out" "goroutine 5 info frame" "other commands run in the goroutine's innermost frame" \
    'in gocxx::detail::switch_context'
  check $mode "$out" "goroutine 4 bt" "dead goroutine: an error" '^gocxx: no goroutine 4$'
  check $mode "$out" "" "no Python errors anywhere" ! 'Python Exception|Error occurred in Python'
done

if [ "$failures" -ne 0 ]; then
  for mode in live core; do
    echo "---- gdb output ($mode) ----"
    cat "$work/$mode.out"
  done
  exit 1
fi
echo "---- gdb output (core) ----"
cat "$work/core.out"
