/*
 * test_text_include.c — text extraction of overlays (IPO) and page segments (IPS) included from
 * the file's inline resource group (core/afp_text_include.c). Files are built with the core
 * writer (afp_writer.c).
 */
#include "afp.h"
#include "afp_dbcs.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

/* Writes PTX with text at (x, y) in the default font (CP500). */
static void
inc_text_at(afp_writer *w, int16_t x, int16_t y, const char *ascii)
{
    afp_ptx p;
    uint8_t e[128];
    size_t i, n = strlen(ascii);
    const afp_codepage *cp = afp_codepage_find("T1V10500");

    for (i = 0; i < n && i < sizeof(e); i++)
        e[i] = (uint8_t) afp_codepage_from_unicode(cp, (uint8_t) ascii[i]);
    afp_ptx_begin(&p, w);
    afp_ptx_amb(&p, y);
    afp_ptx_ami(&p, x);
    afp_ptx_trn(&p, e, n);
    afp_ptx_end(&p);
}

/* Writes a text object (BPT … EPT) with one line of text at (x, y). */
static void
inc_text_object(afp_writer *w, int16_t x, int16_t y, const char *ascii)
{
    afp_write_begin(w, 0xD3A89B, "PT000001", NULL, 0);
    inc_text_at(w, x, y, ascii);
    afp_write_end(w);
}

/* Writes an IPO (overlay) or IPS (page segment) of name at (x, y); returns its offset. */
static size_t
inc_include(afp_writer *w, int overlay, const char *name, int32_t x, int32_t y)
{
    afp_buf d;
    size_t at = w->out.len;

    afp_buf_init(&d);
    afp_buf_reserve(&d, 16);
    afp_token_encode(name, d.data);
    d.len = 8;
    afp_buf_put24(&d, (uint32_t) x & 0xFFFFFF);
    afp_buf_put24(&d, (uint32_t) y & 0xFFFFFF);
    if (overlay)
        afp_buf_put16(&d, 0);
    afp_write_sf(w, overlay ? 0xD3AFD8 : 0xD3AF5F, d.data, d.len);
    afp_buf_free(&d);
    return at;
}

/* Begins an overlay with its environment group (PGD, PTD-2, 1440 units per inch). */
static void
inc_begin_overlay(afp_writer *w, const char *name)
{
    afp_write_begin(w, 0xD3A8DF, name, NULL, 0);
    afp_write_begin(w, 0xD3A8C9, "", NULL, 0);
    afp_write_page_descriptors(w, 12240, 15840);
    afp_write_end(w);
}

/* Begins a document and a page (PGD, PTD-2, 1440 units per inch). */
static void
inc_begin_page(afp_writer *w)
{
    afp_write_begin(w, 0xD3A8A8, "DOC00001", NULL, 0);
    afp_write_begin(w, 0xD3A8AF, "PAGE0001", NULL, 0);
    afp_write_begin(w, 0xD3A8C9, "", NULL, 0);
    afp_write_page_descriptors(w, 12240, 15840);
    afp_write_end(w);
}

/* Extracts the text of w's output (options o, may be NULL) into a malloc'd string (NULL on
 * error, with err set). */
static char *
inc_extract(afp_writer *w, const afp_text_options *o, afp_error *err)
{
    afp_buf out;
    char *s = NULL;

    afp_buf_init(&out);
    afp_error_clear(err);
    if (afp_extract_text_opts(w->out.data, w->out.len, o, &out, err) == AFP_OK)
    {
        s = malloc(out.len + 1);
        memcpy(s, out.data, out.len);
        s[out.len] = '\0';
    }
    afp_buf_free(&out);
    return s;
}

/* Ends the resource group, then writes a document whose one page includes overlay at (0, 0). */
static void
inc_page_including(afp_writer *w, const char *overlay)
{
    afp_write_end(w);
    inc_begin_page(w);
    inc_include(w, 1, overlay, 0, 0);
    afp_write_end(w);
    afp_write_end(w);
}

/* Extracts the text of w's output expecting a failure with status st at byte offset at (-1: the
 * offset is not checked); err keeps the error; frees the writer. */
static void
inc_expect_error(afp_writer *w, afp_status st, int64_t at, afp_error *err)
{
    char *s = inc_extract(w, NULL, err);

    CHECK(s == NULL);
    CHECK(err->status == st);
    if (at >= 0)
        CHECK(err->offset == at);
    free(s);
    afp_writer_free(w);
}

/* Overlay text appears once per include at the include's offset, in reading order. */
static void
inc_overlay_position(void)
{
    afp_writer w;
    afp_error err;
    char *s;

    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8C6, "RG000001", NULL, 0);
    inc_begin_overlay(&w, "O1HEAD");
    inc_text_object(&w, 100, 200, "Overlay head");
    afp_write_end(&w);          /* EMO */
    inc_begin_overlay(&w, "O1SIDE");
    inc_text_object(&w, 0, 200, "Right");
    afp_write_end(&w);
    afp_write_end(&w);          /* ERG */
    inc_begin_page(&w);
    afp_write_begin(&w, 0xD3A89B, "PT000001", NULL, 0);
    inc_text_at(&w, 100, 2000, "Body");
    inc_text_at(&w, 100, 1000, "Left");
    afp_write_end(&w);
    inc_include(&w, 1, "O1HEAD", 0, 500);       /* y 700: above the body */
    inc_include(&w, 1, "O1HEAD", 0, 3000);      /* y 3200: below it */
    inc_include(&w, 1, "O1SIDE", 3000, 800);    /* x 3000, y 1000: right of "Left" */
    afp_write_end(&w);
    afp_write_end(&w);
    s = inc_extract(&w, NULL, &err);
    CHECK_STR(s, "Overlay head\nLeft Right\nBody\nOverlay head");
    free(s);
    afp_writer_free(&w);
}

/* A page segment uses the page's environment; an overlay including a page segment adds both
 * offsets; {"includes": false} leaves out all included text. */
static void
inc_segment_nested(void)
{
    afp_writer w;
    afp_error err;
    afp_text_options o;
    char *s;

    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8C6, "RG000001", NULL, 0);
    afp_write_begin(&w, 0xD3A85F, "S1SEG", NULL, 0);
    inc_text_object(&w, 0, 100, "Seg");
    afp_write_end(&w);          /* EPS */
    inc_begin_overlay(&w, "O1ALPHA");
    inc_text_object(&w, 0, 50, "Alpha");
    inc_include(&w, 0, "S1SEG", 0, 300);
    afp_write_end(&w);
    afp_write_end(&w);
    inc_begin_page(&w);
    inc_text_object(&w, 0, 400, "Mid");
    inc_include(&w, 1, "O1ALPHA", 0, 100);     /* Alpha at 150, Seg at 100+300+100 = 500 */
    inc_include(&w, 0, "S1SEG", 0, 1000);      /* Seg at 1100 */
    afp_write_end(&w);
    afp_write_end(&w);
    s = inc_extract(&w, NULL, &err);
    CHECK_STR(s, "Alpha\nMid\nSeg\nSeg");
    free(s);
    memset(&o, 0, sizeof(o));
    CHECK(afp_text_options_parse(&o, "{\"includes\": false}", 19, &err) == AFP_OK);
    CHECK(o.no_includes == 1);
    s = inc_extract(&w, &o, &err);
    CHECK_STR(s, "Mid");
    free(s);
    afp_text_options_free(&o);
    memset(&o, 0, sizeof(o));
    CHECK(afp_text_options_parse(&o, "{\"includes\": \"no\"}", 18, &err) == AFP_ERR_ARGUMENT);
    afp_text_options_free(&o);
    afp_writer_free(&w);
}

/* Collects warnings (joined by '|'). */
static void
inc_warn(void *ctx, const char *msg)
{
    afp_buf *b = ctx;

    afp_buf_append(b, msg, strlen(msg));
    afp_buf_putc(b, '|');
}

/* An include naming a resource the file lacks contributes no text (warning when asked). */
static void
inc_missing(void)
{
    afp_writer w;
    afp_error err;
    afp_text_options o;
    afp_buf warnings;
    char *s;

    afp_writer_init(&w);
    inc_begin_page(&w);
    inc_text_object(&w, 0, 400, "Page");
    inc_include(&w, 1, "O1NONE", 0, 100);
    afp_write_end(&w);
    afp_write_end(&w);
    s = inc_extract(&w, NULL, &err);
    CHECK_STR(s, "Page");
    free(s);
    afp_buf_init(&warnings);
    memset(&o, 0, sizeof(o));
    o.warning = inc_warn;
    o.cb_ctx = &warnings;
    s = inc_extract(&w, &o, &err);
    CHECK_STR(s, "Page");
    afp_buf_putc(&warnings, '\0');
    CHECK(strstr((const char *) warnings.data, "overlay O1NONE included at byte") != NULL);
    free(s);
    afp_buf_free(&warnings);
    afp_writer_free(&w);
}

/* An overlay including itself, directly or through another, is an error at the include. */
static void
inc_loops(void)
{
    afp_writer w;
    afp_error err;
    size_t at;

    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8C6, "RG000001", NULL, 0);
    inc_begin_overlay(&w, "O1SELF");
    inc_text_object(&w, 0, 50, "Self");
    at = inc_include(&w, 1, "O1SELF", 0, 100);
    afp_write_end(&w);
    inc_page_including(&w, "O1SELF");
    inc_expect_error(&w, AFP_ERR_FORMAT, (int64_t) at, &err);
    CHECK(strstr(err.message, "O1SELF includes itself") != NULL);

    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8C6, "RG000001", NULL, 0);
    inc_begin_overlay(&w, "O1A");
    inc_include(&w, 1, "O1B", 0, 0);
    afp_write_end(&w);
    inc_begin_overlay(&w, "O1B");
    at = inc_include(&w, 1, "O1A", 0, 0);
    afp_write_end(&w);
    inc_page_including(&w, "O1A");
    inc_expect_error(&w, AFP_ERR_FORMAT, (int64_t) at, &err);
}

/* Nested includes multiplying the text (each of 10 overlays includes the next 4 times) stop at
 * the read budget with a limit error instead of running for ever. */
static void
inc_budget(void)
{
    afp_writer w;
    afp_error err;
    char name[9], next[9];
    int i, k;

    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8C6, "RG000001", NULL, 0);
    for (i = 0; i < 10; i++)
    {
        memcpy(name, "O1N0", 5);
        memcpy(next, "O1N0", 5);
        name[3] = (char) ('0' + i);
        next[3] = (char) ('0' + i + 1);
        inc_begin_overlay(&w, name);
        inc_text_object(&w, 0, 50, "x");
        for (k = 0; k < 4 && i < 9; k++)
            inc_include(&w, 1, next, 0, 10 * k);
        afp_write_end(&w);
    }
    inc_page_including(&w, "O1N0");
    inc_expect_error(&w, AFP_ERR_LIMIT, -1, &err);
}

/* An overlay whose AEG maps a data-object font with an MDR: its text is UTF-16BE. */
static void
inc_mdr_font(void)
{
    static const uint8_t mdr[] = {0x00, 0x0C, 0x04, 0x24, 0x05, 0x01,
                                  0x06, 0x8B, 0x00, 0x00, 0x00, 0xF0};
    static const uint8_t utf16[] = {0x00, 'O', 0x00, 'K'};
    afp_writer w;
    afp_error err;
    afp_ptx p;
    char *s;

    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8C6, "RG000001", NULL, 0);
    afp_write_begin(&w, 0xD3A8DF, "O1TTF", NULL, 0);
    afp_write_begin(&w, 0xD3A8C9, "", NULL, 0);
    afp_write_sf(&w, 0xD3ABC3, mdr, sizeof(mdr));
    afp_write_page_descriptors(&w, 12240, 15840);
    afp_write_end(&w);
    afp_write_begin(&w, 0xD3A89B, "PT000001", NULL, 0);
    afp_ptx_begin(&p, &w);
    afp_ptx_scfl(&p, 1);
    afp_ptx_amb(&p, 100);
    afp_ptx_ami(&p, 0);
    afp_ptx_trn(&p, utf16, sizeof(utf16));
    afp_ptx_end(&p);
    afp_write_end(&w);
    afp_write_end(&w);
    inc_page_including(&w, "O1TTF");
    s = inc_extract(&w, NULL, &err);
    CHECK_STR(s, "OK");
    free(s);
    afp_writer_free(&w);
}

void suite_textinc(void);
/* Suite: text of included overlays and page segments. */
void
suite_textinc(void)
{
    inc_overlay_position();
    inc_segment_nested();
    inc_missing();
    inc_loops();
    inc_budget();
    inc_mdr_font();
}
