#!/bin/sh
# Replays every checked-in fuzz corpus (tests/fuzz/corpus/<target>/) through the target's
# LLVMFuzzerTestOneInput, built without libFuzzer by mk/fuzz.mk (sanitizers as configured).
set -u
ROOT=${DM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${DM_BUILD:-$ROOT/build}
n=0
status=0
for dir in "$ROOT"/tests/fuzz/corpus/*/; do
    t=$(basename "$dir")
    n=$((n + 1))
    bin="$BUILD/fuzz-replay/fuzz_$t"
    if [ ! -x "$bin" ]; then
        echo "not ok $n - replay $t (no $bin)"
        status=1
        continue
    fi
    if out=$("$bin" "$dir" 2>&1); then
        echo "ok $n - replay $t: $(echo "$out" | tail -1)"
    else
        echo "not ok $n - replay $t"
        echo "$out" | tail -20 | sed 's/^/# /'
        status=1
    fi
done
echo "1..$n"
exit $status
