#!/usr/bin/env bash
# bench/scan.sh — structured-field scan throughput of `bin/afp dump` against a peer, Apache FOP's
# MODCAParser (test/java/FopFraming.java --count), on the same ~50 MB print file.
#
# Two inputs of about BENCH_MB MB, each a sample concatenated with itself (framing stays valid,
# the fields are back to back), in build/bench/:
#   start.afp  the largest sample, afp/afplib_start.afp (368661 bytes, 64 fields, mostly 8 KB
#              object-container fields): bytes per second of large fields (the headline figure);
#   ext.afp    fop/ext.afp (2304 bytes, 109 fields, 21 bytes per field on average): the per-field
#              cost (for bin/afp that includes formatting one dump line per field).
# Each command is one process run end to end (hyperfine -N, output discarded, median of
# BENCH_RUNS runs after one warm-up); the Java figure therefore includes JVM start-up, which is
# measured separately (FopFraming on the 61-byte afplib_hello.afp) and reported, together with
# FOP's in-JVM steady-state figure (median of the last runs of --count --repeat 10).
# Without hyperfine the same runs are timed with a bash loop (date +%s%N).
# MB = 10^6 bytes. Writes build/bench/scan.md (tables) and prints it.
#
# Environment: AFP_SAMPLES, AFP_BIN (another CLI build; then no make), BENCH_MB (default 50), BENCH_RUNS (default 5).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AFP_SAMPLES=${AFP_SAMPLES:-$ROOT/../shared/samples}
BENCH_MB=${BENCH_MB:-50}
RUNS=${BENCH_RUNS:-5}
OUT=$ROOT/build/bench
TINY=$AFP_SAMPLES/afp/afplib_hello.afp
AFP=${AFP_BIN:-$ROOT/bin/afp}
mkdir -p "$OUT"

[ -n "${AFP_BIN:-}" ] || make -s -C "$ROOT" bin/afp
JARS=/usr/share/java
CP=$JARS/fop-core.jar:$JARS/commons-logging.jar:$JARS/commons-io.jar:$JARS/xmlgraphics-commons.jar
JSRC=$ROOT/test/java/FopFraming.java
if [ ! -f "$ROOT/build/java/FopFraming.class" ] || [ "$JSRC" -nt "$ROOT/build/java/FopFraming.class" ]; then
  mkdir -p "$ROOT/build/java"
  javac -nowarn -d "$ROOT/build/java" -cp "$CP" "$JSRC"
fi
JAVA=(java -cp "$ROOT/build/java:$CP" FopFraming)

median() { LC_ALL=C sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ms() { awk -v s="$1" 'BEGIN {printf "%.0f", s * 1000}'; }

# time_cmds NAME=CMD...: sets med[NAME] (seconds) for each command
declare -A med
time_cmds() {
  local spec names=() cmds=() args=() i
  for spec in "$@"; do names+=("${spec%%=*}"); cmds+=("${spec#*=}"); done
  if command -v hyperfine >/dev/null; then
    tool="hyperfine $(hyperfine --version | awk '{print $2}') -N --warmup 1 --runs $RUNS"
    for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
    hyperfine -N --style basic --warmup 1 --runs "$RUNS" --export-json "$OUT/hyperfine.json" \
      "${args[@]}" >"$OUT/hyperfine.log" 2>&1
    # one "median" per result, in command order
    mapfile -t m < <(grep -o '"median": *[0-9.e+-]*' "$OUT/hyperfine.json" | sed 's/.*: *//')
    for i in "${!names[@]}"; do med[${names[$i]}]=${m[$i]}; done
  else
    tool="bash loop (date +%s%N), 1 warm-up + $RUNS runs"
    for i in "${!names[@]}"; do
      ${cmds[$i]} >/dev/null
      med[${names[$i]}]=$(for ((r = 0; r < RUNS; r++)); do
          t0=$(date +%s%N); ${cmds[$i]} >/dev/null; t1=$(date +%s%N)
          awk -v d=$(( t1 - t0 )) 'BEGIN {printf "%.9f\n", d / 1e9}'
        done | median)
    done
  fi
}

# JVM start-up + class loading: FopFraming on a 61-byte file
time_cmds jvm="${JAVA[*]} --count $TINY"
jvm_s=${med[jvm]}

bench_input() {   # bench_input LABEL SAMPLE
  local label=$1 src=$2 size1 reps want big bytes fields1 afp_fields fop_fields steady_s
  big=$OUT/$label.afp
  size1=$(stat -c %s "$src")
  reps=$(( (BENCH_MB * 1000000 + size1 - 1) / size1 ))
  want=$(( reps * size1 ))
  if [ ! -f "$big" ] || [ "$(stat -c %s "$big")" -ne "$want" ]; then
    rm -f "$big"
    for ((i = 0; i < reps; i++)); do cat "$src"; done >"$big"
  fi
  bytes=$(stat -c %s "$big")
  fields1=$("$AFP" dump "$src" | wc -l)

  # both readers must agree on the big file before it is timed
  afp_fields=$("$AFP" dump "$big" | wc -l)
  fop_fields=$("${JAVA[@]}" --count "$big" | sed -n 's/^fields=\([0-9]*\) .*/\1/p')
  if [ "$afp_fields" -ne $((reps * fields1)) ] || [ "$fop_fields" -ne "$afp_fields" ]; then
    echo "scan: $label: field counts disagree: bin/afp $afp_fields, FOP $fop_fields, expected $((reps * fields1))" >&2
    return 1
  fi

  time_cmds afp="$AFP dump $big" fop="${JAVA[*]} --count $big"
  # FOP steady state inside one JVM: median of runs 4..10 of --count --repeat 10
  steady_s=$("${JAVA[@]}" --count --repeat 10 "$big" | sed -n 's/^run=\([0-9]*\) ns=\([0-9]*\)/\1 \2/p' \
    | awk '$1 >= 4 {printf "%.9f\n", $2 / 1e9}' | median)

  local fop_net_s afp_mbps
  fop_net_s=$(awk -v a="${med[fop]}" -v j="$jvm_s" 'BEGIN {printf "%.6f", a - j}')
  mbps() { awk -v b="$bytes" -v s="$1" 'BEGIN {printf "%.1f", b / 1e6 / s}'; }
  afp_mbps=$(mbps "${med[afp]}")
  row() { echo "| $1 | $(ms "$2") ms | $(mbps "$2") | $(awk -v a="$afp_mbps" -v f="$(mbps "$2")" 'BEGIN {printf "%.2f", a / f}') |"; }
  echo "**$label.afp** = $(basename "$(dirname "$src")")/$(basename "$src") x $reps: $bytes bytes, $afp_fields fields (both readers agree)."
  echo
  echo "| reader | median | MB/s | bin/afp speed-up |"
  echo "|---|---:|---:|---:|"
  row "\`bin/afp dump\` to /dev/null" "${med[afp]}"
  row "FOP MODCAParser, whole process" "${med[fop]}"
  row "FOP MODCAParser, whole process minus JVM start-up" "$fop_net_s"
  row "FOP MODCAParser, in-JVM steady state (runs 4-10 of 10)" "$steady_s"
  echo
}

{
  bench_input start "$AFP_SAMPLES/afp/afplib_start.afp"
  bench_input ext "$AFP_SAMPLES/fop/ext.afp"
  echo "Timing: $tool; JVM start-up (FopFraming on afplib_hello.afp) $(ms "$jvm_s") ms; $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)."
} | tee "$OUT/scan.md"
