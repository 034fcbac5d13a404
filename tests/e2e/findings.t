#!/bin/sh
# The Findings tab in headless Chromium against `datamate serve` on gen data (see findings.mjs).
ROOT=${DM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
exec node "$ROOT/tests/e2e/findings.mjs"
