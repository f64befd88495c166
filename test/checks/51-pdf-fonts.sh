#!/usr/bin/env bash
# 51-pdf-fonts: raster font character sets as Type 3 fonts and the font map (docs/conversion.md).
#
#  1. The unit tests write an AFP whose inline resource group holds a FOCA raster font
#     character set (C0RAST00: Liberation Sans rendered by FreeType at 240 pels per inch, 10 pt)
#     and a page with one line in it and one line in Helvetica (AFP_RASTER_AFP_OUT). `bin/afp pdf`
#     converts it: qpdf --check passes, pdffonts lists a Type 3 font with ToUnicode, pdftotext
#     gives the words, and rasterised with pdftoppm every word of the raster line has ink inside
#     its pdftotext -bbox box (the glyphs are not blank).
#  2. The same page with {"raster_fonts": false} (Liberation Sans 10 pt outlines) is the visual
#     reference: the raster rendering must match it (F1 of dark pixels, pdf_visual_score.py,
#     150 dpi, radius 1, threshold 200) — glyph shapes, placement and advances agree; the same
#     for the 300-pel build of the font (4-byte pattern alignment); a control (the line in
#     Liberation Serif) must score below the threshold.
#  3. `--font-map FILE.json` replaces the raster set (Liberation Serif Bold, no Type 3, same
#     words); a bad map file fails with exit 2 naming the file and entry.
#  4. A damaged raster set (an FNM pattern offset past the FNG data) fails with exit 2 and the
#     byte offset of the FNM field; the outline font character set samples (Type 1,
#     afplib_C0X00006.afp and afplib_fnirg10.afp) in front of the page convert (not raster).
# Prints "pdf-fonts: N tests, M failed".
set -uo pipefail
export LC_ALL=C
NAME=pdf-fonts
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AFP=${AFP_BIN:-$ROOT/bin/afp}
SAMPLES=${AFP_SAMPLES:-$ROOT/../shared/samples}
PY=/usr/bin/python3
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
F1_MIN=0.95

tests=0 failed=0
pass() { tests=$((tests + 1)); }
fail() { tests=$((tests + 1)); failed=$((failed + 1)); echo "FAIL $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/    /'; done; }
check() { local what=$1; shift; local out; if out=$("$@" 2>&1); then pass; else fail "$what" "$out"; fi; }
finish() { echo "$NAME: $tests tests, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

if [ -z "${AFP_BIN:-}" ] && ! make -s -C "$ROOT" bin/afp >"$TMP/make.log" 2>&1; then
  fail "setup" "make bin/afp failed:" "$(tail -n 5 "$TMP/make.log")"; finish
fi
if ! make -s -C "$ROOT" build/unit_tests >"$TMP/make.log" 2>&1; then
  fail "setup" "make build/unit_tests failed:" "$(tail -n 5 "$TMP/make.log")"; finish
fi
for tool in qpdf pdftotext pdftoppm pdffonts; do
  command -v "$tool" >/dev/null || { fail "setup" "$tool not found (scripts/install-deps.sh)"; finish; }
done

# ---------------------------------------------------------------- 1. the raster font
(cd "$ROOT" && AFP_UNIT_SUITES=rasterfonts AFP_RASTER_AFP_OUT="$TMP/raster.afp" \
   AFP_RASTER300_AFP_OUT="$TMP/raster300.afp" build/unit_tests >"$TMP/unit.log" 2>&1)
[ -s "$TMP/raster.afp" ] && pass || { fail "unit tests write the raster font document" "$(tail -n 5 "$TMP/unit.log")"; finish; }
check "raster document converts" "$AFP" pdf "$TMP/raster.afp" "$TMP/raster.pdf" --quiet
check "qpdf --check (raster)" qpdf --check "$TMP/raster.pdf"
pdffonts "$TMP/raster.pdf" >"$TMP/fonts.txt" 2>&1
grep -Eq '^\[none\] +Type 3 +Custom +yes +no +yes' "$TMP/fonts.txt" && pass ||
  fail "pdffonts lists an embedded Type 3 font with ToUnicode" "$(cat "$TMP/fonts.txt")"
words=$(pdftotext "$TMP/raster.pdf" - | tr -s ' \n\f' ' ' | sed 's/ $//')
[ "$words" = "Raster fonts at 240 pel Outline line" ] && pass ||
  fail "pdftotext gives the words" "got: $words"
pdftotext -bbox "$TMP/raster.pdf" "$TMP/bbox.html"
pdftoppm -r 150 -gray -f 1 -l 1 "$TMP/raster.pdf" "$TMP/raster"
ink=$($PY - "$TMP/bbox.html" "$TMP"/raster-1.pgm <<'EOF'
import re, sys
html = open(sys.argv[1]).read()
data = open(sys.argv[2], "rb").read()
fields, pos = [], 0
while len(fields) < 4:
    while data[pos:pos + 1].isspace():
        pos += 1
    start = pos
    while not data[pos:pos + 1].isspace():
        pos += 1
    fields.append(data[start:pos])
w, h = int(fields[1]), int(fields[2])
px = data[pos + 1:pos + 1 + w * h]
k = 150 / 72.0
out = []
for m in re.finditer(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', html):
    x0, y0, x1, y1 = (float(v) * k for v in m.groups()[:4])
    word = m.group(5)
    if word not in ("Raster", "fonts", "at", "240", "pel"):
        continue
    dark = area = 0
    for y in range(int(y0), int(y1) + 1):
        for x in range(int(x0), int(x1) + 1):
            if 0 <= x < w and 0 <= y < h:
                area += 1
                dark += px[y * w + x] < 128
    out.append("%s:%.3f" % (word, dark / area if area else 0))
print(" ".join(out))
EOF
)
ok=1; n=0
for wf in $ink; do
  n=$((n + 1)); frac=${wf#*:}
  $PY -c "import sys; sys.exit(0 if float('$frac') >= 0.04 else 1)" || ok=0
done
[ "$ok" = 1 ] && [ "$n" = 5 ] && pass || fail "every word of the raster line has ink (dark fraction >= 0.04 of its box)" "$ink"
echo "    ink per word (dark fraction of its box): $ink"

# ---------------------------------------------------------------- 2. visual match with the outlines
check "reference converts" "$AFP" pdf "$TMP/raster.afp" "$TMP/outline.pdf" --quiet --options '{"raster_fonts": false}'
pdffonts "$TMP/outline.pdf" | grep -q 'Type 3' && fail "raster_fonts false has no Type 3" || pass
pdftoppm -r 150 -gray -f 1 -l 1 "$TMP/outline.pdf" "$TMP/outline"
score=$($PY "$ROOT/test/checks/pdf_visual_score.py" "$TMP/raster-1.pgm" "$TMP/outline-1.pgm" 1 200)
f1=$(printf '%s\n' "$score" | sed -n 's/.*f1=\([0-9.]*\).*/\1/p')
echo "    raster vs outline rendering: $score"
$PY -c "import sys; sys.exit(0 if float('${f1:-0}') >= $F1_MIN else 1)" && pass ||
  fail "raster rendering matches Liberation Sans outlines (F1 >= $F1_MIN)" "$score"
# the same at 300 pel (patterns on 4-byte boundaries)
check "300-pel document converts" "$AFP" pdf "$TMP/raster300.afp" "$TMP/r300.pdf" --quiet
check "qpdf --check (300 pel)" qpdf --check "$TMP/r300.pdf"
"$AFP" pdf "$TMP/raster300.afp" "$TMP/o300.pdf" --quiet --options '{"raster_fonts": false}'
pdftoppm -r 150 -gray -f 1 -l 1 "$TMP/r300.pdf" "$TMP/r300"
pdftoppm -r 150 -gray -f 1 -l 1 "$TMP/o300.pdf" "$TMP/o300"
score=$($PY "$ROOT/test/checks/pdf_visual_score.py" "$TMP/r300-1.pgm" "$TMP/o300-1.pgm" 1 200)
f1=$(printf '%s\n' "$score" | sed -n 's/.*f1=\([0-9.]*\).*/\1/p')
echo "    300 pel raster vs outline rendering: $score"
$PY -c "import sys; sys.exit(0 if float('${f1:-0}') >= $F1_MIN else 1)" && pass ||
  fail "300-pel raster rendering matches the outlines (F1 >= $F1_MIN)" "$score"
# control: the same line in Liberation Serif (a wrong font) must score below the threshold
echo '[{"char_set": "C0RAST*", "liberation": "serif"}]' >"$TMP/serif.json"
"$AFP" pdf "$TMP/raster.afp" "$TMP/serif.pdf" --quiet --font-map "$TMP/serif.json"
pdftoppm -r 150 -gray -f 1 -l 1 "$TMP/serif.pdf" "$TMP/serif"
score=$($PY "$ROOT/test/checks/pdf_visual_score.py" "$TMP/serif-1.pgm" "$TMP/outline-1.pgm" 1 200)
f1=$(printf '%s\n' "$score" | sed -n 's/.*f1=\([0-9.]*\).*/\1/p')
echo "    control, Liberation Serif vs Sans outlines: $score"
$PY -c "import sys; sys.exit(0 if float('${f1:-1}') < $F1_MIN else 1)" && pass ||
  fail "the scorer tells a wrong font apart (F1 < $F1_MIN)" "$score"

# ---------------------------------------------------------------- 3. --font-map
cat >"$TMP/map.json" <<'EOF'
[{"char_set": "C0RAST*", "liberation": "serif", "style": "bold", "comment": "replace the raster set"}]
EOF
check "--font-map converts" "$AFP" pdf "$TMP/raster.afp" "$TMP/mapped.pdf" --quiet --font-map "$TMP/map.json"
pdffonts "$TMP/mapped.pdf" >"$TMP/fonts2.txt" 2>&1
grep -q 'LiberationSerif-Bold' "$TMP/fonts2.txt" && ! grep -q 'Type 3' "$TMP/fonts2.txt" && pass ||
  fail "--font-map replaces the raster set with Liberation Serif Bold" "$(cat "$TMP/fonts2.txt")"
words=$(pdftotext "$TMP/mapped.pdf" - | tr -s ' \n\f' ' ' | sed 's/ $//')
[ "$words" = "Raster fonts at 240 pel Outline line" ] && pass || fail "mapped words" "got: $words"
check "qpdf --check (mapped)" qpdf --check "$TMP/mapped.pdf"
echo '[{"char_set": "C0RAST*", "liberation": "gothic"}]' >"$TMP/bad.json"
out=$("$AFP" pdf "$TMP/raster.afp" "$TMP/bad.pdf" --font-map "$TMP/bad.json" 2>&1); rc=$?
[ $rc -eq 2 ] && printf '%s' "$out" | grep -q "bad.json\[0\].liberation" && [ ! -e "$TMP/bad.pdf" ] && pass ||
  fail "a bad --font-map file: exit 2 naming the entry" "rc=$rc $out"

# ---------------------------------------------------------------- 4. damaged and outline sets
$PY - "$TMP/raster.afp" "$TMP/damaged.afp" <<'EOF' >"$TMP/fnm_offset"
import sys
d = bytearray(open(sys.argv[1], "rb").read())
p = 0
while p < len(d):
    n = int.from_bytes(d[p + 1:p + 3], "big")
    if d[p + 3:p + 6] == b"\xd3\xa2\x89":            # FNM: entry 0 offset past the patterns
        d[p + 9 + 4:p + 9 + 8] = (0x00FFFFF0).to_bytes(4, "big")
        print(p)
        break
    p += 1 + n
open(sys.argv[2], "wb").write(d)
EOF
out=$("$AFP" pdf "$TMP/damaged.afp" "$TMP/damaged.pdf" 2>&1); rc=$?
want="at byte offset $(( $(cat "$TMP/fnm_offset") + 9 )) (FNM)"
[ $rc -eq 2 ] && printf '%s' "$out" | grep -qF "$want" && pass ||
  fail "damaged FNM: exit 2 with the offset of the FNM entry ($want)" "rc=$rc $out"
for s in afplib_C0X00006 afplib_fnirg10; do
  if [ -r "$SAMPLES/afp/$s.afp" ]; then
    cat "$SAMPLES/afp/$s.afp" "$TMP/raster.afp" >"$TMP/$s.afp"
    check "$s (outline set) + raster page converts" "$AFP" pdf "$TMP/$s.afp" "$TMP/$s.pdf" --quiet
    check "qpdf --check ($s)" qpdf --check "$TMP/$s.pdf"
  else
    fail "sample $s" "not found in $SAMPLES/afp"
  fi
done

finish
