#!/usr/bin/env bash
# 40-generate: the generator end to end through `bin/afp generate`.
#  - every example in examples/ generates, passes `bin/afp validate` with no message, is split
#    into the same fields by Apache FOP's MODCAParser as by our reader, and its text (bin/afp
#    text) holds exactly the words the template and data should produce (expectation computed
#    independently from data.json by test/generate/expected_words.py);
#  - the statement has ≥ 2 pages, a repeated table header, a logo image (IOCA), a QR code (BCOCA
#    type X'20'), a form map with IMM, and TLE index values per document;
#  - a batch (data array) gives one print file with one named page group per document;
#  - bad templates and data fail with exit 2, a message naming the JSON path, and no output file.
set -uo pipefail
NAME=40-generate
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AFP=${AFP_BIN:-$ROOT/bin/afp}
EX=$ROOT/examples
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
PY=/usr/bin/python3

tests=0 failed=0
pass() { tests=$((tests + 1)); }
fail() { tests=$((tests + 1)); failed=$((failed + 1)); echo "FAIL $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/    /'; done; }
finish() { echo "$NAME: $tests tests, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }
check() { local what=$1; shift; if "$@" >"$TMP/out" 2>&1; then pass; else fail "$what" "$(head -c 800 "$TMP/out")"; fi; }

if [ -z "${AFP_BIN:-}" ] && ! make -s -C "$ROOT" bin/afp >"$TMP/make.log" 2>&1; then
  fail "setup" "make bin/afp failed:" "$(tail -n 5 "$TMP/make.log")"; finish
fi

# FOP's MODCAParser (see 20-fop-modcaparser.sh)
JARS=/usr/share/java
CP=$JARS/fop-core.jar:$JARS/commons-logging.jar:$JARS/commons-io.jar:$JARS/xmlgraphics-commons.jar
JAVA_OUT=$ROOT/build/java
if [ ! -f "$JAVA_OUT/FopFraming.class" ] || [ "$ROOT/test/java/FopFraming.java" -nt "$JAVA_OUT/FopFraming.class" ]; then
  mkdir -p "$JAVA_OUT"
  javac -nowarn -d "$JAVA_OUT" -cp "$CP" "$ROOT/test/java/FopFraming.java" >"$TMP/javac.log" 2>&1 ||
    { fail "setup" "javac FopFraming.java failed: $(tail -n 3 "$TMP/javac.log")"; finish; }
fi

# fop_same FILE: FOP's field list (offset, length, id) equals ours.
fop_same() {
  java -cp "$JAVA_OUT:$CP" FopFraming "$1" | cut -f2-4 >"$TMP/fop.tsv" || return 1
  grep -q ERROR "$TMP/fop.tsv" && { cat "$TMP/fop.tsv"; return 1; }
  "$AFP" dump "$1" | cut -f1-3 >"$TMP/our.tsv" || return 1
  [ -s "$TMP/our.tsv" ] && diff "$TMP/fop.tsv" "$TMP/our.tsv"
}

# valid FILE: bin/afp validate exits 0 and prints nothing (no warnings either).
valid() { local o; o=$("$AFP" validate "$1") && [ -z "$o" ] || { echo "$o"; return 1; }; }

for ex in statement letter invoice; do
  out=$TMP/$ex.afp
  if ! "$AFP" generate "$EX/$ex/template.json" "$EX/$ex/data.json" -o "$out" --resources "$EX/resources" >"$TMP/gen.log" 2>&1; then
    fail "$ex: generate" "$(cat "$TMP/gen.log")"; continue
  fi
  pass
  check "$ex: validate" valid "$out"
  check "$ex: FOP MODCAParser framing" fop_same "$out"
  pages=$("$AFP" pages "$out")
  "$AFP" text "$out" >"$TMP/$ex.txt"
  check "$ex: text holds exactly the expected words" $PY "$ROOT/test/generate/expected_words.py" "$ex" "$TMP/$ex.txt" "$pages"
done

# the generated examples convert to PDF (afp_to_pdf's CLI) with the same words: generation and
# conversion checked against each other, and the PDF against qpdf
if "$AFP" pdf --help >/dev/null 2>&1; then
  for ex in statement letter invoice; do
    [ -f "$TMP/$ex.afp" ] || continue
    if "$AFP" pdf "$TMP/$ex.afp" "$TMP/$ex.pdf" --quiet >"$TMP/pdf.log" 2>&1; then
      pass
      check "$ex: PDF passes qpdf --check" qpdf --check "$TMP/$ex.pdf"
      pdftotext -layout "$TMP/$ex.pdf" "$TMP/$ex.pdf.txt" 2>/dev/null
      check "$ex: PDF text holds exactly the expected words" $PY "$ROOT/test/generate/expected_words.py" "$ex" "$TMP/$ex.pdf.txt" "$("$AFP" pages "$TMP/$ex.afp")" pdf
    else
      fail "$ex: pdf" "$(cat "$TMP/pdf.log")"
    fi
  done
fi

# statement structure
S=$TMP/statement.afp
if [ -f "$S" ]; then
  "$AFP" dump --detail "$S" >"$TMP/sd"
  check "statement: at least 2 pages" test "$("$AFP" pages "$S")" -ge 2
  check "statement: logo image object (BIM/IPD)" grep -q $'\tBIM\t' "$TMP/sd"
  check "statement: the logo is one inline resource, included by IOB on every page" sh -c "[ \$(grep -c '	BIM	' \"$TMP/sd\") -eq 1 ] && [ \$(grep -c '	IOB	' \"$TMP/sd\") -eq \$(\"$AFP\" pages \"$S\") ]"
  check "statement: QR code (BCOCA, BDD type X'20')" $PY - "$S" <<'PYEOF'
import sys
b = open(sys.argv[1], "rb").read()
pos, types = 0, []
while pos < len(b):
    ln = int.from_bytes(b[pos + 1:pos + 3], "big")
    if b[pos + 3:pos + 6] == bytes.fromhex("D3A6EB"):
        types.append(b[pos + 9 + 12])
    pos += ln + 1
sys.exit(0 if 0x20 in types else 1)
PYEOF
  check "statement: form map + IMM" sh -c "grep -q '	BFM	' \"$TMP/sd\" && grep -q '	IMM	' \"$TMP/sd\""
  check "statement: Helvetica core fonts (C0H2...) via MCF-2" grep -q '"value": "C0H2' "$TMP/sd"
  "$AFP" documents "$S" >"$TMP/docs"
  check "statement: one document with TLE index" sh -c "[ \$(wc -l < \"$TMP/docs\") -eq 1 ] && grep -q '\"AccountNumber\": \"DE89370400440532013000\"' \"$TMP/docs\" && grep -q '\"CustomerName\": \"Erika Mustermann\"' \"$TMP/docs\""
fi

# batch: three statements in one print file
$PY - "$EX/statement/data.json" "$TMP/batch.json" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
docs = []
for i, name in enumerate(["Anna Alpha", "Bert Beta", "Cora Gamma"]):
    x = json.loads(json.dumps(d))
    x["customer"]["name"] = name
    x["account"]["number"] = "DE0000000000000000000%d" % i
    x["transactions"] = x["transactions"][: 10 + 40 * i]
    docs.append(x)
json.dump(docs, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False)
PYEOF
if "$AFP" generate "$EX/statement/template.json" "$TMP/batch.json" -o "$TMP/batch.afp" --resources "$EX/resources" >"$TMP/gen.log" 2>&1; then
  pass
  "$AFP" documents "$TMP/batch.afp" >"$TMP/bdocs"
  check "batch: 3 named page groups" test "$(wc -l <"$TMP/bdocs")" -eq 3
  check "batch: index values per document" sh -c "grep -q 'Bert Beta' \"$TMP/bdocs\" && grep -q 'Cora Gamma' \"$TMP/bdocs\""
  check "batch: validate" valid "$TMP/batch.afp"
  check "batch: FOP MODCAParser framing" fop_same "$TMP/batch.afp"
else
  fail "batch: generate" "$(cat "$TMP/gen.log")"
fi

# overlays and page segments: included by name (IPO/IPS) and embedded in the inline resource group
mkdir -p "$TMP/res"
$PY - "$TMP/res" <<'PYEOF'
import sys, struct
def sf(i, data=b""):
    return b"\x5a" + struct.pack(">H", 8 + len(data)) + bytes.fromhex(i) + b"\0\0\0" + data
name = lambda s: s.encode("cp500").ljust(8, b"\x40")
pgd = bytes([0, 0]) + struct.pack(">HH", 14400, 14400) + (2000).to_bytes(3, "big") + (1000).to_bytes(3, "big") + b"\0\0\0"
ovl = sf("D3A8DF", name("O1LOGO")) + sf("D3A8C9") + sf("D3A6AF", pgd) + sf("D3A9C9") + sf("D3A9DF", name("O1LOGO"))
seg = sf("D3A85F", name("S1SIGN")) + sf("D3A95F", name("S1SIGN"))
open(sys.argv[1] + "/O1LOGO", "wb").write(ovl)
open(sys.argv[1] + "/S1SIGN", "wb").write(seg)
PYEOF
printf '%s' '{"resources":{"embed":true},"fixed":[{"type":"overlay","name":"O1LOGO","x":10,"y":10},{"type":"segment","name":"S1SIGN","x":20,"y":400}],"body":[{"type":"text","text":"With overlay"}]}' >"$TMP/ovl.json"
if "$AFP" generate "$TMP/ovl.json" "$EX/letter/data.json" -o "$TMP/ovl.afp" --resources "$TMP/res" >"$TMP/gen.log" 2>&1; then
  pass
  "$AFP" dump "$TMP/ovl.afp" | cut -f4 | tr '\n' ' ' >"$TMP/ovl.seq"
  check "embedded overlay and segment: BRG BRS BMO … EMO ERS BRS BPS EPS ERS ERG before BDT" grep -q '^BRG BRS BMO BAG PGD EAG EMO ERS BRS BPS EPS ERS ERG BDT ' "$TMP/ovl.seq"
  check "embedded overlay: IPO and IPS on the page" sh -c "grep -q ' IPO ' \"$TMP/ovl.seq\" && grep -q ' IPS ' \"$TMP/ovl.seq\""
  check "embedded overlay: validate" valid "$TMP/ovl.afp"
  check "embedded overlay: FOP MODCAParser framing" fop_same "$TMP/ovl.afp"
else
  fail "embedded overlay: generate" "$(cat "$TMP/gen.log")"
fi

# bad input: exit 2, message naming the path, no output file
# bad NAME 'TEMPLATE-JSON' 'DATA-JSON' 'EXPECTED-SUBSTRING'...
bad() {
  local name=$1 tmpl=$2 data=$3; shift 3
  printf '%s' "$tmpl" >"$TMP/bad.json"; printf '%s' "$data" >"$TMP/bad-data.json"; rm -f "$TMP/bad.afp"
  "$AFP" generate "$TMP/bad.json" "$TMP/bad-data.json" -o "$TMP/bad.afp" --resources "$EX/resources" >"$TMP/bad.log" 2>&1
  local rc=$?
  if [ "$rc" -ne 2 ]; then fail "bad input: $name" "exit $rc (want 2): $(cat "$TMP/bad.log")"; return; fi
  if [ -e "$TMP/bad.afp" ]; then fail "bad input: $name" "a partial output file was left behind"; return; fi
  local s
  for s in "$@"; do
    grep -qF -- "$s" "$TMP/bad.log" || { fail "bad input: $name" "message lacks '$s': $(cat "$TMP/bad.log")"; return; }
  done
  pass
}
bad "unknown element" '{"body":[{"type":"paragraph","text":"x"}]}' '{}' '$.body[0]' 'paragraph'
bad "wrong type" '{"body":[{"type":"text","text":"x","font":{"size":"big"}}]}' '{}' '$.body[0].font.size'
bad "unknown font" '{"body":[{"type":"text","text":"x","font":{"family":"Comic Sans"}}]}' '{}' '$.body[0].font.family' 'Helvetica'
bad "image missing from the library" '{"body":[{"type":"image","resource":"nosuchlogo"}]}' '{}' '$.body[0]' 'nosuchlogo'
bad "text the code page cannot encode" '{"body":[{"type":"text","text":"snow {{s}}"}]}' '{"s":"\u2603"}' '$.body[0].text' 'U+2603'
bad "table row taller than a page" '{"page":{"size":{"width":300,"height":200},"margins":{"top":20,"bottom":20,"left":20,"right":20}},"body":[{"type":"table","rows":"r","columns":[{"header":"H","value":"{{item}}"}]}]}' '{"r":["a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\no"]}' '$.body[0]' 'row 1'
bad "missing data path" '{"body":[{"type":"text","text":"Dear {{customer.nmae}}"}]}' '{"customer":{"name":"X"}}' '$.body[0].text' 'customer.nmae'
bad "embedded overlay missing from the library" '{"resources":{"embed":true},"fixed":[{"type":"overlay","name":"O9NONE","x":1,"y":1}],"body":[]}' '{}' 'O9NONE' 'resource library'
bad "malformed JSON data" '{"body":[]}' '{"a":' 'byte offset'
finish
