/*
 * test_core_shared.c — the helpers that text extraction, PDF conversion, the generator and the
 * template binder share (one function where each of them had its own copy): options parsing
 * (afp_json.c), End matching (afp_reader.c), the document index as JSON (afp_documents.c), the
 * OBD/OBP of generated objects (afp_writer.c), message clipping and blank trimming
 * (afp_bind.c, afp_bind_fmt.c), the text environment and MDR groups (afp_text.c,
 * afp_text_include.c) and font file reading (afp_convert_fontsel.c).
 */
#include "afp.h"
#include "afp_bind_int.h"
#include "afp_dbcs.h"
#include "afp_gen.h"
#include "afp_pdf.h"
#include "afp_pdf_int.h"
#include "afp_text_int.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* afp_json_options_parse: no text, bad JSON, a non-object and an object. */
static void
test_options_parse(void)
{
    afp_json *root = (afp_json *) 1;
    afp_error err;

    afp_error_clear(&err);
    CHECK(afp_json_options_parse(NULL, 0, &root, &err) == AFP_OK);
    CHECK(root == NULL);
    CHECK(afp_json_options_parse("{}", 0, &root, &err) == AFP_OK);
    CHECK(root == NULL);

    CHECK(afp_json_options_parse("{bad", 4, &root, &err) == AFP_ERR_ARGUMENT);
    CHECK(strncmp(err.message, "options: ", 9) == 0);

    root = (afp_json *) 1;
    CHECK(afp_json_options_parse("[1]", 3, &root, &err) == AFP_ERR_ARGUMENT);
    CHECK_STR(err.message, "options must be a JSON object");
    CHECK(root == NULL);

    CHECK(afp_json_options_parse("{\"a\": 1}", 8, &root, &err) == AFP_OK);
    CHECK(root != NULL && root->type == AFP_JSON_OBJECT && root->count == 1);
    afp_json_free(root);
}

/* afp_json_missing_option, directly and through both option parsers that use it. */
static void
test_missing_option(void)
{
    static const char *const good[] = {"\"error\"", "\"warn\"", "\"ignore\""};
    static const char *const bad[] = {"\"Warn\"", "5", "null", "\"\""};
    const char *msg = "options.missing: expected \"error\", \"warn\" or \"ignore\"";
    afp_pdf_options po;
    afp_text_options to;
    afp_json *v;
    afp_error err;
    int i, out;

    for (i = 0; i < 3; i++)
    {
        CHECK(afp_json_parse(good[i], strlen(good[i]), &v, &err) == AFP_OK);
        out = -1;
        CHECK(afp_json_missing_option(v, &out, &err) == AFP_OK);
        CHECK(out == i);
        afp_json_free(v);
    }
    for (i = 0; i < 4; i++)
    {
        CHECK(afp_json_parse(bad[i], strlen(bad[i]), &v, &err) == AFP_OK);
        out = 7;
        CHECK(afp_json_missing_option(v, &out, &err) == AFP_ERR_ARGUMENT);
        CHECK(out == 7);
        CHECK_STR(err.message, msg);
        afp_json_free(v);
    }

    afp_pdf_options_init(&po);
    CHECK(afp_pdf_options_parse(&po, "{\"missing\": \"warn\"}", 19, &err) == AFP_OK);
    CHECK(po.missing == AFP_PDF_MISSING_WARN);
    CHECK(afp_pdf_options_parse(&po, "{\"missing\": \"no\"}", 17, &err) == AFP_ERR_ARGUMENT);
    CHECK_STR(err.message, msg);
    CHECK(afp_pdf_options_parse(&po, "[]", 2, &err) == AFP_ERR_ARGUMENT);
    CHECK_STR(err.message, "options must be a JSON object");
    afp_pdf_options_free(&po);

    memset(&to, 0, sizeof(to));
    CHECK(afp_text_options_parse(&to, "{\"missing\": \"ignore\"}", 21, &err) == AFP_OK);
    CHECK(to.missing == 2);
    CHECK(afp_text_options_parse(&to, "{\"missing\": 1}", 14, &err) == AFP_ERR_ARGUMENT);
    CHECK_STR(err.message, msg);
    CHECK(afp_text_options_parse(&to, "\"x\"", 3, &err) == AFP_ERR_ARGUMENT);
    CHECK_STR(err.message, "options must be a JSON object");
    afp_text_options_free(&to);
}

/* afp_sf_open_level: the innermost open Begin of a category, -1 when none. */
static void
test_open_level(void)
{
    static const uint8_t stack[] = {0xA8, 0xAF, 0x9B, 0xAF, 0xC7};

    CHECK(afp_sf_open_level(stack, 5, 0xC7) == 4);
    CHECK(afp_sf_open_level(stack, 5, 0xAF) == 3);     /* the innermost of two */
    CHECK(afp_sf_open_level(stack, 3, 0xAF) == 1);
    CHECK(afp_sf_open_level(stack, 5, 0xA8) == 0);
    CHECK(afp_sf_open_level(stack, 5, 0xC6) == -1);
    CHECK(afp_sf_open_level(stack, 0, 0xA8) == -1);
}

/* afp_document_index_json: {} for NULL or no pairs, "" for missing strings, escaping. */
static void
test_document_index_json(void)
{
    afp_index_pair pairs[3] = {{"Account", "12\"3"}, {"Name", NULL}, {NULL, "x"}};
    afp_document doc;
    afp_buf b;

    memset(&doc, 0, sizeof(doc));
    afp_buf_init(&b);
    afp_document_index_json(NULL, &b);
    CHECK_STR(afp_buf_cstr(&b), "{}");
    b.len = 0;
    afp_document_index_json(&doc, &b);
    CHECK_STR(afp_buf_cstr(&b), "{}");
    b.len = 0;
    doc.index = pairs;
    doc.index_count = 3;
    afp_document_index_json(&doc, &b);
    CHECK_STR(afp_buf_cstr(&b), "{\"Account\": \"12\\\"3\", \"Name\": \"\", \"\": \"x\"}");
    afp_buf_free(&b);
}

/* afp_write_object_area: an OBD with units and area size, then an OBP at a negative x. */
static void
test_object_area(void)
{
    static const uint8_t obd[] = {3, 0x43, 1, 8, 0x4B, 0, 0, 0x38, 0x40, 0x38, 0x40,
                                  9, 0x4C, 2, 0, 0x05, 0xA0, 0, 0x02, 0xD0};
    static const uint8_t obp[] = {1, 23, 0xFF, 0xFF, 0xF6, 0, 0, 20, 0, 0, 0x2D, 0, 0,
                                  0, 0, 0, 0, 0, 0, 0, 0, 0x2D, 0, 1};
    afp_writer w;
    afp_reader r;
    afp_sf sf;
    afp_error err;

    afp_writer_init(&w);
    afp_write_object_area(&w, -10, 20, 1440, 720);
    afp_reader_init(&r, w.out.data, w.out.len);
    CHECK(afp_reader_next(&r, &sf, &err) == 1);
    CHECK(sf.id == 0xD3A66B);
    CHECK(sf.data_len == sizeof(obd) && memcmp(sf.data, obd, sizeof(obd)) == 0);
    CHECK(afp_reader_next(&r, &sf, &err) == 1);
    CHECK(sf.id == 0xD3AC6B);
    CHECK(sf.data_len == sizeof(obp) && memcmp(sf.data, obp, sizeof(obp)) == 0);
    CHECK(afp_reader_next(&r, &sf, &err) == 0);
    afp_writer_free(&w);
}

/* afp_bind_clip, afp_bind_is_blank and afp_bind_trim_blanks. */
static void
test_bind_helpers(void)
{
    char out[16];
    const char *s = "  \t a b\r\n";
    size_t n = strlen(s);

    CHECK_STR(afp_bind_clip("abc", 3, 5, out), "abc");
    CHECK_STR(afp_bind_clip("abcdef", 6, 4, out), "abcd...");
    /* "h\xC3\xA9llo": a cut inside the two-byte character moves before it */
    CHECK_STR(afp_bind_clip("h\xC3\xA9llo", 6, 2, out), "h...");
    CHECK_STR(afp_bind_clip("h\xC3\xA9llo", 6, 3, out), "h\xC3\xA9...");
    CHECK(afp_bind_is_blank(' ') && afp_bind_is_blank('\t') && afp_bind_is_blank('\r') &&
          afp_bind_is_blank('\n'));
    CHECK(!afp_bind_is_blank('\f') && !afp_bind_is_blank('a'));
    afp_bind_trim_blanks(&s, &n);
    CHECK(n == 3 && memcmp(s, "a b", 3) == 0);
    s = " \n";
    n = 2;
    afp_bind_trim_blanks(&s, &n);
    CHECK(n == 0);
}

/* The text environment: scope, object fonts, PTDs, end of a text object, save and restore. */
static void
test_text_env(void)
{
    static const uint8_t aeg[] = {0xAF, 0xC9}, oeg[] = {0xAF, 0x9B, 0xC7}, other[] = {0xFB, 0xC7};
    static const uint8_t ptd_a[4] = {0, 0, 1, 2}, ptd_b[4] = {0, 0, 3, 4};
    afp_text_ctx *ctx = malloc(sizeof(*ctx));
    afp_text_saved *saved;
    afp_sf sf;

    CHECK(afp_text_env_scope(aeg, 2) == 1);
    CHECK(afp_text_env_scope(oeg, 3) == 2);
    CHECK(afp_text_env_scope(other, 2) == 0);
    CHECK(afp_text_env_scope(aeg, 1) == 0);
    CHECK(afp_text_env_scope(aeg, 0) == 0);

    afp_text_ctx_init(ctx, NULL, 0, NULL, 1);
    afp_text_env_reset(ctx);
    CHECK(ctx->fonts[5].size10 == ctx->deffont.size10 && ctx->page_ptd == NULL);

    memset(&sf, 0, sizeof(sf));
    sf.id = 0xD3B19B;
    sf.data = ptd_a;
    sf.data_len = 4;
    afp_text_set_ptd(ctx, &sf, 1);
    CHECK(ctx->page_ptd == ptd_a && ctx->obj_ptd == NULL && ctx->page_ptd_id == 0xD3B19B);
    sf.data = ptd_b;
    afp_text_set_ptd(ctx, &sf, 2);
    CHECK(ctx->page_ptd == ptd_a && ctx->obj_ptd == ptd_b && ctx->obj_ptd_len == 4);

    afp_text_object_fonts(ctx, 1);             /* page scope: nothing to keep */
    CHECK(ctx->obj_fonts == 0);
    ctx->fonts[5].size10 = 120;
    afp_text_object_fonts(ctx, 2);
    CHECK(ctx->obj_fonts == 1);
    ctx->fonts[5].size10 = 240;                /* the text object's own map */
    afp_text_object_fonts(ctx, 2);             /* kept once: still the page's fonts */
    afp_text_end_object(ctx);
    CHECK(ctx->fonts[5].size10 == 120 && ctx->obj_fonts == 0 && ctx->obj_ptd == NULL);

    ctx->org_x = 1.5;
    saved = afp_text_env_save(ctx);
    afp_text_env_reset(ctx);
    ctx->org_x = 3;
    afp_text_env_restore(ctx, saved);
    CHECK(ctx->fonts[5].size10 == 120 && ctx->page_ptd == ptd_a && ctx->org_x == 1.5);
    afp_text_ctx_free(ctx);
    free(ctx);
}

/* afp_mdr_next: a group with name, local ID and size; a damaged group ends the walk. */
static void
test_mdr_groups(void)
{
    static const uint8_t mdr[] = {
        0x00, 0x12,                                 /* group 1: 18 bytes */
        0x06, 0x02, 0xDE, 0x00, 'A', 'B',           /* FQN X'DE': font name "AB" */
        0x04, 0x24, 0x05, 0x07,                     /* X'24': local ID 7 */
        0x06, 0x8B, 0x00, 0x00, 0x00, 0xF0,         /* X'8B': 240/20 pt */
        0x00, 0x07,                                 /* group 2: 7 bytes */
        0x05, 0x02, 0xBE, 0x00, 0x09,               /* FQN X'BE' of length 5: local ID 9 */
        0x00, 0x40, 0x01                            /* group 3 longer than the data */
    };
    afp_mdr_group g;
    size_t pos = 0;

    CHECK(afp_mdr_next(mdr, sizeof(mdr), &pos, &g) == 1);
    CHECK(pos == 18 && g.lid == 7 && g.font == 1 && g.vfs == 240);
    CHECK(g.name == mdr + 6 && g.name_len == 2);
    CHECK(afp_mdr_next(mdr, sizeof(mdr), &pos, &g) == 1);
    CHECK(pos == 25 && g.lid == 9 && g.font == 0 && g.name == NULL);
    CHECK(afp_mdr_next(mdr, sizeof(mdr), &pos, &g) == 0);
    CHECK(pos == 25 && g.lid == -1);
}

/* pdf_font_file_read: a missing file, an empty file and a small one. */
static void
test_font_file_read(void)
{
    char path[] = "/tmp/afp_unit_fontXXXXXX";
    size_t len = 0;
    uint8_t *data;
    FILE *f;
    int fd = mkstemp(path);

    CHECK(fd >= 0);
    if (fd < 0)
        return;
    f = fdopen(fd, "wb");
    CHECK(pdf_font_file_read("/nonexistent/afp/font.ttf", &len) == NULL);
    CHECK(pdf_font_file_read(path, &len) == NULL);   /* empty */
    fputs("OTTO1234", f);
    fclose(f);
    data = pdf_font_file_read(path, &len);
    CHECK(data != NULL && len == 8 && memcmp(data, "OTTO1234", 8) == 0);
    afp_free(data);
    remove(path);
}

void suite_coreshared(void);

/* Suite: helpers shared across the core. */
void
suite_coreshared(void)
{
    test_options_parse();
    test_missing_option();
    test_open_level();
    test_document_index_json();
    test_object_area();
    test_bind_helpers();
    test_text_env();
    test_mdr_groups();
    test_font_file_read();
}
