#!/usr/bin/env bash
# test/run-tests.sh — the `make test` driver: every test suite of afp, one after the other.
#
#   build     make && make install
#   unit      C unit tests of the format core (ASan+UBSan)
#   cluster   test/cluster.sh start (restart, so the freshly installed library is loaded);
#             the cluster is stopped again when this script exits, whatever happens
#   regress   make installcheck (pg_regress) against the throwaway cluster
#   pgtap     pg_prove --ext .sql test/pgtap/ against database afp
#   check:*   every executable test/checks/*.sh, in sorted order (all run even if one fails)
#
# Each step prints how many tests ran; a summary table closes the run. Exit status is non-zero
# when any step failed. AFP_SAMPLES (default ../shared/samples) is exported for the checks.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export AFP_SAMPLES="${AFP_SAMPLES:-$(cd "$ROOT/.." && pwd)/shared/samples}"

STEP_NAMES=()
STEP_RESULTS=()
STEP_COUNTS=()
FAILED=0

# Records one step's outcome for the summary (result: PASS, FAIL or SKIP).
record() {
  STEP_NAMES+=("$1")
  STEP_RESULTS+=("$2")
  STEP_COUNTS+=("${3:-}")
  if [ "$2" = FAIL ]; then FAILED=1; fi
}

# Prints a step banner.
banner() {
  echo
  echo "==== $* ===="
}

# Prints the summary table.
summary() {
  local i
  echo
  echo "==== summary ===="
  printf '%-32s %-6s %s\n' "step" "result" "tests"
  printf '%-32s %-6s %s\n' "--------------------------------" "------" "-----------------------------"
  for i in "${!STEP_NAMES[@]}"; do
    printf '%-32s %-6s %s\n' "${STEP_NAMES[$i]}" "${STEP_RESULTS[$i]}" "${STEP_COUNTS[$i]}"
  done
  if [ "$FAILED" -ne 0 ]; then
    echo "make test: FAILED"
  else
    echo "make test: all steps passed"
  fi
}

# ---------------------------------------------------------------- (a) build and install
banner "build: make && make install"
BUILD_OK=1
if make && make install; then
  record build PASS "library, SQL script and bin/afp built and installed"
else
  BUILD_OK=0
  record build FAIL "make or make install failed"
fi

# ---------------------------------------------------------------- (b) unit tests
banner "unit: build/unit_tests"
UNIT_LOG="$(mktemp)"
if make build/unit_tests && build/unit_tests 2>&1 | tee "$UNIT_LOG"; then
  record unit PASS "$(grep -E '^unit: ' "$UNIT_LOG" | tail -n 1 | sed 's/^unit: //')"
else
  record unit FAIL "$(grep -E '^unit: ' "$UNIT_LOG" | tail -n 1 | sed 's/^unit: //')"
fi
rm -f "$UNIT_LOG"

# ---------------------------------------------------------------- (c) cluster
banner "cluster: test/cluster.sh start"
CLUSTER_OK=0
if [ "$BUILD_OK" -eq 1 ]; then
  trap 'echo; echo "==== cluster: stopping ===="; test/cluster.sh stop' EXIT
  if test/cluster.sh start; then
    CLUSTER_OK=1
    eval "$(test/cluster.sh env)"
    export PGHOST PGPORT PGUSER
    unset PGDATABASE
    # Start every run from the freshly installed SQL script.
    test/cluster.sh psql -X -q -c 'DROP EXTENSION IF EXISTS afp CASCADE' >/dev/null
    record cluster PASS "port $PGPORT"
  else
    record cluster FAIL "see build/cluster/log/postgres.log"
  fi
else
  record cluster SKIP "build failed"
fi

# ---------------------------------------------------------------- (d) pg_regress
banner "regress: make installcheck"
if [ "$CLUSTER_OK" -eq 1 ]; then
  REG_LOG="$(mktemp)"
  mkdir -p build/regress
  if make installcheck 2>&1 | tee "$REG_LOG"; then
    REG_RESULT=PASS
  else
    REG_RESULT=FAIL
  fi
  REG_COUNT="$(grep -Eo '(All [0-9]+ tests passed|[0-9]+ of [0-9]+ tests failed)' "$REG_LOG" | tail -n 1)"
  [ -n "$REG_COUNT" ] || REG_COUNT="no pg_regress summary"
  echo "regress: $REG_COUNT"
  if [ "$REG_RESULT" = FAIL ] && [ -f build/regress/regression.diffs ]; then
    echo "---- build/regress/regression.diffs"
    cat build/regress/regression.diffs
  fi
  record regress "$REG_RESULT" "$REG_COUNT"
  rm -f "$REG_LOG"
else
  record regress SKIP "no cluster"
fi

# ---------------------------------------------------------------- (e) pgTAP
banner "pgtap: pg_prove --ext .sql test/pgtap/"
if [ "$CLUSTER_OK" -eq 1 ]; then
  TAP_LOG="$(mktemp)"
  if pg_prove --ext .sql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d afp test/pgtap/ 2>&1 | tee "$TAP_LOG"; then
    TAP_RESULT=PASS
  else
    TAP_RESULT=FAIL
  fi
  TAP_COUNT="$(grep -Eo 'Files=[0-9]+, Tests=[0-9]+' "$TAP_LOG" | tail -n 1)"
  [ -n "$TAP_COUNT" ] || TAP_COUNT="no pg_prove summary"
  # pg_prove succeeds on an empty directory: that is a failure here.
  if [ "$TAP_RESULT" = PASS ] && ! grep -Eq 'Tests=[1-9]' "$TAP_LOG"; then
    TAP_RESULT=FAIL
    TAP_COUNT="no pgTAP tests ran"
  fi
  echo "pgtap: $TAP_COUNT"
  record pgtap "$TAP_RESULT" "$TAP_COUNT"
  rm -f "$TAP_LOG"
else
  record pgtap SKIP "no cluster"
fi

# ---------------------------------------------------------------- (f) checks
shopt -s nullglob
CHECKS=(test/checks/*.sh)
shopt -u nullglob
NCHECKS=0
for check in "${CHECKS[@]}"; do
  [ -x "$check" ] || continue
  NCHECKS=$((NCHECKS + 1))
  name="check: $(basename "$check" .sh)"
  banner "$name"
  CHECK_LOG="$(mktemp)"
  if "$check" 2>&1 | tee "$CHECK_LOG"; then
    result=PASS
  else
    result=FAIL
  fi
  # The check's own count: its last line saying "N tests", else its last line with a number.
  count="$(grep -E '[0-9]+ tests' "$CHECK_LOG" | tail -n 1)"
  [ -n "$count" ] || count="$(grep -E '[0-9]' "$CHECK_LOG" | tail -n 1)"
  record "$name" "$result" "$(printf '%s' "$count" | cut -c1-60)"
  rm -f "$CHECK_LOG"
done
if [ "$NCHECKS" -eq 0 ]; then
  record "checks" SKIP "no executable test/checks/*.sh"
fi

# ---------------------------------------------------------------- (g) summary
summary
exit "$FAILED"
