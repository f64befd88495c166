#!/usr/bin/env bash
# bench/convert.sh — `make bench-convert`: AFP→PDF conversion speed and memory of `bin/afp pdf`.
#
#  (a) text statements composed with `bin/afp compose` (Courier 10 pt, 44 lines of statement text
#      per page, one named page group): 1,000 pages and 5,000 pages, to show that peak RSS does not
#      grow with the page count;
#  (c) 500 generated statements (examples/statement with `bin/afp generate`, 2,000 pages: fonts,
#      the logo image, a QR code, rules and boxes per page) — the mixed-content rate;
#  (b) the largest sample, ../shared/samples/afp/afplib_start.afp (skipped with a message when
#      ../shared is absent).
# Each input is converted RUNS times (default 3); the median wall time and the median peak RSS
# (/usr/bin/time -v, "Maximum resident set size") are reported with pages/s and the RSS beyond
# the input file (the CLI reads the whole input into memory; the PDF is streamed out in ~1 MB
# chunks). /usr/bin/time has 10 ms resolution: the one-page sample shows the time per file. The
# conversion is single-threaded, so pages/s is also the per-core rate. Results in
# build/bench/convert.txt.
#
# Environment: RUNS (3), PAGES ("1000 5000"), AFP_SAMPLES (<repo>/../shared/samples).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AFP=$ROOT/bin/afp
RUNS=${RUNS:-3}
PAGES=${PAGES:-"1000 5000"}
AFP_SAMPLES=${AFP_SAMPLES:-$ROOT/../shared/samples}
OUT=$ROOT/build/bench
mkdir -p "$OUT"
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

make -s -C "$ROOT" bin/afp
[ -x /usr/bin/time ] || { echo "bench-convert: /usr/bin/time not found (apt-get install time)" >&2; exit 2; }

# Writes N pages of statement text (form feeds between pages) to $2.
statement_text() {
  /usr/bin/python3 - "$1" "$2" <<'EOF'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    for p in range(n):
        if p:
            f.write("\f")
        f.write("Stadtwerke Beispielstadt          Statement 2026-10          Page %d of %d\n\n" % (p + 1, n))
        f.write("Account DE89 3704 0044 0532 0130 00     Erika Mustermann, Hauptstr. 5, 12345 Berlin\n\n")
        for i in range(40):
            f.write("%02d.10.2026  Booking %05d  Payment reference %08d      %10.2f EUR\n"
                    % (i % 28 + 1, p * 40 + i, (p * 7919 + i * 104729) % 100000000,
                       ((p * 31 + i * 17) % 100000) / 100.0))
EOF
}

# Median of the arguments (numbers).
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Converts $1 RUNS times; prints "median_seconds median_rss_kb".
measure() {
  local secs=() rss=() i
  for i in $(seq 1 "$RUNS"); do
    /usr/bin/time -v "$AFP" pdf "$1" "$TMP/out.pdf" --quiet 2>"$TMP/time.txt" >/dev/null
    secs+=("$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(k=1;k<=n;k++) s=s*60+t[k]; print s}' "$TMP/time.txt")")
    rss+=("$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/time.txt")")
  done
  echo "$(median "${secs[@]}") $(median "${rss[@]}")"
}

report() {   # name pages seconds rss_kb input_bytes
  awk -v n="$1" -v p="$2" -v s="$3" -v r="$4" -v b="$5" 'BEGIN {
    printf "%-22s %6d pages  %6.1f MB in  %7.3f s  %6.0f pages/s  peak RSS %5.1f MB (%4.1f MB + input)\n",
           n, p, b / 1048576, s, (s > 0 ? p / s : 0), r / 1024, r / 1024 - b / 1048576 }'
}

{
  echo "bench-convert: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, median of $RUNS runs"
  for n in $PAGES; do
    statement_text "$n" "$TMP/st$n.txt"
    "$AFP" compose -o "$TMP/st$n.afp" --name STMT --index Account=DE89370400440532013000 "$TMP/st$n.txt"
    read -r s r < <(measure "$TMP/st$n.afp")
    report "text statement" "$("$AFP" pages "$TMP/st$n.afp")" "$s" "$r" "$(stat -c %s "$TMP/st$n.afp")"
  done
  /usr/bin/python3 - "$ROOT/examples/statement/data.json" "$TMP/batch.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
out = []
for k in range(500):
    e = json.loads(json.dumps(d))
    e["account"]["number"] = "DE%018d" % k
    out.append(e)
json.dump(out, open(sys.argv[2], "w"))
EOF
  "$AFP" generate "$ROOT/examples/statement/template.json" "$TMP/batch.json" -o "$TMP/gen.afp" \
    --resources "$ROOT/examples/resources" >/dev/null 2>&1
  read -r s r < <(measure "$TMP/gen.afp")
  report "generated statements" "$("$AFP" pages "$TMP/gen.afp")" "$s" "$r" "$(stat -c %s "$TMP/gen.afp")"
  big=$AFP_SAMPLES/afp/afplib_start.afp
  if [ -f "$big" ]; then
    read -r s r < <(measure "$big")
    report "afplib_start.afp" "$("$AFP" pages "$big")" "$s" "$r" "$(stat -c %s "$big")"
  else
    echo "afplib_start.afp: skipped ($big not found; the shared samples are absent)"
  fi
} | tee "$OUT/convert.txt"
