-- 090_font_map.sql — afp.font_map: font replacements read by afp_to_pdf (docs/conversion.md).
-- The documents come from afp_compose_text (Courier: font character sets C042…, code page
-- T1V10500), whose default PDF font is Liberation Mono.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS afp;

SELECT plan(27);

CREATE TEMP TABLE doc AS SELECT afp_compose_text('{"text": "Font map test"}') AS afp;
CREATE FUNCTION pg_temp.pdf_has(opts jsonb, s text) RETURNS boolean LANGUAGE sql AS
$$ SELECT position(convert_to(s, 'UTF8') IN afp_to_pdf(afp, opts)) > 0 FROM doc $$;

-- ---------------------------------------------------------------- the table
SELECT has_table('afp', 'font_map', 'afp.font_map exists');
SELECT is((SELECT count(*)::int FROM pg_attribute
            WHERE attrelid = 'afp.font_map'::regclass AND attnum > 0 AND NOT attisdropped
              AND col_description(attrelid, attnum) IS NULL), 0, 'every column has a comment');
SELECT isnt(obj_description('afp.font_map'::regclass, 'pg_class'), NULL, 'the table has a comment');
SELECT ok((SELECT 'afp.font_map'::regclass = ANY (extconfig) FROM pg_extension WHERE extname = 'afp'),
          'pg_dump keeps the rows (pg_extension_config_dump)');
SELECT throws_ok($$INSERT INTO afp.font_map (liberation) VALUES ('serif')$$, '23514', NULL,
                 'a row needs a char_set or coded_font pattern');
SELECT throws_ok($$INSERT INTO afp.font_map (char_set, liberation, base14) VALUES ('C0*', 'serif', 'Courier')$$,
                 '23514', NULL, 'exactly one replacement');
SELECT throws_ok($$INSERT INTO afp.font_map (char_set) VALUES ('C0*')$$, '23514', NULL,
                 'a replacement is required');
SELECT throws_ok($$INSERT INTO afp.font_map (char_set, liberation) VALUES ('C0 H2', 'serif')$$,
                 '23514', NULL, 'patterns are names with * and ? only');
SELECT throws_ok($$INSERT INTO afp.font_map (char_set, base14, style) VALUES ('C0*', 'Courier', 'bold')$$,
                 '23514', NULL, 'style only with a Liberation replacement');
SELECT throws_ok($$INSERT INTO afp.font_map (char_set, base14) VALUES ('C0*', 'Arial')$$,
                 '23514', NULL, 'base14 names are the standard Helvetica, Times and Courier faces');
SELECT throws_ok($$INSERT INTO afp.font_map (char_set, font_path) VALUES ('C0*', 'fonts/x.ttf')$$,
                 '23514', NULL, 'font paths are absolute');

-- ---------------------------------------------------------------- defaults and rows
SELECT ok(pg_temp.pdf_has('{}', 'LiberationMono'), 'without rows: Courier maps to Liberation Mono');
INSERT INTO afp.font_map (char_set, liberation, style, note) VALUES ('c04*', 'serif', 'bold', 'test');
SELECT ok(pg_temp.pdf_has('{}', 'LiberationSerif-Bold'), 'a matching row replaces the font (case-insensitive pattern)');
SELECT ok(NOT pg_temp.pdf_has('{}', 'LiberationMono'), '... and the default is not used');
SELECT ok(pg_temp.pdf_has('{"font_map": false}', 'LiberationMono'), 'option "font_map": false ignores the table');
SELECT ok(pg_temp.pdf_has('{"font_map": [{"char_set": "C04*", "base14": "Times-Roman"}]}', '/BaseFont /Times-Roman'),
          'entries of the option come before the rows');
INSERT INTO afp.font_map (priority, char_set, base14) VALUES (10, 'C042????', 'Courier-Bold');
SELECT ok(pg_temp.pdf_has('{}', '/BaseFont /Courier-Bold'), 'a lower priority is tried first');
UPDATE afp.font_map SET enabled = false WHERE priority = 10;
SELECT ok(pg_temp.pdf_has('{}', 'LiberationSerif-Bold'), 'disabled rows are ignored');
DELETE FROM afp.font_map;
INSERT INTO afp.font_map (char_set, code_page, liberation) VALUES ('C04*', 'T1001140', 'serif');
SELECT ok(pg_temp.pdf_has('{}', 'LiberationMono'), 'a code page pattern that does not match leaves the font');
INSERT INTO afp.font_map (coded_font, liberation) VALUES ('X0*', 'serif');
SELECT ok(pg_temp.pdf_has('{}', 'LiberationMono'), 'a coded font pattern needs a coded font name in the MCF');
UPDATE afp.font_map SET code_page = 'T1V10500' WHERE char_set = 'C04*';
SELECT ok(pg_temp.pdf_has('{}', 'LiberationSerif'), 'a matching code page pattern applies');

-- ---------------------------------------------------------------- font files and bytes
DELETE FROM afp.font_map;
INSERT INTO afp.font_map (char_set, font_data)
SELECT 'C04*', pg_read_binary_file('/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf');
SELECT ok(pg_temp.pdf_has('{}', 'LiberationSans-Bold'), 'font_data is embedded');
DELETE FROM afp.font_map;
INSERT INTO afp.font_map (char_set, font_path) VALUES ('C04*', '/usr/share/fonts/truetype/liberation/LiberationSans-Italic.ttf');
SELECT ok(pg_temp.pdf_has('{}', 'LiberationSans-Italic'), 'font_path is read by the server for a superuser');
CREATE ROLE afp_fm_plain NOLOGIN;
GRANT USAGE ON SCHEMA afp TO afp_fm_plain;
GRANT SELECT ON afp.font_map TO afp_fm_plain;
GRANT SELECT ON doc TO afp_fm_plain;
SET LOCAL ROLE afp_fm_plain;
SET LOCAL client_min_messages = error;
SELECT ok(pg_temp.pdf_has('{}', 'LiberationMono'), 'without pg_read_server_files a font_path row is skipped');
RESET client_min_messages;
RESET ROLE;
UPDATE afp.font_map SET font_path = '/nonexistent/font.ttf';
SET LOCAL client_min_messages = error;
SELECT ok(pg_temp.pdf_has('{}', 'LiberationMono'), 'an unreadable font file falls back to the default (WARNING)');
RESET client_min_messages;

-- ---------------------------------------------------------------- bad options
SELECT throws_ok($$SELECT afp_to_pdf(afp, '{"font_map": "yes"}') FROM doc$$, '22023', NULL,
                 'font_map must be entries, true or false');
SELECT throws_ok($$SELECT afp_to_pdf(afp, '{"font_map": [{"char_set": "C0*"}]}') FROM doc$$, '22023',
                 'afp: options.font_map[0]: give one of liberation, base14, file',
                 'a bad entry names its position');

SELECT * FROM finish();
ROLLBACK;
