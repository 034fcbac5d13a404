#!/bin/sh
# `make bench`: runs every bench/*.bench executable in turn, then prints one table of
# datamate vs DuckDB. A .bench prints details freely and one line per measurement:
#   result<TAB>benchmark name<TAB>tool (datamate|duckdb)<TAB>value<TAB>unit
# Values are throughputs (higher is better); the ratio is datamate / duckdb.
# BENCH=pattern runs only the matching .bench files; DM_BENCH_ROWS overrides their row count.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD="$(pwd)/$BUILD" ;; esac
export DM_BUILD="$BUILD" DM_ROOT="$(pwd)" DM_BIN="$BUILD/datamate"
OUT="$BUILD/bench"
mkdir -p "$OUT"
RESULTS="$OUT/results.tsv"
: > "$RESULTS"
status=0
for b in bench/*.bench; do
    [ -x "$b" ] || continue
    case $b in *"${BENCH:-}"*) ;; *) continue ;; esac
    echo "== $b"
    "$b" > "$OUT/$(basename "$b").out" 2> "$OUT/$(basename "$b").err"
    rc=$?
    grep -v '^result	' "$OUT/$(basename "$b").out"
    sed 's/^/   /' "$OUT/$(basename "$b").err"
    grep '^result	' "$OUT/$(basename "$b").out" >> "$RESULTS"
    if [ $rc -ne 0 ]; then
        echo "   $b failed (exit $rc)"
        status=1
    fi
done
echo
awk -F '\t' '
    { key = $2; if (!(key in seen)) { seen[key] = 1; order[n++] = key }
      val[key, $3] = $4; unit[key] = $5 }
    END {
        printf "%-36s %14s %14s %8s\n", "benchmark", "datamate", "duckdb", "ratio"
        for (i = 0; i < n; i++) {
            k = order[i]
            d = ((k, "datamate") in val) ? val[k, "datamate"] : ""
            q = ((k, "duckdb") in val) ? val[k, "duckdb"] : ""
            r = (d != "" && q != "" && q + 0 > 0) ? sprintf("%.2fx", d / q) : "-"
            printf "%-36s %14s %14s %8s\n", k, (d == "" ? "-" : d " " unit[k]), (q == "" ? "-" : q " " unit[k]), r
        }
    }' "$RESULTS"
exit $status
