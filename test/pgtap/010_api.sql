-- 010_api.sql — the SQL surface of the afp extension: functions, signatures, volatility.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS afp;

SELECT plan(28);

SELECT has_schema('afp', 'schema afp exists');

SELECT has_function('afp_dump', ARRAY['bytea'], 'afp_dump(bytea) exists');
SELECT has_function('afp_validate', ARRAY['bytea'], 'afp_validate(bytea) exists');
SELECT has_function('afp_text', ARRAY['bytea'], 'afp_text(bytea) exists');
SELECT has_function('afp_page_count', ARRAY['bytea'], 'afp_page_count(bytea) exists');
SELECT has_function('afp_documents', ARRAY['bytea'], 'afp_documents(bytea) exists');
SELECT has_function('afp_compose_text', ARRAY['jsonb', 'jsonb'], 'afp_compose_text(jsonb, jsonb) exists');

SELECT function_returns('afp_dump', ARRAY['bytea'], 'setof record', 'afp_dump returns a set');
SELECT function_returns('afp_validate', ARRAY['bytea'], 'setof record', 'afp_validate returns a set');
SELECT function_returns('afp_text', ARRAY['bytea'], 'text', 'afp_text returns text');
SELECT function_returns('afp_page_count', ARRAY['bytea'], 'integer', 'afp_page_count returns int');
SELECT function_returns('afp_documents', ARRAY['bytea'], 'setof record', 'afp_documents returns a set');
SELECT function_returns('afp_compose_text', ARRAY['jsonb', 'jsonb'], 'bytea', 'afp_compose_text returns bytea');

SELECT is_strict('afp_dump', ARRAY['bytea'], 'afp_dump is strict');
SELECT is_strict('afp_compose_text', ARRAY['jsonb', 'jsonb'], 'afp_compose_text is strict');

SELECT volatility_is('afp_dump', ARRAY['bytea'], 'immutable', 'afp_dump is immutable');
SELECT volatility_is('afp_validate', ARRAY['bytea'], 'immutable', 'afp_validate is immutable');
SELECT volatility_is('afp_text', ARRAY['bytea'], 'immutable', 'afp_text is immutable');
SELECT volatility_is('afp_page_count', ARRAY['bytea'], 'immutable', 'afp_page_count is immutable');
SELECT volatility_is('afp_documents', ARRAY['bytea'], 'immutable', 'afp_documents is immutable');
SELECT volatility_is('afp_compose_text', ARRAY['jsonb', 'jsonb'], 'immutable', 'afp_compose_text is immutable');

-- every function is parallel safe and documented
SELECT is(
    (SELECT count(*)::int FROM pg_proc
      WHERE proname IN ('afp_dump', 'afp_validate', 'afp_text', 'afp_page_count', 'afp_documents',
                        'afp_compose_text')
        AND proparallel = 's'),
    7, 'all seven functions (afp_text with and without options) are PARALLEL SAFE');
SELECT is(
    (SELECT count(*)::int FROM pg_proc p
      WHERE proname IN ('afp_dump', 'afp_validate', 'afp_text', 'afp_page_count', 'afp_documents',
                        'afp_compose_text')
        AND obj_description(p.oid, 'pg_proc') IS NOT NULL),
    7, 'all seven functions have a COMMENT');

-- the result columns of the set-returning functions
SELECT is(
    (SELECT array_agg(a.name ORDER BY a.ord)
       FROM pg_proc p, unnest(p.proargnames, p.proargmodes) WITH ORDINALITY AS a(name, mode, ord)
      WHERE p.proname = 'afp_dump' AND a.mode = 't'),
    ARRAY['seq', 'offset', 'length', 'id', 'abbr', 'depth', 'detail']::text[],
    'afp_dump columns');
SELECT is(
    (SELECT array_agg(a.name ORDER BY a.ord)
       FROM pg_proc p, unnest(p.proargnames, p.proargmodes) WITH ORDINALITY AS a(name, mode, ord)
      WHERE p.proname = 'afp_validate' AND a.mode = 't'),
    ARRAY['severity', 'offset', 'message']::text[],
    'afp_validate columns');
SELECT is(
    (SELECT array_agg(a.name ORDER BY a.ord)
       FROM pg_proc p, unnest(p.proargnames, p.proargmodes) WITH ORDINALITY AS a(name, mode, ord)
      WHERE p.proname = 'afp_documents' AND a.mode = 't'),
    ARRAY['seq', 'name', 'first_page', 'page_count', 'index']::text[],
    'afp_documents columns');

SELECT is((SELECT count(*)::int FROM afp_dump(NULL)), 0, 'STRICT: afp_dump(NULL) returns no rows');
SELECT is(afp_text(NULL), NULL, 'STRICT: afp_text(NULL) is NULL');

SELECT * FROM finish();
ROLLBACK;
