/*
 * test_raster.c — unit tests of font selection in the AFP→PDF converter: FOCA raster font
 * character sets carried in the file drawn as Type 3 fonts (core/afp_convert_raster.c) and the
 * font map (core/afp_convert_fontsel.c).
 *
 * The raster font is built here: Liberation Sans rendered with FreeType as 1-bit bitmaps at
 * 240 pels per inch, written as BFN/FND/FNC/FNO/FNP/FNI/FNM/FNG/EFN (FNG split over several
 * fields) in an inline resource group, followed by a page of text in that font. The tests check
 * the Type 3 font (widths = character increments, glyph procedures carrying the exact patterns,
 * ToUnicode), the placement of the text, the raster_fonts and font_map options, damaged font
 * resources (error with the offset of the field at fault, every truncation handled) and the
 * outline font character set sample (afplib_C0X00006.afp, Type 1: left to the Liberation mapping).
 * The font is built twice: 240 pel with 1-byte pattern alignment and 300 pel with 4-byte
 * alignment. With AFP_RASTER_AFP_OUT / AFP_RASTER300_AFP_OUT set, the generated documents are
 * also written there (test/checks/51-pdf-fonts.sh converts and rasterises them).
 */
#include "afp.h"
#include "afp_pdf.h"
#include "unit.h"
#include "unit_afp.h"

#include <ft2build.h>
#include FT_FREETYPE_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RF_NAME "C0RAST00"
#define RF_MAXCH 96

/* One character of the generated font. */
typedef struct rf_char {
    char gcgid[9];
    uint32_t u;
    unsigned w, h, inc;
    int left, top;
    size_t off, len;
} rf_char;

/* The generated raster font. */
typedef struct rf_font {
    rf_char ch[RF_MAXCH];
    int n;
    afp_buf pat;
    unsigned dpi;               /* 240 or 300 pels per inch */
    unsigned align;             /* FNC pattern alignment code: 0 (1 byte) or 2 (4 bytes) */
} rf_font;

/* Offsets of fields in the generated document (for the error tests). */
typedef struct rf_offsets {
    size_t fnc, fni, fnm, fng;
} rf_offsets;

/* GCGID of an ASCII character (letters, digits and a few punctuation marks). */
static int
gcgid_of(char c, char out[9])
{
    if (c >= 'a' && c <= 'z')
        snprintf(out, 9, "L%c010000", c - 'a' + 'A');
    else if (c >= 'A' && c <= 'Z')
        snprintf(out, 9, "L%c020000", c);
    else if (c >= '1' && c <= '9')
        snprintf(out, 9, "ND0%c0000", c);
    else if (c == '0')
        snprintf(out, 9, "ND100000");
    else if (c == ' ')
        snprintf(out, 9, "SP010000");
    else if (c == '.')
        snprintf(out, 9, "SP110000");
    else if (c == ',')
        snprintf(out, 9, "SP080000");
    else if (c == '-')
        snprintf(out, 9, "SP100000");
    else
        return 0;
    return 1;
}

/* Renders the characters of set with FreeType (1-bit, dpi pels per inch, 10 pt); align: FNC
 * pattern alignment code (patterns padded to 1 << align bytes). */
static int
rf_build(rf_font *f, const char *set, unsigned dpi, unsigned align)
{
    FT_Library lib;
    FT_Face face;
    const char *dir = getenv("AFP_FONT_DIR");
    char path[512];
    const char *s;

    memset(f, 0, sizeof(*f));
    afp_buf_init(&f->pat);
    f->dpi = dpi;
    f->align = align;
    snprintf(path, sizeof(path), "%s/LiberationSans-Regular.ttf",
             dir ? dir : "/usr/share/fonts/truetype/liberation");
    if (FT_Init_FreeType(&lib) != 0)
        return 0;
    if (FT_New_Face(lib, path, 0, &face) != 0 || FT_Set_Char_Size(face, 0, 10 * 64, dpi, dpi) != 0)
    {
        FT_Done_FreeType(lib);
        return 0;
    }
    for (s = set; *s && f->n < RF_MAXCH; s++)
    {
        rf_char *c = &f->ch[f->n];
        FT_Bitmap *bm;
        unsigned r, rowb;

        int k, dup = 0;

        for (k = 0; k < f->n; k++)
            dup |= f->ch[k].u == (unsigned char) *s;
        if (dup || !gcgid_of(*s, c->gcgid) ||
            FT_Load_Char(face, (FT_ULong) (unsigned char) *s, FT_LOAD_RENDER | FT_LOAD_TARGET_MONO) != 0)
            continue;
        bm = &face->glyph->bitmap;
        c->u = (unsigned char) *s;
        /* the increment from the unhinted advance (as a font vendor's raster set would have
         * it), rounded to whole pels */
        c->inc = (unsigned) ((face->glyph->linearHoriAdvance + 32768) >> 16);
        c->left = face->glyph->bitmap_left;
        c->top = face->glyph->bitmap_top;
        c->w = bm->width ? bm->width : 1;
        c->h = bm->rows ? bm->rows : 1;
        rowb = (c->w + 7) / 8;
        while (f->pat.len % (1u << align))
            afp_buf_putc(&f->pat, 0);
        c->off = f->pat.len;
        for (r = 0; r < c->h; r++)
        {
            if (bm->rows && bm->width)
                afp_buf_append(&f->pat, bm->buffer + (size_t) r * (size_t) abs(bm->pitch), rowb);
            else
                afp_buf_putc(&f->pat, 0);
        }
        c->len = f->pat.len - c->off;
        f->n++;
    }
    FT_Done_Face(face);
    FT_Done_FreeType(lib);
    return f->n > 0;
}

/* Writes the font character set BFN … EFN of f (FNG in fields of at most 700 bytes). */
static void
rf_write(afp_writer *w, const rf_font *f, rf_offsets *o)
{
    uint8_t fnc[42], fno[26], fnp[22], fnd[80];
    afp_buf fni, fnm, g;
    unsigned maxw = 1, maxh = 1;
    size_t pos;
    int i;

    afp_buf_init(&fni);
    afp_buf_init(&fnm);
    afp_buf_init(&g);
    for (i = 0; i < f->n; i++)
    {
        const rf_char *c = &f->ch[i];

        unit_ebcdic(c->gcgid, &g);
        afp_buf_append(&fni, g.data, 8);
        afp_buf_put16(&fni, (uint16_t) c->inc);
        afp_buf_put16(&fni, (uint16_t) (c->top > 0 ? c->top : 0));     /* ascender */
        afp_buf_put16(&fni, (uint16_t) (c->h > (unsigned) c->top ? c->h - c->top : 0));
        afp_buf_put16(&fni, 0);
        afp_buf_put16(&fni, (uint16_t) i);                             /* FNM index */
        afp_buf_put16(&fni, (uint16_t) (int16_t) c->left);             /* A-space */
        afp_buf_put16(&fni, (uint16_t) c->w);                          /* B-space */
        afp_buf_put16(&fni, (uint16_t) (int16_t) ((int) c->inc - c->left - (int) c->w));
        afp_buf_put16(&fni, 0);
        afp_buf_put16(&fni, (uint16_t) (int16_t) c->top);              /* baseline offset */
        afp_buf_put16(&fnm, (uint16_t) (c->w - 1));
        afp_buf_put16(&fnm, (uint16_t) (c->h - 1));
        afp_buf_put16(&fnm, (uint16_t) ((c->off >> f->align) >> 16));
        afp_buf_put16(&fnm, (uint16_t) (c->off >> f->align));
        if (c->w > maxw)
            maxw = c->w;
        if (c->h > maxh)
            maxh = c->h;
    }
    afp_write_begin(w, 0xD3A889, RF_NAME, NULL, 0);                    /* BFN */
    memset(fnd, 0, sizeof(fnd));
    unit_ebcdic("RASTER TEST 240                 ", &g);
    memcpy(fnd, g.data, 32);
    fnd[32] = 5;
    fnd[33] = 5;
    fnd[36] = 0;
    fnd[37] = 100;                                                     /* nominal 10.0 pt */
    afp_write_sf(w, 0xD3A689, fnd, sizeof(fnd));
    memset(fnc, 0, sizeof(fnc));
    fnc[0] = 0x01;
    fnc[1] = 0x05;                                                     /* raster */
    fnc[6] = (uint8_t) ((f->dpi * 10) >> 8);                          /* 2400 or 3000 */
    fnc[7] = (uint8_t) (f->dpi * 10);
    fnc[8] = fnc[6];
    fnc[9] = fnc[7];
    fnc[10] = (uint8_t) ((maxw - 1) >> 8);
    fnc[11] = (uint8_t) (maxw - 1);
    fnc[12] = (uint8_t) ((maxh - 1) >> 8);
    fnc[13] = (uint8_t) (maxh - 1);
    fnc[14] = 0x1A;
    fnc[15] = 0x1C;
    fnc[16] = (uint8_t) f->align;
    fnc[17] = (uint8_t) (f->pat.len >> 16);
    fnc[18] = (uint8_t) (f->pat.len >> 8);
    fnc[19] = (uint8_t) f->pat.len;
    fnc[20] = 0x16;
    fnc[21] = 0x08;
    o->fnc = w->out.len;
    afp_write_sf(w, 0xD3A789, fnc, sizeof(fnc));
    memset(fno, 0, sizeof(fno));
    fno[8] = 0;
    fno[9] = 22;                                                       /* space increment */
    fno[21] = 22;                                                      /* nominal increment */
    afp_write_sf(w, 0xD3AE89, fno, sizeof(fno));
    memset(fnp, 0, sizeof(fnp));
    fnp[18] = 2;                                                       /* underscore width */
    fnp[21] = 5;                                                       /* underscore position */
    afp_write_sf(w, 0xD3AC89, fnp, sizeof(fnp));
    o->fni = w->out.len;
    afp_write_sf(w, 0xD38C89, fni.data, fni.len);
    o->fnm = w->out.len;
    afp_write_sf(w, 0xD3A289, fnm.data, fnm.len);
    o->fng = w->out.len;
    for (pos = 0; pos < f->pat.len; pos += 700)
        afp_write_sf(w, 0xD3EE89, f->pat.data + pos, f->pat.len - pos > 700 ? 700 : f->pat.len - pos);
    afp_write_end(w);                                                  /* EFN */
    afp_buf_free(&fni);
    afp_buf_free(&fnm);
    afp_buf_free(&g);
}

/* A document: resource group with the raster font, then a page with text in it (LID 1) and a
 * line in Helvetica (LID 2, C0H200A0). text2 NULL: no second line. */
static void
rf_doc(afp_buf *out, const rf_font *f, const char *text, const char *text2, rf_offsets *o)
{
    afp_writer w;
    afp_ptx p;
    afp_buf t, mcf;

    afp_writer_init(&w);
    afp_buf_init(&t);
    afp_buf_init(&mcf);
    afp_write_begin(&w, 0xD3A8C6, "RG1", NULL, 0);                     /* BRG */
    afp_write_begin(&w, 0xD3A8CE, RF_NAME, NULL, 0);                   /* BRS */
    rf_write(&w, f, o);
    afp_write_end(&w);
    afp_write_end(&w);
    unit_mcf_group(&mcf, 1, RF_NAME, "T1V10500");
    unit_mcf_group(&mcf, 2, "C0H200A0", "T1V10500");
    unit_page_begin(&w, &mcf);
    afp_ptx_begin(&p, &w);
    afp_ptx_amb(&p, 480);
    afp_ptx_ami(&p, 240);
    afp_ptx_scfl(&p, 1);
    unit_ebcdic(text, &t);
    afp_ptx_trn(&p, t.data, t.len);
    if (text2)
    {
        afp_ptx_amb(&p, 600);
        afp_ptx_ami(&p, 240);
        afp_ptx_scfl(&p, 2);
        unit_ebcdic(text2, &t);
        afp_ptx_trn(&p, t.data, t.len);
    }
    afp_ptx_end(&p);
    out->len = 0;
    unit_page_end(&w, out);
    afp_buf_free(&t);
    afp_buf_free(&mcf);
}

/* The pattern of character c as the glyph procedure writes it (hex, 32 bytes a line). */
static void
rf_hex(const rf_font *f, char c, afp_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    int i;
    size_t k;

    out->len = 0;
    for (i = 0; i < f->n; i++)
        if (f->ch[i].u == (unsigned char) c)
        {
            for (k = 0; k < f->ch[i].len; k++)
            {
                uint8_t v = f->pat.data[f->ch[i].off + k];

                afp_buf_putc(out, (uint8_t) hex[v >> 4]);
                afp_buf_putc(out, (uint8_t) hex[v & 15]);
                if ((k & 31) == 31)
                    afp_buf_putc(out, '\n');
            }
        }
    afp_buf_putc(out, '\0');
}

/* Character record of c. */
static const rf_char *
rf_find(const rf_font *f, char c)
{
    int i;

    for (i = 0; i < f->n; i++)
        if (f->ch[i].u == (unsigned char) c)
            return &f->ch[i];
    return NULL;
}

/* The Type 3 font: glyphs, widths, ToUnicode, text placement. */
static void
test_type3(const rf_font *f)
{
    afp_buf afp, pdf, hx;
    afp_error err;
    rf_offsets o;
    int warnings = 0;
    const rf_char *r = rf_find(f, 'R');
    char want[96];
    const char *out = getenv(f->dpi == 300 ? "AFP_RASTER300_AFP_OUT" : "AFP_RASTER_AFP_OUT");

    afp_buf_init(&afp);
    afp_buf_init(&pdf);
    afp_buf_init(&hx);
    rf_doc(&afp, f, "Raster fonts at 240 pel", "Outline line", &o);
    if (out)
    {
        FILE *fp = fopen(out, "wb");

        CHECK(fp != NULL && fwrite(afp.data, 1, afp.len, fp) == afp.len);
        if (fp)
            fclose(fp);
    }
    CHECK(unit_convert(&afp, NULL, &pdf, &warnings, &err) == AFP_OK);
    CHECK(warnings == 0);
    CHECK(unit_has(&pdf, "/Subtype /Type3"));
    CHECK(unit_has(&pdf, "/FontMatrix [0.001 0 0 0.001 0 0]"));
    CHECK(unit_has(&pdf, "/IM true /BPC 1 /D [1 0] /F /AHx ID"));
    /* the second line is still Liberation Sans */
    CHECK(unit_has(&pdf, "LiberationSans"));
    /* 'R' is the first character: code 1, ToUnicode R, width = increment in 1/1000 of 10 pt */
    CHECK(r != NULL);
    CHECK(unit_has(&pdf, "<01> <0052>"));
    CHECK(unit_has(&pdf, "/FirstChar 1"));
    if (r)
    {
        snprintf(want, sizeof(want), "/Widths [%ld ", lround(r->inc * 72000.0 / (f->dpi * 10)));
        CHECK(unit_has(&pdf, want));
        /* the glyph procedure: width, box from A-space and baseline offset */
        snprintf(want, sizeof(want), "%ld 0 ", lround(r->inc * 72000.0 / (f->dpi * 10)));
        CHECK(unit_has(&pdf, want));
    }
    /* the exact patterns of R and g are in the glyph procedures */
    rf_hex(f, 'R', &hx);
    CHECK(hx.len > 4 && unit_has(&pdf, (const char *) hx.data));
    rf_hex(f, 'f', &hx);
    CHECK(hx.len > 4 && unit_has(&pdf, (const char *) hx.data));
    /* the text: one show with codes 01 (R) 02 (a) …; "a" repeats as 02 */
    CHECK(unit_has(&pdf, "<0102030405"));
    /* space maps to U+0020 */
    CHECK(unit_has(&pdf, "<0020>"));
    /* the text of the page is unchanged */
    {
        afp_buf txt;

        afp_buf_init(&txt);
        CHECK(afp_extract_text(afp.data, afp.len, &txt, &err) == AFP_OK);
        CHECK(txt.len >= 23 && memcmp(txt.data, "Raster fonts at 240 pel", 23) == 0);
        afp_buf_free(&txt);
    }
    /* a character the font lacks: one warning, an empty glyph that still maps to Unicode */
    rf_doc(&afp, f, "Raster! Raster?", NULL, &o);
    warnings = 0;
    CHECK(unit_convert(&afp, NULL, &pdf, &warnings, &err) == AFP_OK);
    CHECK(warnings == 1);
    CHECK(unit_has(&pdf, "<0021>"));
    CHECK(unit_has(&pdf, "<003F>"));
    CHECK(unit_has(&pdf, " 0 0 0 0 0 d1"));
    /* raster_fonts: false → the Liberation mapping, no Type 3 */
    CHECK(unit_convert(&afp, "{\"raster_fonts\": false}", &pdf, &warnings, &err) == AFP_OK);
    CHECK(!unit_has(&pdf, "/Type3"));
    CHECK(unit_has(&pdf, "LiberationSans"));
    CHECK(unit_convert(&afp, "{\"raster_fonts\": 1}", &pdf, &warnings, &err) == AFP_ERR_ARGUMENT);
    CHECK(strstr(err.message, "raster_fonts") != NULL);
    /* compressed output works too */
    {
        afp_pdf_options opt;

        afp_pdf_options_init(&opt);
        pdf.len = 0;
        CHECK(afp_to_pdf(afp.data, afp.len, &opt, &pdf, NULL, &err) == AFP_OK);
        CHECK(unit_has(&pdf, "/Subtype /Type3"));
    }
    afp_buf_free(&afp);
    afp_buf_free(&pdf);
    afp_buf_free(&hx);
}

/* The font map: options, matching and the replacement kinds. */
static void
test_font_map(const rf_font *f)
{
    afp_buf afp, pdf;
    afp_error err;
    rf_offsets o;
    int warnings = 0;
    afp_pdf_options opt;
    char json[700];
    const char *dir = getenv("AFP_FONT_DIR");

    afp_buf_init(&afp);
    afp_buf_init(&pdf);
    rf_doc(&afp, f, "Mapped", "Second", &o);
    /* an entry for the raster set wins over the raster preference */
    CHECK(unit_convert(&afp, "{\"font_map\": [{\"char_set\": \"C0RAST*\", \"liberation\": \"serif\","
                     " \"style\": \"bold\"}]}", &pdf, &warnings, &err) == AFP_OK);
    CHECK(!unit_has(&pdf, "/Type3"));
    CHECK(unit_has(&pdf, "LiberationSerif-Bold"));
    CHECK(unit_has(&pdf, "LiberationSans"));      /* the C0H200A0 line keeps its default */
    /* code page pattern that does not match: no effect */
    CHECK(unit_convert(&afp, "{\"font_map\": [{\"char_set\": \"C0RAST*\", \"code_page\": \"T1001140\","
                     " \"liberation\": \"serif\"}]}", &pdf, &warnings, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/Type3"));
    CHECK(!unit_has(&pdf, "LiberationSerif"));
    /* base14 replacement for Helvetica, by pattern with '?' */
    CHECK(unit_convert(&afp, "{\"font_map\": [{\"char_set\": \"c0h2??a0\", \"base14\": \"Courier-Bold\"}]}",
                     &pdf, &warnings, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/BaseFont /Courier-Bold"));
    CHECK(unit_has(&pdf, "/Type3"));
    /* a font file (embedded like a carried font) */
    snprintf(json, sizeof(json), "{\"font_map\": [{\"char_set\": \"C0H2*\", \"file\": "
             "\"%s/LiberationMono-Regular.ttf\"}]}", dir ? dir : "/usr/share/fonts/truetype/liberation");
    CHECK(unit_convert(&afp, json, &pdf, &warnings, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "LiberationMono"));
    /* an unreadable file: one warning, the default mapping */
    warnings = 0;
    CHECK(unit_convert(&afp, "{\"font_map\": [{\"char_set\": \"C0H2*\", \"file\": \"/nonexistent/x.ttf\"}]}",
                     &pdf, &warnings, &err) == AFP_OK);
    CHECK(warnings == 1);
    CHECK(unit_has(&pdf, "LiberationSans"));
    /* entries added by a caller (as the SQL glue does): font bytes, coded font pattern */
    afp_pdf_options_init(&opt);
    {
        afp_pdf_font_map *e = afp_pdf_font_map_add(&opt);
        afp_pdf_font_map *e2 = afp_pdf_font_map_add(&opt);

        strcpy(e->coded_font, "X0NOPE*");
        e->kind = AFP_PDF_FONT_LIBERATION;
        e->family = 2;
        strcpy(e2->char_set, "C0H2*");
        strcpy(e2->code_page, "T1V10500");
        e2->kind = AFP_PDF_FONT_BASE14;
        e2->family = 1;
        e2->style = 1;
    }
    opt.compress = 0;
    pdf.len = 0;
    CHECK(afp_to_pdf(afp.data, afp.len, &opt, &pdf, NULL, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/BaseFont /Times-Italic"));
    CHECK(!unit_has(&pdf, "Courier"));
    afp_pdf_options_free(&opt);
    /* the CLI's file format: an array, or {"font_map": [...]} */
    afp_pdf_options_init(&opt);
    {
        const char *j = "[{\"char_set\": \"A*\", \"liberation\": \"mono\"}]";

        CHECK(afp_pdf_font_map_parse(&opt, j, strlen(j), "map.json", &err) == AFP_OK);
    }
    CHECK(opt.nfont_map == 1 && opt.font_map[0].family == 2);
    {
        const char *j = "{\"font_map\": [{\"coded_font\": \"X0*\", \"base14\": \"Times-Bold\"}]}";

        CHECK(afp_pdf_font_map_parse(&opt, j, strlen(j), "map.json", &err) == AFP_OK);
    }
    CHECK(opt.nfont_map == 2 && opt.font_map[1].kind == AFP_PDF_FONT_BASE14 &&
          opt.font_map[1].style == 2);
    CHECK(afp_pdf_font_map_parse(&opt, "[{\"char_set\": \"A*\"}]", 20, "map.json", &err) ==
          AFP_ERR_ARGUMENT);
    CHECK_STR(err.message, "map.json[0]: give one of liberation, base14, file");
    CHECK(afp_pdf_font_map_parse(&opt, "[{\"liberation\": \"sans\"}]", 24, "map.json", &err) ==
          AFP_ERR_ARGUMENT);
    CHECK(strstr(err.message, "char_set or coded_font") != NULL);
    {
        const char *j = "[{\"char_set\": \"A\", \"liberation\": \"sans\", \"base14\": \"Courier\"}]";

        CHECK(afp_pdf_font_map_parse(&opt, j, strlen(j), "map.json", &err) == AFP_ERR_ARGUMENT);
        CHECK(strstr(err.message, "exactly one") != NULL);
        j = "[{\"char_set\": \"A B\", \"liberation\": \"sans\"}]";
        CHECK(afp_pdf_font_map_parse(&opt, j, strlen(j), "map.json", &err) == AFP_ERR_ARGUMENT);
        CHECK(strstr(err.message, "map.json[0].char_set") != NULL);
        j = "[{\"char_set\": \"A\", \"base14\": \"Arial\"}]";
        CHECK(afp_pdf_font_map_parse(&opt, j, strlen(j), "map.json", &err) == AFP_ERR_ARGUMENT);
        j = "[{\"char_set\": \"A\", \"liberation\": \"sans\", \"style\": \"heavy\"}]";
        CHECK(afp_pdf_font_map_parse(&opt, j, strlen(j), "map.json", &err) == AFP_ERR_ARGUMENT);
        j = "[{\"char_set\": \"A\", \"liberation\": \"sans\", \"colour\": 1}]";
        CHECK(afp_pdf_font_map_parse(&opt, j, strlen(j), "map.json", &err) == AFP_ERR_ARGUMENT);
        CHECK(strstr(err.message, "unknown key \"colour\"") != NULL);
        CHECK(afp_pdf_font_map_parse(&opt, "[1", 2, "map.json", &err) == AFP_ERR_ARGUMENT);
        CHECK(strncmp(err.message, "map.json: at byte offset 2", 26) == 0);
    }
    CHECK(opt.nfont_map == 2);                 /* failed entries are not kept */
    afp_pdf_options_free(&opt);
    /* options: font_map true/false (the SQL table switch) and bad values */
    afp_pdf_options_init(&opt);
    CHECK(opt.font_map_table == 1 && opt.raster_fonts == 1);
    CHECK(afp_pdf_options_parse(&opt, "{\"font_map\": false}", 19, &err) == AFP_OK);
    CHECK(opt.font_map_table == 0);
    CHECK(afp_pdf_options_parse(&opt, "{\"font_map\": \"x\"}", 17, &err) == AFP_ERR_ARGUMENT);
    CHECK(strstr(err.message, "options.font_map") != NULL);
    afp_pdf_options_free(&opt);
    afp_buf_free(&afp);
    afp_buf_free(&pdf);
}

/* Stores a big-endian 16-bit value. */
static void
put16be(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

/* Converts a copy of afp (into bad) with the value v stored at offset at: 16 bits big-endian
 * when wide, else one byte. */
static afp_status
convert_patched(const afp_buf *afp, afp_buf *bad, size_t at, unsigned v, int wide, afp_buf *pdf,
                afp_error *err)
{
    int warnings = 0;

    bad->len = 0;
    afp_buf_append(bad, afp->data, afp->len);
    if (wide)
        put16be(bad->data + at, v);
    else
        bad->data[at] = (uint8_t) v;
    return unit_convert(bad, NULL, pdf, &warnings, err);
}

/* Damaged font resources: errors with the offset, every truncation handled. */
static void
test_damaged(const rf_font *f)
{
    afp_buf afp, bad, pdf;
    afp_error err;
    rf_offsets o;
    int warnings = 0;
    size_t cut;

    afp_buf_init(&afp);
    afp_buf_init(&bad);
    afp_buf_init(&pdf);
    rf_doc(&afp, f, "Damaged", NULL, &o);
    /* FNI group 3 refers to an FNM entry that does not exist */
    CHECK(convert_patched(&afp, &bad, o.fni + 9 + 3 * 28 + 16, 5000, 1, &pdf, &err) == AFP_ERR_FORMAT);
    CHECK(err.offset == (int64_t) (o.fni + 9 + 3 * 28));
    CHECK(strstr(err.message, "Font Patterns Map") != NULL);
    /* FNM entry 2 points past the pattern data */
    CHECK(convert_patched(&afp, &bad, o.fnm + 9 + 2 * 8 + 4, 0x00FF, 1, &pdf, &err) == AFP_ERR_FORMAT);
    CHECK(err.offset == (int64_t) (o.fnm + 9 + 2 * 8));
    CHECK(strstr(err.message, "runs past the font pattern data") != NULL);
    /* a pattern larger than 4096 pels: refused (output size) at its FNM entry */
    CHECK(convert_patched(&afp, &bad, o.fnm + 9 + 1 * 8, 5000, 1, &pdf, &err) == AFP_ERR_LIMIT);
    CHECK(err.offset == (int64_t) (o.fnm + 9 + 1 * 8));
    /* an FNI repeating group length that does not divide the data */
    CHECK(convert_patched(&afp, &bad, o.fnc + 9 + 15, 29, 0, &pdf, &err) == AFP_ERR_FORMAT);
    CHECK(err.offset == (int64_t) (o.fni + 9));
    /* FNC units in relative units: refused at the FNC */
    CHECK(convert_patched(&afp, &bad, o.fnc + 9 + 4, 0x02, 0, &pdf, &err) == AFP_ERR_FORMAT);
    CHECK(err.offset == (int64_t) o.fnc);
    /* every truncation of the font resource: an error with an offset, never a crash */
    for (cut = 1; cut < o.fng + 800; cut += 3)
    {
        afp_status st;

        bad.len = 0;
        afp_buf_append(&bad, afp.data, cut);
        st = unit_convert(&bad, NULL, &pdf, &warnings, &err);
        CHECK(st == AFP_ERR_FORMAT);
        if (st != AFP_ERR_FORMAT)
            break;
    }
    afp_buf_free(&afp);
    afp_buf_free(&bad);
    afp_buf_free(&pdf);
}

/* The outline font character set sample (Type 1, FNC X'1F') in front of a page that uses it:
 * not raster, so the Liberation mapping draws it. */
static void
test_outline_sample(const rf_font *f)
{
    char path[1024];
    size_t n = 0;
    unsigned char *fcs;
    afp_buf afp, page, pdf;
    afp_error err;
    rf_offsets o;
    int warnings = 0;

    snprintf(path, sizeof(path), "%s/afp/afplib_C0X00006.afp", unit_samples_dir());
    fcs = unit_read_file(path, &n);
    CHECK(fcs != NULL);
    if (fcs == NULL)
        return;
    afp_buf_init(&afp);
    afp_buf_init(&page);
    afp_buf_init(&pdf);
    rf_doc(&page, f, "Outline", NULL, &o);
    afp_buf_append(&afp, fcs, n);
    afp_buf_append(&afp, page.data, page.len);
    CHECK(unit_convert(&afp, NULL, &pdf, &warnings, &err) == AFP_OK);
    CHECK(unit_has(&pdf, "/Type3"));              /* C0RAST00 from the page's own group */
    /* only the sample in front of a page mapped to its name CZH200: Liberation */
    afp.len = 0;
    afp_buf_append(&afp, fcs, n);
    {
        afp_writer w;
        afp_ptx p;
        afp_buf t, mcf;

        afp_writer_init(&w);
        afp_buf_init(&t);
        afp_buf_init(&mcf);
        unit_mcf_group(&mcf, 1, "CZH200", "T1V10500");
        unit_page_begin(&w, &mcf);
        afp_ptx_begin(&p, &w);
        afp_ptx_amb(&p, 480);
        afp_ptx_ami(&p, 240);
        afp_ptx_scfl(&p, 1);
        unit_ebcdic("Outline", &t);
        afp_ptx_trn(&p, t.data, t.len);
        afp_ptx_end(&p);
        unit_page_end(&w, &afp);
        afp_buf_free(&t);
        afp_buf_free(&mcf);
    }
    CHECK(unit_convert(&afp, NULL, &pdf, &warnings, &err) == AFP_OK);
    CHECK(!unit_has(&pdf, "/Type3"));
    CHECK(unit_has(&pdf, "LiberationSans"));
    free(fcs);
    afp_buf_free(&afp);
    afp_buf_free(&page);
    afp_buf_free(&pdf);
}

/* Suite: raster fonts and the font map. */
void
suite_rasterfonts(void)
{
    static rf_font f, f300;
    static const char set[] = "Raster fonts at 240 pel Outline line Mapped Second Damaged "
                              "0123456789,.-bcdghjkmquvwxyzABCDEFGHIJKLMNOPQSTUVWXYZ";

    CHECK(rf_build(&f, set, 240, 0));
    CHECK(rf_build(&f300, set, 300, 2));       /* 300 pel, patterns on 4-byte boundaries */
    if (f.n == 0 || f300.n == 0)
        return;
    test_type3(&f);
    test_type3(&f300);
    test_font_map(&f);
    test_damaged(&f);
    test_outline_sample(&f);
    afp_buf_free(&f.pat);
    afp_buf_free(&f300.pat);
}
