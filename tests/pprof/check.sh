#!/usr/bin/env bash
# `go tool pprof` reads gocxx's goroutine profile: -top, -traces and -tagfocus on the profiles
# tests/pprof_target.cpp writes (gzipped and raw), with pprof's default symbolization and with
# -symbolize=none (the profile is already symbolized: both must give the same report, and pprof
# must not go looking for the binary).
# Usage: check.sh PPROF_TARGET
set -euo pipefail
target=$1

if ! command -v go >/dev/null; then
  echo "FAIL: 'go' not found: this test needs 'go tool pprof' (Debian: apt-get install golang-go;" \
       "tools/deps.sh installs it)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# go tool pprof writes nothing we need to keep: give it a private, writable home and caches.
export HOME=$work/home PPROF_TMPDIR=$work/pprof GOCACHE=$work/gocache GOPATH=$work/gopath
export GOFLAGS=-mod=mod GOTOOLCHAIN=local
unset PPROF_BINARY_PATH
mkdir -p "$HOME" "$PPROF_TMPDIR"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

"$target" "$work/goroutine.pb.gz" "$work/goroutine.pb"
[ "$(head -c2 "$work/goroutine.pb.gz" | od -An -tx1 | tr -d ' \n')" = 1f8b ] ||
  fail "goroutine.pb.gz is not gzipped"
[ "$(head -c2 "$work/goroutine.pb" | od -An -tx1 | tr -d ' \n')" != 1f8b ] ||
  fail "goroutine.pb is gzipped"

# Runs go tool pprof; its output (stdout and stderr) goes to $out, and is printed on failure.
out=$work/out
pprof() {
  if ! go tool pprof "$@" >"$out" 2>&1; then
    cat "$out" >&2
    fail "go tool pprof $* exited with an error"
  fi
}
expect() {  # expect REGEX WHAT
  grep -Eq -- "$1" "$out" || { cat "$out" >&2; fail "$2 (no line matching '$1')"; }
}
reject() {
  ! grep -Eq -- "$1" "$out" || { cat "$out" >&2; fail "$2 (a line matches '$1')"; }
}

trace() {  # trace REGEX WHAT: in $work/traces, a trace after a separator line (grep -z: multiline)
  grep -Pzq -- "-+\\+-+\\n $1" "$work/traces" || { cat "$out" >&2; fail "$what -traces: $2"; }
}

for profile in "$work/goroutine.pb.gz" "$work/goroutine.pb"; do
  for symbolize in "" "-symbolize=none"; do
    what="$(basename "$profile") ${symbolize:-default symbolization}"
    echo "--- $what"
    # -top: 6 goroutines: 3 senders, 2 waiters and main (running). send_value is inlined into
    # send_forever, so it is the senders' leaf (flat 3); the waiters' leaf is WaitGroup::wait.
    pprof -top $symbolize "$profile"
    expect '^Type: goroutine$' "$what -top: type"
    expect 'accounting for 6, 100% of 6 total' "$what -top: total"
    expect '^ +3 +50(\.00)?% .* pprof_target::send_value \(inline\)$' \
      "$what -top: senders' leaf, flat 3"
    expect '^ +0 +0% .* 3 +50(\.00)?% +pprof_target::send_forever$' \
      "$what -top: send_forever, cum 3"
    expect '^ +2 +33\.33% .* gocxx::sync::WaitGroup::wait$' "$what -top: waiters' leaf, flat 2"
    expect '^ +0 +0% .* 2 +33\.33% +pprof_target::wait_forever$' \
      "$what -top: wait_forever, cum 2"
    expect ' 1 +16\.67% +pprof_target::main_goroutine$' "$what -top: main, cum 1"
    reject 'symboliz|[Ff]etch|no such file' "$what -top: pprof tried to symbolize"

    # -traces: one trace per sample, with its state label, inlined frames marked. Spaces are
    # squeezed (in $work/traces), and each trace is matched across lines.
    pprof -traces $symbolize "$profile"
    tr -s ' ' <"$out" >"$work/traces"
    trace 'state: chan send\n 3 pprof_target::send_value \(inline\)\n pprof_target::send_forever\n' \
      "the senders' trace"
    trace 'state: sync\.WaitGroup\.Wait\n 2 gocxx::sync::WaitGroup::wait\n pprof_target::wait_forever\n' \
      "the waiters' trace"
    trace 'state: running\n 1 ' "main's trace"
    [ "$(grep -c '^ state: chan send$' "$work/traces")" = 1 ] ||
      { cat "$out" >&2; fail "$what -traces: the senders are not one sample"; }
  done
done

profile=$work/goroutine.pb.gz
# -tagfocus keeps the samples whose label matches (a regexp on the value of "state").
pprof -top -tagfocus=state=chan "$profile"
expect 'accounting for 3, 50(\.00)?% of 6 total' "-tagfocus=state=chan: 3 of 6"
expect 'pprof_target::send_value \(inline\)$' "-tagfocus=state=chan: senders"
reject 'wait_forever|main_goroutine' "-tagfocus=state=chan: only senders"

pprof -traces -tagfocus='state=sync.WaitGroup' "$profile"
expect '^ +2 +gocxx::sync::WaitGroup::wait$' "-tagfocus=state=sync.WaitGroup: waiters"
reject 'send_forever|main_goroutine' "-tagfocus=state=sync.WaitGroup: only waiters"

pprof -top -tagignore=state=running "$profile"
expect 'accounting for 5, 83\.33% of 6 total' "-tagignore=state=running: 5 of 6"

# -tags lists the label values with their counts.
pprof -tags "$profile"
expect '^ *state: Total 6(\.0)?$' "-tags: total"
expect '^ +3(\.0)? \(50\.00%\): chan send$' "-tags: chan send"
expect '^ +2(\.0)? \(33\.33%\): sync\.WaitGroup\.Wait$' "-tags: sync.WaitGroup.Wait"
expect '^ +1(\.0)? \(16\.67%\): running$' "-tags: running"

# -raw: the mapping says everything is symbolized, inlined frames included.
pprof -raw "$profile"
expect '\[FN\]\[FL\]\[LN\]\[IN\]' "-raw: mapping flags"
expect '^PeriodType: goroutine count$' "-raw: period type"

echo "PASS: go tool pprof reads the goroutine profile"
