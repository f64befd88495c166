#!/usr/bin/env bash
# 20-fop-modcaparser: independent framing cross-check against Apache FOP's MODCAParser.
# test/java/FopFraming.java (compiled here into build/java against Debian's fop-core.jar) lists
# OFFSET, LENGTH and ID of every structured field as FOP reads it; `bin/afp dump` must list the
# same fields (its OFFSET, LENGTH and ID columns) in the same order. One test per sample
# (afp/*.afp and fop/*.afp under $AFP_SAMPLES). Needs a JDK (javac) and Debian's fop package.
set -uo pipefail
NAME=20-fop-modcaparser
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AFP_SAMPLES=${AFP_SAMPLES:-$ROOT/../shared/samples}
AFP=${AFP_BIN:-$ROOT/bin/afp}   # AFP_BIN: test another build of the CLI (then no make)
JAVA_OUT=$ROOT/build/java
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

tests=0 failed=0
pass() { tests=$((tests + 1)); }
fail() { tests=$((tests + 1)); failed=$((failed + 1)); echo "FAIL $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/    /'; done; }
finish() { echo "$NAME: $tests tests, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

if [ -z "${AFP_BIN:-}" ] && ! make -s -C "$ROOT" bin/afp >"$TMP/make.log" 2>&1; then
  fail "setup" "make bin/afp failed:" "$(tail -n 5 "$TMP/make.log")"; finish
fi

# FOP's parser needs fop-core plus commons-logging at run time (the others are harmless extras).
JARS=/usr/share/java
CP=$JARS/fop-core.jar:$JARS/commons-logging.jar:$JARS/commons-io.jar:$JARS/xmlgraphics-commons.jar
for j in fop-core commons-logging; do
  [ -r "$JARS/$j.jar" ] || { fail "setup" "$JARS/$j.jar missing (apt-get install fop)"; finish; }
done
command -v javac >/dev/null || { fail "setup" "javac not found (apt-get install default-jdk-headless)"; finish; }
SRC=$ROOT/test/java/FopFraming.java
if [ ! -f "$JAVA_OUT/FopFraming.class" ] || [ "$SRC" -nt "$JAVA_OUT/FopFraming.class" ]; then
  mkdir -p "$JAVA_OUT"
  if ! javac -nowarn -d "$JAVA_OUT" -cp "$CP" "$SRC" >"$TMP/javac.log" 2>&1; then
    fail "setup" "javac FopFraming.java failed:" "$(tail -n 5 "$TMP/javac.log")"; finish
  fi
fi

files=("$AFP_SAMPLES"/afp/*.afp "$AFP_SAMPLES"/fop/*.afp)
[ -r "${files[0]}" ] || { fail "setup" "no samples under $AFP_SAMPLES"; finish; }

# One JVM for all files: lines FILE<TAB>OFFSET<TAB>LENGTH<TAB>ID (or FILE<TAB>ERROR<TAB>msg).
java -cp "$JAVA_OUT:$CP" FopFraming "${files[@]}" >"$TMP/fop.tsv" 2>"$TMP/fop.err"
jrc=$?
if [ "$jrc" -ne 0 ] && ! grep -q $'\tERROR\t' "$TMP/fop.tsv"; then
  fail "setup" "java FopFraming exit $jrc:" "$(head -n 5 "$TMP/fop.err")"; finish
fi

for path in "${files[@]}"; do
  rel=${path#"$AFP_SAMPLES"/}
  awk -F'\t' -v f="$path" '$1 == f { print $2 "\t" $3 "\t" $4 }' "$TMP/fop.tsv" >"$TMP/want"
  if grep -q '^ERROR' "$TMP/want"; then
    fail "$rel" "MODCAParser could not read the sample: $(grep '^ERROR' "$TMP/want" | head -n 1)"; continue
  fi
  "$AFP" dump "$path" >"$TMP/dump" 2>"$TMP/err"; rc=$?
  if [ "$rc" -ne 0 ]; then fail "$rel" "bin/afp dump exit $rc: $(head -c 300 "$TMP/err")"; continue; fi
  cut -f1-3 "$TMP/dump" >"$TMP/got"
  if cmp -s "$TMP/want" "$TMP/got"; then
    pass
  else
    fail "$rel" "field lists differ ($(wc -l <"$TMP/want") fields from FOP, $(wc -l <"$TMP/got") from bin/afp; < FOP, > bin/afp; columns OFFSET LENGTH ID):" \
      "$(diff "$TMP/want" "$TMP/got" | grep '^[<>]' | head -n 10)"
  fi
done

finish
