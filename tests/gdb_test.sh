#!/usr/bin/env bash
# Tests the gdb extension (tools/gdb/gocxx.py) with gdb in batch mode.
#
#   gdb_test.sh GDB SOURCE_DIR GDB_TARGET                   (ctest gdb.extension)
# tests/gdb_target built with debug info, twice:
#   live  gdb runs it up to gdb_target_ready(), the extension auto-loaded from the program's
#         .debug_gdb_scripts section; then writes a core file with generate-core-file
#         (whatever ulimit -c and core_pattern say) and kills the program;
#         Last, as it calls into the program: tests/gdb_wait_reasons.py checks the script's
#         wait-reason table against the runtime's, and tests/gdb_layout_check.py checks the
#         layout table the runtime embeds for programs without debug info (layout.cpp)
#         against the debug info and the runtime's wait-reason strings;
#   core  gdb opens that core file, the extension loaded with `source`.
#
#   gdb_test.sh --nodebug GDB SOURCE_DIR GDB_TARGET_NODEBUG GDB_TARGET_STRIPPED
#                                                           (ctest gdb.extension_nodebug)
# The same program as a production build: NODEBUG has no debug info (compiled -g0, the
# library's stripped with objcopy --strip-debug) but its symbol table and the embedded script;
# STRIPPED is that program `strip`ped: no symbols, no script (loaded with `source`). The
# extension reads layout.cpp's table instead of DWARF:
#   nodebug         live, as above (auto-loaded), writing nodebug.core
#   nodebug-core    that core file
#   stripped        live, stopped by address (no symbol to break on), writing stripped.core
#   stripped-core   that core file: frames are bare addresses...
#   stripped-syms   ...the same core with NODEBUG's symbols: the same frames, named
#
# Each time: `info goroutines` and `goroutine N bt` must show each goroutine's state, wait
# reason, creation site and stack (with debug info: file and line; without: function names
# from the symbol table; stripped: addresses). Nothing depends on timing.
set -euo pipefail
nodebug=""
if [ "$1" = "--nodebug" ]; then
  nodebug=1
  shift
fi
gdb=$1 source_dir=$2 target=$3
stripped=${4:-}
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

# live NAME PROGRAM: runs PROGRAM under gdb with the arguments in `load` (how the script gets
# loaded) and `stop` (how it stops at gdb_target_ready), runs the commands, writes NAME.core,
# runs the commands in `after` and kills it. Output in NAME.out.
after=()
live() {
  timeout 300 "$gdb" "${common[@]}" "${load[@]}" \
    -ex 'set disable-randomization off' -ex 'set startup-with-shell off' \
    "${stop[@]}" "${commands[@]}" -ex "generate-core-file $work/$1.core" "${after[@]}" \
    -ex 'kill' "$2" </dev/null >"$work/$1.out" 2>&1 || true
  if grep -q "ptrace: Operation not permitted" "$work/$1.out"; then
    echo "SKIP: gdb may not trace processes here (ptrace: Operation not permitted)"
    exit 77
  fi
  grep -qF "$ready_line" "$work/$1.out" ||
    { echo "FAIL: gdb_target did not print '$ready_line'"; cat "$work/$1.out"; exit 1; }
  [ -s "$work/$1.core" ] || { echo "FAIL: no core file"; cat "$work/$1.out"; exit 1; }
}
# core NAME PROGRAM CORE: the commands on a core file, the script loaded with `source`.
core() {
  timeout 300 "$gdb" "${common[@]}" -ex "source $source_dir/tools/gdb/gocxx.py" \
    "${commands[@]}" "$2" "$3" </dev/null >"$work/$1.out" 2>&1 || true
}

failures=0
modes=()
section() {  # the output of one command (of all of them: "")
  [ -n "$2" ] || { cat "$1"; return; }
  awk -v h="==== $2" '$0 == h { on = 1; next } /^==== / { on = 0 } on' "$1"
}
check() {  # mode section description [!] regex
  local mode=$1 sect=$2 what=$3 negate=""
  shift 3
  if [ "$1" = "!" ]; then negate=1; shift; fi
  if section "$work/$mode.out" "$sect" | grep -Eq -- "$1"; then found=1; else found=""; fi
  if { [ -n "$found" ] && [ -z "$negate" ]; } || { [ -z "$found" ] && [ -n "$negate" ]; }; then
    echo "ok   $mode: $what"
  else
    echo "FAIL $mode: $what (${negate:+no }/$1/ in '$sect')"
    failures=$((failures + 1))
  fi
}
check_common() {  # mode: what every kind of program shows
  local mode=$1
  check "$mode" "info goroutines" "dead goroutine 4 not listed" ! '^[ *] +4 '
  check "$mode" "goroutine 4 bt" "dead goroutine: an error" '^gocxx: no goroutine 4$'
  check "$mode" "" "no Python errors anywhere" ! 'Python Exception|Error occurred in Python'
  check "$mode" "" "no error from the extension" ! '^gocxx: (gocxx::detail::debug_allgs not|cannot|no layout|the program)'
}

# With debug info: functions, parameters, files and lines.
check_debug() {
  local mode=$1
  check "$mode" "info goroutines" "goroutine 1 running on the selected thread" \
    '^\* +1 +running \(thread [0-9]+\) +main\(\) at .*tests/gdb_target\.cpp:[0-9]+$'
  check "$mode" "info goroutines" "goroutine 2: chan send, created by start_sender" \
    '^  +2 +waiting +chan send +gdb_target::start_sender\(.*\) in goroutine 1 at .*tests/gdb_target\.cpp:[0-9]+$'
  check "$mode" "info goroutines" "goroutine 3: sync.WaitGroup.Wait, created by start_waiter" \
    '^  +3 +waiting +sync\.WaitGroup\.Wait +gdb_target::start_waiter\(.*\) in goroutine 1 at .*tests/gdb_target\.cpp:[0-9]+$'
  check "$mode" "info goroutines" "goroutine 5: sleep, created in goroutine 4 by start_sleeper's lambda" \
    '^  +5 +waiting +sleep +gdb_target::start_sleeper\(.*\)::<lambda\(\)>::operator\(\) in goroutine 4 at .*tests/gdb_target\.cpp:[0-9]+$'
  check "$mode" "goroutine 1 bt" "running goroutine: its thread's stack" '^#0 +gdb_target_ready \('
  check "$mode" "goroutine 1 bt" "running goroutine: main_goroutine" ' gdb_target::main_goroutine \('
  check "$mode" "goroutine 2 bt" "bt starts at the goroutine's first frame" '^#1 +0x[0-9a-f]+ in gocxx::detail::switch_context '
  check "$mode" "goroutine 2 bt" "bt: gopark" ' gocxx::detail::gopark \(.*kChanSend'
  check "$mode" "goroutine 2 bt" "bt: send_forever, the function that blocked" ' gdb_target::send_forever \('
  check "$mode" "goroutine 2 bt" "bt ends at goroutine_entry" 'goroutine_entry \(t=.*\) at .*scheduler\.cpp:[0-9]+$'
  check "$mode" "goroutine 2 bt" "bt hides the thread's own frame" ! 'gdb_target_ready|make_fcontext|\?\?'
  check "$mode" "goroutine 3 bt" "bt: WaitGroup::wait" ' gocxx::sync::WaitGroup::wait \('
  check "$mode" "goroutine 3 bt" "bt: wait_forever" ' gdb_target::wait_forever \('
  check "$mode" "goroutine 5 bt" "bt: time::sleep" ' gocxx::time::sleep \('
  check "$mode" "goroutine 5 bt" "bt: sleep_forever" ' gdb_target::sleep_forever \('
  check "$mode" "goroutine 5 info frame" "other commands run in the goroutine's innermost frame" \
    'in gocxx::detail::switch_context'
  check_common "$mode"
}

# No debug info: names (with parameter types) from the symbol table, "function + offset" for
# creation sites; which runtime functions are inlined depends on the compiler, so the checks
# name only those that are not.
check_nodebug() {
  local mode=$1
  check "$mode" "info goroutines" "goroutine 1 running on the selected thread" \
    '^\* +1 +running \(thread [0-9]+\) +(main|(int )?gocxx::run<.*) \+ [0-9]+$'
  check "$mode" "info goroutines" "goroutine 2: chan send, created by start_sender" \
    '^  +2 +waiting +chan send +gdb_target::start_sender\(gocxx::Chan<int>\) \+ [0-9]+ in goroutine 1$'
  check "$mode" "info goroutines" "goroutine 3: sync.WaitGroup.Wait, created by start_waiter" \
    '^  +3 +waiting +sync\.WaitGroup\.Wait +gdb_target::start_waiter\(gocxx::sync::WaitGroup\*\) \+ [0-9]+ in goroutine 1$'
  check "$mode" "info goroutines" "goroutine 5: sleep, created in goroutine 4" \
    '^  +5 +waiting +sleep +.*start_sleeper.* \+ [0-9]+ in goroutine 4$'
  check "$mode" "goroutine 1 bt" "running goroutine: its thread's stack" '^#0 +0x[0-9a-f]+ in gdb_target_ready \(\)'
  check "$mode" "goroutine 1 bt" "running goroutine: main_goroutine" ' in gdb_target::main_goroutine\(\) '
  check "$mode" "goroutine 2 bt" "bt starts at the goroutine's first frame, in the runtime" '^#1 +0x[0-9a-f]+ in gocxx::detail::'
  check "$mode" "goroutine 2 bt" "bt: gopark" ' in gocxx::detail::gopark\(gocxx::detail::G\*, gocxx::detail::WaitReason'
  check "$mode" "goroutine 2 bt" "bt: send_forever, the function that blocked" ' in gdb_target::send_forever\(gocxx::Chan<int>\) '
  check "$mode" "goroutine 2 bt" "bt ends at goroutine_entry" \
    '^#[0-9]+ +0x[0-9a-f]+ in gocxx::detail::\(anonymous namespace\)::goroutine_entry\(.*\) \(\)$'
  check "$mode" "goroutine 2 bt" "bt hides the thread's own frame and the trampoline" ! 'gdb_target_ready|make_fcontext|\?\?'
  check "$mode" "goroutine 3 bt" "bt: WaitGroup::wait" ' in gocxx::sync::WaitGroup::wait\(\) '
  check "$mode" "goroutine 3 bt" "bt: wait_forever" ' in gdb_target::wait_forever\(gocxx::sync::WaitGroup\*\) '
  check "$mode" "goroutine 5 bt" "bt: time::sleep" ' in gocxx::time::sleep\('
  check "$mode" "goroutine 5 bt" "bt: sleep_forever" ' in gdb_target::sleep_forever\(\) '
  check "$mode" "goroutine 5 info frame" "other commands run in the goroutine's innermost frame" \
    '^Stack level 1, frame at 0x[0-9a-f]+:$'
  check "$mode" "goroutine 5 info frame" "...a frame of the runtime's" 'rip = 0x[0-9a-f]+ in gocxx::detail::'
  check_common "$mode"
}

# Stripped: no names at all. Creation sites and frames are addresses (compared with the named
# ones below); the wait reasons still come from the layout table.
check_stripped() {
  local mode=$1
  check "$mode" "info goroutines" "goroutine 1 running on the selected thread" \
    '^\* +1 +running \(thread [0-9]+\) +0x[0-9a-f]+$'
  check "$mode" "info goroutines" "goroutine 2: chan send, created in goroutine 1" \
    '^  +2 +waiting +chan send +0x[0-9a-f]+ in goroutine 1$'
  check "$mode" "info goroutines" "goroutine 3: sync.WaitGroup.Wait, created in goroutine 1" \
    '^  +3 +waiting +sync\.WaitGroup\.Wait +0x[0-9a-f]+ in goroutine 1$'
  check "$mode" "info goroutines" "goroutine 5: sleep, created in goroutine 4" \
    '^  +5 +waiting +sleep +0x[0-9a-f]+ in goroutine 4$'
  check "$mode" "goroutine 1 bt" "running goroutine: its thread's stack" '^#0 +0x[0-9a-f]+ in \?\? \(\)$'
  for n in 2 3 5; do
    check "$mode" "goroutine $n bt" "goroutine $n: bt starts at the goroutine's first frame" '^#1 +0x[0-9a-f]+ in \?\? \(\)$'
    check "$mode" "goroutine $n bt" "goroutine $n: at least 4 frames" '^#4 +0x[0-9a-f]+ in \?\? \(\)$'
    check "$mode" "goroutine $n bt" "goroutine $n: bt ends above the trampoline" ! 'make_fcontext|^#0 '
  done
  check "$mode" "goroutine 5 info frame" "other commands run in the goroutine's innermost frame" \
    '^Stack level 1, frame at 0x[0-9a-f]+:$'
  check_common "$mode"
}
# same_frames MODE1 MODE2: the goroutines' backtraces have the same frame addresses.
same_frames() {
  local n a b
  for n in 1 2 3 5; do
    a=$(section "$work/$1.out" "goroutine $n bt" | sed -n 's/^\(#[0-9]* *0x[0-9a-f]*\) in .*/\1/p')
    b=$(section "$work/$2.out" "goroutine $n bt" | sed -n 's/^\(#[0-9]* *0x[0-9a-f]*\) in .*/\1/p')
    if [ -n "$a" ] && [ "$a" = "$b" ]; then
      echo "ok   $1: goroutine $n's frames are $2's ($(echo "$a" | wc -l) frames)"
    else
      echo "FAIL $1: goroutine $n's frames differ from $2's: '$a' vs '$b'"
      failures=$((failures + 1))
    fi
  done
}

if [ -z "$nodebug" ]; then
  load=(-iex "add-auto-load-safe-path $target")
  stop=(-ex 'break gdb_target_ready' -ex 'run')
  after=(-ex 'echo ==== wait reasons\n' -ex "source $source_dir/tests/gdb_wait_reasons.py"
         -ex 'echo ==== layout table\n' -ex "source $source_dir/tests/gdb_layout_check.py")
  live live "$target"
  core core "$target" "$work/live.core"
  check live "wait reasons" "wait-reason table matches the runtime" '^wait reasons: ok$'
  check live "layout table" "layout table matches the debug info and the runtime" '^layout table: ok$'
  check_debug live
  check_debug core
  modes=(live core)
else
  # The nodebug program must really have no debug info, and the stripped one no symbols.
  if "$gdb" "${common[@]}" -ex 'ptype struct gocxx::detail::G' "$target" 2>&1 |
      grep -q '^type = struct gocxx::detail::G'; then
    echo "FAIL: $target has debug info for gocxx::detail::G"; exit 1
  fi
  load=(-iex "add-auto-load-safe-path $target")
  stop=(-ex 'break gdb_target_ready' -ex 'run')
  live nodebug "$target"
  core nodebug-core "$target" "$work/nodebug.core"
  check_nodebug nodebug
  check_nodebug nodebug-core

  # gdb_target_ready's offset from the entry point (_start), from the nodebug program's
  # symbols: the stripped one stops there, at the entry point's address once it runs.
  delta=$("$gdb" "${common[@]}" -ex 'printf "%#lx\n", (long)&gdb_target_ready - (long)&_start' \
          "$target" 2>&1 | tail -1)
  [[ $delta =~ ^0x[0-9a-f]+$ ]] || { echo "FAIL: no offset of gdb_target_ready: $delta"; exit 1; }
  load=(-ex "source $source_dir/tools/gdb/gocxx.py")
  stop=(-ex 'starti'
        -ex "python import re; gdb.execute('break *%#x' % (int(re.search(r'Entry point: (0x[0-9a-f]+)', gdb.execute('info files', to_string=True)).group(1), 16) + $delta))"
        -ex 'continue')
  live stripped "$stripped"
  core stripped-core "$stripped" "$work/stripped.core"
  core stripped-syms "$target" "$work/stripped.core"
  check_stripped stripped
  check_stripped stripped-core
  check_nodebug stripped-syms
  same_frames stripped-core stripped-syms
  modes=(nodebug nodebug-core stripped stripped-core stripped-syms)
fi

if [ "$failures" -ne 0 ]; then
  for mode in "${modes[@]}"; do
    echo "---- gdb output ($mode) ----"
    cat "$work/$mode.out"
  done
  exit 1
fi
echo "---- gdb output (${modes[1]}) ----"
cat "$work/${modes[1]}.out"
