-- 030_roundtrip.sql — what afp_compose_text writes, the readers give back: text, documents,
-- index, page count, a clean validation and a well-formed field sequence.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS afp;

SELECT plan(16);

CREATE TEMP TABLE rt AS
SELECT afp_compose_text(
  '[{"name": "INV001", "index": {"Account": "1001", "Customer": "Jane Doe"},
     "text": "Invoice 1001\nJane Doe\fPage two of 1001"},
    {"name": "INV002", "index": {"Account": "1002", "Customer": "Jürgen Müller"},
     "text": "Invoice 1002\nJürgen Müller\fPage two of 1002\fPage three of 1002"}]') AS afp;

SELECT ok(length(afp) > 0, 'compose returns bytes') FROM rt;
SELECT is(substr(afp, 1, 1), '\x5a'::bytea, 'the file starts with X''5A''') FROM rt;

SELECT is(afp_text(afp),
          E'Invoice 1001\nJane Doe\fPage two of 1001\fInvoice 1002\nJürgen Müller\fPage two of 1002\fPage three of 1002',
          'afp_text gives back the composed text, pages separated by form feeds')
FROM rt;
SELECT is(afp_page_count(afp), 5, 'afp_page_count counts every page') FROM rt;

SELECT results_eq(
  $$SELECT d.seq, d.name, d.first_page, d.page_count, d.index FROM rt, afp_documents(rt.afp) d ORDER BY d.seq$$,
  $$VALUES (1, 'INV001', 1, 2, '{"Account": "1001", "Customer": "Jane Doe"}'::jsonb),
           (2, 'INV002', 3, 3, '{"Account": "1002", "Customer": "Jürgen Müller"}'::jsonb)$$,
  'afp_documents returns each document with its pages and index');

SELECT is_empty($$SELECT * FROM rt, afp_validate(rt.afp)$$, 'the composed file is valid');

SELECT is((SELECT abbr FROM rt, afp_dump(rt.afp) ORDER BY seq LIMIT 1), 'BDT', 'first field is BDT');
SELECT is((SELECT abbr FROM rt, afp_dump(rt.afp) ORDER BY seq DESC LIMIT 1), 'EDT', 'last field is EDT');
SELECT is((SELECT count(*)::int FROM rt, afp_dump(rt.afp) WHERE abbr = 'BNG'), 2, 'two page groups');
SELECT is((SELECT count(*)::int FROM rt, afp_dump(rt.afp) WHERE abbr = 'BPG'), 5, 'five pages');
SELECT is((SELECT count(*)::int FROM rt, afp_dump(rt.afp) WHERE abbr = 'TLE'), 4, 'four index tags');
SELECT is((SELECT min(depth) FROM rt, afp_dump(rt.afp)), 0, 'depth starts at 0');
SELECT ok((SELECT bool_and(id ~ '^[0-9A-F]{6}$') FROM rt, afp_dump(rt.afp)), 'ids are six upper-case hex digits');
SELECT is((SELECT sum(length + 1)::bigint FROM rt, afp_dump(rt.afp)), (SELECT length(afp)::bigint FROM rt),
          'the fields cover the whole file (SFLength + X''5A'')');
SELECT ok((SELECT bool_and("offset" = coalesce(lag_end, 0))
             FROM (SELECT "offset", lag("offset" + length + 1) OVER (ORDER BY seq) AS lag_end
                     FROM rt, afp_dump(rt.afp)) s),
          'offsets are contiguous');

-- one object instead of an array
SELECT is(afp_text(afp_compose_text('{"text": "single"}')), 'single', 'docs may be a single object');

SELECT * FROM finish();
ROLLBACK;
