/*
 * afp_convert_bcoca.c — BCOCA bar code objects (bcoca-reference-11) drawn as PDF vector bars.
 *
 * The Bar Code Symbol Descriptor (BDD, Table 8) gives the unit base and units per base (bytes
 * 0-5), the bar code type (byte 12) and modifier (13), the HRI font LID (14), the colour (15-16,
 * Standard OCA), the module width in mils (17, X'FF' = default), the element height (18-19, in
 * the descriptor's Y units, X'FFFF' = default) and a height multiplier (20). The Bar Code
 * Symbol Data (BDA, Table 20) gives the flags (HRI / position / asterisks / suppress symbol),
 * the X and Y offset of the symbol origin (top-left of the bars or modules) in the bar code
 * presentation space, the special-function parameters of the 2D symbologies (Data Matrix 10
 * bytes, PDF417 6 + macro bytes, QR Code 9 bytes — Tables 23, 30, 31; the layout
 * core/afp_bcoca.c writes) and the data.
 *
 * The symbol is encoded with libzint (Debian libzint-dev); the rectangles of zint's vector
 * output (2 vector units per module at scale 1, quiet zones off, zint's own text off) become
 * filled PDF rectangles at the object area position (OBP/OBD, rotation applied with one cm).
 * Human-readable interpretation, when the flags ask for it and the symbology has one, is real
 * PDF text (Helvetica family, 8 pt) centred below or above the bars. zint allocates with
 * malloc internally; every symbol is deleted before this file returns.
 *
 * Data: linear symbologies carry EBCDIC (code page 500; Code 128 code page 1303, whose
 * printable characters sit at CP037's positions); 2D symbologies carry bytes in the default
 * encodation unless the control flag asks for the EBCDIC (CP500) to ASCII translation, and
 * "\nnnnnn" ECI escapes (with "\\" for a backslash) unless escapes are off.
 *
 * A damaged descriptor or data field (too short) fails with its offset; data zint refuses,
 * unsupported types and modifiers are warnings (the object is left out, as BCOCA's standard
 * exception action does).
 */
#include "afp_pdf_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <zint.h>

#define MAX_BC_WARNINGS 20

/* One BCOCA type/modifier mapped to a zint symbology. */
typedef struct bc_kind {
    int zint;                   /* BARCODE_…, 0 = not supported */
    int linear;                 /* one row of bars (HRI allowed, element height applies) */
    int special;                /* bytes of special-function parameters in the BDA (-1: PDF417) */
    int ebcdic;                 /* linear data code page: 500, 37 (CP1303 for Code 128) */
    double dflt_mils;           /* default module width (Table 13 recommendations) */
    const char *name;
} bc_kind;

/* Maps a BCOCA type and modifier to zint; kind->zint 0 when not supported. */
static void
bc_lookup(uint8_t type, uint8_t mod, bc_kind *k, int *option2)
{
    memset(k, 0, sizeof(*k));
    k->linear = 1;
    k->ebcdic = 500;
    k->dflt_mils = 13;
    *option2 = 0;
    switch (type)
    {
        case 0x01:
            k->zint = BARCODE_CODE39, k->name = "Code 39";
            *option2 = mod == 0x02;             /* modulo 43 check digit */
            break;
        case 0x02:
            k->zint = BARCODE_MSI_PLESSEY, k->name = "MSI";
            *option2 = mod == 0x02 ? 1 : mod == 0x03 ? 2 : mod == 0x04 ? 3 : 0;
            break;
        case 0x03:
            k->zint = BARCODE_UPCA, k->name = "UPC-A";
            break;
        case 0x05:
            k->zint = BARCODE_UPCE, k->name = "UPC-E";
            break;
        case 0x08:
        case 0x09:
            k->zint = BARCODE_EANX, k->name = type == 0x08 ? "EAN-8" : "EAN-13";
            break;
        case 0x0A:
            k->zint = BARCODE_C25IND, k->name = "Industrial 2 of 5";
            *option2 = mod == 0x02;
            break;
        case 0x0B:
            k->zint = BARCODE_C25MATRIX, k->name = "Matrix 2 of 5";
            *option2 = mod == 0x02;
            break;
        case 0x0C:
            k->zint = BARCODE_C25INTER, k->name = "Interleaved 2 of 5";
            *option2 = mod == 0x02 || mod == 0x04;
            break;
        case 0x0D:
            k->zint = BARCODE_CODABAR, k->name = "Codabar";
            *option2 = mod == 0x02;
            break;
        case 0x11:
            k->name = "Code 128";
            k->ebcdic = 37;
            if (mod == 0x02)
                k->zint = BARCODE_CODE128;
            break;
        case 0x18:
            k->zint = mod == 0x04 ? BARCODE_PLANET : BARCODE_POSTNET, k->name = "POSTNET";
            break;
        case 0x1A:
            k->zint = mod == 0x01 ? BARCODE_KIX : BARCODE_RM4SCC, k->name = "RM4SCC";
            break;
        case 0x1C:
            k->zint = BARCODE_DATAMATRIX, k->name = "Data Matrix";
            k->linear = 0, k->special = 10, k->dflt_mils = 21;
            break;
        case 0x1E:
            k->zint = BARCODE_PDF417, k->name = "PDF417";
            k->linear = 0, k->special = -1, k->dflt_mils = 10;
            break;
        case 0x20:
            k->name = "QR Code";
            k->linear = 0, k->special = 9, k->dflt_mils = 20;
            if (mod == 0x02)
                k->zint = BARCODE_QRCODE;
            break;
        case 0x21:
            k->zint = BARCODE_CODE93, k->name = "Code 93";
            break;
        case 0x22:
            k->zint = BARCODE_USPS_IMAIL, k->name = "Intelligent Mail barcode";
            break;
        default:
            k->name = "bar code";
            break;
    }
}

/* Square Data Matrix sizes in zint's option_2 order (1 = 10x10 … 24 = 144x144). */
static const uint8_t dm_sizes[24] = {
    10, 12, 14, 16, 18, 20, 22, 24, 26, 32, 36, 40, 44, 48, 52, 64, 72, 80, 88, 96, 104, 120,
    132, 144,
};

/* Rectangular Data Matrix sizes (rows x columns) for zint's option_2 25…30. */
static const uint8_t dm_rect[6][2] = {{8, 18}, {8, 32}, {12, 26}, {12, 36}, {16, 36}, {16, 48}};

/* zint option_2 for a Data Matrix row size and number of rows; 0 = automatic. */
static int
dm_option(unsigned cols, unsigned rows)
{
    int i;

    if (rows == cols)
        for (i = 0; i < 24; i++)
            if (dm_sizes[i] == cols)
                return i + 1;
    for (i = 0; i < 6; i++)
        if (dm_rect[i][0] == rows && dm_rect[i][1] == cols)
            return 25 + i;
    return 0;
}

/* Prepares 2D data: EBCDIC translation (CP500 → Latin-1) and escape processing ("\nnnnnn" ECI,
 * "\\"). Sets *eci (0 = none) and returns the bytes in out. */
static void
bc_data_2d(const uint8_t *d, size_t n, int translate, int escapes, afp_buf *out, int *eci)
{
    const afp_codepage *cp500 = afp_codepage_find("500");
    size_t i;

    *eci = 0;
    for (i = 0; i < n; i++)
    {
        uint8_t c = d[i];

        if (translate && cp500)
        {
            uint32_t u = afp_codepage_to_unicode(cp500, c);

            c = u <= 0xFF ? (uint8_t) u : '?';
        }
        if (escapes && c == '\\')
        {
            /* an ECI escape: six digits (only the first one, before any data, is honoured) */
            if (i + 6 < n && out->len == 0 && *eci == 0)
            {
                int k, v = 0, ok = 1;

                for (k = 1; k <= 6; k++)
                {
                    uint8_t e = d[i + k];

                    if (translate && cp500)
                        e = (uint8_t) afp_codepage_to_unicode(cp500, e);
                    if (e < '0' || e > '9')
                        ok = 0;
                    v = v * 10 + (e - '0');
                }
                if (ok)
                {
                    *eci = v;
                    i += 6;
                    continue;
                }
            }
            if (i + 1 < n)
                i++;            /* "\\": one backslash */
        }
        afp_buf_putc(out, c);
    }
}

/* Decodes linear bar code data from EBCDIC to ASCII (bytes without an ASCII meaning → '?'). */
static void
bc_data_linear(const uint8_t *d, size_t n, int cpnum, afp_buf *out)
{
    char name[8];
    const afp_codepage *cp;
    size_t i;

    snprintf(name, sizeof(name), "%d", cpnum);
    cp = afp_codepage_find(name);
    for (i = 0; i < n; i++)
    {
        uint32_t u = cp ? afp_codepage_to_unicode(cp, d[i]) : d[i];

        afp_buf_putc(out, u >= 0x20 && u < 0x7F ? (uint8_t) u : '?');
    }
}

/* Reports a bar code problem as a warning (at most MAX_BC_WARNINGS, then one notice). */
static void
bc_warn(cv_ctx *ctx, int64_t off, const char *what)
{
    int n = ctx->warned_bcoca++;

    if (n < MAX_BC_WARNINGS)
        cv_warn(ctx, "at byte offset %lld (BBC): %s", (long long) off, what);
    else if (n == MAX_BC_WARNINGS)
        cv_warn(ctx, "at byte offset %lld (BBC): further bar code warnings are not reported",
                (long long) off);
}

/* Draws the HRI string s centred on cx at baseline y (local coordinates, points). */
static void
bc_hri(cv_ctx *ctx, const char *s, double cx, double y, double size)
{
    cv_canvas *c = ctx->cv;
    afp_font_ref f;
    afp_ptoca_glyph gl;
    double w = 0, x;
    size_t k, n = strlen(s);
    double save_ox = c->ox, save_oy = c->oy;

    memset(&f, 0, sizeof(f));
    f.cp = afp_codepage_find("500");
    snprintf(f.fcs, sizeof(f.fcs), "C0H20000");
    f.fds_size20 = (int) lround(size * 20);
    f.space = 0x40;
    for (k = 0; k < n; k++)
        w += ctx->vis.advance(ctx, &f, 0, (uint8_t) s[k], 72);
    x = cx - w / 2;
    c->ox = c->oy = 0;
    memset(&gl, 0, sizeof(gl));
    gl.qi = 0;
    gl.qb = 1;
    gl.upi = 72;
    for (k = 0; k < n; k++)
    {
        int e = f.cp ? afp_codepage_from_unicode(f.cp, (uint8_t) s[k]) : -1;

        gl.x = x;
        gl.y = y;
        gl.code = e < 0 ? 0x6F : (uint32_t) e;
        gl.u = (uint8_t) s[k];
        gl.space = s[k] == ' ';
        gl.advance = ctx->vis.advance(ctx, &f, gl.code, gl.space ? 0x20 : gl.u, 72);
        ctx->vis.glyph(ctx, &gl, &f);
        x += gl.advance;
    }
    c->ox = save_ox;
    c->oy = save_oy;
}

/* Draws a bar code object: BDD (desc), BDA (d[0..n)) into the object area a. */
afp_status
cv_bcoca_draw(cv_ctx *ctx, const cv_area *a, const uint8_t *bdd, size_t bdd_len,
              const uint8_t *d, size_t n, int64_t offset)
{
    cv_canvas *c = ctx->cv;
    bc_kind k;
    struct zint_symbol *sym;
    struct zint_vector_rect *r;
    afp_buf data;
    char msg[400];
    double ux, uy, module, bar_h = 0, unit, sx, sy, ox, oy, rgb[3] = {0, 0, 0}, rad, cs, sn;
    unsigned elem, colour;
    int option2, rc, eci = 0, hri, space, mult;
    uint8_t flags;

    if (c == NULL)
        return AFP_OK;
    if (bdd == NULL || bdd_len < 21)
        return afp_error_set(ctx->err, AFP_ERR_FORMAT, offset, "BBC",
                             "bar code object without a complete Bar Code Symbol Descriptor "
                             "(BDD has %zu bytes, at least 21 needed)", bdd ? bdd_len : 0);
    if (n < 5)
        return afp_error_set(ctx->err, AFP_ERR_FORMAT, offset, "BBC",
                             "bar code object without complete Bar Code Symbol Data (BDA has %zu "
                             "bytes, at least 5 needed)", n);
    bc_lookup(bdd[12], bdd[13], &k, &option2);
    if (k.zint == 0)
    {
        snprintf(msg, sizeof(msg), "%s type X'%02X' modifier X'%02X' is not rendered",
                 k.name, bdd[12], bdd[13]);
        bc_warn(ctx, offset, msg);
        return AFP_OK;
    }
    ux = cv_unit_pt(bdd[0], cv_u16(bdd + 2));
    uy = cv_unit_pt(bdd[0], cv_u16(bdd + 4));
    if (ux <= 0)
        ux = 72.0 / 1440;
    if (uy <= 0)
        uy = 72.0 / 1440;
    module = (bdd[17] != 0xFF && bdd[17] != 0 ? bdd[17] : k.dflt_mils) * 72.0 / 1000.0;
    elem = cv_u16(bdd + 18);
    mult = bdd_len > 20 && bdd[20] != 0 && bdd[20] != 0xFF ? bdd[20] : 1;
    if (elem != 0xFFFF && elem != 0)
        bar_h = elem * uy * mult;
    colour = cv_u16(bdd + 15);
    space = afp_ptoca_oca_rgb(colour, rgb);
    if (colour == 0xFF08)
        space = 2, rgb[0] = 1;
    flags = d[0];
    hri = k.linear && !(flags & 0x80);

    /* special-function parameters of the 2D symbologies */
    sym = ZBarcode_Create();
    if (sym == NULL)
        return afp_error_set(ctx->err, AFP_ERR_LIMIT, offset, "BBC", "out of memory (zint)");
    sym->symbology = k.zint;
    sym->show_hrt = 0;
    sym->output_options = BARCODE_NO_QUIET_ZONES;
    sym->input_mode = DATA_MODE;
    sym->option_2 = option2;
    afp_buf_init(&data);
    if (k.special != 0)
    {
        size_t need = k.special > 0 ? (size_t) k.special : 6;

        if (n < 5 + need)
        {
            ZBarcode_Delete(sym);
            return afp_error_set(ctx->err, AFP_ERR_FORMAT, offset, "BBC",
                                 "%s Bar Code Symbol Data has %zu bytes, too short for its "
                                 "%zu bytes of special-function parameters", k.name, n, need);
        }
        if (k.special < 0)
        {
            /* PDF417: data symbols per row, rows, security level, macro control block */
            size_t macro = cv_u16(d + 9);

            if (d[6] >= 1 && d[6] <= 30)
                sym->option_2 = d[6];
            if (d[7] >= 3 && d[7] <= 90)
                sym->option_3 = d[7];
            sym->option_1 = d[8] <= 8 ? d[8] : -1;
            need += macro;
            if (n < 5 + need)
            {
                ZBarcode_Delete(sym);
                return afp_error_set(ctx->err, AFP_ERR_FORMAT, offset, "BBC",
                                     "PDF417 macro control block of %zu bytes runs past the end "
                                     "of the Bar Code Symbol Data", macro);
            }
            if (macro > 0)
                bc_warn(ctx, offset, "PDF417 macro control block ignored");
            if (bar_h > 0)
            {
                sym->input_mode |= HEIGHTPERROW_MODE;
                sym->height = (float) (bar_h / module);
            }
        }
        else if (k.special == 9)
        {
            /* QR Code: version (0 smallest), error correction level L/M/Q/H */
            sym->option_2 = d[7] <= 40 ? d[7] : 0;
            sym->option_1 = d[8] <= 3 ? d[8] + 1 : -1;
        }
        else
            sym->option_2 = dm_option(cv_u16(d + 6), cv_u16(d + 8));
        bc_data_2d(d + 5 + need, n - 5 - need, (d[5] & 0x80) != 0, (d[5] & 0x40) == 0, &data,
                   &eci);
        sym->eci = eci;
    }
    else
    {
        bc_data_linear(d + 5, n - 5, k.ebcdic, &data);
        if (k.zint == BARCODE_USPS_IMAIL && data.len > 20)
        {
            /* zint wants "tracking-routing" */
            afp_buf t;

            afp_buf_init(&t);
            afp_buf_append(&t, data.data, 20);
            afp_buf_putc(&t, '-');
            afp_buf_append(&t, data.data + 20, data.len - 20);
            afp_buf_free(&data);
            data = t;
        }
        if (k.zint == BARCODE_EANX && bdd[12] == 0x09 && data.len == 13)
            sym->symbology = BARCODE_EANX_CHK;
        if (k.zint == BARCODE_EANX && bdd[12] == 0x08 && data.len == 8)
            sym->symbology = BARCODE_EANX_CHK;
    }
    rc = data.len == 0 ? ZINT_ERROR_INVALID_DATA
        : ZBarcode_Encode(sym, data.len ? data.data : (const uint8_t *) "", (int) data.len);
    if (rc == ZINT_ERROR_INVALID_OPTION && k.special == 9 && sym->option_2 != 0)
    {
        /* the requested QR version is too small: BCOCA allows a bigger one by default */
        int ecc = sym->option_1;

        ZBarcode_Clear(sym);
        sym->option_2 = 0;
        sym->option_1 = ecc;
        rc = ZBarcode_Encode(sym, data.data, (int) data.len);
    }
    if (rc < ZINT_ERROR)
        rc = ZBarcode_Buffer_Vector(sym, 0);
    if (rc >= ZINT_ERROR || sym->vector == NULL || sym->width <= 0)
    {
        snprintf(msg, sizeof(msg), "%s not drawn: %s", k.name,
                 sym->errtxt[0] ? sym->errtxt : "no data");
        bc_warn(ctx, offset, msg);
        ZBarcode_Delete(sym);
        afp_buf_free(&data);
        return AFP_OK;
    }

    /* scale: 2 vector units per module at scale 1 */
    unit = sym->vector->width / sym->width;
    if (unit <= 0)
        unit = 2;
    sx = module / unit;
    sy = sx;
    if (k.zint == BARCODE_USPS_IMAIL)
    {
        /* fixed size: 65 bars at 22 per inch, 0.145 in high (Table 12) */
        sx = 2.95 * 72.0 / sym->vector->width;
        sy = 0.145 * 72.0 / (sym->vector->height > 0 ? sym->vector->height : 1);
    }
    else if (k.linear && sym->vector->height > 0 && k.zint != BARCODE_POSTNET
             && k.zint != BARCODE_PLANET && k.zint != BARCODE_RM4SCC && k.zint != BARCODE_KIX)
    {
        int ean = k.zint == BARCODE_EANX || k.zint == BARCODE_UPCA || k.zint == BARCODE_UPCE;
        double w_pt = sym->vector->width * sx;

        if (bar_h <= 0 && !ean)
            bar_h = fmax(0.25 * 72.0, 0.15 * w_pt);     /* Table 13: 1/4 in, 15 % of width */
        if (bar_h > 0)
            sy = bar_h / sym->vector->height;
    }
    ox = cv_u16(d + 1) * ux + a->xoc;
    oy = cv_u16(d + 3) * uy + a->yoc;
    cv_text_end(c);
    rad = a->rot * 3.14159265358979323846 / 180.0;
    cs = (double) lround(cos(rad));
    sn = (double) lround(sin(rad));
    afp_buf_append(&c->cs, "q ", 2);
    pdf_num(&c->cs, cs);
    afp_buf_putc(&c->cs, ' ');
    pdf_num(&c->cs, sn);
    afp_buf_putc(&c->cs, ' ');
    pdf_num(&c->cs, -sn);
    afp_buf_putc(&c->cs, ' ');
    pdf_num(&c->cs, cs);
    afp_buf_putc(&c->cs, ' ');
    pdf_num(&c->cs, a->xoa);
    afp_buf_putc(&c->cs, ' ');
    pdf_num(&c->cs, a->yoa);
    afp_buf_append(&c->cs, " cm\n", 4);
    c->fill_space = -1;
    cv_fill(c, space, rgb);
    if (!(flags & 0x04))
    {
        for (r = sym->vector->rectangles; r != NULL; r = r->next)
        {
            if (r->colour == 8)
                continue;       /* white (background) */
            pdf_num(&c->cs, ox + r->x * sx);
            afp_buf_putc(&c->cs, ' ');
            pdf_num(&c->cs, oy + r->y * sy);
            afp_buf_putc(&c->cs, ' ');
            pdf_num(&c->cs, r->width * sx);
            afp_buf_putc(&c->cs, ' ');
            pdf_num(&c->cs, r->height * sy);
            afp_buf_append(&c->cs, " re\n", 4);
        }
        afp_buf_append(&c->cs, "f\n", 2);
    }
    if (hri)
    {
        char text[256];
        const char *t = (const char *) sym->text;
        size_t tl;
        double size = 8.0, w = sym->vector->width * sx, save[4];
        int save_space = c->want_space;

        if (t[0] == '\0' || k.zint == BARCODE_USPS_IMAIL)
        {
            tl = data.len < sizeof(text) - 1 ? data.len : sizeof(text) - 1;
            memcpy(text, data.data, tl);
            text[tl] = '\0';
        }
        else
            snprintf(text, sizeof(text), "%s", t);
        tl = strlen(text);
        if (k.zint == BARCODE_CODE39 && !(flags & 0x10) && tl >= 2 && text[0] == '*'
            && text[tl - 1] == '*')
        {
            memmove(text, text + 1, tl - 2);
            text[tl - 2] = '\0';
        }
        memcpy(save, c->want, sizeof(save));
        c->want_space = space;
        memcpy(c->want, rgb, sizeof(rgb));
        if ((flags & 0x60) == 0x40)
            bc_hri(ctx, text, ox + w / 2, oy - size * 0.3, size);
        else
            bc_hri(ctx, text, ox + w / 2, oy + sym->vector->height * sy + size * 1.05, size);
        cv_text_end(c);
        c->want_space = save_space;
        memcpy(c->want, save, sizeof(save));
    }
    afp_buf_append(&c->cs, "Q\n", 2);
    c->fill_space = -1;
    ZBarcode_Delete(sym);
    afp_buf_free(&data);
    return AFP_OK;
}
