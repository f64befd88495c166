# test/delivery/lib.sh — helpers shared by the delivery checks (test/checks/6x-delivery-*.sh).
# The sourcing script sets NAME, PGBIN, PGPORT_D, BASE and SOCK first.

tests=0 failed=0
# Records a passing test.
pass() { tests=$((tests + 1)); }
# Records a failing test: fail WHAT [DETAIL LINES...].
fail() { tests=$((tests + 1)); failed=$((failed + 1)); echo "FAIL $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/    /'; done; }
# Prints the count and exits non-zero when anything failed.
finish() { echo "$NAME: $tests tests, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

# Runs a command as the cluster owner (postgres when root: the server refuses root).
as_owner() { if [ "$(id -u)" -eq 0 ]; then (cd "$BASE" && runuser -u postgres -- "$@"); else (cd "$BASE" && "$@"); fi; }
# psql against the check's own cluster (database afp unless DB is set).
q() { "$PGBIN/psql" -h "$SOCK" -p "$PGPORT_D" -U postgres -d "${DB:-afp}" -XAtq -v ON_ERROR_STOP=1 "$@"; }
# expect WHAT EXPECTED SQL: the query's single value equals EXPECTED
expect() { local got; got=$(q -c "$3" 2>&1); if [ "$got" = "$2" ]; then pass; else fail "$1" "expected: $2" "got: $got"; fi; }
# wait_for SECONDS SQL: polls until the query returns t
wait_for() { local end=$((SECONDS + $1)); while [ $SECONDS -lt $end ]; do [ "$(q -c "$2" 2>/dev/null)" = t ] && return 0; sleep 0.2; done; return 1; }
