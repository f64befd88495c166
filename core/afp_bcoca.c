/*
 * afp_bcoca.c — bar codes as BCOCA objects placed directly in a page.
 *
 * Object structure (bcoca-reference-11 Appendix B, modca-reference-10 Chapter 5; the same
 * order as the real object in ../samples/afp/afplib_start.afp):
 *   BBC  BOG OBD OBP MBC BDD EOG  BDA  EBC
 * OBD: Descriptor Position (ID 1), Measurement Units 1440 per inch, Object Area Size = the
 * bar code presentation space. OBP: at (x, y) of the page, no rotation, RefCSys X'01'.
 * MBC: Mapping Option X'00' (position, the only value allowed).
 * BDD (Bar Code Symbol Descriptor, Chapter 4 Table 8): unit base 10 in, 14400 units per unit
 * base in X and Y, presentation space width and depth, desired symbol width 0 (use the module
 * width), type, modifier, HRI font LID X'FF' (device font), colour X'FF07' (device default —
 * the value of the BCD1/BCD2 subsets; X'FFFF' is outside them), module width in mils,
 * element height, height multiplier 1, wide-to-narrow ratio X'FFFF' (default; ignored by
 * these symbologies).
 * BDA (Bar Code Symbol Data, Table 20): flags (HRI below / no HRI), X and Y offset of the symbol
 * origin (top-left of the bars or modules) in the presentation space (range 1…32767), the
 * special-function parameters of QR Code (Table 31, 9 bytes) and Data Matrix (Table 23,
 * 10 bytes), then the data.
 *
 * Types: Code 128 X'11' modifier X'02' (original start-character algorithm, printer adds the
 * check digit); Intelligent Mail Barcode X'22' with modifier X'00'/X'01'/X'02'/X'03' for
 * 20/25/29/31 digits (the spec ties the modifier to the data length); Data Matrix X'1C'
 * modifier X'00'; QR Code X'20' modifier X'02' (Model 2).
 *
 * Data encodings (bcoca-reference-11 Table 34):
 * - Code 128: code page 1303 (EBCDIC); its printable characters sit at the positions of
 *   CP037 (e.g. '!' X'5A', '[' X'BA', ']' X'BB', '^' X'B0', '|' X'4F' — Figure 18 and
 *   Table 36), so printable ASCII is encoded through CP037. At most 50 characters (the range
 *   every BCOCA receiver must support).
 * - Intelligent Mail: code page 500 digits (X'F0'–X'F9').
 * - QR Code: no EBCDIC-to-ASCII translation. The default encodation is ECI 000020 (JIS8),
 *   which equals ASCII except X'5C' and X'7E'. ASCII data without those two bytes is sent as
 *   is with escape processing off; any other data is sent as UTF-8 behind the ECI escape
 *   sequence "\000026" (UTF-8), with escape processing on and each backslash doubled.
 * - Data Matrix: same scheme; the default encodation is ECI 000003 (ISO 8859-1), so text whose
 *   characters are all ≤ U+00FF is sent as Latin-1 bytes with escapes off, other text as
 *   "\000026" + UTF-8 with escapes on.
 *
 * Sizes (afp_barcode_size, also used for the presentation space) include the quiet zones:
 * Code 128 10 modules left and right; IMB 0.125 in left/right and 0.04 in above/below
 * around the 2.95 in × 0.145 in optimal symbol; QR Code 4 modules all round; Data Matrix 1
 * module all round; plus 12 pt below for HRI when requested (Code 128, IMB). Code 128 width is
 * (11 × symbol characters + 35) modules, counting digit runs in subset C; default module
 * 13 mils and bar height max(250 mils, 15 % of the width) (BCOCA Table 13 recommendations).
 * QR Code: error correction level M, version computed from the data and requested explicitly
 * (so the symbol has exactly the estimated size unless the printer needs a bigger one),
 * default module 20 mils. Data Matrix: the smallest square symbol holding the data in ASCII
 * encodation, requested explicitly, default module 21 mils (Table 13). The object area is the
 * estimate plus 10 % + 0.05 in of slack to the right and below, so a symbol that comes out
 * slightly larger after pel rounding is not clipped (EC-1100).
 */
#include "afp_gen.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define LPI 1440                    /* L-units per inch */
#define PT_TO_L 20.0                /* 1440 / 72 */
#define HRI_L 240                   /* 12 pt for human-readable text below the symbol */
#define CODE128_MAX 50

/* Everything needed to size and write one symbol. */
typedef struct bc_plan {
    uint8_t type, mod;
    uint8_t module_byte;            /* BDD byte 17: mils or X'FF' */
    uint16_t elem_height;           /* BDD bytes 18-19: L-units or X'FFFF' */
    uint8_t flags;                  /* BDA byte 0 */
    double module_l;                /* module width in L-units */
    int32_t sym_w, sym_h;           /* bars/modules only, L-units */
    int32_t off_x, off_y;           /* symbol origin within the area */
    int32_t area_w, area_h;         /* estimate including quiet zones and HRI */
    uint8_t special[10];
    size_t special_len;
    afp_buf data;                   /* encoded symbol data */
} bc_plan;

/* Parses "code128", "qr", "datamatrix", "imb" (any case); -1 when unknown. */
int
afp_symbology_parse(const char *name)
{
    if (name == NULL)
        return -1;
    if (afp_strieq(name, "code128"))
        return AFP_BC_CODE128;
    if (afp_strieq(name, "qr"))
        return AFP_BC_QR;
    if (afp_strieq(name, "datamatrix"))
        return AFP_BC_DATAMATRIX;
    if (afp_strieq(name, "imb"))
        return AFP_BC_IMB;
    return -1;
}

/* Symbology name for messages. */
static const char *
sym_name(afp_symbology t)
{
    switch (t)
    {
        case AFP_BC_CODE128: return "Code 128";
        case AFP_BC_QR: return "QR Code";
        case AFP_BC_DATAMATRIX: return "Data Matrix";
        case AFP_BC_IMB: return "Intelligent Mail barcode";
    }
    return "bar code";
}

/* Module width in mils from points (default when 0), clamped to the BDD range 1…254. */
static uint8_t
module_mils(double module_pt, int dflt)
{
    long m = module_pt > 0 ? lround(module_pt * 1000.0 / 72.0) : dflt;

    if (m < 1)
        m = 1;
    if (m > 254)
        m = 254;
    return (uint8_t) m;
}

/* Number of Code 128 symbol characters for the data (subset C for runs of 4+ digits). */
static size_t
code128_symbols(const char *d, size_t n)
{
    size_t i = 0, count = 0;
    int set = 0;                    /* 0 none yet, 1 = A/B, 2 = C */

    while (i < n)
    {
        size_t run = 0;

        while (i + run < n && d[i + run] >= '0' && d[i + run] <= '9')
            run++;
        if (run >= 4 || (i == 0 && run == n && run >= 2 && run % 2 == 0))
        {
            if (set != 0 && set != 2)
                count++;
            count += run / 2;
            i += run / 2 * 2;
            set = 2;
        }
        else
        {
            if (set == 2)
                count++;
            count++;
            i++;
            set = 1;
        }
    }
    return count;
}

/* QR Code data codewords per version at error correction level M (versions 1…40). */
static const uint16_t qr_m_data_cw[40] = {
    16, 28, 44, 64, 86, 108, 124, 154, 182, 216, 254, 290, 334, 365, 415, 453, 507, 563, 627,
    669, 714, 782, 860, 914, 1000, 1062, 1128, 1193, 1267, 1373, 1455, 1541, 1631, 1725, 1812,
    1914, 1992, 2102, 2216, 2334,
};

/* Smallest QR version (level M) holding n characters in the mode (0 numeric, 1 alphanumeric,
 * 2 byte) plus extra header bits; 0 when even version 40 is too small. */
static int
qr_version(int mode, size_t n, int extra_bits)
{
    static const int cbits[3][3] = {{10, 12, 14}, {9, 11, 13}, {8, 16, 16}};
    int v;

    for (v = 1; v <= 40; v++)
    {
        int band = v <= 9 ? 0 : v <= 26 ? 1 : 2;
        double bits = 4 + cbits[mode][band] + extra_bits;

        if (mode == 0)
            bits += 10.0 * (double) (n / 3) + (n % 3 == 1 ? 4 : n % 3 == 2 ? 7 : 0);
        else if (mode == 1)
            bits += 11.0 * (double) (n / 2) + 6.0 * (double) (n % 2);
        else
            bits += 8.0 * (double) n;
        if (bits <= 8.0 * qr_m_data_cw[v - 1])
            return v;
    }
    return 0;
}

/* Square Data Matrix (ECC 200) sizes and data codeword capacities. */
static const struct { uint8_t size; uint16_t cw; } dm_square[] = {
    {10, 3}, {12, 5}, {14, 8}, {16, 12}, {18, 18}, {20, 22}, {22, 30}, {24, 36}, {26, 44},
    {32, 62}, {36, 86}, {40, 114}, {44, 144}, {48, 174}, {52, 204}, {64, 280}, {72, 368},
    {80, 456}, {88, 576}, {96, 696}, {104, 816}, {120, 1050}, {132, 1304}, {144, 1558},
};

/* Data Matrix codewords for bytes in ASCII encodation (digit pairs 1, < 128 1, else 2). */
static size_t
dm_codewords(const uint8_t *p, size_t n)
{
    size_t i = 0, cw = 0;

    while (i < n)
    {
        if (i + 1 < n && isdigit(p[i]) && isdigit(p[i + 1]))
        {
            cw++;
            i += 2;
        }
        else
        {
            cw += p[i] < 128 ? 1 : 2;
            i++;
        }
    }
    return cw;
}

/* Appends the data with the UTF-8 ECI escape "\000026" and every backslash doubled. */
static void
put_eci_utf8(afp_buf *out, const char *d, size_t n)
{
    size_t i;

    afp_buf_append(out, "\\000026", 7);
    for (i = 0; i < n; i++)
    {
        if (d[i] == '\\')
            afp_buf_putc(out, '\\');
        afp_buf_putc(out, (uint8_t) d[i]);
    }
}

/* Checks that the data is valid UTF-8; returns the largest code point, or -1 (err set). */
static long
check_utf8(const afp_barcode *bc, afp_error *err)
{
    const uint8_t *p = (const uint8_t *) bc->data;
    size_t pos = 0;
    long maxcp = 0;

    while (pos < bc->data_len)
    {
        uint32_t cp;
        size_t k = afp_utf8_get(p + pos, bc->data_len - pos, &cp);

        if (k == 0)
        {
            afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s data: invalid UTF-8 at byte %zu",
                          sym_name(bc->type), pos);
            return -1;
        }
        if ((long) cp > maxcp)
            maxcp = (long) cp;
        pos += k;
    }
    return maxcp;
}

/* Lays out a Code 128 symbol and encodes its data in code page 1303 (via CP037). */
static afp_status
plan_code128(const afp_barcode *bc, bc_plan *p, afp_error *err)
{
    const afp_codepage *cp037 = afp_codepage_find("37");
    size_t i, modules;
    int32_t qz;

    if (bc->data_len > CODE128_MAX)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                             "Code 128 data has %zu characters; at most %d are allowed",
                             bc->data_len, CODE128_MAX);
    for (i = 0; i < bc->data_len; i++)
    {
        uint8_t c = (uint8_t) bc->data[i];
        int e;

        if (c < 0x20 || c > 0x7E)
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                                 "Code 128 data: character %zu (byte X'%02X') is not printable "
                                 "ASCII", i + 1, c);
        e = cp037 ? afp_codepage_from_unicode(cp037, c) : -1;
        if (e < 0)
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                                 "Code 128 data: character '%c' cannot be encoded", (char) c);
        afp_buf_putc(&p->data, (uint8_t) e);
    }
    p->type = 0x11;
    p->mod = 0x02;
    p->module_byte = module_mils(bc->module_pt, 13);
    p->module_l = p->module_byte * LPI / 1000.0;
    modules = 11 * (code128_symbols(bc->data, bc->data_len) + 2) + 13;
    p->sym_w = (int32_t) ceil(modules * p->module_l);
    if (bc->height_pt > 0)
        p->sym_h = (int32_t) lround(bc->height_pt * PT_TO_L);
    else
    {
        p->sym_h = (int32_t) ceil(0.15 * p->sym_w);
        if (p->sym_h < 360)
            p->sym_h = 360;                         /* 250 mils */
    }
    if (p->sym_h < 1)
        p->sym_h = 1;
    if (p->sym_h > 0x7FFF)
        p->sym_h = 0x7FFF;
    p->elem_height = (uint16_t) p->sym_h;
    qz = (int32_t) ceil(10 * p->module_l);
    p->off_x = qz;
    p->off_y = 1;
    p->area_w = p->sym_w + 2 * qz;
    p->area_h = p->off_y + p->sym_h + (bc->hri ? HRI_L : 0);
    p->flags = bc->hri ? 0x20 : 0x80;
    return AFP_OK;
}

/* Lays out an Intelligent Mail barcode (fixed size) and encodes its digits in CP500. */
static afp_status
plan_imb(const afp_barcode *bc, bc_plan *p, afp_error *err)
{
    size_t i, n = bc->data_len;

    if (n != 20 && n != 25 && n != 29 && n != 31)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                             "Intelligent Mail barcode data must have 20, 25, 29 or 31 digits, "
                             "not %zu characters", n);
    for (i = 0; i < n; i++)
        if (bc->data[i] < '0' || bc->data[i] > '9')
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                                 "Intelligent Mail barcode data: character %zu ('%c') is not a digit",
                                 i + 1, isprint((unsigned char) bc->data[i]) ? bc->data[i] : '?');
    if (bc->data[1] > '4')
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                             "Intelligent Mail barcode data: the second digit of the barcode ID "
                             "must be 0-4, not %c", bc->data[1]);
    for (i = 0; i < n; i++)
        afp_buf_putc(&p->data, (uint8_t) (0xF0 + (bc->data[i] - '0')));
    p->type = 0x22;
    p->mod = n == 20 ? 0x00 : n == 25 ? 0x01 : n == 29 ? 0x02 : 0x03;
    p->module_byte = 0xFF;                          /* optimal symbol size */
    p->elem_height = 0xFFFF;
    p->module_l = 0;
    p->sym_w = (int32_t) lround(2.95 * LPI);
    p->sym_h = (int32_t) lround(0.145 * LPI);
    p->off_x = (int32_t) lround(0.125 * LPI);
    p->off_y = (int32_t) lround(0.04 * LPI);
    p->area_w = p->sym_w + 2 * p->off_x;
    p->area_h = p->sym_h + 2 * p->off_y + (bc->hri ? HRI_L : 0);
    p->flags = bc->hri ? 0x20 : 0x80;
    return AFP_OK;
}

/* Lays out a QR Code (level M) and prepares its special functions and data. */
static afp_status
plan_qr(const afp_barcode *bc, bc_plan *p, afp_error *err)
{
    static const char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    long maxcp = check_utf8(bc, err);
    int plain = 1, mode = 0, version, size;
    size_t i;

    if (maxcp < 0)
        return AFP_ERR_ARGUMENT;
    if (bc->data_len == 0)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "QR Code data is empty");
    for (i = 0; i < bc->data_len; i++)
    {
        uint8_t c = (uint8_t) bc->data[i];

        if (c >= 0x80 || c == 0x5C || c == 0x7E)
            plain = 0;
        if (mode == 0 && !(c >= '0' && c <= '9'))
            mode = 1;
        if (mode == 1 && (c == 0 || strchr(alnum, c) == NULL))
            mode = 2;
    }
    if (plain)
    {
        afp_buf_append(&p->data, bc->data, bc->data_len);
        version = qr_version(mode, bc->data_len, 0);
    }
    else
    {
        put_eci_utf8(&p->data, bc->data, bc->data_len);
        version = qr_version(2, bc->data_len, 12);
    }
    if (version == 0 || p->data.len > 7089)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                             "QR Code data of %zu bytes is too long: at error correction level M a "
                             "symbol holds at most 2331 bytes, 3391 alphanumeric characters or "
                             "5596 digits", bc->data_len);
    p->type = 0x20;
    p->mod = 0x02;
    p->module_byte = module_mils(bc->module_pt, 20);
    p->module_l = p->module_byte * LPI / 1000.0;
    p->elem_height = 0xFFFF;
    size = 17 + 4 * version;
    p->sym_w = p->sym_h = (int32_t) ceil(size * p->module_l);
    p->off_x = p->off_y = (int32_t) ceil(4 * p->module_l);
    p->area_w = p->sym_w + 2 * p->off_x;
    p->area_h = p->sym_h + 2 * p->off_y;
    p->flags = 0x80;
    memset(p->special, 0, sizeof(p->special));
    p->special[0] = plain ? 0x40 : 0x00;    /* no EBCDIC translation; escapes off / on */
    p->special[1] = 0x00;                   /* no conversion */
    p->special[2] = (uint8_t) version;
    p->special[3] = 0x01;                   /* error correction level M */
    /* sequence, total, parity, special-function flags, application indicator: 0 */
    p->special_len = 9;
    return AFP_OK;
}

/* Lays out a Data Matrix (square ECC 200) and prepares its special functions and data. */
static afp_status
plan_datamatrix(const afp_barcode *bc, bc_plan *p, afp_error *err)
{
    long maxcp = check_utf8(bc, err);
    size_t i, cw, k;
    int latin1 = maxcp >= 0 && maxcp <= 0xFF, size = 0;

    if (maxcp < 0)
        return AFP_ERR_ARGUMENT;
    if (bc->data_len == 0)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "Data Matrix data is empty");
    if (latin1)
    {
        const uint8_t *s = (const uint8_t *) bc->data;

        for (i = 0; i < bc->data_len;)
        {
            uint32_t cp;

            i += afp_utf8_get(s + i, bc->data_len - i, &cp);
            afp_buf_putc(&p->data, (uint8_t) cp);
        }
        cw = dm_codewords(p->data.data, p->data.len);
    }
    else
    {
        put_eci_utf8(&p->data, bc->data, bc->data_len);
        cw = 2 + dm_codewords((const uint8_t *) bc->data, bc->data_len);
    }
    for (k = 0; k < sizeof(dm_square) / sizeof(dm_square[0]); k++)
        if (dm_square[k].cw >= cw)
        {
            size = dm_square[k].size;
            break;
        }
    if (size == 0 || p->data.len > 3116)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                             "Data Matrix data of %zu bytes is too long: the largest symbol "
                             "(144x144) holds 1558 codewords (about 1556 characters, 3116 digits)",
                             bc->data_len);
    p->type = 0x1C;
    p->mod = 0x00;
    p->module_byte = module_mils(bc->module_pt, 21);
    p->module_l = p->module_byte * LPI / 1000.0;
    p->elem_height = 0xFFFF;
    p->sym_w = p->sym_h = (int32_t) ceil(size * p->module_l);
    p->off_x = p->off_y = (int32_t) ceil(p->module_l);
    p->area_w = p->sym_w + 2 * p->off_x;
    p->area_h = p->sym_h + 2 * p->off_y;
    p->flags = 0x80;
    memset(p->special, 0, sizeof(p->special));
    p->special[0] = latin1 ? 0x40 : 0x00;   /* no EBCDIC translation; escapes off / on */
    p->special[1] = 0;                      /* desired row size */
    p->special[2] = (uint8_t) size;
    p->special[3] = 0;                      /* desired number of rows */
    p->special[4] = (uint8_t) size;
    /* structured append (sequence, total, file ID) and special-function flags: 0 */
    p->special_len = 10;
    return AFP_OK;
}

/* Checks the data and computes the layout and encoded data of a bar code. */
static afp_status
plan_barcode(const afp_barcode *bc, bc_plan *p, afp_error *err)
{
    memset(p, 0, sizeof(*p));
    afp_buf_init(&p->data);
    if (bc == NULL)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "no bar code given");
    if (bc->data == NULL && bc->data_len > 0)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s data is missing",
                             sym_name(bc->type));
    if (bc->data_len == 0)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s data is empty",
                             sym_name(bc->type));
    if (bc->module_pt < 0 || bc->height_pt < 0 || isnan(bc->module_pt) || isnan(bc->height_pt))
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                             "%s: module width and height must not be negative",
                             sym_name(bc->type));
    switch (bc->type)
    {
        case AFP_BC_CODE128: return plan_code128(bc, p, err);
        case AFP_BC_IMB: return plan_imb(bc, p, err);
        case AFP_BC_QR: return plan_qr(bc, p, err);
        case AFP_BC_DATAMATRIX: return plan_datamatrix(bc, p, err);
    }
    return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "unknown bar code symbology %d",
                         (int) bc->type);
}

/* Checks the data against the symbology. */
afp_status
afp_barcode_check(const afp_barcode *bc, afp_error *err)
{
    bc_plan p;
    afp_status st = plan_barcode(bc, &p, err);

    afp_buf_free(&p.data);
    return st;
}

/* Approximate size of the symbol in points, quiet zones and HRI included (0 × 0 when the data
 * is invalid). */
void
afp_barcode_size(const afp_barcode *bc, double *w_pt, double *h_pt)
{
    bc_plan p;
    afp_error e;
    afp_status st = plan_barcode(bc, &p, &e);

    afp_buf_free(&p.data);
    if (w_pt)
        *w_pt = st == AFP_OK ? p.area_w / PT_TO_L : 0.0;
    if (h_pt)
        *h_pt = st == AFP_OK ? p.area_h / PT_TO_L : 0.0;
}

/* Extent of the presentation space: the estimate plus slack, within the BDD range. */
static uint16_t
extent(int32_t v)
{
    double e = v * 1.10 + 72;

    return (uint16_t) (e > 0x7FFF ? 0x7FFF : e < 1 ? 1 : (int32_t) ceil(e));
}

/* Writes a BCOCA object (BBC, OEG with OBD/OBP/MBC/BDD, BDA, EBC) at (x, y). */
afp_status
afp_barcode_write(afp_writer *w, const char *name, const afp_barcode *bc, afp_error *err)
{
    bc_plan p;
    afp_buf b;
    uint16_t xe, ye;
    afp_status st = plan_barcode(bc, &p, err);

    if (st != AFP_OK)
    {
        afp_buf_free(&p.data);
        return st;
    }
    if (bc->x < -32768 || bc->x > 32767 || bc->y < -32768 || bc->y > 32767)
    {
        afp_buf_free(&p.data);
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                             "%s: position (%d, %d) is outside the page coordinate range",
                             sym_name(bc->type), (int) bc->x, (int) bc->y);
    }
    if (p.area_w > 0x7FFF || p.area_h > 0x7FFF)
    {
        afp_buf_free(&p.data);
        return afp_error_set(err, AFP_ERR_LIMIT, -1, "",
                             "%s: symbol of %.1f x %.1f in is larger than a bar code presentation "
                             "space allows", sym_name(bc->type), p.area_w / (double) LPI,
                             p.area_h / (double) LPI);
    }
    xe = extent(p.area_w);
    ye = extent(p.area_h);

    afp_write_begin(w, 0xD3A8EB, name, NULL, 0);            /* BBC */
    afp_write_begin(w, 0xD3A8C7, NULL, NULL, 0);            /* BOG */
    afp_write_object_area(w, bc->x, bc->y, xe, ye);         /* OBD, OBP (afp_writer.c) */

    afp_buf_init(&b);
    afp_buf_put16(&b, 5);
    afp_buf_putc(&b, 3);
    afp_buf_putc(&b, 0x04);
    afp_buf_putc(&b, 0x00);                                 /* position */
    afp_write_sf(w, 0xD3ABEB, b.data, b.len);               /* MBC */

    b.len = 0;
    afp_buf_putc(&b, 0x00);                                 /* unit base 10 in */
    afp_buf_putc(&b, 0x00);
    afp_buf_put16(&b, 14400);
    afp_buf_put16(&b, 14400);
    afp_buf_put16(&b, xe);                                  /* presentation space width */
    afp_buf_put16(&b, ye);                                  /* and depth */
    afp_buf_put16(&b, 0);                                   /* desired symbol width: none */
    afp_buf_putc(&b, p.type);
    afp_buf_putc(&b, p.mod);
    afp_buf_putc(&b, 0xFF);                                 /* HRI font: device default */
    afp_buf_put16(&b, 0xFF07);                              /* colour: device default */
    afp_buf_putc(&b, p.module_byte);
    afp_buf_put16(&b, p.elem_height);
    afp_buf_putc(&b, 1);                                    /* height multiplier */
    afp_buf_put16(&b, 0xFFFF);                              /* WE:NE default */
    afp_write_sf(w, 0xD3A6EB, b.data, b.len);               /* BDD */
    afp_write_end(w);                                       /* EOG */

    b.len = 0;
    afp_buf_putc(&b, p.flags);
    afp_buf_put16(&b, (uint16_t) (p.off_x < 1 ? 1 : p.off_x));
    afp_buf_put16(&b, (uint16_t) (p.off_y < 1 ? 1 : p.off_y));
    afp_buf_append(&b, p.special, p.special_len);
    afp_buf_append(&b, p.data.data, p.data.len);
    afp_write_sf(w, 0xD3EEEB, b.data, b.len);               /* BDA */
    afp_buf_free(&b);
    afp_buf_free(&p.data);
    afp_write_end(w);                                       /* EBC */
    return AFP_OK;
}
