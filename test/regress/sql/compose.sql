--
-- afp_compose_text: argument checking (22023 naming the jsonb path), options, encodings.
--
-- a well-formed call: the file opens with BDT and closes with EDT
WITH f AS (SELECT afp_compose_text('{"name": "X", "text": "hi"}') AS afp)
SELECT (SELECT abbr FROM afp_dump(afp) ORDER BY seq LIMIT 1) AS first,
       (SELECT abbr FROM afp_dump(afp) ORDER BY seq DESC LIMIT 1) AS last
FROM f;

-- options change the layout: lines_per_page 2 turns five lines into three pages
SELECT afp_page_count(afp_compose_text('{"text": "1\n2\n3\n4\n5"}', '{"lines_per_page": 2}'));
SELECT afp_text(afp_compose_text('{"text": "1\n2\n3\n4\n5"}', '{"lines_per_page": 2}'));
-- page and font size: every option accepted together
SELECT afp_page_count(afp_compose_text('{"text": "x"}',
  '{"page_width_in": 8.5, "page_height_in": 11, "margin_in": 0.5, "font_size_pt": 12, "codepage": "T1V10500", "lines_per_page": 0}'));
-- a longer text than fits one page breaks by itself
SELECT afp_page_count(afp_compose_text(jsonb_build_object('text', string_agg('line ' || i, E'\n'))))
FROM generate_series(1, 200) i;
-- the code page may be named by number
SELECT afp_text(afp_compose_text('{"text": "codepage 1148"}', '{"codepage": "1148"}'));

-- null name and null index are the same as absent
SELECT afp_text(afp_compose_text('{"name": null, "index": null, "text": "ok"}'));

-- docs of the wrong shape
SELECT afp_compose_text('42');
SELECT afp_compose_text('"text"');
SELECT afp_compose_text('null');
SELECT afp_compose_text('[]');
SELECT afp_compose_text('[{"text": "a"}, 7]');
SELECT afp_compose_text('[{"text": "a"}, [1]]');
SELECT afp_compose_text('{"name": "X"}');
SELECT afp_compose_text('[{"text": "a"}, {"name": "B"}]');
SELECT afp_compose_text('{"text": 1}');
SELECT afp_compose_text('{"text": "a", "name": 5}');
SELECT afp_compose_text('{"text": "a", "index": ["Account", "1"]}');
SELECT afp_compose_text('[{"text": "a"}, {"text": "b"}, {"text": "c", "index": {"Account": 7}}]');
SELECT afp_compose_text('{"text": "a", "index": {"Account": null}}');
SELECT afp_compose_text('{"text": "a", "index": {"": "x"}}');
SELECT afp_compose_text('{"text": "a", "colour": "red"}');

-- options of the wrong shape or range
SELECT afp_compose_text('{"text": "a"}', '[]');
SELECT afp_compose_text('{"text": "a"}', '"wide"');
SELECT afp_compose_text('{"text": "a"}', '{"margin_in": "wide"}');
SELECT afp_compose_text('{"text": "a"}', '{"page_width_in": 0}');
SELECT afp_compose_text('{"text": "a"}', '{"page_height_in": 100}');
SELECT afp_compose_text('{"text": "a"}', '{"font_size_pt": -3}');
SELECT afp_compose_text('{"text": "a"}', '{"lines_per_page": 2.5}');
SELECT afp_compose_text('{"text": "a"}', '{"lines_per_page": -1}');
SELECT afp_compose_text('{"text": "a"}', '{"margin_in": 5}');
SELECT afp_compose_text('{"text": "a"}', '{"font_size_pt": 13}');
SELECT afp_compose_text('{"text": "a"}', '{"codepage": "klingon"}');
SELECT afp_compose_text('{"text": "a"}', '{"codepage": 500}');
SELECT afp_compose_text('{"text": "a"}', '{"paper": "A4"}');

-- text no supported code page can hold (22021)
SELECT afp_compose_text('{"name": "SNOW", "text": "let it snow \u2603"}');
-- ... and a character the requested code page cannot hold
SELECT afp_compose_text('{"text": "5 €"}', '{"codepage": "T1V10500"}');

-- SQLSTATEs
DO $$
BEGIN
  PERFORM afp_compose_text('{"text": 1}');
EXCEPTION WHEN invalid_parameter_value THEN
  RAISE NOTICE 'caught SQLSTATE %', SQLSTATE;
END $$;
DO $$
BEGIN
  PERFORM afp_compose_text('{"text": "\u2603"}');
EXCEPTION WHEN character_not_in_repertoire THEN
  RAISE NOTICE 'caught SQLSTATE %', SQLSTATE;
END $$;

SELECT afp_compose_text(NULL) IS NULL AS strict, afp_compose_text('{"text": "a"}', NULL) IS NULL AS strict;
