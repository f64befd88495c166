#!/usr/bin/env bash
# 54-pdf-dbcs: double-byte code pages in `bin/afp text` and `bin/afp pdf` (docs/conversion.md,
# "Double-byte code pages").
#
#  1. The unit tests write an AFP page with "Total: " in Helvetica (CP500) followed by
#     "日本語のテキスト" in a font whose code page is T1000300 (EBCDIC DBCS CP300, Japanese),
#     and "東京都" on the next line (AFP_DBCS_AFP_OUT). `afp text` gives both lines; `afp pdf`
#     passes qpdf --check, pdffonts lists an embedded CID TrueType font (Identity-H) with
#     ToUnicode, and pdftotext gives the words.
#  2. ../shared/samples/afp/parseafp_in.afp: ASCII + Big5 in fonts X1GT12/X1M40T that the file
#     neither carries nor names a code page for. With {"code_pages": {"X1GT12": "950", …}}
#     `afp text` and pdftotext of `afp pdf` give "ＡＴＭ退回手續費，謝謝您！" and the ASCII
#     around it; without the option the text is not decoded (and nothing fails). With
#     "pdfa": "2b" the PDF passes test/pdfa_check.py.
#  3. Errors: the pure double-byte Big5 page (947) cannot map the ASCII bytes: exit 2 naming
#     byte offset 636 (text and pdf, no output file); read as CP949 the first undefined code is
#     X'A65E' at 662, and {"missing": "warn"} shows U+FFFD with warnings on stderr (exit 0); an
#     unknown code page in the option: exit 2 naming the key; AFP_CJK_FONT=none (no CJK font):
#     exit 2 naming the font, no output file.
# Prints "pdf-dbcs: N tests, M failed".
set -uo pipefail
export LC_ALL=C.UTF-8
NAME=pdf-dbcs
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AFP=${AFP_BIN:-$ROOT/bin/afp}
SAMPLES=${AFP_SAMPLES:-$ROOT/../shared/samples}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
OPT950='{"code_pages": {"X1GT12": "950", "X1M40T": "950"}}'

tests=0 failed=0
pass() { tests=$((tests + 1)); }
fail() { tests=$((tests + 1)); failed=$((failed + 1)); echo "FAIL $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/    /'; done; }
check() { local what=$1; shift; local out; if out=$("$@" 2>&1); then pass; else fail "$what" "$out"; fi; }
finish() { echo "$NAME: $tests tests, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
# has FILE TEXT: the file contains the text
has() { grep -qF -- "$2" "$1"; }

if [ -z "${AFP_BIN:-}" ] && ! make -s -C "$ROOT" bin/afp >"$TMP/make.log" 2>&1; then
  fail "setup" "make bin/afp failed:" "$(tail -n 5 "$TMP/make.log")"; finish
fi
if ! make -s -C "$ROOT" build/unit_tests >"$TMP/make.log" 2>&1; then
  fail "setup" "make build/unit_tests failed:" "$(tail -n 5 "$TMP/make.log")"; finish
fi
for tool in qpdf pdftotext pdffonts; do
  command -v "$tool" >/dev/null || { fail "setup" "$tool not found (scripts/install-deps.sh)"; finish; }
done
[ -r /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || [ -n "${AFP_CJK_FONT:-}" ] ||
  { fail "setup" "no CJK font: install fonts-droid-fallback (scripts/install-deps.sh)"; finish; }

# ---------------------------------------------------------------- 1. EBCDIC DBCS (CP300)
(cd "$ROOT" && AFP_UNIT_SUITES=dbcs AFP_DBCS_AFP_OUT="$TMP/jp.afp" build/unit_tests >"$TMP/unit.log" 2>&1)
[ -s "$TMP/jp.afp" ] && pass || { fail "unit tests write the CP300 document" "$(tail -n 5 "$TMP/unit.log")"; finish; }
grep -q "suite dbcs .* 0 failed" "$TMP/unit.log" && pass || fail "unit suite dbcs passes" "$(tail -n 5 "$TMP/unit.log")"
"$AFP" text "$TMP/jp.afp" >"$TMP/jp.txt" 2>&1
has "$TMP/jp.txt" "Total: 日本語のテキスト" && pass || fail "afp text: SBCS + DBCS line" "$(cat "$TMP/jp.txt")"
has "$TMP/jp.txt" "東京都" && pass || fail "afp text: DBCS line" "$(cat "$TMP/jp.txt")"
check "afp pdf (CP300)" "$AFP" pdf "$TMP/jp.afp" "$TMP/jp.pdf" --quiet
check "qpdf --check (CP300)" qpdf --check "$TMP/jp.pdf"
pdffonts "$TMP/jp.pdf" >"$TMP/jpfonts.txt" 2>&1
grep -Eq '^[A-Z]{6}\+DroidSansFallback +CID TrueType +Identity-H +yes +yes +yes' "$TMP/jpfonts.txt" && pass ||
  fail "pdffonts: embedded CID TrueType subset with ToUnicode" "$(cat "$TMP/jpfonts.txt")"
pdftotext "$TMP/jp.pdf" "$TMP/jppdf.txt"
has "$TMP/jppdf.txt" "日本語のテキスト" && has "$TMP/jppdf.txt" "Total:" && pass ||
  fail "pdftotext: first line" "$(cat "$TMP/jppdf.txt")"
has "$TMP/jppdf.txt" "東京都" && pass || fail "pdftotext: second line" "$(cat "$TMP/jppdf.txt")"

# ---------------------------------------------------------------- 2. ASCII + Big5 sample
IN="$SAMPLES/afp/parseafp_in.afp"
if [ ! -r "$IN" ]; then fail "sample parseafp_in.afp readable" "$IN"; finish; fi
WANT="ＡＴＭ退回手續費，謝謝您！"
"$AFP" text "$IN" --options "$OPT950" >"$TMP/big5.txt" 2>"$TMP/big5.err" && pass ||
  fail "afp text --options code_pages 950" "$(cat "$TMP/big5.err")"
has "$TMP/big5.txt" "$WANT" && pass || fail "afp text gives the Big5 text" "$(cat "$TMP/big5.txt")"
grep -Eq '^08/21 +08/21 +ＡＴＭ.*-18$' "$TMP/big5.txt" && pass || fail "afp text: the ASCII around it" "$(cat "$TMP/big5.txt")"
"$AFP" text "$IN" >"$TMP/raw.txt" 2>&1 && ! has "$TMP/raw.txt" "$WANT" && pass ||
  fail "without the option the text is not decoded as Big5" "$(cat "$TMP/raw.txt")"
check "afp pdf --options code_pages 950" "$AFP" pdf "$IN" "$TMP/big5.pdf" --options "$OPT950" --quiet
check "qpdf --check (Big5)" qpdf --check "$TMP/big5.pdf"
pdffonts "$TMP/big5.pdf" >"$TMP/b5fonts.txt" 2>&1
grep -Eq 'DroidSansFallback +CID TrueType +Identity-H +yes +yes +yes' "$TMP/b5fonts.txt" && pass ||
  fail "pdffonts (Big5): CJK CID font with ToUnicode" "$(cat "$TMP/b5fonts.txt")"
pdftotext "$TMP/big5.pdf" "$TMP/big5pdf.txt"
has "$TMP/big5pdf.txt" "$WANT" && pass || fail "pdftotext gives the Big5 text" "$(cat "$TMP/big5pdf.txt")"
words=$(tr -s ' \n\f' ' ' < "$TMP/big5pdf.txt" | sed 's/^ //; s/ $//')
[ "$words" = "08/21 08/21 $WANT -18" ] && pass || fail "pdftotext words" "got: $words"

# PDF/A-2b: the CJK font and the Liberation fallback embedded, the in-tree checker passes
check "afp pdf pdfa 2b (Big5)" "$AFP" pdf "$IN" "$TMP/big5a.pdf" --options '{"code_pages": {"X1*": "950"}, "pdfa": "2b"}' --quiet
check "pdfa_check.py (Big5)" /usr/bin/python3 "$ROOT/test/pdfa_check.py" "$TMP/big5a.pdf"

# ---------------------------------------------------------------- 3. errors
"$AFP" text "$IN" --options '{"code_pages": {"X1GT12": "947"}}' >/dev/null 2>"$TMP/e1.err"; rc=$?
[ $rc -eq 2 ] && grep -q "byte offset 636" "$TMP/e1.err" && grep -q "CP947" "$TMP/e1.err" && pass ||
  fail "undefined code: exit 2 with offset" "rc=$rc" "$(cat "$TMP/e1.err")"
"$AFP" pdf "$IN" "$TMP/e1.pdf" --options '{"code_pages": {"X1GT12": "947"}}' >/dev/null 2>"$TMP/e1p.err"; rc=$?
[ $rc -eq 2 ] && grep -q "byte offset 636" "$TMP/e1p.err" && [ ! -e "$TMP/e1.pdf" ] && pass ||
  fail "afp pdf: undefined code exits 2 with offset, no file" "rc=$rc" "$(cat "$TMP/e1p.err")"
"$AFP" text "$IN" --options '{"code_pages": {"X1GT12": "949"}}' >/dev/null 2>"$TMP/e4.err"; rc=$?
[ $rc -eq 2 ] && grep -q "byte offset 662 .*X'A65E'.*CP949" "$TMP/e4.err" && pass ||
  fail "Big5 read as CP949: exit 2 at the first undefined code" "rc=$rc" "$(cat "$TMP/e4.err")"
"$AFP" text "$IN" --options '{"code_pages": {"X1GT12": "949"}, "missing": "warn"}' >"$TMP/w.txt" 2>"$TMP/w.err"; rc=$?
[ $rc -eq 0 ] && grep -q "warning: at byte offset 662 in PTX: code X'A65E'" "$TMP/w.err" &&
  has "$TMP/w.txt" "$(printf '\xef\xbf\xbd')" && has "$TMP/w.txt" "-18" && pass ||
  fail "missing warn: U+FFFD and warnings" "rc=$rc" "$(head -3 "$TMP/w.err")"
"$AFP" text "$IN" --options '{"code_pages": {"X1GT12": "4711"}}' >/dev/null 2>"$TMP/e2.err"; rc=$?
[ $rc -eq 2 ] && grep -q 'options.code_pages.X1GT12: unknown code page "4711"' "$TMP/e2.err" && pass ||
  fail "unknown code page: exit 2 naming the key" "rc=$rc" "$(cat "$TMP/e2.err")"
AFP_CJK_FONT=none "$AFP" pdf "$IN" "$TMP/none.pdf" --options "$OPT950" >/dev/null 2>"$TMP/e3.err"; rc=$?
[ $rc -eq 2 ] && grep -q "font X1GT12 has a double-byte code page but no CJK font" "$TMP/e3.err" &&
  [ ! -e "$TMP/none.pdf" ] && pass || fail "no CJK font: exit 2 naming the font" "rc=$rc" "$(cat "$TMP/e3.err")"

finish
