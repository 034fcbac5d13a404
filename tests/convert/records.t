#!/bin/sh
# Nothing is lost, whatever the input looks like:
#   - an over-long record goes to --rejects verbatim (inside one read buffer, and far longer
#     than the 2 MiB read buffer) and the line numbers after it stay right;
#   - a Zeek log with a second header block (log rotation: "#close", then a new
#     "#separator ... #fields" with another column order) uses the new layout from there on,
#     also when the block is far from the first chunk;
#   - an input whose format or preset cannot be recognised has its records counted and
#     rejected (read = written + rejected), not silently ignored.
set -u
BIN=${DM_BIN:-build/datamate}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; [ $# -gt 1 ] && printf '# %s\n' "$2"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1" "got [$2], want [$3]"; fi; }

rec() { # ts src dst dport sent recv action
    printf '{"_@timestamp":"%s","_SourceIP":"%s","_DestinationIP":"%s","_DestinationPort":%s,"_BytesSent":%s,"_BytesReceived":%s,"_Action":"%s"}\n' "$@"
}

# ---- over-long records
in="$work/long.jsonl"
{
    rec 2024-01-01T00:00:00Z 10.0.0.1 8.8.8.8 53 1 2 allow
    # 1.5 MiB: longer than --max-line, shorter than the read buffer (2 MiB)
    printf '{"_Message":"'; head -c 1572864 /dev/zero | tr '\0' 'a'; printf '"}\n'
    rec 2024-01-01T00:00:01Z 10.0.0.2 8.8.8.8 53 3 4 allow
    # 20 MiB: spans several read buffers
    printf '{"_Message":"'; head -c 20971520 /dev/zero | tr '\0' 'b'; printf '","_x":1}\r\n'
    echo 'not json'
    rec 2024-01-01T00:00:02Z 10.0.0.3 8.8.8.8 53 5 6 deny
} > "$in"
"$BIN" convert --preset datamate --rejects "$work/long.rej" -o "$work/long.parquet" "$in" \
    2> "$work/long.err"
check "over-long records: exit 0" "$?" 0
check "over-long records: counts" "$(sed -n 's/^convert: \(read [^(]*\)(.*/\1/p' "$work/long.err")" \
    "read 6 = written 3 + rejected 3 "
check "over-long records: three reject lines" "$(wc -l < "$work/long.rej")" 3
check "over-long records: reasons and line numbers" \
    "$(cut -f1,2 "$work/long.rej" | sed "s|^$in||")" \
    ":2	line too long: more than 1048576 bytes
:4	line too long: more than 1048576 bytes
:5	invalid JSON: at byte 1"
sed -n 2p "$in" > "$work/want2"
sed -n 1p "$work/long.rej" | cut -f3- > "$work/got2"
if cmp -s "$work/want2" "$work/got2"; then ok "1.5 MiB record written verbatim"; else
    nok "1.5 MiB record written verbatim" "$(wc -c < "$work/got2") bytes"; fi
sed -n 4p "$in" | tr -d '\r' > "$work/want4"
sed -n 2p "$work/long.rej" | cut -f3- > "$work/got4"
if cmp -s "$work/want4" "$work/got4"; then ok "20 MiB record written verbatim"; else
    nok "20 MiB record written verbatim" "$(wc -c < "$work/got4") bytes"; fi
check "rows around the long records" \
    "$("$BIN" query "$work/long.parquet" --limit 0 --format csv --columns src_ip,bytes_sent 2>&1)" \
    "src_ip,bytes_sent
10.0.0.1,1
10.0.0.2,3
10.0.0.3,5"

# ---- Zeek log rotation: a second header block with another column order
hdr() { # fields...
    printf '#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n'
    printf '#path\tconn\n#open\t2024-01-01-00-00-00\n#fields'
    for f in "$@"; do printf '\t%s' "$f"; done
    printf '\n#types'
    for f in "$@"; do printf '\tstring'; done
    printf '\n'
}
z="$work/conn.log"
{
    hdr ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto orig_bytes resp_bytes conn_state
    # ~10 MiB of rows, so that the second block is in a later chunk than the first header
    awk 'BEGIN { for (i = 0; i < 120000; i++)
        printf "%d.5\tC%06d\t10.1.%d.%d\t%d\t8.8.8.8\t53\tudp\t%d\t%d\tSF\t%s\n",
            1700000000 + i, i, int(i / 250) % 250, i % 250 + 1, 1024 + i % 60000, i, 2 * i,
            "-----------------------------------------" }' | cut -f1-10
    printf '#close\t2024-01-01-01-00-00\n'
    hdr ts uid id.resp_h id.resp_p id.orig_h id.orig_p proto service resp_bytes orig_bytes conn_state
    printf '1800000000.25\tCX1\t9.9.9.9\t443\t10.0.0.2\t2222\ttcp\tssl\t40\t30\tREJ\n'
    printf '1800000001.25\tCX2\t9.9.9.8\t8443\t10.0.0.3\t3333\ttcp\t-\t(empty)\t31\tS0\n'
    printf '#close\t2024-01-01-02-00-00\n'
} > "$z"
"$BIN" convert --rejects "$work/z.rej" -o "$work/z.parquet" "$z" 2> "$work/z.err"
check "zeek rotation: exit 0" "$?" 0
check "zeek rotation: counts" "$(sed -n 's/^convert: \(read [^(]*\)(.*/\1/p' "$work/z.err")" \
    "read 120002 = written 120002 + rejected 0 "
check "zeek rotation: rows after the second header use its layout" \
    "$("$BIN" query "$work/z.parquet" --where 'ts >= 2027-01-01' --limit 0 --format csv \
        --columns src_ip,src_port,dst_ip,dst_port,bytes_sent,bytes_recv,action 2>&1)" \
    "src_ip,src_port,dst_ip,dst_port,bytes_sent,bytes_recv,action
10.0.0.2,2222,9.9.9.9,443,30,40,rej
10.0.0.3,3333,9.9.9.8,8443,31,,s0"
check "zeek rotation: rows before it keep the first layout" \
    "$("$BIN" query "$work/z.parquet" --where 'ts < 2027-01-01' --sort ts:desc --limit 1 \
        --format csv --columns src_ip,dst_ip,dst_port,bytes_sent,bytes_recv 2>&1)" \
    "src_ip,dst_ip,dst_port,bytes_sent,bytes_recv
10.1.229.250,8.8.8.8,53,119999,239998"

# ---- unrecognised inputs are counted
printf 'hello world\nfoo bar\n\nbaz\n' > "$work/what.txt"
"$BIN" convert --rejects "$work/what.rej" -o "$work/what.parquet" "$work/what.txt" \
    2> "$work/what.err"
check "unrecognised format: exit 1 (nothing written)" "$?" 1
check "unrecognised format: counted" \
    "$(sed -n 's/^convert: \(read [^(]*\)(.*/\1/p' "$work/what.err")" \
    "read 3 = written 0 + rejected 3 "
check "unrecognised format: rejects verbatim" "$(cut -f3 "$work/what.rej")" "hello world
foo bar
baz"
printf '{"a":1}\n{"a":2}\n' > "$work/what.jsonl"
"$BIN" convert -o "$work/mixed.parquet" "$work/what.jsonl" "$in" 2> "$work/mixed.err"
check "unknown preset next to a good input: exit 0" "$?" 0
check "unknown preset next to a good input: counted" \
    "$(sed -n 's/^convert: \(read [^(]*\)(.*/\1/p' "$work/mixed.err")" \
    "read 8 = written 3 + rejected 5 "
grep -q "what.jsonl:1: unrecognised format: cannot tell which preset" "$work/mixed.err" &&
    ok "unknown preset: reason names the problem" ||
    nok "unknown preset: reason names the problem" "$(cat "$work/mixed.err")"
echo "1..$n"
