#!/usr/bin/env bash
# scripts/demo.sh — the `make demo` pipeline: build and install afp, start the throwaway cluster,
# compose a two-letter AFP print file in SQL and show what the extension reads back from it.
#
# Input:  examples/demo/letter-1001.txt, letter-1002.txt (pages separated by form feeds)
# Output: build/demo/demo.afp (the print file), build/demo/demo.txt (its extracted text)
# The cluster keeps running afterwards; stop it with test/cluster.sh stop.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="$ROOT/build/demo"
IN="$ROOT/examples/demo"

echo "==== demo: make && make install"
make
make install

echo
echo "==== demo: starting the throwaway cluster"
test/cluster.sh start

mkdir -p "$OUT"
rm -f "$OUT/demo.afp" "$OUT/demo.txt"

echo
echo "==== demo: composing $OUT/demo.afp"
test/cluster.sh psql -X -q -v ON_ERROR_STOP=1 \
  -v letter1="$(cat "$IN/letter-1001.txt")" \
  -v letter2="$(cat "$IN/letter-1002.txt")" \
  -v out_afp="$OUT/demo.afp" -v out_txt="$OUT/demo.txt" <<'SQL'
CREATE EXTENSION IF NOT EXISTS afp;

-- The print file is composed once and kept in a temporary table for the queries below.
CREATE TEMP TABLE demo AS
SELECT afp_compose_text(
         jsonb_build_array(
           jsonb_build_object('name', 'LTR1001',
                              'index', jsonb_build_object('Account', '1001-2345',
                                                          'Customer', 'Jane Doe'),
                              'text', :'letter1'),
           jsonb_build_object('name', 'LTR1002',
                              'index', jsonb_build_object('Account', '1002-7788',
                                                          'Customer', 'Jürgen Müller'),
                              'text', :'letter2')),
         '{"page_width_in": 8.27, "page_height_in": 11.69, "margin_in": 0.75, "font_size_pt": 10}'
       ) AS afp;

-- Write the file: base64 through psql's output pipe, decoded by the shell.
\set cmd '|base64 -d > ' :'out_afp'
SELECT encode(afp, 'base64') FROM demo \g (format=unaligned tuples_only=on) :cmd
\set cmd '|cat > ' :'out_txt'
SELECT afp_text(afp) FROM demo \g (format=unaligned tuples_only=on) :cmd

\echo
\echo '---- size of the print file'
SELECT length(afp) AS bytes FROM demo;

\echo '---- afp_dump: the first 15 structured fields'
SELECT d.seq, d."offset", d.length, d.id, d.abbr, d.depth
FROM demo, afp_dump(demo.afp) AS d
ORDER BY d.seq
LIMIT 15;

\echo '---- structured fields per type'
SELECT d.abbr, d.id, count(*) AS fields
FROM demo, afp_dump(demo.afp) AS d
GROUP BY d.abbr, d.id
ORDER BY min(d.seq);

\echo '---- afp_validate'
SELECT CASE WHEN count(*) = 0 THEN 'valid'
            ELSE count(*) || ' problem(s): ' || string_agg(v.severity || ' at ' || coalesce(v."offset"::text, '?') || ': ' || v.message, '; ')
       END AS validation
FROM demo, afp_validate(demo.afp) AS v;

\echo '---- afp_page_count'
SELECT afp_page_count(afp) AS pages FROM demo;

\echo '---- afp_documents'
SELECT d.seq, d.name, d.first_page, d.page_count, d.index
FROM demo, afp_documents(demo.afp) AS d
ORDER BY d.seq;

\echo '---- afp_text: the pages of the first document'
SELECT p.page, p.text
FROM demo,
     LATERAL (SELECT * FROM afp_documents(demo.afp) ORDER BY seq LIMIT 1) AS doc,
     LATERAL regexp_split_to_table(afp_text(demo.afp), E'\f') WITH ORDINALITY AS p(text, page)
WHERE p.page BETWEEN doc.first_page AND doc.first_page + doc.page_count - 1
ORDER BY p.page;
SQL

[ -s "$OUT/demo.afp" ] || { echo "demo: $OUT/demo.afp was not written" >&2; exit 1; }

eval "$(test/cluster.sh env)"
echo
echo "==== demo: done"
echo "  print file:      $OUT/demo.afp ($(wc -c <"$OUT/demo.afp") bytes)"
echo "  extracted text:  $OUT/demo.txt"
echo "  input letters:   $IN/letter-1001.txt, $IN/letter-1002.txt"
echo "  cluster log:     $ROOT/build/cluster/log/postgres.log"
echo
echo "The cluster is still running (port $PGPORT, database afp), so you can explore:"
echo "  test/cluster.sh psql            # then e.g. SELECT * FROM afp_dump(pg_read_binary_file('$OUT/demo.afp'));"
echo "Stop it with:"
echo "  test/cluster.sh stop"
