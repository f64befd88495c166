-- 095_pdf_resources.sql — afp_to_pdf resolves overlays, page segments and objects the print file
-- lacks from afp.resources (highest version, names compared in upper case); the resource types
-- 'object' and 'font' exist; form map duplex and copies reach the PDF; the errors name the
-- resource. Inputs are built here field by field (pg_temp helpers), uncompressed output.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS afp;

SELECT plan(16);

-- ---------------------------------------------------------------- builders
-- one structured field: X'5A', length, id, flags + sequence, data
CREATE FUNCTION pg_temp.sf(id int, data bytea DEFAULT '') RETURNS bytea LANGUAGE sql AS $$
  SELECT '\x5a'::bytea || substring(int4send(8 + length(data)) FROM 3 FOR 2)
         || substring(int4send(id) FROM 2 FOR 3) || '\x000000'::bytea || data $$;
-- an 8-byte name in EBCDIC (upper-case letters, digits, blanks)
CREATE FUNCTION pg_temp.nm(s text) RETURNS bytea LANGUAGE sql AS $$
  SELECT decode(string_agg(CASE
           WHEN c BETWEEN 'A' AND 'I' THEN to_hex(x'C1'::int + ascii(c) - ascii('A'))
           WHEN c BETWEEN 'J' AND 'R' THEN to_hex(x'D1'::int + ascii(c) - ascii('J'))
           WHEN c BETWEEN 'S' AND 'Z' THEN to_hex(x'E2'::int + ascii(c) - ascii('S'))
           WHEN c BETWEEN '0' AND '9' THEN to_hex(x'F0'::int + ascii(c) - ascii('0'))
           ELSE '40' END, '' ORDER BY i), 'hex')
  FROM unnest(string_to_array(rpad(s, 8), NULL)) WITH ORDINALITY AS t(c, i) $$;
CREATE FUNCTION pg_temp.u2(v int) RETURNS bytea LANGUAGE sql AS $$ SELECT substring(int4send(v) FROM 3 FOR 2) $$;
CREATE FUNCTION pg_temp.u3(v int) RETURNS bytea LANGUAGE sql AS $$ SELECT substring(int4send(v) FROM 2 FOR 3) $$;
-- active environment group: PGD and PTD of w x h units at 240 per inch
CREATE FUNCTION pg_temp.aeg(w int, h int) RETURNS bytea LANGUAGE sql AS $$
  SELECT pg_temp.sf(x'D3A8C9'::int)
      || pg_temp.sf(x'D3A6AF'::int, '\x000009600960'::bytea || pg_temp.u3(w) || pg_temp.u3(h) || '\x000000'::bytea)
      || pg_temp.sf(x'D3B19B'::int, '\x000009600960'::bytea || pg_temp.u3(w) || pg_temp.u3(h) || '\x0000'::bytea)
      || pg_temp.sf(x'D3A9C9'::int) $$;
-- a text object with one rule (AMB y, AMI x, DIR len x width)
CREATE FUNCTION pg_temp.rule(x int, y int, len int, width int) RETURNS bytea LANGUAGE sql AS $$
  SELECT pg_temp.sf(x'D3A89B'::int, pg_temp.nm('PT1'))
      || pg_temp.sf(x'D3EE9B'::int, '\x2bd304d3'::bytea || pg_temp.u2(y) || '\x04c7'::bytea || pg_temp.u2(x)
                                    || '\x07e4'::bytea || pg_temp.u2(len) || pg_temp.u2(width) || '\x00'::bytea)
      || pg_temp.sf(x'D3A99B'::int, pg_temp.nm('PT1')) $$;
CREATE FUNCTION pg_temp.overlay(n text, len int) RETURNS bytea LANGUAGE sql AS $$
  SELECT pg_temp.sf(x'D3A8DF'::int, pg_temp.nm(n)) || pg_temp.aeg(480, 480)
      || pg_temp.rule(0, 0, len, 24) || pg_temp.sf(x'D3A9DF'::int, pg_temp.nm(n)) $$;
CREATE FUNCTION pg_temp.segment(n text) RETURNS bytea LANGUAGE sql AS $$
  SELECT pg_temp.sf(x'D3A85F'::int, pg_temp.nm(n)) || pg_temp.rule(0, 0, 120, 24)
      || pg_temp.sf(x'D3A95F'::int, pg_temp.nm(n)) $$;
-- a document of one page holding body (with an optional resource group / form map before it)
CREATE FUNCTION pg_temp.doc(body bytea, head bytea DEFAULT '') RETURNS bytea LANGUAGE sql AS $$
  SELECT head || pg_temp.sf(x'D3A8A8'::int, pg_temp.nm('DOC')) || pg_temp.sf(x'D3A8AF'::int, pg_temp.nm('P1'))
      || pg_temp.aeg(2040, 2640) || body || pg_temp.sf(x'D3A9AF'::int, pg_temp.nm('P1'))
      || pg_temp.sf(x'D3A9A8'::int, pg_temp.nm('DOC')) $$;
CREATE FUNCTION pg_temp.ipo(n text) RETURNS bytea LANGUAGE sql AS $$
  SELECT pg_temp.sf(x'D3AFD8'::int, pg_temp.nm(n) || pg_temp.u3(240) || pg_temp.u3(240) || '\x0000'::bytea) $$;
CREATE FUNCTION pg_temp.ips(n text) RETURNS bytea LANGUAGE sql AS $$
  SELECT pg_temp.sf(x'D3AF5F'::int, pg_temp.nm(n) || pg_temp.u3(480) || pg_temp.u3(960)) $$;
-- IOB of an object container, 480 x 240 units at (240, 1440), scale to fill
CREATE FUNCTION pg_temp.iob(n text) RETURNS bytea LANGUAGE sql AS $$
  SELECT pg_temp.sf(x'D3AFC3'::int, pg_temp.nm(n) || '\x0092'::bytea || pg_temp.u3(240) || pg_temp.u3(1440)
      || '\x00002d00ffffffffffff01'::bytea || '\x084b000009600960'::bytea
      || '\x094c02'::bytea || pg_temp.u3(480) || pg_temp.u3(240) || '\x030460'::bytea) $$;
-- true when the PDF holds the text
CREATE FUNCTION pg_temp.has(pdf bytea, s text) RETURNS boolean LANGUAGE sql AS $$
  SELECT position(convert_to(s, 'SQL_ASCII') IN pdf) > 0 $$;

-- ---------------------------------------------------------------- the resource table
SELECT lives_ok($$INSERT INTO afp.resources (name, type, content) VALUES
                  ('F1', 'font', '\x00010000'), ('OBJ1', 'object', '\xffd8ffd9')$$,
                'afp.resources accepts the types object and font');
SELECT throws_ok($$INSERT INTO afp.resources (name, type, content) VALUES ('X', 'bogus', '\x00')$$,
                 '23514', NULL, 'afp.resources still refuses other types');
SELECT is((SELECT provolatile FROM pg_proc WHERE proname = 'afp_to_pdf'), 's',
          'afp_to_pdf is STABLE (it reads afp.resources)');

-- ---------------------------------------------------------------- overlays and segments
SELECT throws_like($$SELECT afp_to_pdf(pg_temp.doc(pg_temp.ipo('OEXT')))$$,
                   '%overlay OEXT is not in the file''s resource group nor in the resource library%',
                   'an overlay neither the file nor afp.resources has: the error names it');
SELECT throws_ok($$SELECT afp_to_pdf(pg_temp.doc(pg_temp.ipo('OEXT')))$$, '22P03', NULL,
                 'missing overlay: SQLSTATE 22P03');
INSERT INTO afp.resources (name, type, version, content)
VALUES ('OEXT', 'overlay', 1, pg_temp.overlay('OEXT', 240)),
       ('OEXT', 'overlay', 2, pg_temp.overlay('OEXT', 360)),
       ('sext', 'segment', 1, pg_temp.segment('SEXT')),
       ('OBAD', 'overlay', 1, substring(pg_temp.overlay('OBAD', 240) FROM 1 FOR 40));
SELECT ok(pg_temp.has(afp_to_pdf(pg_temp.doc(pg_temp.ipo('OEXT') || pg_temp.ipo('OEXT')), '{"compress": false}'),
                      '/Subtype /Form'),
          'the overlay from afp.resources becomes a form XObject');
SELECT is((SELECT count(*)::int FROM regexp_matches(encode(afp_to_pdf(pg_temp.doc(pg_temp.ipo('OEXT') || pg_temp.ipo('OEXT')),
                                                                      '{"compress": false}'), 'escape'),
                                                    '/Fm1 Do', 'g')), 2,
          'it is painted at both includes');
-- version 2's rule is 360 units (108 pt) long, version 1's 240 units (72 pt)
SELECT ok(pg_temp.has(afp_to_pdf(pg_temp.doc(pg_temp.ipo('OEXT')), '{"compress": false}'), '0 3.6 m 108 3.6 l S')
          AND NOT pg_temp.has(afp_to_pdf(pg_temp.doc(pg_temp.ipo('OEXT')), '{"compress": false}'), '0 3.6 m 72 3.6 l S'),
          'the highest version is used');
SELECT lives_ok($$SELECT afp_to_pdf(pg_temp.doc(pg_temp.ips('SEXT')))$$,
                'a page segment stored under a lower-case name resolves (names compare in upper case)');
SELECT throws_like($$SELECT afp_to_pdf(pg_temp.doc(pg_temp.ipo('OBAD')))$$, '%external overlay OBAD%',
                   'damaged bytes in afp.resources: the error names the resource');
SELECT ok(pg_temp.has(afp_to_pdf(pg_temp.doc(pg_temp.ipo('ONONE')), '{"missing": "warn", "compress": false}'),
                      '[3 2] 0 d'),
          '{"missing": "warn"}: a placeholder for a name nowhere to be found');

-- ---------------------------------------------------------------- objects
-- a JPEG (a frame header is all the converter needs to pass it through) stored as an image
INSERT INTO afp.resources (name, type, content)
VALUES ('JEXT', 'image', '\xffd8ffc0000b080002000301011100ffd9');
SELECT ok(pg_temp.has(afp_to_pdf(pg_temp.doc(pg_temp.iob('JEXT')), '{"compress": false}'), '/DCTDecode'),
          'IOB of an object container: a JPEG of type image from afp.resources is passed through');
SELECT throws_like($$SELECT afp_to_pdf(pg_temp.doc(pg_temp.iob('NOOBJ')))$$,
                   '%object NOOBJ is not in the file''s resource group nor in the resource library%',
                   'a missing object: the error names it');

-- ---------------------------------------------------------------- form map: duplex and copies
CREATE TEMP TABLE fm AS
SELECT pg_temp.sf(x'D3A8C6'::int, pg_temp.nm('RG'))
    || pg_temp.sf(x'D3A8CD'::int, pg_temp.nm('F1')) || pg_temp.sf(x'D3A8CC'::int, pg_temp.nm('M1'))
    || pg_temp.sf(x'D3A288'::int, '\x000100030001'::bytea)               -- MCC: copies 1-3, MMC 1
    || pg_temp.sf(x'D3A788'::int, '\x01fff403'::bytea)                   -- MMC 1: tumble duplex
    || pg_temp.sf(x'D3A9CC'::int, pg_temp.nm('M1')) || pg_temp.sf(x'D3A9CD'::int, pg_temp.nm('F1'))
    || pg_temp.sf(x'D3A9C6'::int, pg_temp.nm('RG')) AS head;
SELECT ok(pg_temp.has(afp_to_pdf(pg_temp.doc(pg_temp.rule(0, 0, 240, 24), (SELECT head FROM fm)),
                                 '{"compress": false}'),
                      '/ViewerPreferences << /Duplex /DuplexFlipShortEdge /NumCopies 3 >>'),
          'form map duplex (tumble) and copies are recorded in /ViewerPreferences');
SELECT is((SELECT count(*)::int FROM regexp_matches(encode(afp_to_pdf(pg_temp.doc(pg_temp.rule(0, 0, 240, 24),
                                                                                  (SELECT head FROM fm)),
                                                                      '{"compress": false, "copies": true}'), 'escape'),
                                                    '/Type /Page ', 'g')), 3,
          '{"copies": true} writes the page 3 times');
SELECT throws_ok($$SELECT afp_to_pdf(pg_temp.doc(''), '{"copies": 2}')$$, '22023', NULL,
                 'copies must be a boolean');

SELECT * FROM finish();
ROLLBACK;
