#!/usr/bin/env bash
# promtool (Debian's prometheus package) on gocxx's metrics:
#   metrics   `promtool check metrics` on what tests/metrics_target.cpp exposes (the runtime's
#             metrics and one of each user kind): the format parses and passes promtool's lint
#   rules     `promtool check rules` and `promtool test rules` on deploy/prometheus/
# Fails, rather than skips, when promtool is missing: tools/deps.sh installs it.
# Usage: check.sh PROMTOOL metrics METRICS_TARGET
#        check.sh PROMTOOL rules SOURCE_DIR
set -euo pipefail
promtool=$1
what=$2

if [ ! -x "$promtool" ]; then
  echo "FAIL: promtool not found ('$promtool'): this test needs Debian's prometheus package" \
       "(apt-get install --no-install-recommends prometheus; tools/deps.sh installs it)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

case "$what" in
  metrics)
    "$3" >"$work/metrics.txt"
    # Sanity: the runtime's families are there (promtool accepts an empty input too).
    for name in go_goroutines go_threads process_open_fds process_max_fds \
                process_cpu_seconds_total process_resident_memory_bytes \
                process_virtual_memory_bytes process_start_time_seconds gocxx_goroutines \
                gocxx_goroutines_created_total gocxx_net_sockets_opened_total \
                gocxx_net_sockets_closed_total gocxx_sched_run_queue_length \
                gocxx_leak_watchdog_reports_total metrics_target_request_duration_seconds; do
      grep -q "^# TYPE $name " "$work/metrics.txt" || {
        cat "$work/metrics.txt" >&2
        echo "FAIL: $name is missing from the exposition" >&2
        exit 1
      }
    done
    if ! "$promtool" check metrics <"$work/metrics.txt" >"$work/out" 2>&1; then
      cat "$work/metrics.txt" >&2
      echo "---- promtool check metrics:" >&2
      cat "$work/out" >&2
      echo "FAIL: promtool check metrics" >&2
      exit 1
    fi
    echo "promtool check metrics: ok ($(grep -vc '^#' "$work/metrics.txt") samples)"
    ;;
  rules)
    dir=$3/deploy/prometheus
    "$promtool" check rules "$dir/gocxx-alerts.yml"
    "$promtool" test rules "$dir/gocxx-alerts_test.yml"  # rule_files: relative to the test file
    ;;
  *)
    echo "check.sh: unknown check '$what'" >&2
    exit 2
    ;;
esac
