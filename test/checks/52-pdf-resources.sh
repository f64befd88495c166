#!/usr/bin/env bash
# 52-pdf-resources: external resources, form maps, PNG/TIFF object containers and IOCA tiles and
# masks in `bin/afp pdf` output (docs/conversion.md, "Resources, form maps and images").
#
#  1. test/checks/pdf_resources_gen.py writes main.afp (inline form map with a medium overlay,
#     duplex, 2 copies; page 1 includes overlay OEXT, page segment SEXT and object containers
#     PEXT and TEXT that only a resource directory holds; page 2 a tiled IOCA image and an image
#     with a transparency mask) and res/ (OEXT.ovl, SEXT.psg, PEXT.png with alpha, TEXT.tif).
#  2. Without --resources the conversion fails naming OEXT; with {"missing":"warn"} it succeeds
#     with one warning per missing resource; with --resources res it succeeds silently and
#     `qpdf --check` passes.
#  3. `pdfimages -list`: the PNG with its /SMask, the TIFF, the tiles and the mask are images.
#  4. Raster check (pdftoppm -r 72, one pixel per point): the medium overlay's rule on both
#     pages, the external overlay and segment rules, the PNG's red pel and its half-transparent
#     blue pel, the TIFF's green, the three tiles (red, blue, green) at their places, the masked
#     pel white and the unmasked one red; an empty spot stays white.
#  5. /ViewerPreferences with /Duplex /DuplexFlipLongEdge /NumCopies 2; 2 pages, and 4 pages
#     with {"copies": true}; `bin/afp split --pdf` fails without and succeeds with --resources.
#  6. afplib_start.afp (inline form map, simplex) converts and records /Simplex; fop/ext.afp
#     converts without missing-resource warnings when its overlay O1SAMP1 is in --resources
#     (a link to the overlay of afplib_cs.afp in a temporary directory).
# Prints "pdf-resources: N tests, M failed".
set -uo pipefail
export LC_ALL=C
NAME=pdf-resources
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AFP=${AFP_BIN:-$ROOT/bin/afp}
PY=/usr/bin/python3
SAMPLES=${AFP_SAMPLES:-$ROOT/../shared/samples}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

tests=0 failed=0
pass() { tests=$((tests + 1)); }
fail() { tests=$((tests + 1)); failed=$((failed + 1)); echo "FAIL $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/    /'; done; }
finish() { echo "$NAME: $tests tests, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
check() { if eval "$2"; then pass; else fail "$1" "${3:-}"; fi; }

if [ -z "${AFP_BIN:-}" ] && ! make -s -C "$ROOT" bin/afp >"$TMP/make.log" 2>&1; then
  fail "setup" "make bin/afp failed:" "$(tail -n 5 "$TMP/make.log")"; finish
fi
for tool in qpdf pdftoppm pdfimages; do
  command -v "$tool" >/dev/null || { fail "setup" "$tool not found (scripts/install-deps.sh)"; finish; }
done

# 1. inputs
if ! $PY "$ROOT/test/checks/pdf_resources_gen.py" "$TMP" 2>"$TMP/py.log"; then
  fail "build the inputs" "$(cat "$TMP/py.log")"; finish
fi

# 2. missing resources, warnings, resolution
"$AFP" pdf "$TMP/main.afp" "$TMP/none.pdf" 2>"$TMP/none.err"; rc=$?
check "without --resources: exit 2 naming OEXT" '[ $rc -eq 2 ] && grep -q "overlay OEXT" "$TMP/none.err"' "exit $rc: $(cat "$TMP/none.err")"
check "no partial output" '[ ! -e "$TMP/none.pdf" ]'
"$AFP" pdf "$TMP/main.afp" "$TMP/warn.pdf" --options '{"missing":"warn"}' 2>"$TMP/warn.err"; rc=$?
check "missing warn: 4 warnings" '[ $rc -eq 0 ] && [ "$(grep -c "warning:" "$TMP/warn.err")" -eq 4 ]' "exit $rc: $(cat "$TMP/warn.err")"
"$AFP" pdf "$TMP/main.afp" "$TMP/main.pdf" --resources "$TMP/res" 2>"$TMP/main.err"; rc=$?
check "--resources: converts silently" '[ $rc -eq 0 ] && [ ! -s "$TMP/main.err" ]' "exit $rc: $(cat "$TMP/main.err")"
check "qpdf --check" 'qpdf --check "$TMP/main.pdf" >"$TMP/qpdf.log" 2>&1' "see qpdf --check output"

# 3. images
pdfimages -list "$TMP/main.pdf" >"$TMP/images.txt" 2>&1
img() { awk -v p="$1" -v t="$2" -v w="$3" -v h="$4" -v c="$5" 'NR > 2 && $1 == p && $3 == t && $4 == w && $5 == h && $6 == c' "$TMP/images.txt" | wc -l; }
check "PNG image 2x1 rgb" '[ "$(img 1 image 2 1 rgb)" -ge 2 ]' "$(cat "$TMP/images.txt")"
check "PNG soft mask 2x1" '[ "$(img 1 smask 2 1 gray)" -eq 1 ]' "$(cat "$TMP/images.txt")"
check "tile images: bilevel 4x4 and RGB 8x4" '[ "$(img 2 stencil 4 4 -)" -eq 1 ] && [ "$(img 2 image 8 4 rgb)" -eq 1 ]' "$(cat "$TMP/images.txt")"
check "transparency mask 2x1" '[ "$(img 2 stencil 2 1 -)" -eq 1 ] || [ "$(img 2 mask 2 1 -)" -eq 1 ]' "$(cat "$TMP/images.txt")"

# 4. raster: prints "R G B" of (x, y) on page p at 72 dpi
pdftoppm -r 72 "$TMP/main.pdf" "$TMP/pg" 2>/dev/null
px() {
  $PY - "$TMP/pg-$1.ppm" "$2" "$3" <<'EOF'
import sys
d = open(sys.argv[1], 'rb').read()
parts = d.split(maxsplit=4)
w = int(parts[1]); x = int(sys.argv[2]); y = int(sys.argv[3])
o = (y * w + x) * 3
print(*d[len(d) - len(parts[4]) + o:][:3])
EOF
}
near() {   # near "R G B" r g b: each channel within 40 (false when the pixel could not be read)
  local a
  read -r -a a <<<"$1"
  [ ${#a[@]} -eq 3 ] || return 1
  [ $(( (a[0]-$2)*(a[0]-$2) < 1600 && (a[1]-$3)*(a[1]-$3) < 1600 && (a[2]-$4)*(a[2]-$4) < 1600 )) -eq 1 ]
}
pix() {   # pix NAME PAGE X Y R G B
  local v; v=$(px "$2" "$3" "$4" 2>/dev/null)
  if near "$v" "$5" "$6" "$7"; then pass; else fail "$1 at ($3,$4) page $2" "got $v, expected $5 $6 $7"; fi
}
pix "medium overlay rule" 1 72 45 0 0 0
pix "medium overlay rule" 2 72 45 0 0 0
pix "external overlay OEXT" 1 144 234 0 0 0
pix "external page segment SEXT" 1 108 396 0 0 0
pix "PNG red pel" 1 324 252 255 0 0
pix "PNG blue pel, alpha 128 over white" 1 396 252 127 127 255
pix "TIFF green" 1 360 396 0 160 0
pix "empty spot" 1 500 700 255 255 255
pix "tile 1 bilevel in red" 2 108 108 255 0 0
pix "tile 2 solid fill blue" 2 180 108 0 0 255
pix "tile 3 RGB green" 2 144 180 0 160 0
pix "masked pel" 2 324 108 255 255 255
pix "unmasked pel" 2 396 108 255 0 0

# 5. duplex and copies
qpdf --qdf --object-streams=disable "$TMP/main.pdf" "$TMP/qdf.pdf" 2>/dev/null
check "ViewerPreferences duplex, 2 copies" 'grep -aq "/Duplex /DuplexFlipLongEdge" "$TMP/qdf.pdf" && grep -aq "/NumCopies 2" "$TMP/qdf.pdf"'
pages() { qpdf --show-npages "$1" 2>/dev/null; }
check "copies do not multiply pages" '[ "$(pages "$TMP/main.pdf")" = 2 ]'
"$AFP" pdf "$TMP/main.afp" "$TMP/copies.pdf" --resources "$TMP/res" --options '{"copies": true}' 2>/dev/null
check "{\"copies\": true}: 4 pages" '[ "$(pages "$TMP/copies.pdf")" = 4 ] && qpdf --check "$TMP/copies.pdf" >/dev/null 2>&1'

# 5b. bin/afp split --pdf uses --resources too
"$AFP" split "$TMP/main.afp" "$TMP/split0" --pdf >/dev/null 2>"$TMP/split0.err"; rc=$?
check "split --pdf without --resources: exit 2 naming OEXT" '[ $rc -eq 2 ] && grep -q "overlay OEXT" "$TMP/split0.err"' "exit $rc: $(cat "$TMP/split0.err")"
"$AFP" split "$TMP/main.afp" "$TMP/split1" --pdf --resources "$TMP/res" >/dev/null 2>"$TMP/split1.err"; rc=$?
check "split --pdf --resources: the document's PDF" '[ $rc -eq 0 ] && [ "$(pages "$TMP/split1/0001.pdf")" = 2 ] && qpdf --check "$TMP/split1/0001.pdf" >/dev/null 2>&1' "exit $rc: $(cat "$TMP/split1.err")"

# 6. samples
if [ -f "$SAMPLES/afp/afplib_start.afp" ]; then
  "$AFP" pdf "$SAMPLES/afp/afplib_start.afp" "$TMP/start.pdf" 2>"$TMP/start.err"; rc=$?
  qpdf --qdf --object-streams=disable "$TMP/start.pdf" "$TMP/start.qdf" 2>/dev/null
  check "afplib_start.afp converts, /Simplex recorded" '[ $rc -eq 0 ] && qpdf --check "$TMP/start.pdf" >/dev/null 2>&1 && grep -aq "/Duplex /Simplex" "$TMP/start.qdf"' "exit $rc: $(cat "$TMP/start.err")"
  mkdir -p "$TMP/fopres"
  ln -s "$SAMPLES/afp/afplib_cs.afp" "$TMP/fopres/O1SAMP1.ovl"
  "$AFP" pdf "$SAMPLES/fop/ext.afp" "$TMP/ext.pdf" --resources "$TMP/fopres" 2>"$TMP/ext.err"; rc=$?
  check "fop/ext.afp with O1SAMP1 from --resources" '[ $rc -eq 0 ] && ! grep -q "O1SAMP1" "$TMP/ext.err" && qpdf --check "$TMP/ext.pdf" >/dev/null 2>&1' "exit $rc: $(cat "$TMP/ext.err")"
else
  fail "samples" "$SAMPLES/afp/afplib_start.afp not found"
fi
finish
