/*
 * test_pdf_resources.c — unit tests of external resources, form maps, PNG/TIFF object
 * containers and the IOCA additions of the AFP→PDF converter (afp_convert_resolve.c,
 * afp_convert_formmap.c, afp_convert_image.c, afp_convert_ioca.c). Every input is built here
 * with the core writer (afp_writer.c), libpng and libtiff; content streams are inspected with
 * compression off.
 */
#include "afp.h"
#include "afp_pdf.h"
#include "unit.h"
#include "unit_afp.h"

#include <png.h>
#include <tiffio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ helpers */

/* A presentation text object with one rule of len x width units at (x, y). */
static void
rule_text(afp_writer *w, int16_t x, int16_t y, int16_t len, int16_t width)
{
    afp_ptx p;

    afp_write_begin(w, 0xD3A89B, "PT1", NULL, 0);
    afp_ptx_begin(&p, w);
    afp_ptx_amb(&p, y);
    afp_ptx_ami(&p, x);
    afp_ptx_dir(&p, len, width);
    afp_ptx_end(&p);
    afp_write_end(w);
}

/* An overlay BMO … EMO (2 x 2 inch) with one rule. */
static void
overlay_bytes(afp_buf *out, const char *name)
{
    afp_writer w;

    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8DF, name, NULL, 0);
    unit_aeg(&w, 0, NULL, 480, 480);
    rule_text(&w, 24, 48, 200, 12);
    afp_write_end(&w);
    afp_buf_append(out, w.out.data, w.out.len);
    afp_writer_free(&w);
}

/* A page segment BPS … EPS with one rule. */
static void
segment_bytes(afp_buf *out, const char *name)
{
    afp_writer w;

    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A85F, name, NULL, 0);
    rule_text(&w, 0, 0, 120, 24);
    afp_write_end(&w);
    afp_buf_append(out, w.out.data, w.out.len);
    afp_writer_free(&w);
}

/* IPO / IPS data: name and an offset in page units. */
static void
include_sf(afp_writer *w, uint32_t id, const char *name, unsigned x, unsigned y)
{
    uint8_t d[16] = {0};

    afp_token_encode(name, d);
    d[8] = (uint8_t) (x >> 16), d[9] = (uint8_t) (x >> 8), d[10] = (uint8_t) x;
    d[11] = (uint8_t) (y >> 16), d[12] = (uint8_t) (y >> 8), d[13] = (uint8_t) y;
    afp_write_sf(w, id, d, id == 0xD3AFD8 ? 16 : 14);
}

/* IOB of an object of type otype at (x, y) with an area of aw x ah units (scale to fill). */
static void
iob_sf(afp_writer *w, const char *name, uint8_t otype, unsigned x, unsigned y, unsigned aw,
       unsigned ah)
{
    uint8_t d[27 + 8 + 9 + 3] = {0};
    size_t n = 27;

    afp_token_encode(name, d);
    d[9] = otype;
    d[10] = (uint8_t) (x >> 16), d[11] = (uint8_t) (x >> 8), d[12] = (uint8_t) x;
    d[13] = (uint8_t) (y >> 16), d[14] = (uint8_t) (y >> 8), d[15] = (uint8_t) y;
    d[18] = 0x2D;              /* Y axis 90 degrees */
    d[20] = d[21] = d[22] = 0xFF;
    d[23] = d[24] = d[25] = 0xFF;
    d[26] = 0x01;
    /* X'4B' units 240 per inch, X'4C' area size, X'04' mapping scale to fill */
    d[n++] = 8, d[n++] = 0x4B, d[n++] = 0, d[n++] = 0, d[n++] = 0x09, d[n++] = 0x60, d[n++] = 0x09,
    d[n++] = 0x60;
    d[n++] = 9, d[n++] = 0x4C, d[n++] = 0x02, d[n++] = (uint8_t) (aw >> 16), d[n++] = (uint8_t) (aw >> 8),
    d[n++] = (uint8_t) aw, d[n++] = (uint8_t) (ah >> 16), d[n++] = (uint8_t) (ah >> 8), d[n++] = (uint8_t) ah;
    d[n++] = 3, d[n++] = 0x04, d[n++] = 0x60;
    afp_write_sf(w, 0xD3AFC3, d, n);
}

/* Converts with compression off and the given resolver (NULL for none). */
static afp_status
convert_res(const afp_buf *afp, afp_pdf_options *o, afp_buf *pdf, afp_error *err)
{
    afp_error_clear(err);
    pdf->len = 0;
    return afp_to_pdf(afp->data, afp->len, o, pdf, NULL, err);
}

/* A 4 x 2 RGBA PNG (left half red opaque, right half blue half-transparent) via libpng. */
static void
make_png(afp_buf *out, int alpha)
{
    png_image pi;
    uint8_t px[4 * 2 * 4];
    png_alloc_size_t size = 0;
    int i;

    for (i = 0; i < 8; i++)
    {
        int right = (i % 4) >= 2;

        px[i * 4] = right ? 0 : 255;
        px[i * 4 + 1] = 0;
        px[i * 4 + 2] = right ? 255 : 0;
        px[i * 4 + 3] = right && alpha ? 128 : 255;
    }
    memset(&pi, 0, sizeof(pi));
    pi.version = PNG_IMAGE_VERSION;
    pi.width = 4;
    pi.height = 2;
    pi.format = PNG_FORMAT_RGBA;
    png_image_write_to_memory(&pi, NULL, &size, 0, px, 0, NULL);
    afp_buf_reserve(out, size);
    png_image_write_to_memory(&pi, out->data, &size, 0, px, 0, NULL);
    out->len = size;
}

/* A 3 x 2 RGB TIFF (LZW) written by libtiff to a temporary file and read back. */
static void
make_tiff(afp_buf *out)
{
    char path[] = "/tmp/afp_unit_tiffXXXXXX";
    int fd = mkstemp(path);
    TIFF *t;
    uint8_t row[9] = {255, 0, 0, 0, 255, 0, 0, 0, 255};
    unsigned char *data;
    size_t n;

    if (fd < 0)
        return;
    close(fd);
    t = TIFFOpen(path, "w");
    if (t)
    {
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, 3);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, 2);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 3);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
        TIFFSetField(t, TIFFTAG_XRESOLUTION, 100.0);
        TIFFSetField(t, TIFFTAG_YRESOLUTION, 100.0);
        TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
        TIFFWriteScanline(t, row, 0, 0);
        TIFFWriteScanline(t, row, 1, 0);
        TIFFClose(t);
    }
    data = unit_read_file(path, &n);
    unlink(path);
    if (data)
    {
        afp_buf_append(out, data, n);
        free(data);
    }
}

/* ------------------------------------------------------------------ external resources */

/* The resources a test resolver knows, and the calls it got. */
typedef struct test_lib {
    afp_buf overlay, segment, png, font;
    int calls;
    char last[64];
} test_lib;

/* Test resolver: OEXT1 (overlay), SEXT1 (segment), PEXT1 (object, PNG), OBAD (damaged). */
static int
test_resolve(void *ctx, const char *type, const char *name, const uint8_t **data, size_t *len)
{
    test_lib *l = ctx;

    l->calls++;
    snprintf(l->last, sizeof(l->last), "%s:%s", type, name);
    if (strcmp(type, "overlay") == 0 && strcmp(name, "OEXT1") == 0)
        *data = l->overlay.data, *len = l->overlay.len;
    else if (strcmp(type, "overlay") == 0 && strcmp(name, "OBAD") == 0)
        *data = l->overlay.data, *len = l->overlay.len - 3;      /* truncated */
    else if (strcmp(type, "segment") == 0 && strcmp(name, "SEXT1") == 0)
        *data = l->segment.data, *len = l->segment.len;
    else if (strcmp(type, "image") == 0 && strcmp(name, "PEXT1") == 0)
        *data = l->png.data, *len = l->png.len;
    else
        return 0;
    return 1;
}

/* A page including overlay ovl twice, segment seg and object obj (one page each when pages>1). */
static void
include_doc(afp_buf *out, const char *ovl, const char *seg, const char *obj, int pages)
{
    afp_writer w;
    int i;

    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8A8, "DOC1", NULL, 0);
    for (i = 0; i < pages; i++)
    {
        afp_write_begin(&w, 0xD3A8AF, "PAGE", NULL, 0);
        unit_aeg(&w, 0, NULL, 2040, 2640);
        if (ovl)
        {
            include_sf(&w, 0xD3AFD8, ovl, 240, 240);
            include_sf(&w, 0xD3AFD8, ovl, 240, 960);
        }
        if (seg)
            include_sf(&w, 0xD3AF5F, seg, 480, 1440);
        if (obj)
            iob_sf(&w, obj, 0x92, 960, 1440, 480, 240);
        afp_write_end(&w);
    }
    afp_write_end(&w);
    afp_buf_append(out, w.out.data, w.out.len);
    afp_writer_free(&w);
}

/* Overlays, segments and objects the file lacks come from the resolver, once per name. */
static void
test_external(void)
{
    test_lib lib;
    afp_buf afp, pdf;
    afp_pdf_options o;
    afp_error err;
    int warnings = 0;

    memset(&lib, 0, sizeof(lib));
    afp_buf_init(&afp);
    afp_buf_init(&pdf);
    overlay_bytes(&lib.overlay, "OEXT1");
    segment_bytes(&lib.segment, "SEXT1");
    make_png(&lib.png, 1);
    include_doc(&afp, "OEXT1", "SEXT1", "PEXT1", 2);
    afp_pdf_options_init(&o);
    o.compress = 0;
    /* without a resolver: an error naming the overlay */
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_ERR_FORMAT);
    CHECK(strstr(err.message, "overlay OEXT1") != NULL &&
          strstr(err.message, "resource library") == NULL);
    o.resolve = test_resolve;
    o.resolve_ctx = &lib;
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_OK);
    /* one form for the external overlay, used 4 times; the segment's rule on both pages */
    CHECK(unit_count(&pdf, "/Subtype /Form") == 1);
    CHECK(unit_count(&pdf, "/Fm1 Do") == 4);
    CHECK(unit_has(&pdf, "q 1 0 0 1 72 72 cm /Fm1 Do Q") && unit_has(&pdf, "q 1 0 0 1 72 288 cm /Fm1 Do Q"));
    /* the PNG object (type "object" then "image") with its alpha as /SMask, written once */
    CHECK(unit_count(&pdf, "/Width 4 /Height 2 /ColorSpace /DeviceRGB /BitsPerComponent 8 /SMask") == 1);
    CHECK(unit_count(&pdf, "/Width 4 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8") == 1);
    CHECK(unit_count(&pdf, "/Im2 Do") == 2);      /* Fm1 is the overlay */
    /* the resolver was asked once per type and name: overlay, segment, object, image */
    CHECK(lib.calls == 4);

    /* a name neither the file nor the library has */
    afp.len = 0;
    include_doc(&afp, "ONONE", NULL, NULL, 1);
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_ERR_FORMAT);
    CHECK(strstr(err.message, "overlay ONONE is not in the file's resource group nor in the "
                              "resource library") != NULL);
    CHECK(strstr(err.message, "at byte offset") != NULL && strstr(err.message, "(IPO)") != NULL);
    o.missing = AFP_PDF_MISSING_WARN;
    o.warning = unit_count_warning;
    o.cb_ctx = &warnings;
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_OK && warnings == 2);
    CHECK(unit_has(&pdf, "0.8 G [3 2] 0 d"));
    o.missing = AFP_PDF_MISSING_ERROR;

    /* damaged external bytes: an error naming the resource, offsets relative to it */
    afp.len = 0;
    include_doc(&afp, "OBAD", NULL, NULL, 1);
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_ERR_FORMAT);
    CHECK(strstr(err.message, "external overlay OBAD") != NULL);

    /* an external overlay that is not AFP */
    afp_buf_free(&lib.overlay);
    afp_buf_init(&lib.overlay);
    afp_buf_append(&lib.overlay, "not an overlay", 14);
    afp.len = 0;
    include_doc(&afp, "OEXT1", NULL, NULL, 1);
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_ERR_FORMAT);
    CHECK(strstr(err.message, "external overlay OEXT1 is not AFP") != NULL);
    afp_buf_free(&lib.overlay);
    afp_buf_free(&lib.segment);
    afp_buf_free(&lib.png);
    afp_buf_free(&afp);
    afp_buf_free(&pdf);
}

/* Resolver for fonts: "Arial" → the Liberation Sans file; records the request. */
static int
font_resolve(void *ctx, const char *type, const char *name, const uint8_t **data, size_t *len)
{
    test_lib *l = ctx;

    l->calls++;
    snprintf(l->last, sizeof(l->last), "%s:%s", type, name);
    if (strcmp(type, "font") != 0 || strcmp(name, "Arial") != 0 || l->font.len == 0)
        return 0;
    *data = l->font.data;
    *len = l->font.len;
    return 1;
}

/* An MDR data-object font (FQN X'DE' "Arial" in UTF-16BE, X'8B' 24 pt, LID 5) the file does not
 * carry, and "Hi" in UTF-16BE with that font; and an IOB of page segment SEXT1. */
static void
mdr_doc(afp_buf *out)
{
    static const uint8_t arial[10] = {0, 'A', 0, 'r', 0, 'i', 0, 'a', 0, 'l'};
    afp_writer w;
    afp_ptx p;
    afp_buf m;

    afp_buf_init(&m);
    afp_buf_put16(&m, 2 + 14 + 8 + 4);
    afp_buf_putc(&m, 14), afp_buf_putc(&m, 0x02), afp_buf_putc(&m, 0xDE), afp_buf_putc(&m, 0x00);
    afp_buf_append(&m, arial, 10);
    afp_buf_append(&m, "\x08\x8B\x00\x00\x01\xE0\x00\x00", 8);   /* 480/20 = 24 pt */
    afp_buf_append(&m, "\x04\x24\x05\x05", 4);
    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8A8, "DOC1", NULL, 0);
    afp_write_begin(&w, 0xD3A8AF, "PAGE", NULL, 0);
    unit_aeg(&w, 0xD3ABC3, &m, 2040, 2640);
    afp_write_begin(&w, 0xD3A89B, "PT1", NULL, 0);
    afp_ptx_begin(&p, &w);
    afp_ptx_amb(&p, 480);
    afp_ptx_ami(&p, 240);
    afp_ptx_scfl(&p, 5);
    afp_ptx_trn(&p, (const uint8_t *) "\0H\0i", 4);
    afp_ptx_end(&p);
    afp_write_end(&w);
    iob_sf(&w, "SEXT1", 0x5F, 480, 960, 0, 0);
    afp_write_end(&w);
    afp_write_end(&w);
    afp_buf_append(out, w.out.data, w.out.len);
    afp_writer_free(&w);
    afp_buf_free(&m);
}

/* MDR data-object fonts from the resolver (raw TrueType); IOB of an external page segment. */
static void
test_external_font(void)
{
    test_lib lib;
    afp_buf afp, pdf;
    afp_pdf_options o;
    afp_error err;
    unsigned char *ttf;
    size_t n = 0;

    memset(&lib, 0, sizeof(lib));
    afp_buf_init(&afp);
    afp_buf_init(&pdf);
    ttf = unit_read_file("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf", &n);
    if (ttf)
    {
        afp_buf_append(&lib.font, ttf, n);
        free(ttf);
    }
    CHECK(lib.font.len > 1000);
    mdr_doc(&afp);
    afp_pdf_options_init(&o);
    o.compress = 0;
    /* without a resolver the font is missing: an error naming it */
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_ERR_FORMAT);
    CHECK(strstr(err.message, "data-object font \"Arial\"") != NULL);
    o.resolve = font_resolve;
    o.resolve_ctx = &lib;
    o.missing = AFP_PDF_MISSING_IGNORE;      /* the segment is not in this library */
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/FontFile2") && unit_has(&pdf, "/ToUnicode") && unit_has(&pdf, "/CIDFontType2"));
    /* "Hi" at 24 pt from the carried font's subset: glyph ids of Liberation Sans */
    CHECK(unit_has(&pdf, " 24 Tf") && unit_has(&pdf, "[<002B004C>] TJ"));
    CHECK(lib.calls == 2 && strcmp(lib.last, "segment:SEXT1") == 0);   /* font:Arial, then the segment */
    /* IOB of a page segment: its rule at the IOB's origin (2, 4 in = 144, 288 pt) */
    overlay_bytes(&lib.overlay, "UNUSED");
    segment_bytes(&lib.segment, "SEXT1");
    o.resolve = test_resolve;
    o.missing = AFP_PDF_MISSING_IGNORE;
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "144 291.6 m 180 291.6 l S") || unit_has(&pdf, "144 288 36 7.2 re f"));
    afp_buf_free(&lib.font);
    afp_buf_free(&lib.overlay);
    afp_buf_free(&lib.segment);
    afp_buf_free(&afp);
    afp_buf_free(&pdf);
}

/* ------------------------------------------------------------------ form maps */

/* A form map (medium 8.5 x 11 in, page at (1, 0.5) in, medium overlay OVLM, duplex, copies),
 * an inline overlay OVLM and pages pages of 6 x 4 in. */
static void
formmap_doc(afp_buf *out, int pages, uint8_t duplex, int copies, int medium_size)
{
    afp_writer w;
    uint8_t mdd[15] = {0, 0, 0x09, 0x60, 0x09, 0x60, 0, 0x07, 0xF8, 0, 0x0A, 0x50, 0, 0, 0};
    uint8_t pgp[11] = {0x01, 0x0A, 0, 0, 240, 0, 0, 120, 0, 0, 0};
    uint8_t mmo[16] = {0x0C, 0, 0, 0, 0x01, 0, 0, 0};
    uint8_t mmc[6] = {0x01, 0xFF, 0xF2, 0x01, 0xF4, duplex};
    uint8_t mcc[6] = {0, 1, 0, (uint8_t) copies, 0, 0x01};
    int i;

    if (!medium_size)
        memset(mdd + 6, 0, 6);
    afp_token_encode("OVLM", mmo + 8);
    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8C6, "RG1", NULL, 0);
    afp_write_begin(&w, 0xD3A8CD, "F1TEST", NULL, 0);
    afp_write_begin(&w, 0xD3A8C4, "DEG1", NULL, 0);
    afp_write_sf(&w, 0xD3A688, mdd, 13);
    afp_write_end(&w);
    afp_write_begin(&w, 0xD3A8CC, "M1TEST", NULL, 0);
    afp_write_sf(&w, 0xD3B1DF, mmo, 16);
    afp_write_sf(&w, 0xD3B1AF, pgp, 11);
    afp_write_sf(&w, 0xD3A288, mcc, 6);
    afp_write_sf(&w, 0xD3A788, mmc, 6);
    afp_write_end(&w);
    afp_write_end(&w);
    afp_write_begin(&w, 0xD3A8CE, "OVLM", NULL, 0);
    afp_write_begin(&w, 0xD3A8DF, "OVLM", NULL, 0);
    unit_aeg(&w, 0, NULL, 2040, 2640);
    rule_text(&w, 0, 24, 2040, 24);
    afp_write_end(&w);
    afp_write_end(&w);
    afp_write_end(&w);
    afp_write_begin(&w, 0xD3A8A8, "DOC1", NULL, 0);
    for (i = 0; i < pages; i++)
    {
        afp_write_begin(&w, 0xD3A8AF, "PAGE", NULL, 0);
        unit_aeg(&w, 0, NULL, 1440, 960);
        rule_text(&w, 0, 0, 240, 24);
        afp_write_end(&w);
    }
    afp_write_end(&w);
    afp_buf_append(out, w.out.data, w.out.len);
    afp_writer_free(&w);
}

/* Medium overlays on every page, medium size and page position, duplex and copies. */
static void
test_formmap(void)
{
    afp_buf afp, pdf;
    afp_pdf_options o;
    afp_error err;

    afp_buf_init(&afp);
    afp_buf_init(&pdf);
    afp_pdf_options_init(&o);
    o.compress = 0;
    formmap_doc(&afp, 3, 0x02, 3, 1);
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_OK);
    /* 3 pages of the medium's size, the medium overlay on each, the page at (72, 36) */
    CHECK(unit_count(&pdf, "/Type /Page ") == 3);
    CHECK(unit_count(&pdf, "/MediaBox [0 0 612 792]") == 3);
    CHECK(unit_count(&pdf, "/Subtype /Form") == 1 && unit_count(&pdf, "q 1 0 0 1 0 0 cm /Fm1 Do Q") == 3);
    CHECK(unit_count(&pdf, "1 0 0 1 72 36 cm") == 3);
    CHECK(unit_has(&pdf, "/ViewerPreferences << /Duplex /DuplexFlipLongEdge /NumCopies 3 >>"));

    /* {"copies": true}: sheets repeated (duplex: front, back, front, back …), no /NumCopies */
    CHECK(afp_pdf_options_parse(&o, "{\"copies\": true}", 16, &err) == AFP_OK && o.copies_pages);
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_OK);
    CHECK(unit_count(&pdf, "/Type /Page ") == 9);
    CHECK(unit_has(&pdf, "/Duplex /DuplexFlipLongEdge >>") && !unit_has(&pdf, "/NumCopies"));
    CHECK(afp_pdf_options_parse(&o, "{\"copies\": 2}", 13, &err) == AFP_ERR_ARGUMENT);
    o.copies_pages = 0;

    /* simplex, medium size not given: the page keeps its size, overlay at the medium origin */
    afp.len = 0;
    formmap_doc(&afp, 1, 0x01, 1, 0);
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/MediaBox [0 0 432 288]"));
    CHECK(unit_has(&pdf, "q 1 0 0 1 -72 -36 cm /Fm1 Do Q"));
    CHECK(unit_has(&pdf, "/ViewerPreferences << /Duplex /Simplex >>"));
    afp_buf_free(&afp);
    afp_buf_free(&pdf);
}

/* ------------------------------------------------------------------ object containers */

/* A page with an inline object container (BOC … EOC) of data at (240, 240), 480 x 240 units. */
static void
container_doc(afp_buf *out, const uint8_t *data, size_t n)
{
    afp_writer w;
    size_t k;

    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8A8, "DOC1", NULL, 0);
    afp_write_begin(&w, 0xD3A8AF, "PAGE1", NULL, 0);
    unit_aeg(&w, 0, NULL, 2040, 2640);
    afp_write_begin(&w, 0xD3A892, "OBJ1", NULL, 0);
    afp_write_begin(&w, 0xD3A8C7, "OEG1", NULL, 0);
    unit_object_area(&w);
    afp_write_end(&w);
    for (k = 0; k < n; k += 100)
        afp_write_sf(&w, 0xD3EE92, data + k, n - k < 100 ? n - k : 100);
    unit_page_end(&w, out);
}

/* A page including page segment SEGP (inline resource group) that holds a PNG container at
 * (240, 240) of the segment, 480 x 240 units; the segment is included at (480, 480). */
static void
segment_container_doc(afp_buf *out, const uint8_t *data, size_t n)
{
    afp_writer w;

    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8C6, "RG1", NULL, 0);
    afp_write_begin(&w, 0xD3A8CE, "SEGP", NULL, 0);
    afp_write_begin(&w, 0xD3A85F, "SEGP", NULL, 0);
    afp_write_begin(&w, 0xD3A892, "OBJ1", NULL, 0);
    afp_write_begin(&w, 0xD3A8C7, "OEG1", NULL, 0);
    unit_object_area(&w);
    afp_write_end(&w);
    afp_write_sf(&w, 0xD3EE92, data, n);
    afp_write_end(&w);
    afp_write_end(&w);
    afp_write_end(&w);
    afp_write_end(&w);
    afp_write_begin(&w, 0xD3A8A8, "DOC1", NULL, 0);
    afp_write_begin(&w, 0xD3A8AF, "PAGE1", NULL, 0);
    unit_aeg(&w, 0, NULL, 2040, 2640);
    include_sf(&w, 0xD3AF5F, "SEGP", 480, 480);
    afp_write_end(&w);
    afp_write_end(&w);
    afp_buf_append(out, w.out.data, w.out.len);
    afp_writer_free(&w);
}

/* PNG (with and without alpha) and TIFF containers; damaged ones fail with the offset. */
static void
test_containers(void)
{
    afp_buf afp, pdf, img;
    afp_pdf_options o;
    afp_error err;
    int warnings = 0;

    afp_buf_init(&afp);
    afp_buf_init(&pdf);
    afp_buf_init(&img);
    afp_pdf_options_init(&o);
    o.compress = 0;
    o.warning = unit_count_warning;
    o.cb_ctx = &warnings;
    make_png(&img, 0);
    container_doc(&afp, img.data, img.len);
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/Width 4 /Height 2 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length 24"));
    CHECK(!unit_has(&pdf, "/SMask"));
    /* first row: red red blue blue, uncompressed */
    CHECK(unit_has(&pdf, "stream\n\xFF\x00\x00\xFF\x00\x00\x00\x00\xFF"));

    img.len = afp.len = 0;
    make_tiff(&img);
    CHECK(img.len > 8);
    container_doc(&afp, img.data, img.len);
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/Width 3 /Height 2 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Length 18"));
    CHECK(unit_has(&pdf, "stream\n\xFF\x00\x00\x00\xFF\x00\x00\x00\xFF"));
    /* 100 dpi: 3 x 2 pels = 2.16 x 1.44 pt, fitted into 144 x 72 pt (scale 50) */
    CHECK(unit_has(&pdf, "108 0 0 -72 18 72 cm"));

    /* a page segment holding a PNG container: drawn at segment origin + object offset */
    img.len = afp.len = 0;
    make_png(&img, 1);
    segment_container_doc(&afp, img.data, img.len);
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/Width 4 /Height 2 /ColorSpace /DeviceRGB /BitsPerComponent 8 /SMask"));
    /* segment at (2, 2) in + object area at (1, 1) in: 216 pt; 4 x 2 pels fit 144 x 72 pt */
    CHECK(unit_has(&pdf, "1 0 -0 1 216 216 cm") || unit_has(&pdf, "1 0 0 1 216 216 cm"));

    /* damaged PNG: an error with the object's offset and libpng's message */
    img.len = afp.len = 0;
    make_png(&img, 1);
    img.data[20] ^= 0x55;      /* IHDR data: CRC mismatch */
    container_doc(&afp, img.data, img.len);
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_ERR_FORMAT);
    CHECK(strstr(err.message, "at byte offset") != NULL && strstr(err.message, "PNG") != NULL);
    /* truncated TIFF */
    img.len = afp.len = 0;
    make_tiff(&img);
    img.len = 40;
    container_doc(&afp, img.data, img.len);
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_ERR_FORMAT);
    CHECK(strstr(err.message, "TIFF object container") != NULL);

    /* a PDF container: a warning saying it is not supported, nothing drawn */
    afp.len = 0;
    container_doc(&afp, (const uint8_t *) "%PDF-1.4\n%%EOF\n", 15);
    warnings = 0;
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_OK && warnings == 1);
    afp_buf_free(&afp);
    afp_buf_free(&pdf);
    afp_buf_free(&img);
}

/* ------------------------------------------------------------------ IOCA */

/* A page with one image object (content cont) in a 480 x 240 area at (240, 240), fill. */
static void
ioca_doc(afp_buf *out, const uint8_t *cont, size_t n)
{
    uint8_t mio[] = {0x00, 0x05, 0x03, 0x04, 0x60};
    uint8_t idd[] = {0x00, 0x09, 0x60, 0x09, 0x60, 0x00, 0x00, 0x00, 0x00};
    afp_writer w;

    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8A8, "DOC1", NULL, 0);
    afp_write_begin(&w, 0xD3A8AF, "PAGE1", NULL, 0);
    unit_aeg(&w, 0, NULL, 2040, 2640);
    afp_write_begin(&w, 0xD3A8FB, "IMG1", NULL, 0);
    afp_write_begin(&w, 0xD3A8C7, "OEG1", NULL, 0);
    unit_object_area(&w);
    afp_write_sf(&w, 0xD3ABFB, mio, sizeof(mio));
    afp_write_sf(&w, 0xD3A6FB, idd, sizeof(idd));
    afp_write_end(&w);
    afp_write_sf(&w, 0xD3EEFB, cont, n);
    unit_page_end(&w, out);
}

/* Appends an IOCA parameter: id (1 byte, or X'FEnn' when id > 0xFF) and its data. */
static void
par(afp_buf *b, unsigned id, const uint8_t *p, size_t n)
{
    if (id > 0xFF)
    {
        afp_buf_putc(b, 0xFE);
        afp_buf_putc(b, (uint8_t) id);
        afp_buf_put16(b, (uint16_t) n);
    }
    else
    {
        afp_buf_putc(b, (uint8_t) id);
        afp_buf_putc(b, (uint8_t) n);
    }
    if (n)
        afp_buf_append(b, p, n);
}

/* Begin Segment, Begin Image Content, Image Size w x h at 240 ppi. */
static void
ioca_head(afp_buf *b, unsigned w, unsigned h)
{
    uint8_t size[9] = {0x00, 0x09, 0x60, 0x09, 0x60, (uint8_t) (w >> 8), (uint8_t) w,
                       (uint8_t) (h >> 8), (uint8_t) h};

    afp_buf_append(b, "\x70\x00\x91\x01\xFF", 5);
    par(b, 0x94, size, 9);
}

/* Encoding and IDE size (and an RGB IDE structure for 24 bits). */
static void
ioca_enc(afp_buf *b, uint8_t compr, uint8_t bits)
{
    uint8_t enc[2] = {compr, 0x01}, st[6] = {0x00, 0x01, 0, 0, 0, 8};

    par(b, 0x95, enc, 2);
    par(b, 0x96, &bits, 1);
    if (bits == 24)
        par(b, 0x9B, st, 6);
}

/* TIFF LZW of data (test encoder: Clear, one literal code per byte, EOI; 9-bit codes). */
static void
lzw_encode(const uint8_t *d, size_t n, afp_buf *out)
{
    uint32_t acc = 0;
    int nbits = 0;
    size_t i;
    unsigned codes[300];
    size_t nc = 0;

    codes[nc++] = 256;
    for (i = 0; i < n && nc < 250; i++)
        codes[nc++] = d[i];
    codes[nc++] = 257;
    for (i = 0; i < nc; i++)
    {
        acc = (acc << 9) | codes[i];
        nbits += 9;
        while (nbits >= 8)
        {
            afp_buf_putc(out, (uint8_t) (acc >> (nbits - 8)));
            nbits -= 8;
        }
    }
    if (nbits > 0)
        afp_buf_putc(out, (uint8_t) (acc << (8 - nbits)));
}

/* Begins a tile (X'8C') with its position (X'B5', 8 bytes) and size (X'B6', nsize bytes). */
static void
ioca_tile(afp_buf *c, const uint8_t pos[8], const uint8_t *size, size_t nsize)
{
    par(c, 0x8C, NULL, 0);
    par(c, 0xB5, pos, 8);
    par(c, 0xB6, size, nsize);
}

/* Restarts c as a w x h image with one encoding (compr, bits) and one data parameter. */
static void
ioca_simple(afp_buf *c, unsigned w, unsigned h, uint8_t compr, uint8_t bits, const uint8_t *data,
            size_t n)
{
    c->len = 0;
    ioca_head(c, w, h);
    ioca_enc(c, compr, bits);
    par(c, 0xFE92, data, n);
}

/* Appends a transparency mask of w x h pels (mask bytes m[0..n)) to c. */
static void
ioca_mask(afp_buf *c, unsigned w, unsigned h, const uint8_t *m, size_t n)
{
    uint8_t msize[9] = {0x00, 0x09, 0x60, 0x09, 0x60, (uint8_t) (w >> 8), (uint8_t) w,
                        (uint8_t) (h >> 8), (uint8_t) h};

    par(c, 0x8E, NULL, 0);
    par(c, 0x94, msize, 9);
    par(c, 0xFE92, m, n);
    par(c, 0x8F, NULL, 0);
}

/* Ends the image content c (End Image Content, End Segment), puts it on a page of afp (reset
 * first) and converts that with o. */
static afp_status
ioca_convert(afp_buf *c, afp_buf *afp, afp_pdf_options *o, afp_buf *pdf, afp_error *err)
{
    afp_buf_append(c, "\x93\x00\x71\x00", 4);
    afp->len = 0;
    ioca_doc(afp, c->data, c->len);
    return convert_res(afp, o, pdf, err);
}

/* Tiles, transparency masks, PackBits, LZW (with predictor), G3, unsupported encodings. */
static void
test_ioca(void)
{
    afp_buf afp, pdf, c, t;
    afp_pdf_options o;
    afp_error err;
    int warnings = 0;
    uint8_t rgb[2 * 2 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255};
    uint8_t bits[2] = {0xF0, 0x0F};
    uint8_t pos1[8] = {0, 0, 0, 0, 0, 0, 0, 0}, size1[8] = {0, 0, 0, 8, 0, 0, 0, 2};
    uint8_t pos2[8] = {0, 0, 0, 0, 0, 0, 0, 2}, size2[9] = {0, 0, 0, 2, 0, 0, 0, 2, 2};
    uint8_t pos3[8] = {0, 0, 0, 4, 0, 0, 0, 2}, size3[8] = {0, 0, 0, 4, 0, 0, 0, 4};
    uint8_t red[12] = {0x01, 0, 0, 0, 8, 8, 8, 0, 255, 0, 0};
    uint8_t green[12] = {0x01, 0, 0, 0, 8, 8, 8, 0, 0, 128, 0};
    uint8_t toc[2] = {0, 0}, pb[6] = {0x01, 0xF0, 0x0F, 0xFF, 0xAA, 0x80};
    uint8_t mask[2] = {0x80, 0x40};
    uint8_t g3[4] = {0x00, 0x1B, 0x59, 0x60}, enc_g3[2] = {0x80, 0x01};

    afp_buf_init(&afp);
    afp_buf_init(&pdf);
    afp_buf_init(&c);
    afp_buf_init(&t);
    afp_pdf_options_init(&o);
    o.compress = 0;
    o.warning = unit_count_warning;
    o.cb_ctx = &warnings;

    /* tiled 8 x 6: a bilevel tile in red, a RELRES 2 RGB tile, a solid fill tile in green */
    ioca_head(&c, 8, 6);
    par(&c, 0xFEBB, toc, 2);
    ioca_tile(&c, pos1, size1, 8);
    ioca_enc(&c, 0x03, 1);
    par(&c, 0xB7, red, 11);
    par(&c, 0xFE92, bits, 2);
    par(&c, 0x8D, NULL, 0);
    ioca_tile(&c, pos2, size2, 9);
    ioca_enc(&c, 0x03, 24);
    par(&c, 0xFE92, rgb, 12);
    par(&c, 0x8D, NULL, 0);
    ioca_tile(&c, pos3, size3, 8);
    ioca_enc(&c, 0x20, 1);
    par(&c, 0xB7, green, 11);
    par(&c, 0x8D, NULL, 0);
    CHECK(ioca_convert(&c, &afp, &o, &pdf, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/Subtype /Form /BBox [0 0 1 1] /Resources << /XObject << /T1 "));
    CHECK(unit_has(&pdf, "/Width 8 /Height 2 /ImageMask true"));
    CHECK(unit_has(&pdf, "/Width 2 /Height 2 /ColorSpace /DeviceRGB"));
    /* tile 1 at the top (y 0..2 of 6), tile 2 at (0, 2) doubled to 4 x 4, tile 3 solid */
    CHECK(unit_has(&pdf, "q 1 0 0 0.3333 0 0.6667 cm 1 0 0 rg /T1 Do Q"));
    CHECK(unit_has(&pdf, "q 0.5 0 0 0.6667 0 0 cm 0 g /T2 Do Q"));
    CHECK(unit_has(&pdf, "q 0.5 0 0 0.6667 0.5 0 cm 0 0.502 0 rg 0 0 1 1 re f Q"));

    /* transparency mask on an RGB image: /Mask stencil, B'1' shows the image */
    c.len = 0;
    ioca_head(&c, 2, 2);
    ioca_enc(&c, 0x03, 24);
    ioca_mask(&c, 2, 2, mask, 2);
    par(&c, 0xFE92, rgb, 12);
    CHECK(ioca_convert(&c, &afp, &o, &pdf, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/Width 2 /Height 2 /ImageMask true /BitsPerComponent 1 /Decode [1 0]"));
    CHECK(unit_has(&pdf, "/ColorSpace /DeviceRGB /BitsPerComponent 8 /Mask "));

    /* PackBits: 2 literal bytes, then X'AA' repeated 2 times → F0 0F AA AA (16 x 2 bilevel) */
    pb[3] = 0xFF;
    ioca_simple(&c, 16, 2, 0x0C, 1, pb, 5);
    CHECK(ioca_convert(&c, &afp, &o, &pdf, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/Width 16 /Height 2 /ImageMask true"));
    CHECK(unit_has(&pdf, "stream\n\xF0\x0F\xAA\xAA\nendstream"));
    /* PackBits literal running past the end: error with an offset */
    pb[0] = 0x05;
    ioca_simple(&c, 16, 2, 0x0C, 1, pb, 3);
    CHECK(ioca_convert(&c, &afp, &o, &pdf, &err) == AFP_ERR_FORMAT);
    CHECK(strstr(err.message, "at byte offset") && strstr(err.message, "PackBits"));

    /* LZW: the RGB pels decode exactly */
    t.len = 0;
    lzw_encode(rgb, 12, &t);
    ioca_simple(&c, 2, 2, 0x0D, 24, t.data, t.len);
    CHECK(ioca_convert(&c, &afp, &o, &pdf, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "stream\n\xFF\x00\x00\x00\xFF\x00\x00\x00\xFF\xFF\xFF\xFF\nendstream"));
    /* LZW with the differencing predictor: deltas of each row */
    {
        uint8_t delta[12];
        int k;

        memcpy(delta, rgb, 12);
        for (k = 11; k >= 3; k--)
            if (k % 6 >= 3)
                delta[k] = (uint8_t) (rgb[k] - rgb[k - 3]);
        t.len = 0;
        lzw_encode(delta, 12, &t);
        ioca_simple(&c, 2, 2, 0x0E, 24, t.data, t.len);
        CHECK(ioca_convert(&c, &afp, &o, &pdf, &err) == AFP_OK);
        CHECK(unit_has(&pdf, "stream\n\xFF\x00\x00\x00\xFF\x00\x00\x00\xFF\xFF\xFF\xFF\nendstream"));
    }
    /* LZW with an invalid code: error with an offset */
    ioca_simple(&c, 2, 2, 0x0D, 24, (const uint8_t *) "\x80\x7F\xFF\xFF", 4);
    CHECK(ioca_convert(&c, &afp, &o, &pdf, &err) == AFP_ERR_FORMAT);
    CHECK(strstr(err.message, "at byte offset") && strstr(err.message, "LZW"));

    /* G3 MH passes through as CCITTFaxDecode K 0 */
    c.len = 0;
    ioca_head(&c, 8, 1);
    par(&c, 0x95, enc_g3, 2);
    par(&c, 0xFE92, g3, 4);
    CHECK(ioca_convert(&c, &afp, &o, &pdf, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/DecodeParms << /K 0 /Columns 8 /Rows 1 >>") &&
          unit_has(&pdf, "/Filter /CCITTFaxDecode"));

    /* G4 with a transparency mask: drawn, the mask is reported as not applied */
    c.len = 0;
    ioca_head(&c, 8, 1);
    ioca_enc(&c, 0x82, 1);
    ioca_mask(&c, 8, 1, mask, 1);
    par(&c, 0xFE92, g3, 4);
    warnings = 0;
    CHECK(ioca_convert(&c, &afp, &o, &pdf, &err) == AFP_OK && warnings == 1);
    CHECK(unit_has(&pdf, "/K -1 /Columns 8 /Rows 1"));

    /* ABIC: an error naming it; with "warn" a placeholder and a warning */
    ioca_simple(&c, 8, 1, 0x08, 1, bits, 2);
    CHECK(ioca_convert(&c, &afp, &o, &pdf, &err) == AFP_ERR_FORMAT);
    CHECK(strstr(err.message, "X'08' (ABIC") != NULL && strstr(err.message, "(BIM)") != NULL);
    o.missing = AFP_PDF_MISSING_WARN;
    warnings = 0;
    CHECK(convert_res(&afp, &o, &pdf, &err) == AFP_OK && warnings == 1);
    CHECK(unit_has(&pdf, "0.8 G [3 2] 0 d"));

    /* every truncation of the tiled image: an error or a PDF, never a crash */
    {
        size_t cut;
        int ok = 1;

        c.len = 0;
        ioca_head(&c, 8, 6);
        par(&c, 0xFEBB, toc, 2);
        ioca_tile(&c, pos1, size1, 8);
        ioca_enc(&c, 0x0D, 1);
        t.len = 0;
        lzw_encode(bits, 2, &t);
        par(&c, 0xFE92, t.data, t.len);
        par(&c, 0x8D, NULL, 0);
        for (cut = 1; cut < c.len; cut++)
        {
            afp_status st;

            afp.len = 0;
            ioca_doc(&afp, c.data, cut);
            st = convert_res(&afp, &o, &pdf, &err);
            if (st != AFP_OK && st != AFP_ERR_FORMAT)
                ok = 0;
        }
        CHECK(ok);
    }
    afp_buf_free(&afp);
    afp_buf_free(&pdf);
    afp_buf_free(&c);
    afp_buf_free(&t);
}

/* The suite: external resources, form maps, object containers, IOCA. */
void
suite_pdfres(void)
{
    test_external();
    test_external_font();
    test_formmap();
    test_containers();
    test_ioca();
}
