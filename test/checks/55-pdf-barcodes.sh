#!/usr/bin/env bash
# 55-pdf-barcodes: BCOCA bar codes drawn by `bin/afp pdf` decode to their data (docs/conversion.md).
#
#  1. test/checks/bcoca_pages.py writes an AFP file with one bar code object per page (Code 39,
#     EAN-13, UPC-A, Interleaved 2 of 5, Code 128 with HRI, QR Code plain and with a UTF-8 ECI
#     escape, Data Matrix, PDF417, Intelligent Mail) in the BDD/BDA layout of bcoca-reference-11
#     (the one core/afp_bcoca.c writes) and lists the expected decoded text per page.
#  2. It converts without warnings, `qpdf --check` passes, every page is rasterised with
#     `pdftoppm -r 300 -gray` and decoded with zbarimg (zbar-tools): each symbology zbar reads
#     must give exactly the data; for the others (Data Matrix, PDF417, IMB) the page must carry
#     dark modules.
#  3. A document from `bin/afp generate` with the generator's four symbologies: Code 128 and QR
#     decode to the template's data.
# Prints "pdf-barcodes: N tests, M failed".
set -uo pipefail
export LC_ALL=C
NAME=pdf-barcodes
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AFP=${AFP_BIN:-$ROOT/bin/afp}
PY=/usr/bin/python3
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

tests=0 failed=0
pass() { tests=$((tests + 1)); }
fail() { tests=$((tests + 1)); failed=$((failed + 1)); echo "FAIL $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/    /'; done; }
finish() { echo "$NAME: $tests tests, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

if [ -z "${AFP_BIN:-}" ] && ! make -s -C "$ROOT" bin/afp >"$TMP/make.log" 2>&1; then
  fail "setup" "make bin/afp failed:" "$(tail -n 5 "$TMP/make.log")"; finish
fi
for tool in qpdf pdftoppm zbarimg; do
  command -v "$tool" >/dev/null || { fail "setup" "$tool not found (scripts/install-deps.sh)"; finish; }
done

# Decodes page $2 of PDF $1 at 300 dpi; prints zbarimg's "TYPE:data" lines, sorted.
decode() {
  rm -f "$TMP"/pg-*.pgm
  pdftoppm -r 300 -gray -f "$2" -l "$2" "$1" "$TMP/pg" 2>/dev/null
  zbarimg -q --raw -Sdisable -Sean13.enable -Supca.enable -Scode39.enable -Si25.enable \
    -Scode128.enable -Sqrcode.enable "$TMP"/pg-*.pgm 2>/dev/null | sort
}
# Dark pixels (< 128) of page $2 of PDF $1 at 100 dpi.
dark() {
  rm -f "$TMP"/dk-*.pgm
  pdftoppm -r 100 -gray -f "$2" -l "$2" "$1" "$TMP/dk" 2>/dev/null
  $PY - "$TMP"/dk-*.pgm <<'EOF'
import sys
d = open(sys.argv[1], 'rb').read()
parts = d.split(maxsplit=4)          # P5 w h max data
print(sum(1 for b in parts[4] if b < 128))
EOF
}

# 1-2. one symbol per page
if ! $PY "$ROOT/test/checks/bcoca_pages.py" "$TMP/bc.afp" >"$TMP/expect.txt" 2>"$TMP/py.log"; then
  fail "build the bar code AFP" "$(cat "$TMP/py.log")"; finish
fi
if "$AFP" pdf "$TMP/bc.afp" "$TMP/bc.pdf" >"$TMP/pdf.log" 2>&1 && [ ! -s "$TMP/pdf.log" ]; then pass
else fail "bar code pages convert without warnings" "$(head -n 5 "$TMP/pdf.log")"; fi
if qpdf --check "$TMP/bc.pdf" >/dev/null 2>&1; then pass; else fail "qpdf --check bar code PDF"; fi
page=0
while IFS=$'\t' read -r kind expected; do
  page=$((page + 1))
  if [ "$kind" = "-" ]; then
    n=$(dark "$TMP/bc.pdf" "$page")
    if [ "${n:-0}" -gt 200 ]; then pass
    else fail "page $page ($expected): no dark modules ($n dark pixels)"; fi
  else
    got=$(decode "$TMP/bc.pdf" "$page")
    if [ "$got" = "$expected" ]; then pass
    else fail "page $page ($kind) decodes to its data" "expected: $expected" "got:      $got"; fi
  fi
done <"$TMP/expect.txt"

# 3. the generator's bar codes
cat >"$TMP/t.json" <<'EOF'
{"page": {"size": "A4"},
 "fixed": [
  {"type": "barcode", "symbology": "code128", "data": "{{id}}", "x": 60, "y": 60, "hri": true},
  {"type": "barcode", "symbology": "qr", "data": "{{url}}", "x": 60, "y": 200},
  {"type": "barcode", "symbology": "datamatrix", "data": "{{id}}", "x": 300, "y": 200},
  {"type": "barcode", "symbology": "imb", "data": "01234567094987654321", "x": 60, "y": 400, "hri": true}
 ],
 "body": [{"type": "text", "text": "Bar codes {{id}}"}]}
EOF
echo '{"id": "INV-2026-0042", "url": "https://example.org/pay?ref=42&amt=180.45"}' >"$TMP/d.json"
if "$AFP" generate "$TMP/t.json" "$TMP/d.json" -o "$TMP/gen.afp" >"$TMP/gen.log" 2>&1 \
   && "$AFP" pdf "$TMP/gen.afp" "$TMP/gen.pdf" >"$TMP/genpdf.log" 2>&1 && [ ! -s "$TMP/genpdf.log" ]; then
  pass
  got=$(decode "$TMP/gen.pdf" 1 | tr '\n' '|')
  expected="INV-2026-0042|https://example.org/pay?ref=42&amt=180.45|"
  if [ "$got" = "$expected" ]; then pass
  else fail "generated Code 128 and QR decode to the data" "expected: $expected" "got:      $got"; fi
else
  fail "generate and convert a bar code page" "$(cat "$TMP/gen.log" "$TMP/genpdf.log" | head -n 5)"
fi
finish
