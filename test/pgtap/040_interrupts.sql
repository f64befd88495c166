-- 040_interrupts.sql — long-running core loops honour statement_timeout / cancel requests.
--
-- The core polls the interrupt hook (CHECK_FOR_INTERRUPTS) every page or every few thousand
-- fields. Without the hook a cancel would only be noticed after the function returned, so the
-- test measures how long a timed-out call takes: with a timeout of a tenth of the call's full
-- duration, the cancel must arrive well before the call could have finished on its own.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS afp;

SELECT plan(6);

-- a generated document of 300000 lines (about 5000 pages, 18 MB of AFP)
CREATE TEMP TABLE big_docs AS
SELECT jsonb_build_object('name', 'BIG',
                          'text', string_agg('line ' || i || ' of a long generated document', E'\n')) AS docs
FROM generate_series(1, 300000) AS i;

-- Runs sql; reports how long it ran (ms) and whether it ended by query_canceled (57014).
CREATE FUNCTION pg_temp.run_ms(sql text, OUT ms float8, OUT canceled bool, OUT state text)
LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz := clock_timestamp();
BEGIN
  canceled := false;
  BEGIN
    EXECUTE sql;
  EXCEPTION WHEN query_canceled THEN
    canceled := true;
    state := SQLSTATE;
  END;
  ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;

-- full durations, without a timeout
CREATE TEMP TABLE full_compose AS
SELECT * FROM pg_temp.run_ms('CREATE TEMP TABLE big AS SELECT afp_compose_text(docs) AS afp FROM big_docs');
CREATE TEMP TABLE full_text AS
SELECT * FROM pg_temp.run_ms('SELECT length(afp_text(afp)) FROM big');

-- afp_compose_text under a timeout of a tenth of its duration
SELECT set_config('statement_timeout', greatest(round(ms / 10), 10)::int::text, true) FROM full_compose;
CREATE TEMP TABLE cut_compose AS
SELECT * FROM pg_temp.run_ms('SELECT length(afp_compose_text(docs)) FROM big_docs');
SELECT set_config('statement_timeout', '0', true);

-- afp_text under a timeout of a tenth of its duration
SELECT set_config('statement_timeout', greatest(round(ms / 10), 10)::int::text, true) FROM full_text;
CREATE TEMP TABLE cut_text AS
SELECT * FROM pg_temp.run_ms('SELECT length(afp_text(afp)) FROM big');
SELECT set_config('statement_timeout', '0', true);

SELECT is(state, '57014', 'afp_compose_text is cancelled by statement_timeout (57014)') FROM cut_compose;
SELECT cmp_ok(c.ms, '<', f.ms / 2,
              format('afp_compose_text stops early (%s of %s ms): the interrupt hook runs', round(c.ms), round(f.ms)))
FROM cut_compose c, full_compose f;
SELECT is(state, '57014', 'afp_text is cancelled by statement_timeout (57014)') FROM cut_text;
SELECT cmp_ok(c.ms, '<', f.ms / 2,
              format('afp_text stops early (%s of %s ms): the interrupt hook runs', round(c.ms), round(f.ms)))
FROM cut_text c, full_text f;

-- the uncancelled calls completed, and the backend is usable after a cancel
SELECT ok(NOT canceled, 'the untimed calls completed') FROM full_compose;
SELECT is(afp_page_count(afp) > 4000, true, 'the big document has its pages') FROM big;

SELECT * FROM finish();
ROLLBACK;
