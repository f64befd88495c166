#!/usr/bin/env bash
# 90-fuzz-smoke: about a minute of libFuzzer (ASan+UBSan+LSan) on the core's read side, seeded
# with every sample; before fuzzing, every sample and every input in test/fuzz/regressions/ is
# replayed. Fails on any crash, leak, sanitizer report or invariant violation (test/fuzz/run.sh).
# Tests: one per fuzz target (replay + fuzz), after one for the build.
set -uo pipefail
NAME=90-fuzz-smoke
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

bash "$ROOT/test/fuzz/run.sh" >"$TMP/log" 2>&1
rc=$?
cat "$TMP/log"
tests=$(grep -cE '^fuzz fuzz_[^:]*: (replay|[0-9]+ executions)' "$TMP/log")
failed=$(grep -cE '^fuzz( fuzz_[^:]*)?: .*(FAILED|failed|no targets|no samples)' "$TMP/log")
# a build failure or a target that failed before reporting still counts
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
tests=$(( tests > failed ? tests : failed ))
execs=$(sed -n 's/^fuzz fuzz_[^:]*: \([0-9]*\) executions.*/\1/p' "$TMP/log" | awk '{s += $1} END {print s + 0}')
echo "$NAME: $tests tests, $failed failed ($execs executions)"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
