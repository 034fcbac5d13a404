#!/bin/sh
# An interrupted convert (SIGINT / SIGTERM while it reads) exits 1 and leaves nothing under
# the output name: no file, no temporary file, no partition directory.
set -u
BIN=${DM_BIN:-build/datamate}
ROOT=${DM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
FIX="$ROOT/../shared/testdata/real/slips/test6-malicious.suricata.json"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
for sig in INT TERM; do
    for mode in file day; do
        n=$((n + 1))
        out="$work/out-$sig-$mode"
        extra=""
        [ "$mode" = day ] && extra="--partition day"
        mkfifo "$work/fifo-$n"
        # The writer side keeps the pipe open (so convert blocks reading) until killed.
        ( cat "$FIX"; exec sleep 600 ) > "$work/fifo-$n" &
        feeder=$!
        "$BIN" convert -q --rejects "$work/rej-$n" $extra -o "$out" - < "$work/fifo-$n" 2> "$work/err-$n" &
        pid=$!
        # The rejects file is created after the signal handlers are installed.
        i=0
        while [ ! -e "$work/rej-$n" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
        kill -s "$sig" "$pid"
        wait "$pid"
        rc=$?
        kill "$feeder" 2>/dev/null
        wait "$feeder" 2>/dev/null
        left=$(ls -d "$out"* 2>/dev/null | wc -l)
        if [ "$rc" -eq 1 ] && [ "$left" -eq 0 ] && grep -q interrupted "$work/err-$n"; then
            echo "ok $n - SIG$sig during convert ($mode): exit 1, nothing left under the output name"
        else
            echo "not ok $n - SIG$sig during convert ($mode): exit $rc, $left leftovers"
            sed 's/^/# /' "$work/err-$n"
        fi
    done
done
echo "1..$n"
