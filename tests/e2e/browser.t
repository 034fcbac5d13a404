#!/bin/sh
# The page in headless Chromium against a served dataset (see browser.mjs).
ROOT=${DM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
exec node "$ROOT/tests/e2e/browser.mjs"
