/*
 * test_gen_assets.c — unit tests of the generator's assets: font metrics and IBM font names
 * (afp_font.c), IOCA images (afp_ioca.c) and BCOCA bar codes (afp_bcoca.c).
 */
#include "afp_gen.h"
#include "unit.h"
#include "unit_afp.h"

#include <png.h>

#include <setjmp.h>

#include <stdlib.h>
#include <string.h>

/* An 8x8 colour baseline JPEG (JFIF, 150 dpi, YCbCr 4:2:0), made once with libjpeg. */
static const uint8_t tiny_jpeg[] = {
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x01, 0x00, 0x96,
    0x00, 0x96, 0x00, 0x00, 0xFF, 0xDB, 0x00, 0x43, 0x00, 0x08, 0x06, 0x06, 0x07, 0x06, 0x05, 0x08,
    0x07, 0x07, 0x07, 0x09, 0x09, 0x08, 0x0A, 0x0C, 0x14, 0x0D, 0x0C, 0x0B, 0x0B, 0x0C, 0x19, 0x12,
    0x13, 0x0F, 0x14, 0x1D, 0x1A, 0x1F, 0x1E, 0x1D, 0x1A, 0x1C, 0x1C, 0x20, 0x24, 0x2E, 0x27, 0x20,
    0x22, 0x2C, 0x23, 0x1C, 0x1C, 0x28, 0x37, 0x29, 0x2C, 0x30, 0x31, 0x34, 0x34, 0x34, 0x1F, 0x27,
    0x39, 0x3D, 0x38, 0x32, 0x3C, 0x2E, 0x33, 0x34, 0x32, 0xFF, 0xDB, 0x00, 0x43, 0x01, 0x09, 0x09,
    0x09, 0x0C, 0x0B, 0x0C, 0x18, 0x0D, 0x0D, 0x18, 0x32, 0x21, 0x1C, 0x21, 0x32, 0x32, 0x32, 0x32,
    0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32,
    0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32,
    0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0x32, 0xFF, 0xC0,
    0x00, 0x11, 0x08, 0x00, 0x08, 0x00, 0x08, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11,
    0x01, 0xFF, 0xC4, 0x00, 0x1F, 0x00, 0x00, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
    0x0A, 0x0B, 0xFF, 0xC4, 0x00, 0xB5, 0x10, 0x00, 0x02, 0x01, 0x03, 0x03, 0x02, 0x04, 0x03, 0x05,
    0x05, 0x04, 0x04, 0x00, 0x00, 0x01, 0x7D, 0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21,
    0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23,
    0x42, 0xB1, 0xC1, 0x15, 0x52, 0xD1, 0xF0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0A, 0x16, 0x17,
    0x18, 0x19, 0x1A, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A,
    0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A,
    0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A,
    0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
    0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7,
    0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5,
    0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF1,
    0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA, 0xFF, 0xC4, 0x00, 0x1F, 0x01, 0x00, 0x03,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0xFF, 0xC4, 0x00, 0xB5, 0x11, 0x00,
    0x02, 0x01, 0x02, 0x04, 0x04, 0x03, 0x04, 0x07, 0x05, 0x04, 0x04, 0x00, 0x01, 0x02, 0x77, 0x00,
    0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13,
    0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xA1, 0xB1, 0xC1, 0x09, 0x23, 0x33, 0x52, 0xF0, 0x15,
    0x62, 0x72, 0xD1, 0x0A, 0x16, 0x24, 0x34, 0xE1, 0x25, 0xF1, 0x17, 0x18, 0x19, 0x1A, 0x26, 0x27,
    0x28, 0x29, 0x2A, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88,
    0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6,
    0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4,
    0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE2,
    0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9,
    0xFA, 0xFF, 0xDA, 0x00, 0x0C, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3F, 0x00, 0xF3,
    0x2D, 0x12, 0xC3, 0xEE, 0xF1, 0x45, 0x14, 0x55, 0x12, 0x7F, 0xFF, 0xD9,
};

/* ------------------------------------------------------------------ helpers */

/* Starts a one-page document: BDT BPG BAG PGD PTD-2 EAG (A4, 1440 units per inch). */
static void
page_begin(afp_writer *w)
{
    afp_writer_init(w);
    afp_write_begin(w, 0xD3A8A8, "DOC1", NULL, 0);
    afp_write_begin(w, 0xD3A8AF, "PAGE1", NULL, 0);
    afp_write_begin(w, 0xD3A8C9, NULL, NULL, 0);
    afp_write_page_descriptors(w, 11906, 16838);
    afp_write_end(w);
}

/* Ends the page and the document. */
static void
page_end(afp_writer *w)
{
    afp_write_end(w);
    afp_write_end(w);
}

/* Lists the field abbreviations of buf separated by blanks (IPD runs shown once as "IPD…"). */
static void
field_list(const afp_buf *buf, char *out, size_t outsz)
{
    afp_reader r;
    afp_sf sf;
    afp_error err;
    size_t n = 0;
    const char *prev = "";

    out[0] = '\0';
    afp_reader_init(&r, buf->data, buf->len);
    while (afp_reader_next(&r, &sf, &err) == 1)
    {
        const char *a = afp_sf_abbr(sf.id);

        if (strcmp(a, "IPD") == 0 && strcmp(prev, "IPD") == 0)
            continue;
        n += (size_t) snprintf(out + n, n < outsz ? outsz - n : 0, "%s%s", n ? " " : "", a);
        prev = a;
        if (n >= outsz)
            break;
    }
}

/* Concatenates the data of all fields with the given ID (the IPDs of an image, say). */
static void
join_fields(const afp_buf *buf, uint32_t id, afp_buf *out, const uint8_t **first_data, size_t *first_len)
{
    afp_reader r;
    afp_sf sf;
    afp_error err;

    afp_reader_init(&r, buf->data, buf->len);
    while (afp_reader_next(&r, &sf, &err) == 1)
        if (sf.id == id)
        {
            if (first_data && out->len == 0)
            {
                *first_data = sf.data;
                *first_len = sf.data_len;
            }
            afp_buf_append(out, sf.data, sf.data_len);
        }
}

/* Data of the first field with the given ID (NULL if none). */
static const uint8_t *
field_data(const afp_buf *buf, uint32_t id, size_t *len)
{
    afp_reader r;
    afp_sf sf;
    afp_error err;

    afp_reader_init(&r, buf->data, buf->len);
    while (afp_reader_next(&r, &sf, &err) == 1)
        if (sf.id == id)
        {
            *len = sf.data_len;
            return sf.data;
        }
    return NULL;
}

/* Splits an IOCA segment into its parameters; collects the FE92 image data. Returns 0 when
 * the stream is malformed. params[id] points at the parameter bytes (NULL if absent). */
static int
parse_ioca(const uint8_t *p, size_t n, const uint8_t *params[256], uint8_t plen[256], afp_buf *data)
{
    size_t pos = 0;

    memset(params, 0, 256 * sizeof(params[0]));
    while (pos < n)
    {
        if (p[pos] == 0xFE)
        {
            size_t l;

            if (pos + 4 > n || p[pos + 1] != 0x92)
                return 0;
            l = ((size_t) p[pos + 2] << 8) | p[pos + 3];
            if (pos + 4 + l > n)
                return 0;
            afp_buf_append(data, p + pos + 4, l);
            pos += 4 + l;
        }
        else
        {
            if (pos + 2 > n || pos + 2 + p[pos + 1] > n)
                return 0;
            params[p[pos]] = p + pos + 2;
            plen[p[pos]] = p[pos + 1];
            pos += 2 + p[pos + 1];
        }
    }
    return 1;
}

/* Encodes pixels as a PNG in memory with libpng (malloc'd result). */
static uint8_t *
make_png(const uint8_t *pixels, uint32_t w, uint32_t h, uint32_t format, size_t *len)
{
    png_image img;
    png_alloc_size_t size = 0;
    uint8_t *out;

    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    img.width = w;
    img.height = h;
    img.format = format;
    if (!png_image_write_get_memory_size(img, size, 0, pixels, 0, NULL))
        return NULL;
    out = malloc(size);
    if (out == NULL || !png_image_write_to_memory(&img, out, &size, 0, pixels, 0, NULL))
    {
        free(out);
        return NULL;
    }
    *len = size;
    return out;
}

/* Appends libpng output to an afp_buf. */
static void
png_to_buf(png_structp png, png_bytep data, size_t n)
{
    afp_buf_append((afp_buf *) png_get_io_ptr(png), data, n);
}

/* Does nothing (flush callback for png_to_buf). */
static void
png_no_flush(png_structp png)
{
    (void) png;
}

/* Builds a 1-bit greyscale PNG (with pHYs 2954 px/m ≈ 75 dpi) from packed rows. */
static void
make_bilevel_png(uint32_t w, uint32_t h, const uint8_t *rows, afp_buf *out)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    size_t stride = (w + 7) / 8;
    uint32_t y;

    if (setjmp(png_jmpbuf(png)))
    {
        png_destroy_write_struct(&png, &info);
        return;
    }
    png_set_write_fn(png, out, png_to_buf, png_no_flush);
    png_set_IHDR(png, info, w, h, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_pHYs(png, info, 2954, 2954, PNG_RESOLUTION_METER);
    png_write_info(png, info);
    for (y = 0; y < h; y++)
        png_write_row(png, rows + y * stride);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
}

/* ------------------------------------------------------------------ fonts */

/* Font metrics (Liberation = standard Helvetica/Times/Courier widths) and IBM names. */
void
suite_fonts(void)
{
    /* afp_font_ibm_charset: family, style, size → name and outline flag (-1: not checked) */
    static const struct {
        afp_family family;
        afp_style style;
        double size;
        const char *name;
        int outline;
    } ibm_names[] = {
        {AFP_FAMILY_HELVETICA, AFP_STYLE_REGULAR, 11, "C0H200A0", 0},
        {AFP_FAMILY_TIMES, AFP_STYLE_BOLD, 10, "C0N40000", 0},
        {AFP_FAMILY_COURIER, AFP_STYLE_ITALIC, 12, "C04300B0", -1},
        {AFP_FAMILY_HELVETICA, AFP_STYLE_BOLD_ITALIC, 36, "C0H500Z0", -1},
        {AFP_FAMILY_HELVETICA, AFP_STYLE_REGULAR, 13, "CZH200  ", 1},
        {AFP_FAMILY_COURIER, AFP_STYLE_BOLD, 10.5, "CZ4400  ", 1},
        {AFP_FAMILY_TIMES, AFP_STYLE_ITALIC, 7.5, "CZN300  ", -1},
    };
    const afp_font_metrics *m = NULL;
    afp_error err;
    char name[9];
    int outline = -1;
    const char *old = getenv("AFP_FONT_DIR");
    char *saved = old ? strdup(old) : NULL;
    afp_status st;
    uint32_t c;
    int all600 = 1;

    /* A missing font directory names the file and the Debian package (only observable when
     * no earlier suite has cached this face). */
    setenv("AFP_FONT_DIR", "/nonexistent-afp-fonts", 1);
    afp_error_clear(&err);
    st = afp_font_load(AFP_FAMILY_COURIER, AFP_STYLE_BOLD_ITALIC, &m, &err);
    if (st != AFP_OK)
    {
        CHECK(st == AFP_ERR_ARGUMENT);
        CHECK(strstr(err.message, "/nonexistent-afp-fonts/LiberationMono-BoldItalic.ttf") != NULL);
        CHECK(strstr(err.message, "fonts-liberation") != NULL);
    }
    if (saved)
    {
        setenv("AFP_FONT_DIR", saved, 1);
        free(saved);
    }
    else
        unsetenv("AFP_FONT_DIR");

    CHECK(afp_font_parse_family("Helvetica") == AFP_FAMILY_HELVETICA);
    CHECK(afp_font_parse_family("arial") == AFP_FAMILY_HELVETICA);
    CHECK(afp_font_parse_family("TIMES") == AFP_FAMILY_TIMES);
    CHECK(afp_font_parse_family("Courier") == AFP_FAMILY_COURIER);
    CHECK(afp_font_parse_family("Comic Sans") == -1);
    CHECK(afp_font_parse_family(NULL) == -1);
    CHECK(afp_font_parse_style("regular") == AFP_STYLE_REGULAR);
    CHECK(afp_font_parse_style("Bold") == AFP_STYLE_BOLD);
    CHECK(afp_font_parse_style("italic") == AFP_STYLE_ITALIC);
    CHECK(afp_font_parse_style("bold-italic") == AFP_STYLE_BOLD_ITALIC);
    CHECK(afp_font_parse_style("oblique") == -1);

    CHECK(afp_font_load(AFP_FAMILY_HELVETICA, AFP_STYLE_REGULAR, &m, &err) == AFP_OK);
    if (m)
    {
        const afp_font_metrics *again = NULL;

        CHECK(afp_font_advance(m, 'A') == 667);
        CHECK(afp_font_advance(m, 'i') == 222);
        CHECK(afp_font_advance(m, ' ') == 278);
        CHECK(afp_font_advance(m, 0x20AC) == 556);          /* € (cached range 2) */
        CHECK(afp_font_advance(m, 0x0001) == -1);           /* control character: no glyph */
        CHECK(afp_font_advance(m, 0x4E2D) == -1);           /* CJK: looked up, absent */
        CHECK(afp_font_advance(m, 0x0416) > 0);             /* Cyrillic Zhe: looked up */
        /* "Ai " = 667 + 222 + 278 = 1167 → 11.67 pt at 10 pt */
        CHECK(afp_font_text_width(m, "Ai ", 3, 10.0) > 11.66 &&
              afp_font_text_width(m, "Ai ", 3, 10.0) < 11.68);
        CHECK(afp_font_text_width(m, "\xC3\xA4", 2, 1000.0) == 556.0);   /* ä */
        CHECK(afp_font_ascent(m) > 0.6 && afp_font_ascent(m) < 1.0);
        CHECK(afp_font_descent(m) > 0.1 && afp_font_descent(m) < 0.3);
        CHECK(afp_font_load(AFP_FAMILY_HELVETICA, AFP_STYLE_REGULAR, &again, &err) == AFP_OK);
        CHECK(again == m);                                   /* cached */
    }
    CHECK(afp_font_load(AFP_FAMILY_HELVETICA, AFP_STYLE_BOLD, &m, &err) == AFP_OK);
    if (m)
        CHECK(afp_font_advance(m, 'A') == 722);
    CHECK(afp_font_load(AFP_FAMILY_TIMES, AFP_STYLE_REGULAR, &m, &err) == AFP_OK);
    if (m)
    {
        CHECK(afp_font_advance(m, 'A') == 722);
        CHECK(afp_font_advance(m, 'i') == 278);
    }
    CHECK(afp_font_load(AFP_FAMILY_COURIER, AFP_STYLE_REGULAR, &m, &err) == AFP_OK);
    if (m)
    {
        for (c = 0x20; c < 0x7F; c++)
            if (afp_font_advance(m, c) != 600)
                all600 = 0;
        CHECK(all600);
        CHECK(afp_font_text_width(m, "Hello", 5, 10.0) == 30.0);
    }

    /* IBM font character set names: raster sizes, outline fonts for the others */
    for (c = 0; c < sizeof(ibm_names) / sizeof(ibm_names[0]); c++)
    {
        afp_font_ibm_charset(ibm_names[c].family, ibm_names[c].style, ibm_names[c].size, name,
                             &outline);
        CHECK_STR(name, ibm_names[c].name);
        if (ibm_names[c].outline >= 0)
            CHECK(outline == ibm_names[c].outline);
    }
}

/* ------------------------------------------------------------------ images */

/* Writes one image into a one-page document; returns the status, *doc holds the file. */
static afp_status
image_doc(const uint8_t *data, size_t len, afp_buf *doc, afp_error *err)
{
    afp_writer w;
    afp_status st;

    page_begin(&w);
    st = afp_image_write(&w, "IMG1", data, len, 1440, 2880, 2880, 1440, err);
    page_end(&w);
    *doc = w.out;
    return st;
}

/* PNG (RGB, alpha, bilevel) and JPEG images as IOCA objects; corrupt input rejected. */
void
suite_images(void)
{
    afp_image_info info;
    afp_error err;
    afp_buf doc, ipd, data;
    const uint8_t *params[256];
    uint8_t plen[256];
    const uint8_t *idd, *p0 = NULL;
    size_t idd_len = 0, p0_len = 0, png_len = 0, i;
    char fields[512], first[400];
    uint8_t rgb[4 * 3 * 3], rgba[2 * 2 * 4], *png;
    afp_buf bw;
    static const uint8_t bw_rows[3] = {0xA0, 0x40, 0x00};   /* 3x3: 101 / 010 / 000 */
    static const uint8_t gif[] = "GIF89a\x01\x00\x01\x00\x00\x00\x00";

    /* --- JPEG: probe and pass-through */
    CHECK(afp_image_probe(tiny_jpeg, sizeof(tiny_jpeg), &info, &err) == AFP_OK);
    CHECK(info.kind == 1 && info.width == 8 && info.height == 8);
    CHECK(info.components == 3 && info.bits == 8);
    CHECK(info.xdpi == 150.0 && info.ydpi == 150.0);
    CHECK(image_doc(tiny_jpeg, sizeof(tiny_jpeg), &doc, &err) == AFP_OK);
    CHECK(unit_issues(doc.data, doc.len, AFP_SEV_ERROR, first, sizeof(first)) == 0);
    CHECK(unit_issues(doc.data, doc.len, AFP_SEV_WARNING, first, sizeof(first)) == 0);
    field_list(&doc, fields, sizeof(fields));
    CHECK_STR(fields, "BDT BPG BAG PGD PTD EAG BIM BOG OBD OBP MIO IDD EOG IPD EIM EPG EDT");
    idd = field_data(&doc, 0xD3A6FB, &idd_len);
    CHECK(idd != NULL && idd_len == 13);
    if (idd && idd_len == 13)
    {
        static const uint8_t want[13] = {0x00, 0x05, 0xDC, 0x05, 0xDC, 0x00, 0x08, 0x00, 0x08,
                                         0xF7, 0x02, 0x01, 0x0B};
        CHECK(memcmp(idd, want, 13) == 0);
    }
    {
        size_t l = 0;
        const uint8_t *mio = field_data(&doc, 0xD3ABFB, &l);
        const uint8_t *obp = field_data(&doc, 0xD3AC6B, &l);

        mio = field_data(&doc, 0xD3ABFB, &l);
        CHECK(mio != NULL && l == 5 && mio[4] == 0x60);     /* scale to fill */
        obp = field_data(&doc, 0xD3AC6B, &l);
        CHECK(obp != NULL && l == 24);
        if (obp && l == 24)
        {
            CHECK(obp[1] == 23);
            CHECK(obp[2] == 0 && obp[3] == 0x05 && obp[4] == 0xA0);     /* x = 1440 */
            CHECK(obp[5] == 0 && obp[6] == 0x0B && obp[7] == 0x40);     /* y = 2880 */
            CHECK(obp[23] == 0x01);
        }
    }
    afp_buf_init(&ipd);
    afp_buf_init(&data);
    join_fields(&doc, 0xD3EEFB, &ipd, &p0, &p0_len);
    CHECK(parse_ioca(ipd.data, ipd.len, params, plen, &data));
    CHECK(params[0x95] != NULL && params[0x95][0] == 0x83);            /* JPEG */
    CHECK(params[0x96] != NULL && params[0x96][0] == 24);
    CHECK(params[0x9B] != NULL && params[0x9B][1] == 0x12);            /* YCbCr */
    CHECK(params[0x94] != NULL && plen[0x94] == 9);
    CHECK(data.len == sizeof(tiny_jpeg) && memcmp(data.data, tiny_jpeg, data.len) == 0);
    afp_buf_free(&ipd);
    afp_buf_free(&data);
    afp_buf_free(&doc);

    /* --- RGB PNG, generated with libpng: pixels carried unchanged, FS11 24-bit */
    for (i = 0; i < sizeof(rgb); i++)
        rgb[i] = (uint8_t) (i * 19 + 7);
    png = make_png(rgb, 4, 3, PNG_FORMAT_RGB, &png_len);
    CHECK(png != NULL);
    if (png)
    {
        CHECK(afp_image_probe(png, png_len, &info, &err) == AFP_OK);
        CHECK(info.kind == 2 && info.width == 4 && info.height == 3 && info.components == 3);
        CHECK(info.xdpi == 0.0);
        CHECK(image_doc(png, png_len, &doc, &err) == AFP_OK);
        CHECK(unit_issues(doc.data, doc.len, AFP_SEV_ERROR, first, sizeof(first)) == 0);
        field_list(&doc, fields, sizeof(fields));
        CHECK_STR(fields, "BDT BPG BAG PGD PTD EAG BIM BOG OBD OBP MIO IDD EOG IPD EIM EPG EDT");
        idd = field_data(&doc, 0xD3A6FB, &idd_len);
        CHECK(idd != NULL && idd_len == 13 && idd[1] == 0x02 && idd[2] == 0xD0 && idd[12] == 0x0B);
        afp_buf_init(&ipd);
        afp_buf_init(&data);
        join_fields(&doc, 0xD3EEFB, &ipd, NULL, NULL);
        CHECK(parse_ioca(ipd.data, ipd.len, params, plen, &data));
        CHECK(params[0x95] != NULL && params[0x95][0] == 0x03);
        CHECK(params[0x96] != NULL && params[0x96][0] == 24);
        CHECK(params[0x9B] != NULL && params[0x9B][1] == 0x01);        /* RGB */
        CHECK(data.len == sizeof(rgb) && memcmp(data.data, rgb, sizeof(rgb)) == 0);
        afp_buf_free(&ipd);
        afp_buf_free(&data);
        afp_buf_free(&doc);

        /* truncated PNG → format error, nothing written */
        {
            afp_writer w;

            page_begin(&w);
            i = w.out.len;
            CHECK(afp_image_write(&w, "BAD1", png, png_len / 2, 0, 0, 100, 100, &err) ==
                  AFP_ERR_FORMAT);
            CHECK(strstr(err.message, "BAD1") != NULL);
            CHECK(w.out.len == i);
            afp_writer_free(&w);
        }
        /* damaged compressed data (valid chunk structure) → format error from libpng */
        {
            uint8_t *bad = malloc(png_len);
            size_t k;

            memcpy(bad, png, png_len);
            for (k = 0; k + 4 < png_len; k++)
                if (memcmp(bad + k, "IDAT", 4) == 0)
                    break;
            if (k + 12 < png_len)
            {
                bad[k + 4] ^= 0xFF;         /* zlib header */
                bad[k + 5] ^= 0xFF;
            }
            CHECK(afp_image_write(NULL, "BAD2", bad, png_len, 0, 0, 100, 100, &err) ==
                  AFP_ERR_FORMAT);
            CHECK(strstr(err.message, "BAD2") != NULL);
            free(bad);
        }
        free(png);
    }

    /* --- RGBA PNG: transparent pixels are composited on white */
    memset(rgba, 0, sizeof(rgba));
    rgba[3] = 255;                          /* pixel 0 opaque black, the others transparent */
    png = make_png(rgba, 2, 2, PNG_FORMAT_RGBA, &png_len);
    CHECK(png != NULL);
    if (png)
    {
        CHECK(image_doc(png, png_len, &doc, &err) == AFP_OK);
        CHECK(unit_issues(doc.data, doc.len, AFP_SEV_ERROR, first, sizeof(first)) == 0);
        afp_buf_init(&ipd);
        afp_buf_init(&data);
        join_fields(&doc, 0xD3EEFB, &ipd, NULL, NULL);
        CHECK(parse_ioca(ipd.data, ipd.len, params, plen, &data));
        CHECK(data.len == 12);
        if (data.len == 12)
            CHECK(data.data[0] == 0 && data.data[1] == 0 && data.data[2] == 0 &&
                  data.data[3] == 255 && data.data[11] == 255);
        afp_buf_free(&ipd);
        afp_buf_free(&data);
        afp_buf_free(&doc);
        free(png);
    }

    /* --- 1-bit grey PNG: FS10 bilevel, black (PNG 0) becomes IOCA 1 (toned) */
    afp_buf_init(&bw);
    make_bilevel_png(3, 3, bw_rows, &bw);
    CHECK(bw.len > 0);
    CHECK(afp_image_probe(bw.data, bw.len, &info, &err) == AFP_OK);
    CHECK(info.bits == 1 && info.components == 1 && info.xdpi > 75.0 && info.xdpi < 75.1);
    CHECK(image_doc(bw.data, bw.len, &doc, &err) == AFP_OK);
    CHECK(unit_issues(doc.data, doc.len, AFP_SEV_ERROR, first, sizeof(first)) == 0);
    idd = field_data(&doc, 0xD3A6FB, &idd_len);
    CHECK(idd != NULL && idd_len == 13 && idd[12] == 0x0A);            /* FS10 */
    afp_buf_init(&ipd);
    afp_buf_init(&data);
    join_fields(&doc, 0xD3EEFB, &ipd, NULL, NULL);
    CHECK(parse_ioca(ipd.data, ipd.len, params, plen, &data));
    CHECK(params[0x96] != NULL && params[0x96][0] == 1);
    CHECK(params[0x9B] == NULL);
    CHECK(data.len == 3);
    if (data.len == 3)
    {
        /* PNG rows 101 / 010 / 000 (1 = white) → IOCA 010 / 101 / 111, padding bits 0 */
        CHECK(data.data[0] == 0x40);
        CHECK(data.data[1] == 0xA0);
        CHECK(data.data[2] == 0xE0);
    }
    afp_buf_free(&ipd);
    afp_buf_free(&data);
    afp_buf_free(&doc);
    afp_buf_free(&bw);

    /* --- corrupt and unsupported input */
    CHECK(afp_image_probe(gif, sizeof(gif) - 1, &info, &err) == AFP_ERR_FORMAT);
    CHECK(strstr(err.message, "GIF") != NULL);
    CHECK(afp_image_probe((const uint8_t *) "hello world", 11, &info, &err) == AFP_ERR_FORMAT);
    CHECK(afp_image_probe(tiny_jpeg, 100, &info, &err) == AFP_ERR_FORMAT);
    CHECK(afp_image_probe(tiny_jpeg, sizeof(tiny_jpeg) - 2, &info, &err) == AFP_ERR_FORMAT);
    CHECK(afp_image_probe(tiny_jpeg, 0, &info, &err) == AFP_ERR_FORMAT);
    CHECK(afp_image_write(NULL, "JPG2", tiny_jpeg, 300, 0, 0, 100, 100, &err) == AFP_ERR_FORMAT);
    CHECK(strstr(err.message, "JPG2") != NULL);
    {
        /* a header-only JPEG with 4 components (CMYK) is refused with a clear message */
        static const uint8_t cmyk[] = {
            0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x14, 0x08, 0x00, 0x08, 0x00, 0x08, 0x04, 0x01, 0x11,
            0x00, 0x02, 0x11, 0x00, 0x03, 0x11, 0x00, 0x04, 0x11, 0x00, 0xFF, 0xDA, 0x00, 0x0E,
            0x04, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x3F, 0x00, 0x00, 0x00,
            0xFF, 0xD9};

        CHECK(afp_image_probe(cmyk, sizeof(cmyk), &info, &err) == AFP_OK);
        CHECK(info.components == 4);
        CHECK(afp_image_write(NULL, "CMYK1", cmyk, sizeof(cmyk), 0, 0, 10, 10, &err) ==
              AFP_ERR_FORMAT);
        CHECK(strstr(err.message, "CMYK") != NULL);
    }
}

/* ------------------------------------------------------------------ bar codes */

/* Writes one bar code into a one-page document; checks validity and the BDD type/modifier. */
static void
check_barcode(afp_symbology t, const char *text, uint8_t type, uint8_t mod, int hri)
{
    afp_writer w;
    afp_barcode bc;
    afp_error err;
    char fields[512], first[400];
    const uint8_t *bdd, *bda;
    size_t bdd_len = 0, bda_len = 0;
    double wpt = 0, hpt = 0;

    memset(&bc, 0, sizeof(bc));
    bc.type = t;
    bc.data = text;
    bc.data_len = strlen(text);
    bc.x = 1440;
    bc.y = 2880;
    bc.hri = hri;
    CHECK(afp_barcode_check(&bc, &err) == AFP_OK);
    afp_barcode_size(&bc, &wpt, &hpt);
    CHECK(wpt > 10 && hpt > 10);
    page_begin(&w);
    CHECK(afp_barcode_write(&w, "BC1", &bc, &err) == AFP_OK);
    page_end(&w);
    CHECK(unit_issues(w.out.data, w.out.len, AFP_SEV_ERROR, first, sizeof(first)) == 0);
    CHECK(unit_issues(w.out.data, w.out.len, AFP_SEV_WARNING, first, sizeof(first)) == 0);
    field_list(&w.out, fields, sizeof(fields));
    CHECK_STR(fields, "BDT BPG BAG PGD PTD EAG BBC BOG OBD OBP MBC BDD EOG BDA EBC EPG EDT");
    bdd = field_data(&w.out, 0xD3A6EB, &bdd_len);
    CHECK(bdd != NULL && bdd_len == 23);
    if (bdd && bdd_len == 23)
    {
        CHECK(bdd[0] == 0x00 && bdd[2] == 0x38 && bdd[3] == 0x40);    /* 14400 per 10 in */
        CHECK(bdd[12] == type);
        CHECK(bdd[13] == mod);
        CHECK(bdd[14] == 0xFF);                                         /* HRI font: default */
        CHECK(bdd[15] == 0xFF && bdd[16] == 0x07);                      /* colour: default */
    }
    bda = field_data(&w.out, 0xD3EEEB, &bda_len);
    CHECK(bda != NULL && bda_len > 5);
    if (bda && bda_len > 5)
        CHECK((bda[0] & 0x80) == (hri && (t == AFP_BC_CODE128 || t == AFP_BC_IMB) ? 0 : 0x80));
    afp_writer_free(&w);
}

/* Checks that data is rejected for a symbology. */
static void
check_rejected(afp_symbology t, const char *text, size_t len)
{
    afp_barcode bc;
    afp_error err;
    afp_writer w;

    memset(&bc, 0, sizeof(bc));
    bc.type = t;
    bc.data = text;
    bc.data_len = len;
    afp_error_clear(&err);
    CHECK(afp_barcode_check(&bc, &err) == AFP_ERR_ARGUMENT);
    CHECK(err.message[0] != '\0');
    afp_writer_init(&w);
    CHECK(afp_barcode_write(&w, "BAD", &bc, &err) == AFP_ERR_ARGUMENT);
    CHECK(w.out.len == 0);
    afp_writer_free(&w);
}

/* Code 128, QR Code, Data Matrix and Intelligent Mail objects; bad data rejected. */
void
suite_barcodes(void)
{
    afp_barcode bc;
    double w1, h1, w2, h2;
    char *big;

    CHECK(afp_symbology_parse("code128") == AFP_BC_CODE128);
    CHECK(afp_symbology_parse("QR") == AFP_BC_QR);
    CHECK(afp_symbology_parse("datamatrix") == AFP_BC_DATAMATRIX);
    CHECK(afp_symbology_parse("imb") == AFP_BC_IMB);
    CHECK(afp_symbology_parse("ean13") == -1);
    CHECK(afp_symbology_parse(NULL) == -1);

    check_barcode(AFP_BC_CODE128, "INV-2024/0815 ok!", 0x11, 0x02, 1);
    check_barcode(AFP_BC_CODE128, "1234567890", 0x11, 0x02, 0);
    check_barcode(AFP_BC_QR, "https://example.com/invoice?id=4711", 0x20, 0x02, 1);
    check_barcode(AFP_BC_QR, "Gr\xC3\xBC\xC3\x9F" "e \\ \xE2\x82\xAC", 0x20, 0x02, 0);
    check_barcode(AFP_BC_DATAMATRIX, "Hello 12345", 0x1C, 0x00, 0);
    check_barcode(AFP_BC_DATAMATRIX, "\xE2\x82\xAC 5", 0x1C, 0x00, 0);
    check_barcode(AFP_BC_IMB, "01234567094987654321", 0x22, 0x00, 1);
    check_barcode(AFP_BC_IMB, "0123456709498765432101234", 0x22, 0x01, 0);
    check_barcode(AFP_BC_IMB, "01234567094987654321012345678", 0x22, 0x02, 0);
    check_barcode(AFP_BC_IMB, "0123456709498765432101234567891", 0x22, 0x03, 0);

    /* Code 128 data is CP1303 (CP037 positions): '!' is X'5A' */
    {
        afp_writer w;
        afp_error err;
        size_t l = 0;
        const uint8_t *bda;

        memset(&bc, 0, sizeof(bc));
        bc.type = AFP_BC_CODE128;
        bc.data = "A1!";
        bc.data_len = 3;
        afp_writer_init(&w);
        CHECK(afp_barcode_write(&w, "BC", &bc, &err) == AFP_OK);
        bda = field_data(&w.out, 0xD3EEEB, &l);
        CHECK(bda != NULL && l == 8);
        if (bda && l == 8)
            CHECK(bda[5] == 0xC1 && bda[6] == 0xF1 && bda[7] == 0x5A);
        afp_writer_free(&w);
    }

    /* sizes: Code 128 grows with the data; IMB is fixed; QR/DM are square */
    memset(&bc, 0, sizeof(bc));
    bc.type = AFP_BC_CODE128;
    bc.data = "ABCDEF";
    bc.data_len = 6;
    bc.module_pt = 0.72;                    /* 10 mils */
    afp_barcode_size(&bc, &w1, &h1);
    /* (11 × 6 + 35) modules + 20 quiet-zone modules = 121 × 0.01 in = 87.12 pt */
    CHECK(w1 > 87.0 && w1 < 87.3);
    bc.data = "ABCDEFGHIJKL";
    bc.data_len = 12;
    afp_barcode_size(&bc, &w2, &h2);
    CHECK(w2 > w1);
    bc.height_pt = 36;
    bc.hri = 0;
    afp_barcode_size(&bc, &w2, &h2);
    CHECK(h2 > 35.9 && h2 < 36.2);
    memset(&bc, 0, sizeof(bc));
    bc.type = AFP_BC_IMB;
    bc.data = "01234567094987654321";
    bc.data_len = 20;
    afp_barcode_size(&bc, &w1, &h1);
    CHECK(w1 > 200 && w1 < 240 && h1 > 10 && h1 < 20);
    memset(&bc, 0, sizeof(bc));
    bc.type = AFP_BC_QR;
    bc.data = "hello";
    bc.data_len = 5;
    afp_barcode_size(&bc, &w1, &h1);
    CHECK(w1 == h1 && w1 > 0);
    bc.data = "hello hello hello hello hello hello hello hello hello hello";
    bc.data_len = strlen(bc.data);
    afp_barcode_size(&bc, &w2, &h2);
    CHECK(w2 > w1);

    /* rejected data */
    check_rejected(AFP_BC_IMB, "0123456709498765432", 19);
    check_rejected(AFP_BC_IMB, "05234567094987654321", 20);           /* 2nd digit 5 */
    check_rejected(AFP_BC_IMB, "0123456709498765432X", 20);
    check_rejected(AFP_BC_CODE128, "caf\xC3\xA9", 5);                  /* not ASCII */
    check_rejected(AFP_BC_CODE128, "tab\there", 8);
    check_rejected(AFP_BC_CODE128, "", 0);
    check_rejected(AFP_BC_CODE128, "123456789012345678901234567890123456789012345678901", 51);
    check_rejected(AFP_BC_QR, "bad \xC3", 5);                          /* invalid UTF-8 */
    check_rejected(AFP_BC_DATAMATRIX, "", 0);
    big = malloc(4000);
    memset(big, 'a', 4000);
    check_rejected(AFP_BC_QR, big, 2400);                              /* > 2331 bytes at M */
    check_rejected(AFP_BC_DATAMATRIX, big, 1600);                      /* > 1558 codewords */
    free(big);
    memset(&bc, 0, sizeof(bc));
    bc.type = (afp_symbology) 99;
    bc.data = "x";
    bc.data_len = 1;
    {
        afp_error err;

        CHECK(afp_barcode_check(&bc, &err) == AFP_ERR_ARGUMENT);
    }
}
