#!/bin/sh
# Runs one golden CLI case directory (see tests/cli/README.md); prints a diff and exits 1
# on mismatch.
set -u
case_dir=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
stdin=/dev/null
[ -f "$case_dir/stdin" ] && stdin="$case_dir/stdin"
CASE="$case_dir" SHARED="$DM_SHARED" PATH="$(dirname "$DM_BIN"):$PATH" \
    sh -c "$(cat "$case_dir/cmd")" < "$stdin" > "$work/.stdout" 2> "$work/.stderr"
status=$?
want_status=0
[ -f "$case_dir/status" ] && want_status=$(cat "$case_dir/status")
rc=0
if [ "$status" != "$want_status" ]; then
    echo "exit status $status, expected $want_status"
    echo "stderr:"; cat "$work/.stderr"
    rc=1
fi
if [ -f "$case_dir/stdout" ]; then
    diff -u "$case_dir/stdout" "$work/.stdout" || rc=1
fi
if [ -f "$case_dir/stderr" ]; then
    diff -u "$case_dir/stderr" "$work/.stderr" || rc=1
fi
exit $rc
