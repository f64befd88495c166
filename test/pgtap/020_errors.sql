-- 020_errors.sql — bad input raises the documented SQLSTATEs:
--   22P03 damaged AFP, 22023 malformed jsonb arguments, 22021 unencodable text.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS afp;

SELECT plan(22);

-- ---------------------------------------------------------------- damaged AFP: 22P03
SELECT throws_ok($$SELECT * FROM afp_dump(''::bytea)$$, '22P03', NULL, 'afp_dump: empty input');
SELECT throws_ok($$SELECT afp_text(''::bytea)$$, '22P03', NULL, 'afp_text: empty input');
SELECT throws_ok($$SELECT afp_page_count(''::bytea)$$, '22P03', NULL, 'afp_page_count: empty input');
SELECT throws_ok($$SELECT * FROM afp_documents(''::bytea)$$, '22P03', NULL, 'afp_documents: empty input');
SELECT throws_ok($$SELECT * FROM afp_dump('garbage'::bytea)$$, '22P03', NULL, 'afp_dump: not AFP');
SELECT throws_like($$SELECT * FROM afp_dump('garbage'::bytea)$$, '%byte offset 0%',
                   'afp_dump: the error names the byte offset');
-- a BDT whose SFLength promises more bytes than there are
SELECT throws_ok($$SELECT * FROM afp_dump(decode('5A0010D3A8A8000000C4D6C3F1', 'hex'))$$,
                 '22P03', NULL, 'afp_dump: truncated field');
-- a complete BDT followed by garbage
SELECT throws_like($$SELECT * FROM afp_dump(decode('5A0010D3A8A8000000C4D6C3F14040404000', 'hex'))$$,
                   '%byte offset 17%', 'afp_dump: garbage after a field names its offset');
-- SFLength below the 8-byte minimum
SELECT throws_ok($$SELECT * FROM afp_dump(decode('5A0005D3A8A8000000', 'hex'))$$,
                 '22P03', NULL, 'afp_dump: SFLength too small');
SELECT throws_ok($$SELECT afp_text('garbage'::bytea)$$, '22P03', NULL, 'afp_text: not AFP');
SELECT throws_ok($$SELECT afp_page_count('garbage'::bytea)$$, '22P03', NULL, 'afp_page_count: not AFP');
SELECT throws_ok($$SELECT * FROM afp_documents('garbage'::bytea)$$, '22P03', NULL, 'afp_documents: not AFP');

-- bad nesting is not a framing error: afp_validate reports it as rows
SELECT ok((SELECT count(*) FROM afp_validate(decode('5A0010D3A8A8000000C4D6C3F1404040405A0010D3A9AF000000C4D6C3F140404040', 'hex'))
            WHERE severity = 'error') > 0,
          'afp_validate: BDT closed by EPG is an error row');

-- ---------------------------------------------------------------- jsonb arguments: 22023
SELECT throws_ok($$SELECT afp_compose_text('42')$$, '22023',
                 'afp_compose_text: docs must be an array of objects or an object, not number',
                 'compose: docs is a number');
SELECT throws_ok($$SELECT afp_compose_text('[]')$$, '22023',
                 'afp_compose_text: docs is an empty array (at least one document is needed)',
                 'compose: no documents');
SELECT throws_ok($$SELECT afp_compose_text('[{"text": "a"}, {"text": "b"}, {"text": "c", "index": {"Account": 7}}]')$$,
                 '22023', 'afp_compose_text: docs[2].index.Account must be a string, not number',
                 'compose: index value must be a string (path names the element)');
SELECT throws_ok($$SELECT afp_compose_text('{"name": "X"}')$$, '22023',
                 'afp_compose_text: docs.text is missing', 'compose: text is required');
SELECT throws_ok($$SELECT afp_compose_text('[{"text": "a", "txet": "b"}]')$$, '22023',
                 'afp_compose_text: docs[0].txet is not a known key (expected name, index, text)',
                 'compose: unknown document key');
SELECT throws_ok($$SELECT afp_compose_text('{"text": "a"}', '{"margin_in": "wide"}')$$, '22023',
                 'afp_compose_text: options.margin_in must be a number, not string',
                 'compose: option of the wrong type');
SELECT throws_ok($$SELECT afp_compose_text('{"text": "a"}', '{"codepage": "klingon"}')$$, '22023',
                 'afp_compose_text: options.codepage: unknown code page "klingon"',
                 'compose: unknown code page');
SELECT throws_ok($$SELECT afp_compose_text('{"text": "a"}', '{"page_width_in": -1}')$$, '22023',
                 NULL, 'compose: negative page width');

-- ---------------------------------------------------------------- unencodable text: 22021
SELECT throws_ok($$SELECT afp_compose_text('{"text": "snowman \u2603"}')$$, '22021', NULL,
                 'compose: a character no code page holds');

SELECT * FROM finish();
ROLLBACK;
