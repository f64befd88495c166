/*
 * test_pdf.c — unit tests of the AFP→PDF converter (core/afp_convert*.c, afp_pdf_writer.c):
 * options, document structure (xref offsets, page tree), text placement and colour, rules,
 * orientation, images (uncompressed, RL4, G4, JPEG passthrough), GOCA graphics, overlays shared
 * as form XObjects, missing resources, the font subset (re-opened with FreeType), BCOCA bar
 * codes (bar counts and positions), bookmarks and metadata of page groups and damaged input.
 * Content streams are inspected with {"compress": false}.
 */
#include "afp.h"
#include "afp_pdf.h"
#include "unit.h"
#include "unit_afp.h"

#include <ft2build.h>
#include FT_FREETYPE_H

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ building AFP */

/* Writes BAG … EAG with an MCF (LID 1 = fcs, CP500), a PGD and a PTD of A4 at 240 pels per inch. */
static void
page_env(afp_writer *w, const char *fcs)
{
    afp_buf mcf;

    afp_buf_init(&mcf);
    unit_mcf_group(&mcf, 1, fcs, "T1V10500");
    unit_aeg(w, 0xD3AB8A, &mcf, UNIT_A4_W, UNIT_A4_H);
    afp_buf_free(&mcf);
}

/* A one-page document: "Hello" at (240, 480) in 12-point Helvetica, red, then a rule. */
static void
hello_doc(afp_buf *out, int rotate)
{
    afp_writer w;
    afp_ptx p;
    afp_buf t, mcf;

    afp_writer_init(&w);
    afp_buf_init(&t);
    afp_buf_init(&mcf);
    unit_mcf_group(&mcf, 1, "C0H200B0", "T1V10500");
    unit_page_begin(&w, &mcf);
    afp_ptx_begin(&p, &w);
    if (rotate)
        afp_ptx_sto(&p, 90, 180);
    afp_ptx_amb(&p, 480);
    afp_ptx_ami(&p, 240);
    afp_ptx_scfl(&p, 1);
    afp_ptx_sec_rgb(&p, 255, 0, 0);
    unit_ebcdic("Hello", &t);
    afp_ptx_trn(&p, t.data, t.len);
    afp_ptx_dir(&p, 480, 4);
    afp_ptx_end(&p);
    unit_page_end(&w, out);
    afp_buf_free(&t);
    afp_buf_free(&mcf);
}

/* Checks the xref table: every in-use entry points at "N 0 obj", startxref at "xref". */
static int
xref_ok(const afp_buf *pdf)
{
    char *s = malloc(pdf->len + 1);
    const char *sx, *x;
    long start, n, i;
    int ok = 1;

    memcpy(s, pdf->data, pdf->len);
    s[pdf->len] = '\0';
    for (i = 0; i < (long) pdf->len; i++)
        if (s[i] == '\0')
            s[i] = ' ';
    sx = strstr(s, "startxref\n");
    if (sx == NULL || sscanf(sx + 10, "%ld", &start) != 1 || start < 0 ||
        start >= (long) pdf->len || strncmp(s + start, "xref\n0 ", 7) != 0)
    {
        free(s);
        return 0;
    }
    x = s + start + 7;
    n = strtol(x, NULL, 10);
    x = strchr(x, '\n') + 1;
    for (i = 0; i < n && ok; i++, x += 20)
    {
        long off = strtol(x, NULL, 10);
        char want[32];

        if (x[17] != 'n')
            continue;
        snprintf(want, sizeof(want), "%ld 0 obj", i);
        if (off <= 0 || off >= (long) pdf->len || strncmp(s + off, want, strlen(want)) != 0)
            ok = 0;
    }
    free(s);
    return ok;
}

/* ------------------------------------------------------------------ tests */

/* Options: defaults, every key, errors naming the key. */
static void
test_options(void)
{
    afp_pdf_options o;
    afp_error err;

    afp_pdf_options_init(&o);
    CHECK(o.missing == AFP_PDF_MISSING_ERROR && o.compress == 1 && o.base14 == 0);
    afp_error_clear(&err);
    {
        const char *j = "{\"missing\": \"warn\", \"fonts\": \"base14\", \"compress\": false, "
                        "\"title\": \"T\"}";

        CHECK(afp_pdf_options_parse(&o, j, strlen(j), &err) == AFP_OK);
    }
    CHECK(o.missing == AFP_PDF_MISSING_WARN && o.base14 == 1 && o.compress == 0);
    CHECK_STR(o.title, "T");
    CHECK(afp_pdf_options_parse(&o, "{\"colour\": 1}", 13, &err) == AFP_ERR_ARGUMENT);
    CHECK(strstr(err.message, "colour") != NULL);
    CHECK(afp_pdf_options_parse(&o, "{\"missing\": \"maybe\"}", 20, &err) == AFP_ERR_ARGUMENT);
    CHECK(strstr(err.message, "options.missing") != NULL);
    CHECK(afp_pdf_options_parse(&o, "[1]", 3, &err) == AFP_ERR_ARGUMENT);
    CHECK(afp_pdf_options_parse(&o, "{", 1, &err) == AFP_ERR_ARGUMENT);
}

/* A composed document: structure, page count, xref. */
static void
test_structure(void)
{
    afp_compose_doc doc;
    afp_compose_opts copts;
    afp_buf afp, pdf;
    afp_error err;

    memset(&doc, 0, sizeof(doc));
    memset(&copts, 0, sizeof(copts));
    doc.text = "page one\fpage two\fpage three";
    doc.text_len = strlen(doc.text);
    afp_buf_init(&afp);
    afp_buf_init(&pdf);
    CHECK(afp_compose_text(&doc, 1, &copts, &afp, &err) == AFP_OK);
    CHECK(unit_convert(&afp, NULL, &pdf, NULL, &err) == AFP_OK);
    CHECK(pdf.len > 20 && memcmp(pdf.data, "%PDF-1.6\n", 9) == 0);
    CHECK(pdf.len > 6 && memcmp(pdf.data + pdf.len - 6, "%%EOF\n", 6) == 0);
    CHECK(unit_has(&pdf, "/Type /Pages /Count 3 "));
    CHECK(unit_count(&pdf, "/Type /Page ") == 3);
    CHECK(unit_has(&pdf, "/Subtype /CIDFontType2") && unit_has(&pdf, "/ToUnicode"));
    CHECK(unit_has(&pdf, "LiberationMono"));          /* composed text is Courier */
    CHECK(xref_ok(&pdf));
    /* compressed output is smaller and still consistent */
    {
        afp_buf z;

        afp_buf_init(&z);
        CHECK(unit_convert(&afp, "{\"compress\": true}", &z, NULL, &err) == AFP_OK);
        CHECK(z.len < pdf.len && xref_ok(&z) && unit_has(&z, "/FlateDecode"));
        afp_buf_free(&z);
    }
    afp_buf_free(&afp);
    afp_buf_free(&pdf);
}

/* Text position, size, colour, rule; orientation through STO. */
static void
test_text(void)
{
    afp_buf afp, pdf;
    afp_error err;

    afp_buf_init(&afp);
    afp_buf_init(&pdf);
    hello_doc(&afp, 0);
    CHECK(unit_convert(&afp, NULL, &pdf, NULL, &err) == AFP_OK);
    /* page flip, A4 at 240 pels per inch: 2806 units = 841.8 pt */
    CHECK(unit_has(&pdf, "/MediaBox [0 0 595.2 841.8]"));
    CHECK(unit_has(&pdf, "1 0 0 -1 0 841.8 cm"));
    /* AMI 240, AMB 480 at 240 per inch: 72 pt, 144 pt; 12 pt from C0H200B0 */
    CHECK(unit_has(&pdf, "1 0 0 -1 72 144 Tm"));
    CHECK(unit_has(&pdf, " 12 Tf"));
    CHECK(unit_has(&pdf, "1 0 0 rg 1 0 0 RG"));
    CHECK(unit_has(&pdf, "LiberationSans"));
    /* DIR 480 x 4 units after "Hello" (2278/1000 em at 12 pt = 27.336 pt): 144 pt long, 1.2 pt
     * wide, stroked along its middle */
    CHECK(unit_has(&pdf, "1.2 w 99.336 144.6 m 243.336 144.6 l S"));
    afp.len = 0;
    hello_doc(&afp, 1);
    CHECK(unit_convert(&afp, NULL, &pdf, NULL, &err) == AFP_OK);
    /* inline direction down the page (90°), baselines progress to the left (180°) */
    CHECK(unit_has(&pdf, "0 1 1 0 "));
    afp_buf_free(&afp);
    afp_buf_free(&pdf);
}

/* Writes an inline image object: IOCA content cont (n bytes) placed at (240, 240) in a
 * 480 x 240 unit area with mapping option map. */
static void
image_doc(afp_buf *out, const uint8_t *cont, size_t n, uint8_t map)
{
    static const uint8_t pgd[15] = {0, 0, 0x09, 0x60, 0x09, 0x60, 0x00, 0x07, 0xC0,
                                    0x00, 0x0A, 0xF6, 0, 0, 0};
    uint8_t mio[] = {0x00, 0x05, 0x03, 0x04, map};
    uint8_t idd[] = {0x00, 0x09, 0x60, 0x09, 0x60, 0x00, 0x00, 0x00, 0x00};
    afp_writer w;

    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8A8, "DOC1", NULL, 0);
    afp_write_begin(&w, 0xD3A8AF, "PAGE1", NULL, 0);
    afp_write_begin(&w, 0xD3A8C9, "AEG1", NULL, 0);
    afp_write_sf(&w, 0xD3A6AF, pgd, 15);
    afp_write_end(&w);
    afp_write_begin(&w, 0xD3A8FB, "IMG1", NULL, 0);
    afp_write_begin(&w, 0xD3A8C7, "OEG1", NULL, 0);
    unit_object_area(&w);
    afp_write_sf(&w, 0xD3ABFB, mio, sizeof(mio));
    afp_write_sf(&w, 0xD3A6FB, idd, sizeof(idd));
    afp_write_end(&w);
    /* split the content over two IPDs at an arbitrary byte */
    afp_write_sf(&w, 0xD3EEFB, cont, n / 2);
    afp_write_sf(&w, 0xD3EEFB, cont + n / 2, n - n / 2);
    unit_page_end(&w, out);
}

/* IOCA content: Begin Segment … Image Size w x h at 240 ppi, encoding, IDE size, data. */
static void
ioca(afp_buf *b, unsigned w, unsigned h, uint8_t compr, uint8_t bits, const uint8_t *data,
     size_t n, int structure)
{
    uint8_t head[] = {0x70, 0x00, 0x91, 0x01, 0xFF,
                      0x94, 0x09, 0x00, 0x09, 0x60, 0x09, 0x60, (uint8_t) (w >> 8), (uint8_t) w,
                      (uint8_t) (h >> 8), (uint8_t) h,
                      0x95, 0x02, compr, 0x01, 0x96, 0x01, bits};
    uint8_t st[] = {0x9B, 0x08, 0x00, 0x01, 0, 0, 0, 8, 8, 8};

    afp_buf_append(b, head, sizeof(head));
    if (structure)
        afp_buf_append(b, st, sizeof(st));
    afp_buf_putc(b, 0xFE);
    afp_buf_putc(b, 0x92);
    afp_buf_put16(b, (uint16_t) n);
    afp_buf_append(b, data, n);
    afp_buf_append(b, "\x93\x00\x71\x00", 4);
}

/* Restarts afp as a page with one image (IOCA content built into c by ioca() from the other
 * arguments, mapping option map) and converts it into pdf. */
static afp_status
image_convert(afp_buf *afp, afp_buf *c, unsigned w, unsigned h, uint8_t compr, uint8_t bits,
              const uint8_t *data, size_t n, int structure, uint8_t map, afp_buf *pdf, afp_error *err)
{
    afp->len = c->len = 0;
    ioca(c, w, h, compr, bits, data, n, structure);
    image_doc(afp, c->data, c->len, map);
    return unit_convert(afp, NULL, pdf, NULL, err);
}

/* Images: bilevel mask, RGB, RL4 decoding, G4 and JPEG passthrough, damaged content. */
static void
test_images(void)
{
    afp_buf afp, pdf, c;
    afp_error err;
    uint8_t bits[16], rgb[2 * 2 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
    /* RL4 line 1: white 3 (B'0010'), black 2 (B'0001'), EOL (B'1111 1111') → 0x21FF */
    uint8_t rl4[] = {0x00, 0x01, 0x00, 0x07, 0x21, 0xFF, 0xF0};
    uint8_t jpeg[] = {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x02, 0x00, 0x03, 0x01,
                      0x01, 0x11, 0x00, 0xFF, 0xD9};
    uint8_t g4[] = {0x26, 0xA0, 0x00, 0x10, 0x01};

    afp_buf_init(&afp);
    afp_buf_init(&pdf);
    afp_buf_init(&c);
    memset(bits, 0xAA, sizeof(bits));
    CHECK(image_convert(&afp, &c, 16, 8, 0x03, 1, bits, sizeof(bits), 0, 0x60, &pdf, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/Width 16 /Height 8 /ImageMask true /BitsPerComponent 1 /Decode [1 0]"));
    /* scale to fill a 480 x 240 unit area at (240, 240): 144 x 72 pt at (72, 72) */
    CHECK(unit_has(&pdf, "1 0 -0 1 72 72 cm") || unit_has(&pdf, "1 0 0 1 72 72 cm"));
    CHECK(unit_has(&pdf, "144 0 0 -72 0 72 cm"));
    CHECK(unit_has(&pdf, "/Im1 Do"));

    CHECK(image_convert(&afp, &c, 2, 2, 0x03, 24, rgb, sizeof(rgb), 1, 0x20, &pdf, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/Width 2 /Height 2 /ColorSpace /DeviceRGB /BitsPerComponent 8"));
    /* scale to fit: 2 x 2 pels into 144 x 72 pt: 72 x 72, centred */
    CHECK(unit_has(&pdf, "72 0 0 -72 36 72 cm"));

    CHECK(image_convert(&afp, &c, 8, 1, 0x06, 1, rl4, sizeof(rl4), 0, 0x60, &pdf, &err) == AFP_OK);
    /* decoded row: pels 3 and 4 black → X'18' */
    CHECK(unit_has(&pdf, "/Width 8 /Height 1 /ImageMask true"));
    CHECK(unit_has(&pdf, "stream\n\x18\nendstream"));

    CHECK(image_convert(&afp, &c, 8, 1, 0x82, 1, g4, sizeof(g4), 0, 0x60, &pdf, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/Filter /CCITTFaxDecode") && unit_has(&pdf, "/K -1 /Columns 8 /Rows 1"));

    CHECK(image_convert(&afp, &c, 3, 2, 0x83, 8, jpeg, sizeof(jpeg), 0, 0x60, &pdf, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/Width 3 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8 /Length 17 "
                    "/Filter /DCTDecode"));

    /* a self-defining field running past the end of the image data: error with its offset */
    afp.len = c.len = 0;
    ioca(&c, 16, 8, 0x03, 1, bits, sizeof(bits), 0);
    c.data[6] = 0x40;          /* Image Size length 64 */
    c.len = 10;
    image_doc(&afp, c.data, c.len, 0x60);
    CHECK(unit_convert(&afp, NULL, &pdf, NULL, &err) == AFP_ERR_FORMAT);
    CHECK(strstr(err.message, "at byte offset") != NULL && strstr(err.message, "X'94'") != NULL);
    afp_buf_free(&afp);
    afp_buf_free(&pdf);
    afp_buf_free(&c);
}

/* A page with one graphics object: red filled box, a line and the string "Hi". */
static void
goca_doc(afp_buf *out, int damage)
{
    static const uint8_t pgd[15] = {0, 0, 0x09, 0x60, 0x09, 0x60, 0x00, 0x07, 0xC0,
                                    0x00, 0x0A, 0xF6, 0, 0, 0};
    /* window 0..480 x 0..240 at 2400 per 10 inches */
    uint8_t gdd[] = {0xF6, 0x12, 0x40, 0x00, 0x00, 0x00, 0x09, 0x60, 0x09, 0x60, 0x00, 0x00,
                     0x00, 0x00, 0x01, 0xE0, 0x00, 0x00, 0x00, 0xF0};
    uint8_t gad[] = {
        0x70, 0x0C, 0xF0, 0xF0, 0xF0, 0xF1, 0x00, 0x00, 0x00, 0x34, 0x00, 0x00, 0x00, 0x00,
        /* GSPCOL RGB red */
        0xB2, 0x0D, 0x00, 0x01, 0, 0, 0, 0, 8, 8, 8, 0, 0xFF, 0x00, 0x00,
        /* GBAR (no boundary, alternate), GBOX (0,0)-(240,120), GEAR */
        0x68, 0x80, 0xC0, 0x0A, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF0, 0x00, 0x78,
        0x60, 0x00,
        /* GLINE (0,240) → (480,0) */
        0xC1, 0x08, 0x00, 0x00, 0x00, 0xF0, 0x01, 0xE0, 0x00, 0x00,
        /* GCHST at (24, 24): "Hi" in CP500 */
        0xC3, 0x06, 0x00, 0x18, 0x00, 0x18, 0xC8, 0x89};
    afp_writer w;

    if (damage)
        gad[sizeof(gad) - 7] = 0x40;       /* GCHST claims 64 bytes */
    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8A8, "DOC1", NULL, 0);
    afp_write_begin(&w, 0xD3A8AF, "PAGE1", NULL, 0);
    afp_write_begin(&w, 0xD3A8C9, "AEG1", NULL, 0);
    afp_write_sf(&w, 0xD3A6AF, pgd, 15);
    afp_write_end(&w);
    afp_write_begin(&w, 0xD3A8BB, "GRA1", NULL, 0);
    afp_write_begin(&w, 0xD3A8C7, "OEG1", NULL, 0);
    unit_object_area(&w);
    afp_write_sf(&w, 0xD3A6BB, gdd, sizeof(gdd));
    afp_write_end(&w);
    afp_write_sf(&w, 0xD3EEBB, gad, 20);
    afp_write_sf(&w, 0xD3EEBB, gad + 20, sizeof(gad) - 20);
    unit_page_end(&w, out);
}

/* GOCA: window mapping (y up in the GPS), area fill, lines, character strings, damage. */
static void
test_goca(void)
{
    afp_buf afp, pdf;
    afp_error err;

    afp_buf_init(&afp);
    afp_buf_init(&pdf);
    goca_doc(&afp, 0);
    CHECK(unit_convert(&afp, NULL, &pdf, NULL, &err) == AFP_OK);
    /* clip to the area: 144 x 72 pt at (72, 72) */
    CHECK(unit_has(&pdf, "72 72 m\n216 72 l\n216 144 l\n72 144 l\nh W n"));
    CHECK(unit_has(&pdf, "1 0 0 rg 1 0 0 RG"));
    /* the box (0,0)-(240,120) is the lower left quarter: y from 144 up to 108 */
    CHECK(unit_has(&pdf, "72 144 m\n144 144 l\n144 108 l\n72 108 l\n72 144 l\nh\nf*"));
    /* the line from the upper left to the lower right corner, normal width 0.6 pt */
    CHECK(unit_has(&pdf, "0.6 w [] 0 d\n72 72 m\n216 144 l\nS"));
    /* "Hi" as text at (24, 24) GPS units: 79.2, 136.8 pt, 10 pt default cell */
    CHECK(unit_has(&pdf, "1 0 0 -1 79.2 136.8 Tm") && unit_has(&pdf, " 10 Tf"));
    afp.len = 0;
    goca_doc(&afp, 1);
    CHECK(unit_convert(&afp, NULL, &pdf, NULL, &err) == AFP_ERR_FORMAT);
    CHECK(strstr(err.message, "GOCA drawing order X'C3'") != NULL && err.offset > 0);
    afp_buf_free(&afp);
    afp_buf_free(&pdf);
}

/* A resource group with overlay OVL1 (a rule), then pages that include ovl (twice each). */
static void
overlay_doc(afp_buf *out, const char *ovl, int pages)
{
    uint8_t ipo[16] = {0};
    afp_writer w;
    afp_ptx p;
    int i, k;

    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8C6, "RG1", NULL, 0);
    afp_write_begin(&w, 0xD3A8CE, "OVL1", NULL, 0);
    afp_write_begin(&w, 0xD3A8DF, "OVL1", NULL, 0);
    unit_aeg(&w, 0, NULL, 480, 480);
    afp_write_begin(&w, 0xD3A89B, "PT1", NULL, 0);
    afp_ptx_begin(&p, &w);
    afp_ptx_amb(&p, 100);
    afp_ptx_ami(&p, 100);
    afp_ptx_dir(&p, 200, 10);
    afp_ptx_end(&p);
    afp_write_end(&w);
    afp_write_end(&w);
    afp_write_end(&w);
    afp_write_end(&w);
    afp_write_begin(&w, 0xD3A8A8, "DOC1", NULL, 0);
    afp_token_encode(ovl, ipo);
    ipo[13] = 120;             /* YolOset 120 units */
    for (i = 0; i < pages; i++)
    {
        afp_write_begin(&w, 0xD3A8AF, "PAGE", NULL, 0);
        page_env(&w, "C0H20000");
        for (k = 0; k < 2; k++)
            afp_write_sf(&w, 0xD3AFD8, ipo, sizeof(ipo));
        afp_write_end(&w);
    }
    afp_write_end(&w);
    afp_buf_append(out, w.out.data, w.out.len);
    afp_writer_free(&w);
}

/* Overlays: one form XObject for all uses; missing overlays per the options. */
static void
test_overlays(void)
{
    afp_buf afp, pdf;
    afp_error err;
    afp_pdf_options o;
    int warnings = 0;

    afp_buf_init(&afp);
    afp_buf_init(&pdf);
    overlay_doc(&afp, "OVL1", 3);
    CHECK(unit_convert(&afp, NULL, &pdf, NULL, &err) == AFP_OK);
    CHECK(unit_count(&pdf, "/Subtype /Form") == 1);
    CHECK(unit_count(&pdf, "/Fm1 Do") == 6);
    CHECK(unit_has(&pdf, "/BBox [0 0 144 144]"));
    /* a form sets its colours itself: it inherits whatever colour the page has when painted */
    CHECK(unit_has(&pdf, "0 g 0 G\n3 w "));
    CHECK(unit_has(&pdf, "q 1 0 0 1 0 36 cm /Fm1 Do Q"));
    CHECK(xref_ok(&pdf));

    afp.len = 0;
    overlay_doc(&afp, "NOSUCH", 1);
    CHECK(unit_convert(&afp, NULL, &pdf, NULL, &err) == AFP_ERR_FORMAT);
    CHECK(strstr(err.message, "overlay NOSUCH") != NULL && strstr(err.message, "(IPO)") != NULL);
    afp_pdf_options_init(&o);
    o.missing = AFP_PDF_MISSING_WARN;
    o.compress = 0;
    o.warning = unit_count_warning;
    o.cb_ctx = &warnings;
    pdf.len = 0;
    CHECK(afp_to_pdf(afp.data, afp.len, &o, &pdf, NULL, &err) == AFP_OK);
    CHECK(warnings == 2 && unit_has(&pdf, "0.8 G [3 2] 0 d"));
    o.missing = AFP_PDF_MISSING_IGNORE;
    warnings = 0;
    pdf.len = 0;
    CHECK(afp_to_pdf(afp.data, afp.len, &o, &pdf, NULL, &err) == AFP_OK);
    CHECK(warnings == 0 && !unit_has(&pdf, "[3 2] 0 d"));
    afp_buf_free(&afp);
    afp_buf_free(&pdf);
}

/* The embedded subset is a valid TrueType font with the glyphs used and the same glyph ids. */
static void
test_font_subset(void)
{
    afp_buf afp, pdf;
    afp_error err;
    const char *p;
    long len = 0;
    FT_Library lib;
    FT_Face face;

    afp_buf_init(&afp);
    afp_buf_init(&pdf);
    hello_doc(&afp, 0);
    CHECK(unit_convert(&afp, NULL, &pdf, NULL, &err) == AFP_OK);
    afp_buf_putc(&pdf, 0);
    pdf.len--;
    p = strstr((const char *) pdf.data, "/Length1 ");
    CHECK(p != NULL);
    if (p == NULL)
        return;
    len = strtol(p + 9, NULL, 10);
    p = strstr(p, "stream\n");
    CHECK(p != NULL && len > 1000 && len < 200000);
    if (p == NULL || FT_Init_FreeType(&lib) != 0)
        return;
    if (FT_New_Face(lib, "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf", 0,
                    &face) == 0)
    {
        /* the subset keeps the glyph ids of the original (it has no cmap of its own) */
        FT_UInt h = FT_Get_Char_Index(face, 'H'), z = FT_Get_Char_Index(face, 'Z');

        FT_Done_Face(face);
        if (FT_New_Memory_Face(lib, (const FT_Byte *) p + 7, len, 0, &face) == 0)
        {
            CHECK(face->num_glyphs > 100);
            CHECK(h != 0 && FT_Load_Glyph(face, h, FT_LOAD_NO_SCALE) == 0);
            CHECK(face->glyph->outline.n_points > 0);
            /* unused glyphs are empty */
            CHECK(z != 0 && FT_Load_Glyph(face, z, FT_LOAD_NO_SCALE) == 0 &&
                  face->glyph->outline.n_points == 0);
            FT_Done_Face(face);
        }
        else
            CHECK(!"subset font does not open");
    }
    FT_Done_FreeType(lib);
    /* base14: no embedding, WinAnsi codes */
    CHECK(unit_convert(&afp, "{\"fonts\": \"base14\"}", &pdf, NULL, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/BaseFont /Helvetica /Encoding /WinAnsiEncoding") && !unit_has(&pdf, "/FontFile2"));
    CHECK(unit_has(&pdf, "[<48656C6C6F>] TJ"));
    afp_buf_free(&afp);
    afp_buf_free(&pdf);
}

/* Damaged and unusable input fails with the offset and never crashes. */
static void
test_errors(void)
{
    afp_buf afp, pdf;
    afp_error err;
    size_t cut;

    afp_buf_init(&afp);
    afp_buf_init(&pdf);
    /* no pages */
    afp_buf_append(&afp, "\x5A\x00\x10\xD3\xA8\xA8\x00\x00\x00\xC4\xD6\xC3\xF1\x40\x40\x40\x40"
                         "\x5A\x00\x10\xD3\xA9\xA8\x00\x00\x00\xC4\xD6\xC3\xF1\x40\x40\x40\x40", 34);
    CHECK(unit_convert(&afp, NULL, &pdf, NULL, &err) == AFP_ERR_FORMAT);
    CHECK(strncmp(err.message, "no pages", 8) == 0);
    CHECK(pdf.len == 0);
    /* garbage */
    afp.len = 0;
    afp_buf_append(&afp, "garbage", 7);
    CHECK(unit_convert(&afp, NULL, &pdf, NULL, &err) == AFP_ERR_FORMAT && err.offset == 0);
    /* a truncated PTOCA chain */
    afp.len = 0;
    hello_doc(&afp, 0);
    {
        /* find the PTX and cut its last control sequence's length to run past the end */
        size_t i;

        for (i = 0; i + 6 < afp.len; i++)
            if (afp.data[i] == 0x5A && afp.data[i + 3] == 0xD3 && afp.data[i + 4] == 0xEE &&
                afp.data[i + 5] == 0x9B)
            {
                size_t flen = ((size_t) afp.data[i + 1] << 8) | afp.data[i + 2];

                afp.data[i + flen - 1] = 0x40;     /* the final NOP claims 64 bytes */
                break;
            }
    }
    CHECK(unit_convert(&afp, NULL, &pdf, NULL, &err) == AFP_ERR_FORMAT);
    CHECK(strstr(err.message, "PTOCA") != NULL && err.offset > 0);
    /* every truncation of a valid document: an error or a PDF, never a crash */
    afp.len = 0;
    hello_doc(&afp, 1);
    for (cut = 1; cut < afp.len; cut += 7)
    {
        afp_buf part;
        afp_status st;

        afp_buf_init(&part);
        afp_buf_append(&part, afp.data, cut);
        st = unit_convert(&part, NULL, &pdf, NULL, &err);
        CHECK(st == AFP_OK || st == AFP_ERR_FORMAT);
        if (st == AFP_OK)
            CHECK(xref_ok(&pdf));
        afp_buf_free(&part);
    }
    afp_buf_free(&afp);
    afp_buf_free(&pdf);
}

/* The FOP samples convert (when the shared samples are available). */
static void
test_samples(void)
{
    static const char *const names[] = {"text", "table", "image", "color"};
    static const int pages[] = {3, 1, 1, 1};
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    {
        char path[1024], want[64];
        size_t len;
        unsigned char *data;
        afp_buf afp, pdf;
        afp_error err;

        snprintf(path, sizeof(path), "%s/fop/%s.afp", unit_samples_dir(), names[i]);
        data = unit_read_file(path, &len);
        if (data == NULL)
            continue;
        afp_buf_init(&afp);
        afp_buf_init(&pdf);
        afp_buf_append(&afp, data, len);
        CHECK(unit_convert(&afp, NULL, &pdf, NULL, &err) == AFP_OK);
        snprintf(want, sizeof(want), "/Type /Pages /Count %d ", pages[i]);
        CHECK(unit_has(&pdf, want) && xref_ok(&pdf));
        if (strcmp(names[i], "color") == 0)
            CHECK(unit_count(&pdf, "/Subtype /Image") == 3);
        free(data);
        afp_buf_free(&afp);
        afp_buf_free(&pdf);
    }
}

/* ------------------------------------------------------------------ bar codes (BCOCA) */

/* A one-page document with one bar code object: area at (1 in, 2 in), 1440 units per inch,
 * symbol origin at (144, 144) in the area, module 20 mils, the given type, modifier, BDA flags,
 * special-function bytes and data (page units 240 per inch). bdd_len < 23 truncates the BDD. */
static void
bc_doc(afp_buf *out, uint8_t type, uint8_t mod, uint8_t flags, const uint8_t *sp, size_t splen,
       const uint8_t *data, size_t n, size_t bdd_len)
{
    static const uint8_t obp[23] = {1, 23, 0, 0x00, 0xF0, 0, 0x01, 0xE0, 0, 0, 0x2D, 0, 0,
                                    0, 0, 0, 0, 0, 0, 0, 0x2D, 0, 1};
    static const uint8_t mbc[5] = {0, 5, 3, 0x04, 0x00};
    uint8_t bdd[23] = {0, 0, 0x38, 0x40, 0x38, 0x40, 0x1F, 0xFF, 0x1F, 0xFF, 0, 0, 0, 0, 0xFF,
                       0xFF, 0x07, 20, 0x01, 0x20, 1, 0xFF, 0xFF};
    afp_writer w;
    afp_buf b;

    bdd[12] = type;
    bdd[13] = mod;
    afp_writer_init(&w);
    afp_buf_init(&b);
    afp_write_begin(&w, 0xD3A8A8, "DOC1", NULL, 0);
    afp_write_begin(&w, 0xD3A8AF, "PAGE1", NULL, 0);
    page_env(&w, "C0H200B0");
    afp_write_begin(&w, 0xD3A8EB, "BC1", NULL, 0);
    afp_write_begin(&w, 0xD3A8C7, NULL, NULL, 0);
    afp_buf_putc(&b, 3);
    afp_buf_putc(&b, 0x43);
    afp_buf_putc(&b, 1);
    afp_triplet_units(&b, 14400, 14400);
    afp_triplet_area_size(&b, 8000, 8000);
    afp_write_sf(&w, 0xD3A66B, b.data, b.len);
    afp_write_sf(&w, 0xD3AC6B, obp, sizeof(obp));
    afp_write_sf(&w, 0xD3ABEB, mbc, sizeof(mbc));
    afp_write_sf(&w, 0xD3A6EB, bdd, bdd_len);
    afp_write_end(&w);
    b.len = 0;
    afp_buf_putc(&b, flags);
    afp_buf_put16(&b, 144);
    afp_buf_put16(&b, 144);
    afp_buf_append(&b, sp, splen);
    afp_buf_append(&b, data, n);
    afp_write_sf(&w, 0xD3EEEB, b.data, b.len);
    unit_page_end(&w, out);
    afp_buf_free(&b);
}

/* Converts a bar code document (uncompressed); returns the status, sets the warning count. */
static afp_status
bc_convert(const afp_buf *afp, afp_buf *pdf, int64_t *warnings, afp_error *err)
{
    afp_pdf_options o;
    afp_pdf_stats st;
    afp_status s;

    afp_pdf_options_init(&o);
    o.compress = 0;
    afp_error_clear(err);
    memset(&st, 0, sizeof(st));
    pdf->len = 0;
    s = afp_to_pdf(afp->data, afp->len, &o, pdf, &st, err);
    *warnings = st.warnings;
    return s;
}

/* Each symbology draws its bars: the number of filled rectangles is the symbology's bar count
 * (independent of zint: Code 39 5 bars per character, EAN/UPC 30, ITF 5 per digit pair + 4,
 * Code 128 3 per symbol + 4, IMB 65), at the OBP position plus the BDA offset. */
static void
test_barcodes(void)
{
    static const uint8_t qr_sp[9] = {0x40, 0, 0, 1, 0, 0, 0, 0, 0};
    static const uint8_t dm_sp[10] = {0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t pdf_sp[6] = {0x40, 4, 0xFF, 2, 0, 0};
    static const struct { uint8_t type, mod; const char *data; int ebcdic, bars; }
    cases[] = {
        {0x01, 0x01, "ABC", 1, 25},                 /* Code 39, no check digit */
        {0x01, 0x02, "ABC", 1, 30},                 /* Code 39 with check digit */
        {0x09, 0x00, "400638133393", 1, 30},        /* EAN-13 */
        {0x03, 0x00, "03600029145", 1, 30},         /* UPC-A */
        {0x0C, 0x01, "123456", 1, 19},              /* Interleaved 2 of 5 */
        {0x11, 0x02, "Hello", 1, 25},               /* Code 128 */
        {0x22, 0x00, "01234567094987654321", 1, 65},   /* Intelligent Mail */
        {0x20, 0x02, "hello", 0, -1},               /* QR Code */
        {0x1C, 0x00, "hello", 0, -1},               /* Data Matrix */
        {0x1E, 0x00, "PDF417 test", 0, -1},         /* PDF417 */
    };
    afp_buf afp, pdf, d;
    afp_error err;
    int64_t warn;
    size_t i;

    afp_buf_init(&afp);
    afp_buf_init(&pdf);
    afp_buf_init(&d);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    {
        const uint8_t *sp = cases[i].type == 0x20 ? qr_sp : cases[i].type == 0x1C ? dm_sp
                          : cases[i].type == 0x1E ? pdf_sp : NULL;
        size_t splen = cases[i].type == 0x20 ? 9 : cases[i].type == 0x1C ? 10
                     : cases[i].type == 0x1E ? 6 : 0;
        int n, before = unit_failures;

        if (cases[i].ebcdic)
            unit_ebcdic(cases[i].data, &d);
        else
        {
            d.len = 0;
            afp_buf_append(&d, cases[i].data, strlen(cases[i].data));
        }
        afp.len = 0;
        bc_doc(&afp, cases[i].type, cases[i].mod, 0x80, sp, splen, d.data, d.len, 23);
        CHECK(bc_convert(&afp, &pdf, &warn, &err) == AFP_OK);
        CHECK(warn == 0);
        n = unit_count(&pdf, " re\n");
        if (cases[i].bars > 0)
            CHECK(n == cases[i].bars);
        else
            CHECK(n > 20);
        CHECK(unit_has(&pdf, "q 1 0 0 1 72 144 cm\n"));
        CHECK(unit_has(&pdf, "\n7.2 7.2 "));           /* first bar / finder module at the origin */
        if (unit_failures != before)
            fprintf(stderr, "  bar code case %zu (type X'%02X'): %d rectangles\n", i,
                    cases[i].type, n);
    }

    /* HRI below a Code 128 symbol: text in the page */
    unit_ebcdic("Hello", &d);
    afp.len = 0;
    bc_doc(&afp, 0x11, 0x02, 0x20, NULL, 0, d.data, d.len, 23);
    CHECK(bc_convert(&afp, &pdf, &warn, &err) == AFP_OK && warn == 0);
    CHECK(unit_has(&pdf, "BT\n") && unit_has(&pdf, "/ToUnicode"));

    /* unsupported type (MaxiCode) and data the symbology refuses: a warning, no error */
    afp.len = 0;
    bc_doc(&afp, 0x1D, 0x00, 0x80, NULL, 0, d.data, d.len, 23);
    CHECK(bc_convert(&afp, &pdf, &warn, &err) == AFP_OK && warn == 1);
    CHECK(unit_count(&pdf, " re\n") == 0);
    unit_ebcdic("12AB", &d);
    afp.len = 0;
    bc_doc(&afp, 0x09, 0x00, 0x80, NULL, 0, d.data, d.len, 23);
    CHECK(bc_convert(&afp, &pdf, &warn, &err) == AFP_OK && warn == 1);

    /* a truncated BDD and a BDA too short for the QR parameters fail with the BBC's offset */
    afp.len = 0;
    bc_doc(&afp, 0x11, 0x02, 0x80, NULL, 0, d.data, d.len, 12);
    CHECK(bc_convert(&afp, &pdf, &warn, &err) == AFP_ERR_FORMAT);
    CHECK(err.offset > 0 && strstr(err.message, "Bar Code Symbol Descriptor") != NULL);
    afp.len = 0;
    bc_doc(&afp, 0x20, 0x02, 0x80, qr_sp, 4, NULL, 0, 23);
    CHECK(bc_convert(&afp, &pdf, &warn, &err) == AFP_ERR_FORMAT);
    CHECK(err.offset > 0 && strstr(err.message, "special-function") != NULL);
    afp_buf_free(&afp);
    afp_buf_free(&pdf);
    afp_buf_free(&d);
}

/* Named page groups become bookmarks at their first pages, the first group's index the
 * document information; a file without page groups has no outline. */
static void
test_outline(void)
{
    afp_index_pair ix1[2] = {{"Account", "4711"}, {"Name", "Jürgen"}};
    afp_index_pair ix2[1] = {{"Account", "4712"}};
    afp_compose_doc docs[2] = {
        {"STMT1", "first\fsecond page", 17, ix1, 2},
        {NULL, "other", 5, ix2, 1},
    };
    afp_compose_opts co;
    afp_buf afp, pdf;
    afp_error err;

    memset(&co, 0, sizeof(co));
    afp_buf_init(&afp);
    afp_buf_init(&pdf);
    CHECK(afp_compose_text(docs, 2, &co, &afp, &err) == AFP_OK);
    CHECK(unit_convert(&afp, NULL, &pdf, NULL, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/Type /Outlines") && unit_has(&pdf, "/PageMode /UseOutlines"));
    CHECK(unit_count(&pdf, "/Dest [") == 2);
    CHECK(unit_has(&pdf, "/Title (STMT1) /Parent"));
    CHECK(unit_has(&pdf, "/Count 2 >>"));
    CHECK(unit_has(&pdf, "/Subject <FEFF"));          /* "Account: 4711; Name: Jürgen" in UTF-16 */
    CHECK(unit_has(&pdf, "/Keywords <FEFF"));
    CHECK(unit_has(&pdf, "/Producer (afp afp_to_pdf) /Title (STMT1)"));
    CHECK(xref_ok(&pdf));
    CHECK(unit_convert(&afp, "{\"title\": \"Mine\"}", &pdf, NULL, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/Title (Mine)") && !unit_has(&pdf, "afp_to_pdf) /Title (STMT1)"));
    afp.len = 0;
    hello_doc(&afp, 0);
    CHECK(unit_convert(&afp, NULL, &pdf, NULL, &err) == AFP_OK);
    CHECK(!unit_has(&pdf, "/Outlines") && !unit_has(&pdf, "/Subject"));
    afp_buf_free(&afp);
    afp_buf_free(&pdf);
}

/* The pdf suite. */
void
suite_pdf(void)
{
    test_options();
    test_structure();
    test_text();
    test_images();
    test_overlays();
    test_goca();
    test_font_subset();
    test_errors();
    test_barcodes();
    test_outline();
    test_samples();
}
