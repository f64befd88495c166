#!/usr/bin/env bash
# 56-pdf-documents: documents of a print file in the PDF and split (docs/conversion.md).
#
#  1. A batch of 4 statements from `bin/afp generate` (as in 40-generate.sh, account numbers
#     varied) converts; `qpdf --json --json-key=outlines` lists one bookmark per named page group
#     with the name and first page `bin/afp documents` reports; pdfinfo shows the first group's
#     name as Title and its index values as Keywords; the "title" option overrides the Title.
#  2. `bin/afp split IN OUTDIR --pdf` writes one AFP per document: each validates
#     (`bin/afp validate` silent, exit 0), the page counts add up to the input's, each part's
#     `bin/afp documents` line equals the input's (name, page count, index) and its PDF has as
#     many pages. Skipped with a message while cli/afp_cli.c has no `split` command.
# Prints "pdf-documents: N tests, M failed".
set -uo pipefail
export LC_ALL=C
NAME=pdf-documents
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AFP=${AFP_BIN:-$ROOT/bin/afp}
EX=$ROOT/examples
PY=/usr/bin/python3
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

tests=0 failed=0
pass() { tests=$((tests + 1)); }
fail() { tests=$((tests + 1)); failed=$((failed + 1)); echo "FAIL $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/    /'; done; }
check() { local what=$1; shift; local out; if out=$("$@" 2>&1); then pass; else fail "$what" "$out"; fi; }
finish() { echo "$NAME: $tests tests, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

if [ -z "${AFP_BIN:-}" ] && ! make -s -C "$ROOT" bin/afp >"$TMP/make.log" 2>&1; then
  fail "setup" "make bin/afp failed:" "$(tail -n 5 "$TMP/make.log")"; finish
fi
for tool in qpdf pdfinfo; do
  command -v "$tool" >/dev/null || { fail "setup" "$tool not found (scripts/install-deps.sh)"; finish; }
done

$PY - "$EX/statement/data.json" "$TMP/batch.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
out = []
for k in range(4):
    e = json.loads(json.dumps(d))
    e["account"]["number"] = "DE%018d" % (k + 1)
    out.append(e)
json.dump(out, open(sys.argv[2], "w"))
EOF
if ! "$AFP" generate "$EX/statement/template.json" "$TMP/batch.json" -o "$TMP/batch.afp" \
     --resources "$EX/resources" >"$TMP/gen.log" 2>&1; then
  fail "generate the batch" "$(cat "$TMP/gen.log")"; finish
fi
"$AFP" documents "$TMP/batch.afp" >"$TMP/docs.txt"
ndocs=$(wc -l <"$TMP/docs.txt")
[ "$ndocs" -eq 4 ] && pass || fail "batch has 4 documents" "$(cat "$TMP/docs.txt")"

# 1. bookmarks and metadata
check "batch converts" "$AFP" pdf "$TMP/batch.afp" "$TMP/batch.pdf" --quiet
check "qpdf --check" qpdf --check "$TMP/batch.pdf"
qpdf --json --json-key=outlines "$TMP/batch.pdf" | $PY -c '
import json, sys
for o in json.load(sys.stdin)["outlines"]:
    print("%s\t%d" % (o["title"], o["destpageposfrom1"]))' >"$TMP/outlines.txt" 2>&1
cut -f2,3 "$TMP/docs.txt" >"$TMP/expect_outlines.txt"
if diff -u "$TMP/expect_outlines.txt" "$TMP/outlines.txt" >"$TMP/diff.txt"; then pass
else fail "one bookmark per document (title, first page)" "$(cat "$TMP/diff.txt")"; fi
first_name=$(head -n 1 "$TMP/docs.txt" | cut -f2)
keywords=$(head -n 1 "$TMP/docs.txt" | cut -f5 | $PY -c 'import json,sys; print(", ".join(json.load(sys.stdin).values()))')
pdfinfo "$TMP/batch.pdf" >"$TMP/info.txt" 2>&1
if grep -qxF "Title:           $first_name" "$TMP/info.txt" \
   && grep -qxF "Keywords:        $keywords" "$TMP/info.txt"; then pass
else fail "Title and Keywords from the first document" "expected $first_name / $keywords" "$(cat "$TMP/info.txt")"; fi
"$AFP" pdf "$TMP/batch.afp" "$TMP/titled.pdf" --quiet --options '{"title": "Own title"}'
if pdfinfo "$TMP/titled.pdf" | grep -qxF "Title:           Own title"; then pass
else fail "the title option overrides the document name"; fi

# 2. split
if ! "$AFP" split --help >/dev/null 2>&1; then
  echo "pdf-documents: 'bin/afp split' is not in cli/afp_cli.c yet: split checks skipped"
  finish
fi
if "$AFP" split "$TMP/batch.afp" "$TMP/parts" --pdf >"$TMP/split.txt" 2>"$TMP/split.log"; then pass
else fail "split" "$(cat "$TMP/split.log")"; finish; fi
nparts=$(wc -l <"$TMP/split.txt")
[ "$nparts" -eq "$ndocs" ] && pass || fail "one part per document ($nparts parts, $ndocs documents)"
total=0 seq=0
while IFS=$'\t' read -r s file name pages; do
  seq=$((seq + 1))
  out=$("$AFP" validate "$file" 2>&1); rc=$?
  if [ $rc -eq 0 ] && [ -z "$out" ]; then pass; else fail "part $s validates" "$out"; fi
  n=$("$AFP" pages "$file"); total=$((total + n))
  want=$(sed -n "${seq}p" "$TMP/docs.txt" | cut -f2,4,5)
  got=$("$AFP" documents "$file" | cut -f2,4,5)
  [ "$got" = "$want" ] && pass || fail "part $s documents line equals the input's" "want: $want" "got:  $got"
  pp=$(pdfinfo "${file%.afp}.pdf" 2>/dev/null | awk '/^Pages:/ {print $2}')
  [ "$pp" = "$n" ] && pass || fail "part $s PDF has $n pages (got $pp)"
done <"$TMP/split.txt"
all=$("$AFP" pages "$TMP/batch.afp")
[ "$total" -eq "$all" ] && pass || fail "page counts add up ($total of $all)"
finish
