#!/usr/bin/env bash
# bench/convert.sh — `make bench-convert`: AFP→PDF conversion speed and memory of `bin/afp pdf`.
#
#  (a) text statements composed with `bin/afp compose` (Courier 10 pt, 44 lines of statement text
#      per page, one named page group): 1,000, 5,000 and 20,000 pages (3.7, 18.7 and 75 MB), to
#      show that peak RSS does not grow with the page count or the file size (the CLI maps the
#      input and drops the pages behind the converter), and the same 1,000 pages with
#      {"pdfa":"2b"};
#  (c) 500 generated statements (examples/statement with `bin/afp generate`, 2,000 pages: fonts,
#      the logo image, a QR code, rules and boxes per page) — the mixed-content rate;
#  (b) the largest sample, ../shared/samples/afp/afplib_start.afp (skipped with a message when
#      ../shared is absent).
# Each input is converted RUNS times (default 3); reported are the medians of the wall time, of
# the CPU time (user + system: on a shared, loaded machine the wall time measures the other jobs
# too, the CPU time is what one core spends) and of the peak RSS (/usr/bin/time -v, "Maximum
# resident set size"), with pages/s by wall time and per CPU second (the conversion is
# single-threaded: that is the per-core rate). /usr/bin/time has 10 ms resolution: the one-page
# sample shows the time per file. Results in build/bench/convert.txt.
#
# Environment: RUNS (3), PAGES ("1000 5000 20000"), AFP_SAMPLES (<repo>/../shared/samples).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AFP=$ROOT/bin/afp
RUNS=${RUNS:-3}
PAGES=${PAGES:-"1000 5000 20000"}
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

# Converts $1 RUNS times (options $2); prints "median_wall_s median_cpu_s median_rss_kb".
measure() {
  local secs=() cpu=() rss=() i
  for i in $(seq 1 "$RUNS"); do
    /usr/bin/time -v "$AFP" pdf "$1" "$TMP/out.pdf" --quiet --options "${2:-{\}}" 2>"$TMP/time.txt" >/dev/null
    secs+=("$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(k=1;k<=n;k++) s=s*60+t[k]; print s}' "$TMP/time.txt")")
    cpu+=("$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u + s}' "$TMP/time.txt")")
    rss+=("$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/time.txt")")
  done
  echo "$(median "${secs[@]}") $(median "${cpu[@]}") $(median "${rss[@]}")"
}

report() {   # name pages wall_s cpu_s rss_kb input_bytes
  awk -v n="$1" -v p="$2" -v s="$3" -v c="$4" -v r="$5" -v b="$6" 'BEGIN {
    printf "%-24s %6d pages %6.1f MB in  wall %7.3f s %6.0f pages/s  cpu %7.3f s %6.0f pages/s  peak RSS %5.1f MB\n",
           n, p, b / 1048576, s, (s > 0 ? p / s : 0), c, (c > 0 ? p / c : 0), r / 1024 }'
}

{
  echo "bench-convert: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), median of $RUNS runs"
  first=
  for n in $PAGES; do
    statement_text "$n" "$TMP/st$n.txt"
    "$AFP" compose -o "$TMP/st$n.afp" --name STMT --index Account=DE89370400440532013000 "$TMP/st$n.txt"
    rm -f "$TMP/st$n.txt"
    read -r s c r < <(measure "$TMP/st$n.afp")
    report "text statement" "$("$AFP" pages "$TMP/st$n.afp")" "$s" "$c" "$r" "$(stat -c %s "$TMP/st$n.afp")"
    if [ -z "$first" ]; then
      first=$n
      read -r s c r < <(measure "$TMP/st$n.afp" '{"pdfa":"2b"}')
      report "text statement, PDF/A" "$("$AFP" pages "$TMP/st$n.afp")" "$s" "$c" "$r" "$(stat -c %s "$TMP/st$n.afp")"
    fi
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
  read -r s c r < <(measure "$TMP/gen.afp")
  report "generated statements" "$("$AFP" pages "$TMP/gen.afp")" "$s" "$c" "$r" "$(stat -c %s "$TMP/gen.afp")"
  big=$AFP_SAMPLES/afp/afplib_start.afp
  if [ -f "$big" ]; then
    read -r s c r < <(measure "$big")
    report "afplib_start.afp" "$("$AFP" pages "$big")" "$s" "$c" "$r" "$(stat -c %s "$big")"
  else
    echo "afplib_start.afp: skipped ($big not found; the shared samples are absent)"
  fi
} | tee "$OUT/convert.txt"
