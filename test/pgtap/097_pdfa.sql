-- 097_pdfa.sql — afp_to_pdf(afp, '{"pdfa": "2b"}') from SQL: the PDF/A-2b parts are in the
-- output (output intent with the sRGB profile, XMP metadata with part 2 / conformance B, trailer
-- /ID, embedded fonts only), title and author reach Info and XMP, and the options PDF/A refuses
-- fail with SQLSTATE 22023. test/checks/53-pdfa.sh runs the full checker on files.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS afp;

SELECT plan(11);

CREATE TEMP TABLE t AS
SELECT afp_to_pdf(afp_compose_text('{"name": "STMT", "text": "Hello PDF/A\fpage two"}'),
                  '{"pdfa": "2b", "compress": false, "title": "Kontoauszug", "author": "Stadtwerke"}') AS pdf;

SELECT ok(position('/S /GTS_PDFA1'::bytea IN pdf) > 0, 'GTS_PDFA1 output intent') FROM t;
SELECT ok(position('/DestOutputProfile'::bytea IN pdf) > 0, 'with a destination profile') FROM t;
SELECT ok(position('mntrRGB XYZ '::bytea IN pdf) > 0, 'the profile is an RGB display profile (uncompressed: the ICC header is visible)') FROM t;
SELECT ok(position('<pdfaid:part>2</pdfaid:part>'::bytea IN pdf) > 0
          AND position('<pdfaid:conformance>B</pdfaid:conformance>'::bytea IN pdf) > 0,
          'XMP identifies PDF/A-2b') FROM t;
SELECT ok(position('/ID [<'::bytea IN pdf) > 0, 'trailer /ID') FROM t;
SELECT ok(position('/Title (Kontoauszug)'::bytea IN pdf) > 0
          AND position('<rdf:li xml:lang="x-default">Kontoauszug</rdf:li>'::bytea IN pdf) > 0,
          'title in Info and XMP') FROM t;
SELECT ok(position('/Author (Stadtwerke)'::bytea IN pdf) > 0
          AND position('<dc:creator><rdf:Seq><rdf:li>Stadtwerke</rdf:li>'::bytea IN pdf) > 0,
          'author in Info and XMP') FROM t;
SELECT ok(position('/FontFile2'::bytea IN pdf) > 0 AND position('/Subtype /Type1'::bytea IN pdf) = 0,
          'fonts embedded, no standard-14 reference') FROM t;

SELECT throws_ok($$SELECT afp_to_pdf(afp_compose_text('{"text": "x"}'), '{"pdfa": "2b", "fonts": "base14"}')$$,
                 '22023', NULL, 'pdfa with base14 fonts is refused');
SELECT throws_like($$SELECT afp_to_pdf(afp_compose_text('{"text": "x"}'), '{"pdfa": "1b"}')$$,
                   '%options.pdfa%', 'an unsupported PDF/A level is refused');
SELECT throws_ok($$SELECT afp_to_pdf(afp_compose_text('{"text": "x"}'), '{"compress": 12}')$$,
                 '22023', NULL, 'a zlib level outside 1-9 is refused');

SELECT * FROM finish();
ROLLBACK;
