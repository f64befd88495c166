-- 098_text_options.sql — afp_text(bytea, options jsonb): the options reach text extraction
-- (code page assignment changes the decoding, missing-character policy, includes), bad options
-- fail with 22023 naming the key, and '{}' gives exactly afp_text(bytea).
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS afp;

SELECT plan(7);

CREATE TEMP TABLE t AS
SELECT afp_compose_text('{"name": "TXT", "text": "Hi! [x]"}') AS afp;

SELECT has_function('afp_text', ARRAY['bytea', 'jsonb'], 'afp_text(bytea, jsonb) exists');
SELECT is(afp_text(afp, '{}'), afp_text(afp), 'no options: same text as afp_text(bytea)') FROM t;
SELECT is(btrim(afp_text(afp, '{"code_pages": {"*": "500"}}'), E'\n'), 'Hi! [x]',
          'CP500 assigned to every font: the composed text') FROM t;
SELECT isnt(btrim(afp_text(afp, '{"code_pages": {"*": "037"}}'), E'\n'), 'Hi! [x]',
            'CP037 assigned: CP500''s ! and brackets decode differently') FROM t;
SELECT is(afp_text(afp, '{"includes": false}'), afp_text(afp),
          'includes false on a file without includes changes nothing') FROM t;
SELECT throws_like($$SELECT afp_text(afp, '{"bogus": 1}') FROM t$$, '%bogus%',
                   'an unknown option key is named in the error');
SELECT throws_ok($$SELECT afp_text(afp, '{"code_pages": {"*": "nosuchpage"}}') FROM t$$, '22023', NULL,
                 'an unknown code page: 22023');

SELECT * FROM finish();
ROLLBACK;
