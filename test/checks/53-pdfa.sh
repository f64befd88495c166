#!/usr/bin/env bash
# 53-pdfa: `bin/afp pdf --options '{"pdfa":"2b"}'` (docs/conversion.md, "PDF/A-2b").
#
# No PDF/A validator is installable here (veraPDF is not packaged by Debian or npm), so every
# output is checked with the in-tree checker test/pdfa_check.py (its rules: `pdfa_check.py
# --help`) and with `qpdf --check`.
#  1. Every ../shared/samples afp/*.afp and fop/*.afp with a page converts with {"pdfa":"2b",
#     "missing":"warn"} (and the pages count of pdfinfo equals `bin/afp pages`); the files
#     without pages must still fail with "no pages". Each PDF passes pdfa_check.py and qpdf.
#  2. The same for the outputs of the examples: examples/statement, invoice and letter generated
#     with `bin/afp generate` (images, QR codes, rules, boxes, page groups → bookmarks and
#     metadata), the demo letters composed with `bin/afp compose`, and a CMYK-coloured page.
#  3. Metadata: title/author options reach Info and XMP (pdfinfo), pdfaid part 2 / B present.
#  4. The checker is not blind: a plain PDF (no "pdfa") and PDF/A files damaged in place (a /W
#     width, the XMP title, a DeviceCMYK operator, the trailer /ID, the ICC signature) must fail
#     with the rule that was broken.
#  5. {"pdfa":"2b","fonts":"base14"} and {"pdfa":"1b"} are refused with exit 2 and a message.
# Environment: AFP_SAMPLES (<repo>/../shared/samples), AFP_BIN. Prints "pdfa: N tests, M failed".
set -uo pipefail
NAME=pdfa
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AFP_SAMPLES=${AFP_SAMPLES:-$ROOT/../shared/samples}
AFP=${AFP_BIN:-$ROOT/bin/afp}
PY=/usr/bin/python3
CHECK=$ROOT/test/pdfa_check.py
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
OPTS='{"pdfa":"2b","missing":"warn"}'

tests=0 failed=0
pass() { tests=$((tests + 1)); }
fail() { tests=$((tests + 1)); failed=$((failed + 1)); echo "FAIL $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/    /'; done; }
finish() { echo "$NAME: $tests tests, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

if [ -z "${AFP_BIN:-}" ] && ! make -s -C "$ROOT" bin/afp >"$TMP/make.log" 2>&1; then
  fail "setup" "make bin/afp failed:" "$(tail -n 5 "$TMP/make.log")"; finish
fi
for tool in qpdf pdfinfo; do
  command -v "$tool" >/dev/null || { fail "setup" "$tool not found (apt-get install qpdf poppler-utils)"; finish; }
done
[ -x "$PY" ] || { fail "setup" "$PY not found"; finish; }

# Converts $1 to $2 with PDF/A options $3 and checks it: pdfa_check, qpdf, page count ($4).
convert_and_check() {
  local in=$1 out=$2 opts=$3 pages=$4 log
  if ! log=$("$AFP" pdf "$in" "$out" --quiet --options "$opts" 2>&1); then
    fail "convert $(basename "$in")" "$log"; return
  fi
  pass
  if log=$("$PY" "$CHECK" "$out" 2>&1); then pass; else fail "pdfa_check $(basename "$in")" "$log"; fi
  if log=$(qpdf --check "$out" 2>&1); then pass; else fail "qpdf --check $(basename "$in")" "$(echo "$log" | tail -n 5)"; fi
  local got
  got=$(pdfinfo "$out" 2>/dev/null | awk '/^Pages:/ {print $2}')
  if [ "$got" = "$pages" ]; then pass; else fail "pages $(basename "$in")" "pdfinfo $got, bin/afp pages $pages"; fi
}

# 1. samples
mapfile -t SAMPLES < <(cd "$AFP_SAMPLES" && ls afp/*.afp fop/*.afp 2>/dev/null)
[ ${#SAMPLES[@]} -gt 0 ] || { fail "setup" "no samples under $AFP_SAMPLES"; finish; }
converted=0
for s in "${SAMPLES[@]}"; do
  in=$AFP_SAMPLES/$s
  out=$TMP/$(echo "$s" | tr '/' '_' | sed 's/\.afp$//').pdf
  pages=$("$AFP" pages "$in" 2>/dev/null || echo error)
  if [ "$pages" = "0" ]; then
    if log=$("$AFP" pdf "$in" "$out" --quiet --options "$OPTS" 2>&1); then
      fail "no pages $s" "converted although it has no page"
    elif echo "$log" | grep -q "no pages"; then pass; else fail "no pages $s" "$log"; fi
    continue
  fi
  convert_and_check "$in" "$out" "$OPTS" "$pages"
  converted=$((converted + 1))
done
[ "$converted" -ge 7 ] && pass || fail "sample count" "only $converted samples with pages converted (7 expected)"

# 2. examples
for ex in statement invoice letter; do
  if "$AFP" generate "$ROOT/examples/$ex/template.json" "$ROOT/examples/$ex/data.json" \
       -o "$TMP/ex_$ex.afp" --resources "$ROOT/examples/resources" >"$TMP/gen.log" 2>&1; then
    pass
    convert_and_check "$TMP/ex_$ex.afp" "$TMP/ex_$ex.pdf" "$OPTS" "$("$AFP" pages "$TMP/ex_$ex.afp")"
  else
    fail "generate examples/$ex" "$(tail -n 3 "$TMP/gen.log")"
  fi
done
for t in "$ROOT"/examples/demo/*.txt; do
  b=$(basename "$t" .txt)
  if "$AFP" compose -o "$TMP/$b.afp" --name "$b" --index Letter="$b" "$t" 2>"$TMP/c.log"; then
    convert_and_check "$TMP/$b.afp" "$TMP/$b.pdf" "$OPTS" "$("$AFP" pages "$TMP/$b.afp")"
  else
    fail "compose $b" "$(cat "$TMP/c.log")"
  fi
done
# a page whose text is coloured with a PTOCA SEC in CMYK (and a DeviceCMYK image through the
# writer) comes from the unit tests; here: the CMYK rule on converted text, uncompressed
"$PY" - "$TMP/cmyk.afp" <<'EOF'
import struct, sys
def sf(idn, data=b""):
    return b"\x5a" + struct.pack(">H", len(data) + 8) + bytes.fromhex(idn) + b"\x00\x00\x00" + data
name = lambda s: s.encode("cp500").ljust(8, b"\x40")
# PTX: SCFL 1, AMB 240, AMI 72, SEC (CMYK, 4 x 8 bits: 100 % cyan), TRN "CYAN"
ptx = (b"\x2b\xd3" + b"\x03\xf1\x01" + b"\x04\xd3\x00\xf0" + b"\x04\xc7\x00\x48"
       + b"\x10\x81\x00\x04\x00\x00\x00\x00\x08\x08\x08\x08\xff\x00\x00\x00"
       + b"\x06\xda" + "CYAN".encode("cp500"))
# MCF-2: one repeating group, FCS C0H20000 + code page T1V10500 as LID 1
mcf = (struct.pack(">H", 2 + 12 + 12 + 4) + b"\x0c\x02\x86\x00" + name("C0H20000")
       + b"\x0c\x02\x85\x00" + name("T1V10500") + b"\x04\x24\x05\x01")
pgd = b"\x00\x00\x09\x60\x09\x60" + (1984).to_bytes(3, "big") + (2806).to_bytes(3, "big") + b"\x00\x00\x00"
ptd = b"\x00\x00\x09\x60\x09\x60" + (1984).to_bytes(3, "big") + (2806).to_bytes(3, "big") + b"\x00\x00"
out = (sf("D3A8A8", name("DOC1")) + sf("D3A8AF", name("PAGE1")) + sf("D3A8C9") + sf("D3AB8A", mcf)
       + sf("D3A6AF", pgd) + sf("D3B19B", ptd) + sf("D3A9C9") + sf("D3A89B") + sf("D3EE9B", ptx)
       + sf("D3A99B") + sf("D3A9AF", name("PAGE1")) + sf("D3A9A8", name("DOC1")))
open(sys.argv[1], "wb").write(out)
EOF
if "$AFP" pdf "$TMP/cmyk.afp" "$TMP/cmyk_plain.pdf" --quiet --options '{"compress":false}' 2>"$TMP/e.log" &&
   "$AFP" pdf "$TMP/cmyk.afp" "$TMP/cmyk_pdfa.pdf" --quiet --options '{"compress":false,"pdfa":"2b"}' 2>>"$TMP/e.log"; then
  if grep -aq '^1 0 0 0 k' "$TMP/cmyk_plain.pdf" && ! grep -aq ' k$\| k ' "$TMP/cmyk_pdfa.pdf" &&
     grep -aq '^0 1 1 rg' "$TMP/cmyk_pdfa.pdf"; then pass
  else fail "CMYK text colour" "plain: $(grep -a ' k' "$TMP/cmyk_plain.pdf" | head -2)" "pdfa: $(grep -a ' rg' "$TMP/cmyk_pdfa.pdf" | head -2)"; fi
  if log=$("$PY" "$CHECK" "$TMP/cmyk_pdfa.pdf" 2>&1); then pass; else fail "pdfa_check CMYK page" "$log"; fi
  out=$("$PY" "$CHECK" "$TMP/cmyk_plain.pdf" 2>&1)
  if grep -q "6.2.4 colour: page: DeviceCMYK operator k" <<<"$out"; then pass
  else fail "checker flags DeviceCMYK k"; fi
else
  fail "convert cmyk.afp" "$(cat "$TMP/e.log")"
fi

# a FOCA raster font carried in the file: its text becomes a Type 3 font (afp_convert_raster.c)
# — d1 glyph procedures with inline image masks, /Widths from the character increments; one
# character ('C') is not in the set (an empty glyph, never .notdef)
"$PY" - "$TMP/raster.afp" <<'EOF'
import struct, sys
def sf(idn, data=b""):
    return b"\x5a" + struct.pack(">H", len(data) + 8) + bytes.fromhex(idn) + b"\x00\x00\x00" + data
name = lambda s: s.encode("cp500").ljust(8, b"\x40")
u2 = lambda v: struct.pack(">H", v & 0xFFFF)
chars = [("LA020000", bytes.fromhex("ff818181818181ff")), ("LB020000", bytes.fromhex("183c66c3c3663c18"))]
pat, fni, fnm = b"", b"", b""
for i, (g, bits) in enumerate(chars):
    fnm += u2(7) + u2(7) + u2(len(pat) >> 16) + u2(len(pat))
    # GCGID, increment, ascender, descender, reserved, FNM index, A/B/C-space, reserved, baseline
    fni += name(g) + u2(10) + u2(8) + u2(0) + u2(0) + u2(i) + u2(1) + u2(8) + u2(1) + u2(0) + u2(8)
    pat += bits
fnd = bytearray(80); fnd[:32] = "RASTER PDFA 240".encode("cp500").ljust(32, b"\x40"); fnd[32] = fnd[33] = 5; fnd[37] = 100
fnc = bytearray(42); fnc[0], fnc[1] = 1, 5; fnc[6:8] = fnc[8:10] = u2(2400); fnc[10:12] = fnc[12:14] = u2(7)
fnc[14], fnc[15], fnc[16] = 0x1A, 0x1C, 0; fnc[17:20] = len(pat).to_bytes(3, "big"); fnc[20], fnc[21] = 0x16, 0x08
fno = bytearray(26); fno[9] = fno[21] = 22
fnp = bytearray(22); fnp[18], fnp[21] = 2, 5
font = (sf("D3A889", name("C0RAST00")) + sf("D3A689", bytes(fnd)) + sf("D3A789", bytes(fnc))
        + sf("D3AE89", bytes(fno)) + sf("D3AC89", bytes(fnp)) + sf("D38C89", fni) + sf("D3A289", fnm)
        + sf("D3EE89", pat) + sf("D3A989", name("C0RAST00")))
mcf = (struct.pack(">H", 2 + 12 + 12 + 4) + b"\x0c\x02\x86\x00" + name("C0RAST00") + b"\x0c\x02\x85\x00"
       + name("T1V10500") + b"\x04\x24\x05\x01")
pgd = b"\x00\x00\x09\x60\x09\x60" + (1984).to_bytes(3, "big") + (2806).to_bytes(3, "big") + b"\x00\x00\x00"
text = "ABCAB".encode("cp500")
ptx = b"\x2b\xd3" + b"\x04\xd3" + u2(480) + b"\x04\xc7" + u2(240) + b"\x03\xf1\x01" + bytes([2 + len(text), 0xDA]) + text
doc = (sf("D3A8C6", name("RG1")) + sf("D3A8CE", name("C0RAST00")) + font + sf("D3A9CE", name("C0RAST00"))
       + sf("D3A9C6", name("RG1")) + sf("D3A8A8", name("DOC1")) + sf("D3A8AF", name("PAGE1"))
       + sf("D3A8C9") + sf("D3AB8A", mcf) + sf("D3A6AF", pgd) + sf("D3B19B", pgd[:14]) + sf("D3A9C9")
       + sf("D3A89B") + sf("D3EE9B", ptx) + sf("D3A99B") + sf("D3A9AF", name("PAGE1")) + sf("D3A9A8", name("DOC1")))
open(sys.argv[1], "wb").write(doc)
EOF
if "$AFP" pdf "$TMP/raster.afp" "$TMP/raster.pdf" --quiet --options '{"pdfa":"2b","compress":false}' 2>"$TMP/e.log"; then
  if grep -aq "/Subtype /Type3" "$TMP/raster.pdf"; then pass; else fail "raster font drawn as Type 3" "$(head -c 600 "$TMP/raster.pdf")"; fi
  out=$("$PY" "$CHECK" "$TMP/raster.pdf" 2>&1)
  if [ $? -eq 0 ] && grep -q "glyphs checked" <<<"$out"; then pass; else fail "pdfa_check Type 3 page" "$out"; fi
  # the checker compares Type 3 /Widths with the d1 advances: one width changed must fail
  sed 's|/Widths \[\([0-9]\)\([0-9]*\)|/Widths [9\2|' "$TMP/raster.pdf" > "$TMP/raster_bad.pdf"
  out=$("$PY" "$CHECK" "$TMP/raster_bad.pdf" 2>&1)
  if [ $? -ne 0 ] && grep -q "6.2.11.5 widths: page: Type 3 font" <<<"$out"; then pass
  else fail "checker flags a Type 3 width" "$out"; fi
else
  fail "convert raster.afp" "$(cat "$TMP/e.log")"
fi

# 3. metadata
fop_text=$AFP_SAMPLES/fop/text.afp
if "$AFP" pdf "$fop_text" "$TMP/meta.pdf" --quiet \
     --options '{"pdfa":"2b","title":"Kontoauszug März","author":"Stadtwerke & Co"}' 2>"$TMP/e.log"; then
  info=$(pdfinfo "$TMP/meta.pdf"; pdfinfo -meta "$TMP/meta.pdf")
  for want in "Title:           Kontoauszug März" "Author:          Stadtwerke & Co" \
              "<pdfaid:part>2</pdfaid:part>" "<pdfaid:conformance>B</pdfaid:conformance>" \
              '<rdf:li xml:lang="x-default">Kontoauszug März</rdf:li>' \
              "<rdf:li>Stadtwerke &amp; Co</rdf:li>" "<pdf:Producer>afp afp_to_pdf</pdf:Producer>"; do
    if grep -qF "$want" <<<"$info"; then pass; else fail "metadata has '$want'" "$info"; fi
  done
  if log=$("$PY" "$CHECK" "$TMP/meta.pdf" 2>&1); then pass; else fail "pdfa_check metadata" "$log"; fi
  # same input and SOURCE_DATE_EPOCH: identical bytes (dates and /ID reproducible)
  SOURCE_DATE_EPOCH=1767225600 "$AFP" pdf "$fop_text" "$TMP/r1.pdf" --quiet --options '{"pdfa":"2b"}'
  SOURCE_DATE_EPOCH=1767225600 "$AFP" pdf "$fop_text" "$TMP/r2.pdf" --quiet --options '{"pdfa":"2b"}'
  if cmp -s "$TMP/r1.pdf" "$TMP/r2.pdf" && pdfinfo "$TMP/r1.pdf" | grep -q "CreationDate:.*Jan  1 00:00:00 2026"; then pass
  else fail "reproducible with SOURCE_DATE_EPOCH" "$(pdfinfo "$TMP/r1.pdf" | grep Date)"; fi
else
  fail "convert with title/author" "$(cat "$TMP/e.log")"
fi

# 4. the checker rejects what it should (damage in place keeps every offset valid)
"$AFP" pdf "$fop_text" "$TMP/good.pdf" --quiet --options '{"pdfa":"2b","compress":false}'
"$AFP" pdf "$fop_text" "$TMP/plain.pdf" --quiet
expect_rule() {   # name file rule
  local out
  out=$("$PY" "$CHECK" "$2" 2>&1)
  if [ $? -ne 0 ] && grep -qF "$3" <<<"$out"; then pass; else fail "checker: $1 must fail $3" "$out"; fi
}
if "$PY" "$CHECK" "$TMP/good.pdf" >/dev/null 2>&1; then pass; else fail "uncompressed PDF/A passes" "$("$PY" "$CHECK" "$TMP/good.pdf")"; fi
expect_rule "plain PDF" "$TMP/plain.pdf" "6.2.2 output intent: no GTS_PDFA1 output intent"
expect_rule "plain PDF" "$TMP/plain.pdf" "6.6.2 metadata: catalog has no /Metadata stream"
expect_rule "plain PDF" "$TMP/plain.pdf" "6.1.3 trailer: trailer has no /ID"
"$PY" - "$TMP/good.pdf" "$TMP" <<'EOF'
import re, sys
d = open(sys.argv[1], "rb").read()
out = sys.argv[2]
def same_len(a, b):
    assert len(a) == len(b), (a, b)
    return b
# a width in /W changed by 2 units (same number of digits)
m = re.search(rb"/W \[\d+ \[(\d+)", d)
w = m.group(1)
nw = str(int(w) + 2 if int(w) < 990 else int(w) - 2).encode().rjust(len(w), b"0")[-len(w):]
open(out + "/bad_w.pdf", "wb").write(d[:m.start(1)] + nw + d[m.end(1):])
# the XMP title differs from Info /Title
m = re.search(rb'x-default">([^<]+)<', d)
t = m.group(1)
open(out + "/bad_xmp.pdf", "wb").write(d[:m.start(1)] + b"X" * len(t) + d[m.end(1):])
# a DeviceCMYK operator in a content stream (BT becomes " k": same length)
m = re.search(rb"\nBT\n", d)
open(out + "/bad_k.pdf", "wb").write(d[:m.start() + 1] + b" k" + d[m.start() + 3:])
# trailer without /ID (renamed key)
open(out + "/bad_id.pdf", "wb").write(d.replace(b" /ID [", b" /IX [", 1))
# ICC signature damaged
i = d.index(b"acsp")
open(out + "/bad_icc.pdf", "wb").write(d[:i] + b"acsq" + d[i + 4:])
EOF
expect_rule "width changed" "$TMP/bad_w.pdf" "6.2.11.5 widths"
expect_rule "XMP title changed" "$TMP/bad_xmp.pdf" "6.6.2.3 info: Info /Title"
expect_rule "DeviceCMYK operator" "$TMP/bad_k.pdf" "6.2.4 colour"
expect_rule "no /ID" "$TMP/bad_id.pdf" "6.1.3 trailer: trailer has no /ID"
expect_rule "ICC damaged" "$TMP/bad_icc.pdf" "lacks the 'acsp' signature"

# 5. refused options
if out=$("$AFP" pdf "$fop_text" "$TMP/x.pdf" --options '{"pdfa":"2b","fonts":"base14"}' 2>&1); then
  fail "pdfa + base14 refused" "exit 0"
elif grep -q 'base14.*cannot be combined with "pdfa"' <<<"$out" && [ ! -e "$TMP/x.pdf" ]; then pass
else fail "pdfa + base14 refused" "$out"; fi
if out=$("$AFP" pdf "$fop_text" "$TMP/x.pdf" --options '{"pdfa":"1b"}' 2>&1); then
  fail "pdfa 1b refused" "exit 0"
elif grep -q 'options.pdfa: expected "2b"' <<<"$out"; then pass; else fail "pdfa 1b refused" "$out"; fi
finish
