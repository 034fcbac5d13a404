#!/bin/sh
# Fault injection: for every N from 1 to the number of allocations a small run makes
# (DM_ALLOC_COUNT=1 reports it), DM_ALLOC_FAIL=N makes the Nth fail. Each run of `convert`,
# `query` (the load path, top-N, filtered rows), `inspect` and `hunt` must either succeed
# with the same result as the undisturbed run, or exit 1 with a one-line "datamate ..." error:
# no crash, no sanitizer or leak report (the sanitizer runtimes exit with other codes), and
# for convert nothing under the output name and no temporary file left beside it.
# DM_FAULT_STEP=k tries every k-th N only. make test uses 11 by default to stay short on a
# loaded machine; DM_FAULT_STEP=1 is the exhaustive sweep.
set -u
BIN=${DM_BIN:?}
STEP=${DM_FAULT_STEP:-11}
W=$(mktemp -d "${TMPDIR:-/tmp}/dm-fault.XXXXXX")
trap 'rm -rf "$W"' EXIT
n=0
fails=0

cat > "$W/in.jsonl" <<'IN'
{"_@timestamp":"2024-03-01T10:00:00Z","_SourceIP":"10.0.0.1","_DestinationIP":"8.8.8.8","_SourcePort":50000,"_DestinationPort":53,"_Protocol":"udp","_BytesSent":100,"_BytesReceived":200,"_Packets":2,"_Action":"allow"}
{"_@timestamp":"2024-03-01T10:05:00Z","_SourceIP":"10.0.0.1","_DestinationIP":"1.2.3.4","_SourcePort":50001,"_DestinationPort":443,"_Protocol":"tcp","_BytesSent":5000000,"_BytesReceived":1000,"_Packets":50,"_Action":"allow"}
{"_@timestamp":"2024-03-01T10:10:00Z","_SourceIP":"10.0.0.2","_DestinationIP":"1.2.3.4","_SourcePort":50002,"_DestinationPort":443,"_Protocol":"tcp","_BytesSent":2048,"_BytesReceived":4096,"_Packets":10,"_Action":"deny"}
{"_@timestamp":"not a time","_SourceIP":"10.0.0.2"}
{"_@timestamp":"2024-03-01T11:00:00Z","_SourceIP":"2001:db8::1","_DestinationIP":"10.0.0.6","_SourcePort":40001,"_DestinationPort":25,"_Protocol":"tcp","_BytesSent":3000,"_BytesReceived":100,"_Packets":8,"_Action":"drop"}
IN

# check NAME N RC OUTFILE ERRFILE EXPECTED_RC0_STDOUT ACTUAL_STDOUT CHECK_DIR
check() {
    name=$1 N=$2 rc=$3 err=$4 want=$5 got=$6 dir=$7 out=$8
    why=""
    if grep -qE 'Sanitizer|runtime error|LeakSanitizer|AddressSanitizer' "$err"; then
        why="sanitizer report"
    elif [ "$rc" -eq 0 ]; then
        cmp -s "$want" "$got" || why="exit 0 but different output"
    elif [ "$rc" -eq 1 ]; then
        grep -q '^datamate' "$err" || why="exit 1 without a datamate error message"
        if [ -n "$out" ] && [ -e "$dir/$out" ]; then why="partial output left"; fi
    else
        why="exit $rc"
    fi
    if [ -n "$out" ] && ls "$dir" | grep -q '\.tmp-'; then why="${why:+$why, }temporary file left"; fi
    if [ -n "$why" ]; then
        echo "# $name DM_ALLOC_FAIL=$N: $why"
        sed 's/^/#   /' "$err" | head -8
        return 1
    fi
    return 0
}

# sweep NAME OUTNAME CMD...: runs CMD in $W/run (a fresh directory) for every N.
sweep() {
    name=$1 out=$2
    shift 2
    rm -rf "$W/run" && mkdir "$W/run"
    (cd "$W/run" && DM_ALLOC_COUNT=1 "$@" > "$W/want" 2> "$W/err")
    rc=$?
    total=$(sed -n 's/^datamate: \([0-9]*\) allocations$/\1/p' "$W/err" | tail -1)
    if [ $rc -ne 0 ] || [ -z "$total" ] || [ "$total" -lt 1 ]; then
        n=$((n + 1))
        echo "not ok $n - $name: undisturbed run failed (exit $rc)"
        sed 's/^/#   /' "$W/err" | head -8
        fails=1
        return
    fi
    bad=0 tried=0 errored=0
    N=1
    while [ "$N" -le "$total" ]; do
        rm -rf "$W/run" && mkdir "$W/run"
        (cd "$W/run" && DM_ALLOC_FAIL=$N "$@" > "$W/got" 2> "$W/err")
        rc=$?
        tried=$((tried + 1))
        [ $rc -eq 1 ] && errored=$((errored + 1))
        if ! check "$name" "$N" "$rc" "$W/err" "$W/want" "$W/got" "$W/run" "$out"; then
            bad=$((bad + 1))
            [ $bad -ge 5 ] && break
        fi
        N=$((N + STEP))
    done
    n=$((n + 1))
    if [ $bad -eq 0 ] && [ $errored -gt 0 ]; then
        echo "ok $n - $name: N=1..$total every $STEP ($tried runs, $errored clean errors)"
    else
        echo "not ok $n - $name: $bad bad of $tried runs (N=1..$total), $errored clean errors"
        fails=1
    fi
}

IN=$W/in.jsonl
# convert prints nothing on stdout with -q; the output file is checked by the query sweep
sweep "convert jsonl" out.parquet "$BIN" convert -q --threads 1 "$IN" -o out.parquet
(cd "$W" && "$BIN" convert -q --threads 1 "$IN" -o flows.parquet 2>/dev/null) || true
P=$W/flows.parquet
sweep "query top" "" "$BIN" query -q -t 1 "$P" --top src --by sent --limit 5 --format json
sweep "query rows" "" "$BIN" query -q -t 1 "$P" -w 'dport = 443 or proto = udp' --format json
sweep "inspect" "" "$BIN" inspect "$P"
sweep "hunt" "" "$BIN" hunt --threads 1 "$P" --format json
echo "1..$n"
exit $fails
