#!/bin/sh
# Runs leakcheck_main_test's disabled leaky test: the listener must fail it, naming the leak.
# Usage: leakcheck_main_check.sh path/to/leakcheck_main_test
out=$("$1" --gtest_also_run_disabled_tests --gtest_filter='Leaky.*' 2>&1)
rc=$?
printf '%s\n' "$out"
fail() { echo "leakcheck_main_check: $*" >&2; exit 1; }
[ "$rc" -ne 0 ] || fail "the leaky test passed (exit status 0)"
for want in 'leaked goroutines' \
            'Goroutine 2 in state chan send, with mainleak::block_in_send at ' \
            'created by mainleak::start_sender at ' \
            '[  FAILED  ] Leaky.DISABLED_LeavesASenderBehind'; do
  printf '%s' "$out" | grep -qF -- "$want" || fail "output lacks: $want"
done
