#!/usr/bin/env bash
# 30-text-vs-pdftotext: page text of FOP's AFP output against FOP's own PDF of the same .fo.
# For each X in text table image color ext, the words of `bin/afp text $AFP_SAMPLES/fop/X.afp`
# must equal, in order and page by page, the words of `pdftotext -layout $AFP_SAMPLES/fop/X.pdf -`
# (split on whitespace; a form feed is a page break; trailing page breaks are ignored).
#
# -layout: `bin/afp text` orders text by baseline, then inline position (reading order of the
# physical page). pdftotext's default mode follows PDF content-stream order instead, which for
# table.pdf lists the table column by column; -layout gives the physical reading order.
#
# Characters FOP itself did not put into the AFP as text are removed by two narrow,
# per-sample normalisations (see normalise_* below); nothing else is forgiven.
set -uo pipefail
NAME=30-text-vs-pdftotext
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AFP_SAMPLES=${AFP_SAMPLES:-$ROOT/../shared/samples}
AFP=${AFP_BIN:-$ROOT/bin/afp}   # AFP_BIN: test another build of the CLI (then no make)
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
SAMPLES=(text table image color ext)

tests=0 failed=0
pass() { tests=$((tests + 1)); }
fail() { tests=$((tests + 1)); failed=$((failed + 1)); echo "FAIL $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/    /'; done; }
finish() { echo "$NAME: $tests tests, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

if [ -z "${AFP_BIN:-}" ] && ! make -s -C "$ROOT" bin/afp >"$TMP/make.log" 2>&1; then
  fail "setup" "make bin/afp failed:" "$(tail -n 5 "$TMP/make.log")"; finish
fi
command -v pdftotext >/dev/null || { fail "setup" "pdftotext not found (apt-get install poppler-utils)"; finish; }

PAGE='<page-break>'
# control characters made visible in diffs as <XX> (hex); UTF-8 text is left readable
show_controls() { perl -pe 's/([\x00-\x09\x0b-\x1f\x7f])/sprintf("<%02X>", ord $1)/ge'; }
# stdin text -> one word per line, form feed -> $PAGE token, trailing page breaks dropped.
words() {
  LC_ALL=C sed "s/\x0c/ $PAGE /g" | LC_ALL=C tr -s ' \t\n\r\v' '\n' | awk -v P="$PAGE" '
    $0 == "" { next }
    $0 == P { pend++; next }
    { while (pend > 0) { print P; pend-- } print }'
}

# text.fo: "Euro €." — FOP 2.8 maps text to the font's code page T1V10500 (CP500), which has no
# euro sign, so it wrote X'3F' (SUB, U+001A) instead of the €. The € is therefore not in the AFP.
# `bin/afp text` shows that SUB as U+FFFD (the core's rendering of "generator could not encode
# this character"); a raw U+001A is accepted as well. Only in the word that follows "Euro": drop
# "€" from the PDF word and U+FFFD / U+001A from the AFP word.
normalise_pdf_text() { awk 'prev == "Euro" && $0 == "€." { $0 = "." } { print; prev = $0 }'; }
normalise_afp_text() {
  awk -v SUB="$(printf '\032')" -v REPL="$(printf '\357\277\275')" \
    'prev == "Euro" { gsub(SUB, ""); gsub(REPL, "") } { print; prev = $0 }'
}
# color.fo: the SVG <text>chart</text> is drawn by FOP's AFP output as GOCA graphics (no
# character string in any encoding exists in color.afp), while the PDF keeps it as text.
# Only for color: drop the single PDF word "chart" that follows "GOCA:".
normalise_pdf_color() { awk 'prev == "GOCA:" && $0 == "chart" { next } { print; prev = $0 }'; }
normalise_afp_color() { cat; }
normalise_pdf_table() { cat; }; normalise_afp_table() { cat; }
normalise_pdf_image() { cat; }; normalise_afp_image() { cat; }
normalise_pdf_ext() { cat; };   normalise_afp_ext() { cat; }

for x in "${SAMPLES[@]}"; do
  afp=$AFP_SAMPLES/fop/$x.afp pdf=$AFP_SAMPLES/fop/$x.pdf
  if [ ! -r "$afp" ] || [ ! -r "$pdf" ]; then fail "$x" "sample missing: $afp / $pdf"; continue; fi
  if ! pdftotext -q -layout "$pdf" - 2>"$TMP/err" | words | "normalise_pdf_$x" >"$TMP/want"; then
    fail "$x" "pdftotext failed: $(head -c 300 "$TMP/err")"; continue
  fi
  "$AFP" text "$afp" >"$TMP/out" 2>"$TMP/err"; rc=$?
  if [ "$rc" -ne 0 ]; then fail "$x" "bin/afp text exit $rc: $(head -c 300 "$TMP/err")"; continue; fi
  words <"$TMP/out" | "normalise_afp_$x" >"$TMP/got"
  if [ ! -s "$TMP/want" ]; then fail "$x" "pdftotext produced no words"; continue; fi
  if cmp -s "$TMP/want" "$TMP/got"; then
    pass
  else
    fail "$x" "words differ ($(grep -vc "^$PAGE\$" "$TMP/want") from pdftotext, $(grep -vc "^$PAGE\$" "$TMP/got") from bin/afp text; word diff, - pdftotext, + bin/afp text):" \
      "$(diff -U2 "$TMP/want" "$TMP/got" | tail -n +3 | show_controls | head -n 40)"
  fi
done

finish
