#!/usr/bin/env bash
# 10-sample-histograms: `bin/afp dump` of every sample must report the structured-field count and
# the per-abbreviation histogram that SOURCES.md lists (four independent AFP readers agree on them).
# The table is parsed from $AFP_SAMPLES/SOURCES.md at run time; nothing from it is copied here.
#
# Tests: one per table row (exit status, line format, contiguous offsets, #SF, histogram,
# file size) + one that every afp/*.afp and fop/*.afp sample has a table row.
set -uo pipefail
NAME=10-sample-histograms
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AFP_SAMPLES=${AFP_SAMPLES:-$ROOT/../shared/samples}
AFP=${AFP_BIN:-$ROOT/bin/afp}   # AFP_BIN: test another build of the CLI (then no make)
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

tests=0 failed=0
pass() { tests=$((tests + 1)); }
fail() { tests=$((tests + 1)); failed=$((failed + 1)); echo "FAIL $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/    /'; done; }
finish() { echo "$NAME: $tests tests, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

SOURCES=$AFP_SAMPLES/SOURCES.md
if [ ! -r "$SOURCES" ]; then fail "setup" "no $SOURCES (set AFP_SAMPLES)"; finish; fi
if [ -z "${AFP_BIN:-}" ] && ! make -s -C "$ROOT" bin/afp >"$TMP/make.log" 2>&1; then
  fail "setup" "make bin/afp failed:" "$(tail -n 5 "$TMP/make.log")"; finish
fi

# Table rows: | file | bytes | #SF | source | licence | what | SF counts |
# -> file<TAB>bytes<TAB>nsf<TAB>"ABBR=N ABBR=N ..."
awk -F'|' '$2 ~ /^ *(afp|fop)\/[^ ]+\.afp *$/ {
  f=$2; b=$3; n=$4; h=$(NF-1)
  gsub(/^ +| +$/, "", f); gsub(/[^0-9]/, "", b); gsub(/[^0-9]/, "", n); gsub(/^ +| +$/, "", h)
  print f "\t" b "\t" n "\t" h }' "$SOURCES" >"$TMP/table"
if [ ! -s "$TMP/table" ]; then fail "setup" "no sample rows parsed from $SOURCES"; finish; fi

# Canonical histogram: one "ABBR=N" per line, sorted.
canon() { tr ' ' '\n' | sed '/^$/d' | LC_ALL=C sort; }

while IFS=$'\t' read -r file bytes nsf hist; do
  path=$AFP_SAMPLES/$file
  errs=()
  if [ ! -r "$path" ]; then fail "$file" "sample missing: $path"; continue; fi
  size=$(stat -c %s "$path")
  [ "$size" = "$bytes" ] || errs+=("file size $size, SOURCES.md says $bytes")
  # the table's own histogram must sum to its #SF (guards the parse above)
  sum=$(printf '%s\n' "$hist" | canon | awk -F= '{s+=$2} END {print s+0}')
  [ "$sum" = "$nsf" ] || errs+=("SOURCES.md row inconsistent: histogram sums to $sum, #SF is $nsf")

  "$AFP" dump "$path" >"$TMP/dump" 2>"$TMP/err"; rc=$?
  [ "$rc" -eq 0 ] || errs+=("bin/afp dump exit $rc: $(head -c 300 "$TMP/err")")
  bad=$(awk -F'\t' 'NF != 4 || $1 !~ /^[0-9]+$/ || $2 !~ /^[0-9]+$/ || $3 !~ /^[0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F][0-9A-F]$/ || $4 !~ /^[A-Z0-9]+$/ {print NR ": " $0; exit}' "$TMP/dump")
  [ -z "$bad" ] || errs+=("malformed dump line $bad")
  # all samples are contiguous X'5A'-framed fields covering the whole file
  gap=$(awk -F'\t' -v size="$size" 'BEGIN {next_off = 0}
    { if ($1 != next_off) { print "line " NR ": offset " $1 ", expected " next_off; exit }
      next_off = $1 + $2 + 1 }
    END { if (next_off != size && NR > 0) print "fields end at " next_off ", file size " size }' "$TMP/dump" | head -n 1)
  [ -z "$gap" ] || errs+=("offsets: $gap")
  got_n=$(wc -l <"$TMP/dump")
  [ "$got_n" = "$nsf" ] || errs+=("SF count $got_n, expected $nsf")
  cut -f4 "$TMP/dump" | LC_ALL=C sort | uniq -c | awk '{print $2 "=" $1}' | LC_ALL=C sort >"$TMP/got"
  printf '%s\n' "$hist" | canon >"$TMP/want"
  if ! cmp -s "$TMP/got" "$TMP/want"; then
    errs+=("histogram differs (< expected, > bin/afp dump):")
    while IFS= read -r l; do errs+=("  $l"); done < <(diff "$TMP/want" "$TMP/got" | grep '^[<>]')
  fi
  if [ ${#errs[@]} -eq 0 ]; then pass; else fail "$file" "${errs[@]}"; fi
done <"$TMP/table"

# coverage: every sample file has a row
missing=()
for p in "$AFP_SAMPLES"/afp/*.afp "$AFP_SAMPLES"/fop/*.afp; do
  rel=${p#"$AFP_SAMPLES"/}
  cut -f1 "$TMP/table" | grep -qxF "$rel" || missing+=("$rel")
done
if [ ${#missing[@]} -eq 0 ]; then pass; else fail "coverage" "samples without a SOURCES.md row: ${missing[*]}"; fi

finish
