--
-- afp_split / afp_split_pdf: one AFP (or PDF) per document; bookmarks in afp_to_pdf.
--
CREATE FUNCTION pg_temp.has(pdf bytea, s text) RETURNS boolean LANGUAGE sql IMMUTABLE
AS $$ SELECT position(convert_to(s, 'UTF8') IN pdf) > 0 $$;
CREATE TEMP TABLE batch AS
SELECT afp_compose_text('[{"name": "ST1", "index": {"Account": "4711"}, "text": "a\fb"},
                          {"name": "ST2", "index": {"Account": "4712"}, "text": "c"},
                          {"name": "ST3", "index": {"Account": "4713"}, "text": "d\fe\ff"}]') AS afp;

-- one row per document, each a complete print file with its own pages and index
SELECT s.seq, s.index, afp_page_count(s.afp) AS pages,
       (SELECT d.name || ' ' || d.index::text FROM afp_documents(s.afp) d) AS documents,
       (SELECT count(*) FROM afp_validate(s.afp) v WHERE v.severity = 'error') AS errors
FROM batch, afp_split(batch.afp) s ORDER BY s.seq;

-- per-document PDFs: one bookmark each, the index as keywords
SELECT s.seq, pg_temp.has(s.pdf, '/Type /Outlines') AS bookmark,
       pg_temp.has(s.pdf, '/Keywords (' || (s.index->>'Account') || ')') AS keywords
FROM batch, afp_split_pdf(batch.afp, '{"compress": false}') s ORDER BY s.seq;

-- the whole batch: three bookmarks, the first document's name as title
SELECT pg_temp.has(p.pdf, '/Count 3 >>') AS three_bookmarks,
       pg_temp.has(p.pdf, '/Title (ST1)') AS title
FROM batch, LATERAL (SELECT afp_to_pdf(batch.afp, '{"compress": false}') AS pdf) p;

-- damaged input: 22P03 with the offset
SELECT count(*) FROM afp_split('\x5a0010d3a8a8'::bytea);
