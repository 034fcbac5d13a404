#!/bin/sh
# Faults around `datamate convert`: disk full (a file size limit, SIGXFSZ ignored so writes
# fail with EFBIG as on a full disk), an unreadable and a missing input, SIGINT / SIGTERM in
# the middle of a conversion (the input is a pipe we hold open, so the signal always lands
# while records are being read). Each must exit 1 with a "datamate: convert: ..." message,
# leave nothing under the output name nor a temporary file beside it, and a re-run must
# succeed.
set -u
BIN=${DM_BIN:?}
W=$(mktemp -d "${TMPDIR:-/tmp}/dm-fault-sig.XXXXXX")
trap 'rm -rf "$W"' EXIT
n=0
fails=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); echo "not ok $n - $1"; [ -f "$W/err" ] && sed 's/^/#   /' "$W/err" | head -8; fails=1; }

# clean NAME RC OUT: exit 1, a datamate error, no output, no temporary file
clean() {
    if grep -qE 'Sanitizer|runtime error' "$W/err"; then bad "$1: sanitizer report"
    elif [ "$2" -ne 1 ]; then bad "$1: exit $2, want 1"
    elif ! grep -q '^datamate: convert: ' "$W/err"; then bad "$1: no error message"
    elif [ -e "$W/$3" ]; then bad "$1: output left under $3"
    elif ls "$W" | grep -q '\.tmp-'; then bad "$1: temporary file left"
    else ok "$1: exit 1, $(grep '^datamate: convert: ' "$W/err" | head -1)"
    fi
}

# ~60k flow records (about 12 MB of JSON lines) with varied values so the Parquet is large
awk 'BEGIN {
    for (i = 0; i < 60000; i++)
        printf("{\"_@timestamp\":%d,\"_SourceIP\":\"10.%d.%d.%d\",\"_DestinationIP\":\"%d.%d.%d.%d\",\"_SourcePort\":%d,\"_DestinationPort\":%d,\"_Protocol\":\"tcp\",\"_BytesSent\":%d,\"_BytesReceived\":%d,\"_Packets\":%d,\"_Action\":\"allow\"}\n",
               1709287200 + i, i % 256, (i * 7) % 256, (i * 13) % 256, (i * 31) % 223 + 1,
               (i * 17) % 256, (i * 11) % 256, (i * 3) % 256, 1024 + (i * 37) % 60000,
               (i * 7) % 65536, (i * 7919) % 10000000, (i * 104729) % 1000000, i % 1000 + 1)
}' > "$W/big.jsonl"

# disk full: the output may not grow past 64 KiB
(cd "$W" && trap '' XFSZ && ulimit -f 128 && exec "$BIN" convert -q --threads 1 big.jsonl -o full.parquet) 2> "$W/err"
clean "disk full (file size limit)" $? full.parquet
(cd "$W" && "$BIN" convert -q --threads 1 big.jsonl -o full.parquet) 2> "$W/err" &&
    [ -s "$W/full.parquet" ] && ok "disk full: re-run without the limit succeeds" ||
    bad "disk full: re-run without the limit"

# missing and unreadable inputs
(cd "$W" && "$BIN" convert -q nosuch.jsonl -o missing.parquet) 2> "$W/err"
clean "missing input" $? missing.parquet
if [ "$(id -u)" -eq 0 ]; then
    # root reads through permissions; /proc/self/mem fails every read at offset 0 (EIO)
    (cd "$W" && "$BIN" convert -q --format jsonl /proc/self/mem -o secret.parquet) 2> "$W/err"
    clean "unreadable input (read error)" $? secret.parquet
else
    head -5 "$W/big.jsonl" > "$W/secret.jsonl" && chmod 000 "$W/secret.jsonl"
    (cd "$W" && "$BIN" convert -q secret.jsonl -o secret.parquet) 2> "$W/err"
    clean "unreadable input" $? secret.parquet
fi
mkdir "$W/adir.jsonl" && : > "$W/adir.jsonl/empty"
(cd "$W" && "$BIN" convert -q --format jsonl adir.jsonl/empty -o empty.parquet) 2> "$W/err"
clean "empty input" $? empty.parquet

# signals: feed 4 MB through a pipe (more than a pipe holds, so convert is past start-up and
# reading), signal it while we keep the pipe open, then close the pipe.
for sig in INT TERM; do
    rm -f "$W/fifo" && mkfifo "$W/fifo"
    (cd "$W" && exec "$BIN" convert -q --threads 1 --format jsonl - -o sig.parquet < fifo) 2> "$W/err" &
    pid=$!
    exec 3> "$W/fifo"
    head -c 4000000 "$W/big.jsonl" >&3
    kill -"$sig" $pid
    head -c 200000 "$W/big.jsonl" | tail -n +2 >&3 2>/dev/null
    exec 3>&-
    wait $pid
    clean "SIG$sig during convert" $? sig.parquet
    (cd "$W" && "$BIN" convert -q --threads 1 --format jsonl - -o sig.parquet < big.jsonl) 2> "$W/err" &&
        [ -s "$W/sig.parquet" ] && ok "SIG$sig: re-run succeeds" || bad "SIG$sig: re-run"
    rm -f "$W/sig.parquet"
done

# signals at random points: the time of an undisturbed run of the 12 MB file, then 8 runs
# signalled after a random fraction of it (start-up, reading, encoding, writing, renaming).
# Each either finished first (exit 0, the whole file) or stopped cleanly; a signal before
# the handlers are installed or after they are restored kills the process, which must leave
# nothing or the complete file.
t0=$(date +%s%N)
(cd "$W" && "$BIN" convert -q --threads 2 big.jsonl -o whole.parquet) 2> "$W/err"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 + 1 ))
seed=${DM_FAULT_SEED:-$$}
i=0
for frac in $(awk -v s="$seed" 'BEGIN { srand(s); for (i = 0; i < 8; i++) printf "%.3f ", rand() * 1.1 }'); do
    i=$((i + 1))
    sig=INT; [ $((i % 2)) -eq 0 ] && sig=TERM
    delay=$(awk -v f="$frac" -v ms="$ms" 'BEGIN { printf "%.3f", f * ms / 1000 }')
    rm -f "$W/rnd.parquet"
    (cd "$W" && exec "$BIN" convert -q --threads 2 big.jsonl -o rnd.parquet) 2> "$W/err" &
    pid=$!
    sleep "$delay"
    kill -"$sig" $pid 2>/dev/null
    wait $pid
    rc=$?
    name="SIG$sig after ${delay}s of a ${ms} ms run (seed $seed)"
    if [ $rc -eq 0 ]; then
        if grep -qE 'Sanitizer|runtime error' "$W/err"; then bad "$name: sanitizer report"
        elif ls "$W" | grep -q '\.tmp-'; then bad "$name: temporary file left"
        elif [ "$("$BIN" query -q "$W/rnd.parquet" --summary --format json 2>/dev/null |
                  sed -n 's/.*"rows": *\([0-9]*\).*/\1/p')" = 60000 ]; then
            ok "$name: finished first, complete output"
        else bad "$name: exit 0 but the output is not the complete file"
        fi
    elif [ $rc -gt 128 ]; then
        # killed by the signal itself: it came before start-up installed the handlers or
        # after the run restored them; either way nothing partial may be left
        if ls "$W" | grep -q '\.tmp-'; then bad "$name: killed (exit $rc), temporary file left"
        elif [ ! -e "$W/rnd.parquet" ]; then ok "$name: killed before start-up, nothing written"
        elif [ "$("$BIN" query -q "$W/rnd.parquet" --summary --format json 2>/dev/null |
                  sed -n 's/.*"rows": *\([0-9]*\).*/\1/p')" = 60000 ]; then
            ok "$name: killed after the run, complete output"
        else bad "$name: killed (exit $rc) and the output is not the complete file"
        fi
    else
        clean "$name" $rc rnd.parquet
    fi
done
echo "1..$n"
exit $fails
