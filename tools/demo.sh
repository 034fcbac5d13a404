#!/bin/sh
# `make demo`: generates the demo data set into ./demo/ and says what it made.
# (Later steps convert it to Parquet and open the web UI on it.)
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
DM="$BUILD/datamate"
OUT=${DM_DEMO_DIR:-demo}
ROWS=${DM_DEMO_ROWS:-1000000}
[ -x "$DM" ] || { echo "demo: $DM is missing; run 'make' first" >&2; exit 1; }
mkdir -p "$OUT"

echo "demo: generating $ROWS synthetic firewall log lines with planted exfiltration..."
"$DM" gen -o "$OUT/flows.jsonl" --rows "$ROWS" --seed 1 --days 7 \
    --truth "$OUT/truth.json" --config "$OUT/config.json"

size=$(du -h "$OUT/flows.jsonl" | cut -f1)
cat <<MSG

demo: made
  $OUT/flows.jsonl   $ROWS flows, $size, one JSON object per line (the earlier datamate
                     tool's SIEM export: _@timestamp, _SourceIP, _DestinationIP, _BytesSent, ...)
  $OUT/truth.json    the planted scenarios: what a hunt should find, and what it should not
  $OUT/config.json   datamate config for this network (known servers, internal networks,
                     approved DNS resolvers, the backup destination allowlisted)

The simulated week 2026-03-02 .. 2026-03-09 (UTC): 3,000 workstations, servers with roles,
a DMZ web server, 40,000 internet destinations. Planted:
MSG
# One line per scenario from the truth file (it is written one scenario per line).
sed -n 's/.*"kind": "\([a-z_]*\)", "malicious": \([a-z]*\), "host": \([^,]*\), "peer": \([^,]*\), "start": "\([^"]*\)".*"bytes_out": \([0-9]*\).*/\1 \2 \3 \4 \5 \6/p' \
    "$OUT/truth.json" |
while read -r kind mal host peer start out; do
    if [ "$mal" = true ]; then tag=exfil; else tag=benign; fi
    [ "$peer" = null ] && peer="(many clients)"
    printf '  %-7s %-13s %-16s -> %-22s from %s  %s bytes out\n' "$tag" "$kind" \
        "$(echo "$host" | tr -d '"')" "$(echo "$peer" | tr -d '"')" "$start" "$out"
done
cat <<MSG

Look at it:
  head -n 3 $OUT/flows.jsonl
  grep -c '"_Action":"deny"' $OUT/flows.jsonl
  $DM gen --help          # other schemas: --schema ecs | zeek | suricata
See docs/gen.md for the network, the scenarios and every field.
MSG
