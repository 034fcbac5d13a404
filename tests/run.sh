#!/bin/sh
# Runs every test suite and ends with exactly one line "N passed, N failed".
#   - unit:   $BUILD/tests/test_* (cmocka, TAP output)
#   - cli:    tests/cli/<case>/ golden cases (see tests/cli/README.md)
#   - others: every executable tests/<suite>/*.t prints TAP ("ok N - name" / "not ok N - name")
# TESTS=pattern runs only the suites/cases whose path contains pattern.
# Exit status is nonzero when anything failed.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
export DM_BIN="$BUILD/datamate" DM_BUILD="$BUILD" DM_ROOT="$ROOT" DM_SHARED="$ROOT/../shared"
PASS=0
FAIL=0
FAILED_NAMES=""
LOG="$BUILD/test-logs"
rm -rf "$LOG"
mkdir -p "$LOG"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

selected() {
    [ -z "${TESTS:-}" ] && return 0
    case $1 in *"$TESTS"*) return 0 ;; esac
    return 1
}

fail() {
    FAIL=$((FAIL + 1))
    FAILED_NAMES="$FAILED_NAMES
  $1"
}

# Counts TAP lines of one suite's output; a crash or nonzero exit without a "not ok"
# counts as one failure.
count_tap() { # name logfile status
    p=$(grep -c '^ok ' "$2")
    f=$(grep -c '^not ok ' "$2")
    PASS=$((PASS + p))
    FAIL=$((FAIL + f))
    grep '^not ok ' "$2" | sed "s|^|  $1: |" >> "$LOG/failures"
    if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then
        fail "$1 (exit $3, see $2)"
    elif [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
        fail "$1 (no test output, see $2)"
    fi
    [ "$f" -gt 0 ] && FAILED_NAMES="$FAILED_NAMES
  $1 (see $2)"
}

: > "$LOG/failures"

# Unit tests.
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=unit/$(basename "$t")
    selected "$name" || continue
    CMOCKA_MESSAGE_OUTPUT=TAP "$t" > "$LOG/$(basename "$t").log" 2>&1
    count_tap "$name" "$LOG/$(basename "$t").log" $?
done

# Golden CLI cases.
for d in tests/cli/*/; do
    [ -f "$d/cmd" ] || continue
    name=cli/$(basename "$d")
    selected "$name" || continue
    out=$(tests/cli-case.sh "$d" 2>&1)
    if [ $? -eq 0 ]; then
        PASS=$((PASS + 1))
    else
        printf '%s\n%s\n' "--- $name" "$out" >> "$LOG/cli.log"
        fail "$name (see $LOG/cli.log)"
    fi
done

# Other suites (interop, e2e, fuzz corpus replay, ...).
for t in tests/*/*.t; do
    [ -x "$t" ] || continue
    name=${t#tests/}
    selected "$name" || continue
    logf="$LOG/$(echo "$name" | tr '/' '_').log"
    "$t" > "$logf" 2>&1
    count_tap "$name" "$logf" $?
done

if [ "$FAIL" -gt 0 ]; then
    echo "failed:$FAILED_NAMES" >&2
    cat "$LOG/failures" >&2
fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
