/*
 * afp_pdfa.c — the PDF/A-2b parts of the AFP→PDF converter (option {"pdfa": "2b"}).
 *
 * What PDF/A-2b (ISO 19005-2, level B) adds to the converter's ordinary output, and where:
 *   - an output intent (/S /GTS_PDFA1) whose destination profile is an sRGB ICC profile built
 *     here from the published sRGB facts (IEC 61966-2-1: primaries, D65 white, tone curve),
 *     adapted to the D50 profile connection space with the Bradford transform — no profile
 *     file is read at run time; DeviceRGB and DeviceGray are then covered by the intent;
 *   - DeviceCMYK is not covered by an RGB intent: content-stream colours are converted to RGB
 *     (afp_convert_canvas.c) and CMYK images get a DeviceN [Cyan Magenta Yellow Black] colour
 *     space whose alternate is DeviceRGB through a PostScript calculator (Type 4) function
 *     (pdfa_cmyk_space, substituted by the writer), so JPEG data still passes through;
 *   - an XMP metadata stream (pdfaid:part 2, pdfaid:conformance B, dc:format, dc:title,
 *     dc:creator, dc:description, pdf:Keywords, pdf:Producer, xmp:CreateDate/ModifyDate/
 *     MetadataDate) built from exactly the values of the document information dictionary,
 *     which is re-encoded from the same decoded strings so both always agree;
 *   - a trailer /ID (pdfw_finish writes it when w->has_id).
 * The rest (embedded fonts only, no .notdef references, no encryption/LZW/JavaScript/actions,
 * binary header comment) is a property of the converter checked by test/pdfa_check.py.
 */
#include "afp_pdf_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ------------------------------------------------------------------ sRGB ICC profile */

/* Inverts the 3x3 matrix m into r; returns 0 when it is singular. */
static int
mat3_inverse(const double m[3][3], double r[3][3])
{
    double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                 m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                 m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    int i, j;

    if (fabs(det) < 1e-12)
        return 0;
    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++)
        {
            int a = (j + 1) % 3, b = (j + 2) % 3, c = (i + 1) % 3, d = (i + 2) % 3;

            r[i][j] = (m[a][c] * m[b][d] - m[a][d] * m[b][c]) / det;
        }
    return 1;
}

/* r = a · b for 3x3 matrices. */
static void
mat3_mul(const double a[3][3], const double b[3][3], double r[3][3])
{
    int i, j, k;

    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++)
        {
            r[i][j] = 0;
            for (k = 0; k < 3; k++)
                r[i][j] += a[i][k] * b[k][j];
        }
}

/* The sRGB colorants in the D50 PCS: xyz[c] is the XYZ of red (c = 0), green, blue at full
 * intensity. From the IEC 61966-2-1 chromaticities R (0.64, 0.33), G (0.30, 0.60), B (0.15,
 * 0.06), white D65 (0.3127, 0.3290), adapted to the ICC PCS illuminant (0.9642, 1, 0.8249) with
 * the Bradford cone response matrix. */
void
pdfa_srgb_colorants(double xyz[3][3])
{
    static const double xy[3][2] = {{0.64, 0.33}, {0.30, 0.60}, {0.15, 0.06}};
    static const double brad[3][3] = {{0.8951, 0.2664, -0.1614},
                                      {-0.7502, 1.7135, 0.0367},
                                      {0.0389, -0.0685, 1.0296}};
    const double wx = 0.3127 / 0.3290, wz = (1 - 0.3127 - 0.3290) / 0.3290;
    const double d50[3] = {0.9642, 1.0, 0.8249}, d65[3] = {wx, 1.0, wz};
    double p[3][3], pinv[3][3], s[3], m[3][3], binv[3][3], scale[3][3], t[3][3], adapt[3][3];
    double m50[3][3], cs[3], cd[3];
    int i, j;

    /* columns of p: XYZ of each primary with Y = 1 */
    for (j = 0; j < 3; j++)
    {
        p[0][j] = xy[j][0] / xy[j][1];
        p[1][j] = 1.0;
        p[2][j] = (1 - xy[j][0] - xy[j][1]) / xy[j][1];
    }
    mat3_inverse(p, pinv);
    for (i = 0; i < 3; i++)
        s[i] = pinv[i][0] * d65[0] + pinv[i][1] * d65[1] + pinv[i][2] * d65[2];
    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++)
            m[i][j] = p[i][j] * s[j];              /* RGB → XYZ (D65) */
    /* Bradford: adapt = B^-1 · diag(cone(D50) / cone(D65)) · B */
    for (i = 0; i < 3; i++)
    {
        cs[i] = brad[i][0] * d65[0] + brad[i][1] * d65[1] + brad[i][2] * d65[2];
        cd[i] = brad[i][0] * d50[0] + brad[i][1] * d50[1] + brad[i][2] * d50[2];
    }
    memset(scale, 0, sizeof(scale));
    for (i = 0; i < 3; i++)
        scale[i][i] = cd[i] / cs[i];
    mat3_inverse(brad, binv);
    mat3_mul(scale, brad, t);
    mat3_mul(binv, t, adapt);
    mat3_mul(adapt, m, m50);
    for (i = 0; i < 3; i++)
        for (j = 0; j < 3; j++)
            xyz[j][i] = m50[i][j];
}

/* The sRGB transfer function (encoded value → linear light), IEC 61966-2-1. */
static double
srgb_linear(double v)
{
    return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}

/* Appends a big-endian 32-bit value. */
static void
put32(afp_buf *b, uint32_t v)
{
    afp_buf_putc(b, (uint8_t) (v >> 24));
    afp_buf_putc(b, (uint8_t) (v >> 16));
    afp_buf_putc(b, (uint8_t) (v >> 8));
    afp_buf_putc(b, (uint8_t) v);
}

/* Appends an s15Fixed16Number. */
static void
put_s15(afp_buf *b, double v)
{
    put32(b, (uint32_t) (int32_t) lround(v * 65536.0));
}

/* Appends a four-character signature. */
static void
put_sig(afp_buf *b, const char *s)
{
    afp_buf_append(b, s, 4);
}

/* Pads b with zeros to a multiple of four bytes (tag data alignment). */
static void
pad4(afp_buf *b)
{
    while (b->len % 4)
        afp_buf_putc(b, 0);
}

/* Stores a big-endian 32-bit value at p. */
static void
store32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}

#define ICC_DESC "sRGB IEC61966-2.1"
#define ICC_CPRT "No copyright, use freely (computed by afp from IEC 61966-2-1)"
#define ICC_CURVE_POINTS 1024

/* Builds an ICC version 2.1 display (mntr) RGB profile of sRGB with an XYZ PCS: header,
 * tag table, desc (textDescriptionType), cprt (textType), wtpt (D50, the adapted white),
 * rXYZ/gXYZ/bXYZ (Bradford-adapted colorants) and one curveType of 1024 points of the sRGB
 * tone curve shared by rTRC/gTRC/bTRC. Deterministic: the creation date is fixed. */
void
pdfa_srgb_icc(afp_buf *out)
{
    static const char *const tags[9] = {"desc", "cprt", "wtpt", "rXYZ", "gXYZ", "bXYZ",
                                        "rTRC", "gTRC", "bTRC"};
    double xyz[3][3];
    size_t start = out->len, table, off[9], size[9], k;
    size_t dlen = strlen(ICC_DESC) + 1;

    pdfa_srgb_colorants(xyz);
    /* header (128 bytes) */
    put32(out, 0);                              /* size, set at the end */
    put32(out, 0);                              /* preferred CMM: none */
    put32(out, 0x02100000);                     /* version 2.1.0 */
    put_sig(out, "mntr");
    put_sig(out, "RGB ");
    put_sig(out, "XYZ ");
    afp_buf_put16(out, 2026);                   /* creation date and time (fixed) */
    afp_buf_put16(out, 1);
    afp_buf_put16(out, 1);
    afp_buf_put16(out, 0);
    afp_buf_put16(out, 0);
    afp_buf_put16(out, 0);
    put_sig(out, "acsp");
    put32(out, 0);                              /* platform */
    put32(out, 0);                              /* flags */
    put32(out, 0);                              /* manufacturer */
    put32(out, 0);                              /* model */
    put32(out, 0);                              /* attributes (8 bytes) */
    put32(out, 0);
    put32(out, 0);                              /* rendering intent: perceptual */
    put_s15(out, 0.9642);                       /* PCS illuminant D50 */
    put_s15(out, 1.0);
    put_s15(out, 0.8249);
    put32(out, 0);                              /* creator */
    while (out->len - start < 128)
        afp_buf_putc(out, 0);
    /* tag table, offsets filled in below */
    table = out->len;
    put32(out, 9);
    for (k = 0; k < 9; k++)
    {
        put_sig(out, tags[k]);
        put32(out, 0);
        put32(out, 0);
    }
    /* desc: textDescriptionType */
    off[0] = out->len - start;
    put_sig(out, "desc");
    put32(out, 0);
    put32(out, (uint32_t) dlen);
    afp_buf_append(out, ICC_DESC, dlen);
    put32(out, 0);                              /* Unicode language code */
    put32(out, 0);                              /* Unicode count */
    afp_buf_put16(out, 0);                      /* ScriptCode code */
    afp_buf_putc(out, 0);                       /* ScriptCode count */
    for (k = 0; k < 67; k++)
        afp_buf_putc(out, 0);
    size[0] = out->len - start - off[0];
    pad4(out);
    /* cprt: textType */
    off[1] = out->len - start;
    put_sig(out, "text");
    put32(out, 0);
    afp_buf_append(out, ICC_CPRT, strlen(ICC_CPRT) + 1);
    size[1] = out->len - start - off[1];
    pad4(out);
    /* wtpt and the colorants: XYZType */
    for (k = 2; k < 6; k++)
    {
        off[k] = out->len - start;
        put_sig(out, "XYZ ");
        put32(out, 0);
        if (k == 2)
        {
            put_s15(out, 0.9642);
            put_s15(out, 1.0);
            put_s15(out, 0.8249);
        }
        else
        {
            put_s15(out, xyz[k - 3][0]);
            put_s15(out, xyz[k - 3][1]);
            put_s15(out, xyz[k - 3][2]);
        }
        size[k] = 20;
    }
    /* one tone curve shared by the three TRC tags */
    off[6] = out->len - start;
    put_sig(out, "curv");
    put32(out, 0);
    put32(out, ICC_CURVE_POINTS);
    for (k = 0; k < ICC_CURVE_POINTS; k++)
    {
        double v = srgb_linear((double) k / (ICC_CURVE_POINTS - 1));

        afp_buf_put16(out, (uint16_t) lround(v * 65535.0));
    }
    size[6] = out->len - start - off[6];
    off[7] = off[8] = off[6];
    size[7] = size[8] = size[6];
    pad4(out);
    for (k = 0; k < 9; k++)
    {
        store32(out->data + table + 4 + 12 * k + 4, (uint32_t) off[k]);
        store32(out->data + table + 4 + 12 * k + 8, (uint32_t) size[k]);
    }
    store32(out->data + start, (uint32_t) (out->len - start));
}

/* ------------------------------------------------------------------ CMYK images */

/* The DeviceN colour space that replaces DeviceCMYK for images: the four process colorants with
 * DeviceRGB as alternate through r = (1 - c)(1 - k), g = (1 - m)(1 - k), b = (1 - y)(1 - k)
 * (a Type 4 function). Written once per document; returns its object number. */
int
pdfa_cmyk_space(pdf_writer *w)
{
    static const char fn[] =
        "{ 1 exch sub 4 1 roll 1 exch sub 3 index mul 3 1 roll 1 exch sub 3 index mul "
        "3 1 roll 1 exch sub 3 index mul 3 1 roll 4 -1 roll pop }";
    int f;

    if (w->cmyk_obj > 0)
        return w->cmyk_obj;
    f = pdfw_alloc(w);
    w->cmyk_obj = pdfw_alloc(w);
    pdfw_stream(w, f, "/FunctionType 4 /Domain [0 1 0 1 0 1 0 1] /Range [0 1 0 1 0 1]",
                (const uint8_t *) fn, sizeof(fn) - 1, 0, NULL);
    pdfw_begin(w, w->cmyk_obj);
    pdfw_printf(w, "[/DeviceN [/Cyan /Magenta /Yellow /Black] /DeviceRGB %d 0 R]", f);
    pdfw_end(w);
    return w->cmyk_obj;
}

/* Rewrites a stream dictionary naming "/ColorSpace /DeviceCMYK" to use the DeviceN space into
 * sub (n bytes); returns dict unchanged when it names no DeviceCMYK, PDF/A is off, or the
 * rewritten dictionary would not fit (stream dictionaries are a few hundred bytes; the
 * writer's buffer is 2 KB, and pdfa_check.py would report a DeviceCMYK left in place). */
const char *
pdfa_stream_dict(pdf_writer *w, const char *dict, char *sub, size_t n)
{
    static const char key[] = "/ColorSpace /DeviceCMYK";
    const char *p;

    if (!w->pdfa || dict == NULL || (p = strstr(dict, key)) == NULL || strlen(dict) + 24 > n)
        return dict;
    snprintf(sub, n, "%.*s/ColorSpace %d 0 R%s", (int) (p - dict), dict, pdfa_cmyk_space(w),
             p + sizeof(key) - 1);
    return sub;
}

/* ------------------------------------------------------------------ metadata */

#define PDFA_KEYS 6
/* Info keys the converter writes, with their XMP property. */
static const char *const info_keys[PDFA_KEYS] = {"Title", "Author", "Subject", "Keywords",
                                                 "Creator", "Producer"};

/* Decodes one PDF string as pdf_text_string writes it — (literal) with \( \) \\ escapes or
 * <FEFF…> UTF-16BE — into UTF-8, replacing controls by spaces and unpaired surrogates or
 * non-characters by U+FFFD (so the value is valid XML). Returns the bytes consumed, 0 if s
 * does not start a string. */
static size_t
decode_string(const char *s, size_t n, afp_buf *out)
{
    size_t i;

    if (n > 0 && s[0] == '(')
    {
        for (i = 1; i < n && s[i] != ')'; i++)
        {
            uint8_t c = (uint8_t) s[i];

            if (c == '\\' && i + 1 < n)
                c = (uint8_t) s[++i];
            afp_buf_putc(out, c < 0x20 ? ' ' : c);
        }
        return i < n ? i + 1 : n;
    }
    if (n > 5 && s[0] == '<' && strncmp(s + 1, "FEFF", 4) == 0)
    {
        uint32_t units[2];
        int have = 0;

        for (i = 5; i + 4 <= n && s[i] != '>'; i += 4)
        {
            char hex[5];
            uint32_t u;

            memcpy(hex, s + i, 4);
            hex[4] = '\0';
            u = (uint32_t) strtoul(hex, NULL, 16);
            if (u >= 0xD800 && u <= 0xDBFF)
            {
                if (have)
                    afp_utf8_put(out, 0xFFFD);
                units[0] = u;
                have = 1;
                continue;
            }
            if (u >= 0xDC00 && u <= 0xDFFF)
            {
                afp_utf8_put(out, have ? 0x10000 + ((units[0] - 0xD800) << 10) + (u - 0xDC00)
                                       : 0xFFFD);
                have = 0;
                continue;
            }
            if (have)
                afp_utf8_put(out, 0xFFFD);
            have = 0;
            if (u < 0x20)
                u = ' ';
            else if (u == 0xFFFE || u == 0xFFFF)
                u = 0xFFFD;
            afp_utf8_put(out, u);
        }
        if (have)
            afp_utf8_put(out, 0xFFFD);
        while (i < n && s[i] != '>')
            i++;
        return i < n ? i + 1 : n;
    }
    return 0;
}

/* Appends s as XML character data (& < > " escaped). */
static void
xml_text(afp_buf *b, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
    {
        switch (s[i])
        {
            case '&': afp_buf_printf(b, "&amp;"); break;
            case '<': afp_buf_printf(b, "&lt;"); break;
            case '>': afp_buf_printf(b, "&gt;"); break;
            case '"': afp_buf_printf(b, "&quot;"); break;
            default: afp_buf_putc(b, (uint8_t) s[i]); break;
        }
    }
}

/* Seconds since the epoch for the document dates: $SOURCE_DATE_EPOCH when set (reproducible
 * builds convention), else now. */
static time_t
document_time(void)
{
    const char *e = getenv("SOURCE_DATE_EPOCH");

    if (e && *e)
    {
        char *end;
        long long v = strtoll(e, &end, 10);

        if (*end == '\0' && v >= 0)
            return (time_t) v;
    }
    return time(NULL);
}

/* 64-bit FNV-1a over n bytes, continuing from h. */
static uint64_t
fnv64(uint64_t h, const void *p, size_t n)
{
    const uint8_t *s = p;
    size_t i;

    for (i = 0; i < n; i++)
    {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Writes the PDF/A parts of the document end. info_in holds " /Key value" entries as the
 * converter wrote them (values from pdf_text_string); the entries are decoded, cleaned for XML,
 * and written back to info_out together with /CreationDate and /ModDate, and the XMP packet
 * carries the same values. Writes the metadata stream (uncompressed, as PDF/A expects it to be
 * readable) and the ICC profile, appends "/Metadata … /OutputIntents […]" to catalog, and sets
 * the trailer /ID from seed (input facts), the dates and the values. */
void
pdfa_finish(pdf_writer *w, const afp_buf *info_in, afp_buf *info_out, afp_buf *catalog,
            const uint8_t *seed, size_t seedlen)
{
    afp_buf val[PDFA_KEYS], x, icc;
    const char *s = (const char *) info_in->data;
    size_t n = info_in->len, i = 0, k;
    char pdfdate[64], xmpdate[64];
    struct tm tm;
    time_t now = document_time();
    int meta, prof;
    uint64_t h1 = 0xcbf29ce484222325ULL, h2;

    for (k = 0; k < PDFA_KEYS; k++)
        afp_buf_init(&val[k]);
    /* parse " /Key value" pairs; the last value of a key wins, as in a PDF dictionary */
    while (i < n)
    {
        size_t kstart, klen, used;
        afp_buf tmp;

        while (i < n && s[i] == ' ')
            i++;
        if (i >= n || s[i] != '/')
            break;
        kstart = ++i;
        while (i < n && s[i] != ' ' && s[i] != '(' && s[i] != '<')
            i++;
        klen = i - kstart;
        while (i < n && s[i] == ' ')
            i++;
        afp_buf_init(&tmp);
        used = decode_string(s + i, n - i, &tmp);
        if (used == 0)
        {
            afp_buf_free(&tmp);
            break;
        }
        i += used;
        for (k = 0; k < PDFA_KEYS; k++)
            if (klen == strlen(info_keys[k]) && memcmp(s + kstart, info_keys[k], klen) == 0)
            {
                val[k].len = 0;
                afp_buf_append(&val[k], tmp.data, tmp.len);
            }
        afp_buf_free(&tmp);
    }
    gmtime_r(&now, &tm);
    snprintf(pdfdate, sizeof(pdfdate), "D:%04d%02d%02d%02d%02d%02d+00'00'", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    snprintf(xmpdate, sizeof(xmpdate), "%04d-%02d-%02dT%02d:%02d:%02d+00:00", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    /* the information dictionary, re-encoded from the cleaned values */
    for (k = 0; k < PDFA_KEYS; k++)
        if (val[k].len > 0)
        {
            afp_buf_printf(info_out, " /%s ", info_keys[k]);
            pdf_text_string(info_out, (const char *) val[k].data, val[k].len);
        }
    afp_buf_printf(info_out, " /CreationDate (%s) /ModDate (%s)", pdfdate, pdfdate);
    /* the XMP packet */
    afp_buf_init(&x);
    afp_buf_printf(&x, "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
                   "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
                   " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
                   "  <rdf:Description rdf:about=\"\"\n"
                   "    xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\"\n"
                   "    xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n"
                   "    xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n"
                   "    xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\">\n"
                   "   <pdfaid:part>2</pdfaid:part>\n"
                   "   <pdfaid:conformance>B</pdfaid:conformance>\n"
                   "   <dc:format>application/pdf</dc:format>\n");
    if (val[0].len)
    {
        afp_buf_printf(&x, "   <dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">");
        xml_text(&x, (const char *) val[0].data, val[0].len);
        afp_buf_printf(&x, "</rdf:li></rdf:Alt></dc:title>\n");
    }
    if (val[1].len)
    {
        afp_buf_printf(&x, "   <dc:creator><rdf:Seq><rdf:li>");
        xml_text(&x, (const char *) val[1].data, val[1].len);
        afp_buf_printf(&x, "</rdf:li></rdf:Seq></dc:creator>\n");
    }
    if (val[2].len)
    {
        afp_buf_printf(&x, "   <dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">");
        xml_text(&x, (const char *) val[2].data, val[2].len);
        afp_buf_printf(&x, "</rdf:li></rdf:Alt></dc:description>\n");
    }
    if (val[3].len)
    {
        afp_buf_printf(&x, "   <pdf:Keywords>");
        xml_text(&x, (const char *) val[3].data, val[3].len);
        afp_buf_printf(&x, "</pdf:Keywords>\n");
    }
    if (val[4].len)
    {
        afp_buf_printf(&x, "   <xmp:CreatorTool>");
        xml_text(&x, (const char *) val[4].data, val[4].len);
        afp_buf_printf(&x, "</xmp:CreatorTool>\n");
    }
    if (val[5].len)
    {
        afp_buf_printf(&x, "   <pdf:Producer>");
        xml_text(&x, (const char *) val[5].data, val[5].len);
        afp_buf_printf(&x, "</pdf:Producer>\n");
    }
    afp_buf_printf(&x, "   <xmp:CreateDate>%s</xmp:CreateDate>\n"
                   "   <xmp:ModifyDate>%s</xmp:ModifyDate>\n"
                   "   <xmp:MetadataDate>%s</xmp:MetadataDate>\n"
                   "  </rdf:Description>\n </rdf:RDF>\n</x:xmpmeta>\n", xmpdate, xmpdate, xmpdate);
    for (k = 0; k < 20; k++)                    /* padding for in-place edits, as XMP suggests */
        afp_buf_printf(&x, "%100s\n", "");
    afp_buf_printf(&x, "<?xpacket end=\"w\"?>");
    meta = pdfw_alloc(w);
    pdfw_stream(w, meta, "/Type /Metadata /Subtype /XML", x.data, x.len, 0, NULL);
    /* the output intent's profile */
    afp_buf_init(&icc);
    pdfa_srgb_icc(&icc);
    prof = pdfw_alloc(w);
    pdfw_stream(w, prof, "/N 3", icc.data, icc.len, 1, NULL);
    afp_buf_printf(catalog, " /Metadata %d 0 R /OutputIntents [<< /Type /OutputIntent "
                   "/S /GTS_PDFA1 /OutputConditionIdentifier (%s) /Info (%s) "
                   "/RegistryName (http://www.color.org) /DestOutputProfile %d 0 R >>]",
                   meta, ICC_DESC, ICC_DESC, prof);
    /* trailer /ID: two FNV-1a hashes over the input facts, the dates and the XMP */
    h1 = fnv64(h1, seed, seedlen);
    h1 = fnv64(h1, x.data, x.len);
    h2 = fnv64(h1 ^ 0x9e3779b97f4a7c15ULL, &now, sizeof(now));
    h2 = fnv64(h2, &w->flushed, sizeof(w->flushed));
    for (k = 0; k < 8; k++)
    {
        w->id[k] = (uint8_t) (h1 >> (56 - 8 * k));
        w->id[8 + k] = (uint8_t) (h2 >> (56 - 8 * k));
    }
    w->has_id = 1;
    afp_buf_free(&icc);
    afp_buf_free(&x);
    for (k = 0; k < PDFA_KEYS; k++)
        afp_buf_free(&val[k]);
}
