#!/usr/bin/env bash
# test/fuzz/run.sh — builds the libFuzzer targets (make fuzz-build) and, for each
# build/fuzz/fuzz_*:
#   1. replays every sample (full size) and every file in test/fuzz/regressions/ (must not crash);
#   2. fuzzes for FUZZ_SECONDS (default 55, shared between the targets) from a corpus in
#      build/fuzz/corpus/<target>/ seeded with copies of all samples (PDF targets also with the
#      files of test/checks/pdf_resources_gen.py) (the corpus persists in
#      build/ between runs; nothing is written into the source tree).
# Exits non-zero on any crash, leak, UBSan report or invariant violation; crash inputs are left in
# build/fuzz/artifacts/ (turn each into a regression input: test/fuzz/regressions/<name>).
# Prints "fuzz <target>: N executions" per target.
#
# Environment: AFP_SAMPLES (default <repo>/../shared/samples), FUZZ_SECONDS.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AFP_SAMPLES=${AFP_SAMPLES:-$ROOT/../shared/samples}
FUZZ_SECONDS=${FUZZ_SECONDS:-55}
OUT=$ROOT/build/fuzz
REGRESSIONS=$ROOT/test/fuzz/regressions
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
mkdir -p "$OUT"
if ! make -s -C "$ROOT" fuzz-build >"$OUT.build.log" 2>&1; then
  echo "fuzz: make fuzz-build failed:"; tail -n 20 "$OUT.build.log"; exit 1
fi
mapfile -t targets < <(find "$OUT" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x | sort)
if [ ${#targets[@]} -eq 0 ]; then echo "fuzz: no targets built in $OUT"; exit 1; fi
mapfile -t samples < <(find "$AFP_SAMPLES" -type f -name '*.afp' | sort)
if [ ${#samples[@]} -eq 0 ]; then echo "fuzz: no samples under $AFP_SAMPLES"; exit 1; fi
mapfile -t regressions < <(find "$REGRESSIONS" -type f ! -name '*.md' ! -name '.*' 2>/dev/null | sort)

per_target=$(( FUZZ_SECONDS / ${#targets[@]} )); [ "$per_target" -ge 1 ] || per_target=1
mkdir -p "$OUT/artifacts" "$OUT/logs"
for bin in "${targets[@]}"; do
  t=$(basename "$bin")
  # 1. replay (libFuzzer runs each file argument once, without length limit)
  if ! "$bin" "${samples[@]}" "${regressions[@]}" >"$OUT/logs/$t.replay.log" 2>&1; then
    echo "fuzz $t: replay of samples/regressions FAILED:"
    grep 'Running:' "$OUT/logs/$t.replay.log" | tail -n 1
    grep -E 'ERROR|runtime error|invariant|SUMMARY|#[0-9]+ 0x' "$OUT/logs/$t.replay.log" | head -n 30
    status=1
    continue
  fi
  echo "fuzz $t: replayed ${#samples[@]} samples + ${#regressions[@]} regression inputs"
  # 2. fuzz from the seeded corpus
  corpus=$OUT/corpus/$t
  mkdir -p "$corpus"
  for s in "${samples[@]}"; do cp -f "$s" "$corpus/seed_$(basename "$s")"; done
  for s in "${regressions[@]}"; do cp -f "$s" "$corpus/regression_$(basename "$s")"; done
  # the PDF targets also start from generated files with form maps, tiles, masks, PNG and TIFF
  if [ "$t" = fuzz_pdf ] || [ "$t" = fuzz_pdf_resources ]; then
    gen=$(mktemp -d)
    if /usr/bin/python3 "$ROOT/test/checks/pdf_resources_gen.py" "$gen" 2>/dev/null; then
      cp -f "$gen/main.afp" "$corpus/seed_gen_main.afp"
      cat "$gen/main.afp" "$gen/res/PEXT.png" >"$corpus/seed_gen_main_png"
      cat "$gen/res/OEXT.ovl" "$gen/res/TEXT.tif" >"$corpus/seed_gen_ovl_tif"
    fi
    rm -rf "$gen"
  fi
  # the JSON/template targets also start from the example templates (template X'00' data)
  if [ "$t" = fuzz_generate ] || [ "$t" = fuzz_json ]; then
    for ex in "$ROOT"/examples/*/template.json; do
      d=$(dirname "$ex")
      { cat "$ex"; printf '\0'; cat "$d/data.json"; } >"$corpus/seed_example_$(basename "$d")"
      cp -f "$ex" "$corpus/seed_template_$(basename "$d").json"
    done
  fi
  "$bin" -max_total_time="$per_target" -rss_limit_mb=2048 -max_len=65536 -timeout=20 \
    -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$t-" "$corpus" >"$OUT/logs/$t.log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/logs/$t.log" | tail -n 1)
  if [ -z "$execs" ]; then
    execs=$(grep -oE '^#[0-9]+' "$OUT/logs/$t.log" | tail -n 1 | tr -d '#')
  fi
  echo "fuzz $t: ${execs:-0} executions in ${per_target}s, corpus $(find "$corpus" -type f | wc -l) inputs"
  if [ "$rc" -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|invariant violated' "$OUT/logs/$t.log"; then
    echo "fuzz $t: FAILED (exit $rc), log $OUT/logs/$t.log:"
    grep -E 'ERROR|runtime error|invariant|SUMMARY|Test unit written|#[0-9]+ 0x' "$OUT/logs/$t.log" | head -n 30
    for a in $(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$OUT/logs/$t.log"); do
      echo "input $a ($(stat -c %s "$a") bytes): $(od -An -tx1 -v "$a" | tr -d ' \n' | head -c 512)"
    done
    status=1
  fi
done
exit $status
