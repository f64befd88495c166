#!/usr/bin/env bash
# bench/generate.sh — generation speed: `bin/afp generate` vs Apache FOP (`fop -fo X.fo -afp`),
# same documents, same run.
#
# Input: N bank statements (default 200) made from examples/statement/data.json with 40
# transactions each (names and account numbers varied). afp renders them with
# examples/statement/template.json as ONE batch print file; FOP renders ONE .fo file holding the
# same statements as N page-sequences (header, address, 40-row table with repeated header,
# footer with page X of Y) to AFP. Both are whole processes timed with hyperfine (median of
# BENCH_RUNS, default 3); the JVM start-up is part of FOP's time, as it is for a user.
# Results: build/bench/generate.md (documents/s, pages/s, ratio).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build/bench
N=${BENCH_DOCS:-200}
RUNS=${BENCH_RUNS:-3}
mkdir -p "$OUT"
make -s -C "$ROOT" bin/afp
command -v fop >/dev/null || { echo "bench/generate: fop not installed (apt-get install fop)"; exit 1; }

/usr/bin/python3 - "$ROOT/examples/statement/data.json" "$OUT/gen-data.json" "$OUT/gen.fo" "$N" <<'PY'
import json, sys
from xml.sax.saxutils import escape as x
src, data_out, fo_out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
base = json.load(open(src, encoding="utf-8"))
docs = []
for i in range(n):
    d = json.loads(json.dumps(base))
    d["customer"]["name"] = "Customer %05d" % i
    d["account"]["number"] = "DE%020d" % i
    d["transactions"] = d["transactions"][:40]
    docs.append(d)
json.dump(docs, open(data_out, "w", encoding="utf-8"), ensure_ascii=False)

def money(v):
    s = "{:,.2f}".format(abs(v)).replace(",", "X").replace(".", ",").replace("X", ".")
    return ("-" if v < 0 else "") + s + " EUR"

def dmy(iso):
    y, m, dd = iso[:10].split("-")
    return "%s.%s.%s" % (dd, m, y)

fo = ['<?xml version="1.0" encoding="UTF-8"?>',
      '<fo:root xmlns:fo="http://www.w3.org/1999/XSL/Format">',
      '<fo:layout-master-set><fo:simple-page-master master-name="A4" page-width="210mm" page-height="297mm" '
      'margin-top="20mm" margin-bottom="15mm" margin-left="20mm" margin-right="18mm">'
      '<fo:region-body margin-top="12mm" margin-bottom="12mm"/><fo:region-before extent="10mm"/>'
      '<fo:region-after extent="10mm"/></fo:simple-page-master></fo:layout-master-set>']
for i, d in enumerate(docs):
    c, a, s = d["customer"], d["account"], d["statement"]
    fo.append('<fo:page-sequence master-reference="A4" font-family="Helvetica" font-size="9pt" id="s%d">' % i)
    fo.append('<fo:static-content flow-name="xsl-region-before"><fo:block text-align="end" font-weight="bold">'
              'Musterbank AG - Account statement %s</fo:block></fo:static-content>' % x(s["number"]))
    fo.append('<fo:static-content flow-name="xsl-region-after"><fo:block text-align="end">Page <fo:page-number/> of '
              '<fo:page-number-citation-last ref-id="s%d"/></fo:block></fo:static-content>' % i)
    fo.append('<fo:flow flow-name="xsl-region-body">')
    fo.append('<fo:block font-size="10pt">%s</fo:block><fo:block>%s</fo:block><fo:block>%s</fo:block>'
              % (x(c["name"]), x(c["street"]), x(c["city"])))
    fo.append('<fo:block font-size="14pt" font-weight="bold" space-before="20pt">Account statement</fo:block>')
    fo.append('<fo:table table-layout="fixed" width="100%"><fo:table-column column-width="22mm"/>'
              '<fo:table-column column-width="proportional-column-width(1)"/><fo:table-column column-width="28mm"/>'
              '<fo:table-column column-width="30mm"/><fo:table-header><fo:table-row font-weight="bold" background-color="#D9E2F3">'
              + "".join('<fo:table-cell><fo:block>%s</fo:block></fo:table-cell>' % h for h in ["Date", "Description", "Amount", "Balance"])
              + '</fo:table-row></fo:table-header><fo:table-body>')
    for t in d["transactions"]:
        fo.append('<fo:table-row border-bottom="0.3pt solid black">' + "".join(
            '<fo:table-cell><fo:block%s>%s</fo:block></fo:table-cell>' % (al, x(v)) for al, v in
            [("", dmy(t["date"])), ("", t["description"]), (' text-align="end"', money(t["amount"])),
             (' text-align="end"', money(t["balance"]))]) + '</fo:table-row>')
    fo.append('</fo:table-body></fo:table></fo:flow></fo:page-sequence>')
fo.append('</fo:root>')
open(fo_out, "w", encoding="utf-8").write("\n".join(fo))
PY

AFP_CMD="$ROOT/bin/afp generate $ROOT/examples/statement/template.json $OUT/gen-data.json -o $OUT/gen-afp.afp --resources $ROOT/examples/resources"
FOP_CMD="fop -q -fo $OUT/gen.fo -afp $OUT/gen-fop.afp"

median() {   # median wall time in seconds of a command, BENCH_RUNS runs
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$OUT/hf.json" "$1" >/dev/null 2>&1
    /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$OUT/hf.json"
  else
    local t=() i s e
    for i in $(seq "$RUNS"); do s=$(date +%s%N); bash -c "$1" >/dev/null 2>&1; e=$(date +%s%N); t+=($(( (e - s) / 1000000 ))); done
    printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f\n", a[int((NR+1)/2)]/1000}'
  fi
}

bash -c "$AFP_CMD" 2>/dev/null
bash -c "$FOP_CMD" 2>/dev/null
afp_pages=$("$ROOT/bin/afp" pages "$OUT/gen-afp.afp")
fop_pages=$("$ROOT/bin/afp" pages "$OUT/gen-fop.afp")
"$ROOT/bin/afp" validate "$OUT/gen-afp.afp" >/dev/null || { echo "bench/generate: our output does not validate"; exit 1; }

t_afp=$(median "$AFP_CMD")
t_fop=$(median "$FOP_CMD")
/usr/bin/python3 - "$N" "$afp_pages" "$fop_pages" "$t_afp" "$t_fop" "$RUNS" >"$OUT/generate.md" <<'PY'
import sys
n, ap, fp, ta, tf, runs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
print("| generator | documents | pages | median s (%s runs) | documents/s | pages/s |" % runs)
print("|---|---:|---:|---:|---:|---:|")
print("| afp (`bin/afp generate`) | %d | %d | %.3f | %.0f | %.0f |" % (n, ap, ta, n / ta, ap / ta))
print("| Apache FOP 2.8 (`fop -fo -afp`) | %d | %d | %.3f | %.0f | %.0f |" % (n, fp, tf, n / tf, fp / tf))
print()
print("ratio (afp documents/s over FOP documents/s): %.1f" % ((n / ta) / (n / tf)))
PY
cat "$OUT/generate.md"
