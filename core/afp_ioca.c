/*
 * afp_ioca.c — PNG and JPEG images as IOCA image objects placed directly in a page.
 *
 * Object structure (as FOP writes inline images, ../samples/fop/color.afp, but in the page):
 *   BIM  BOG OBD OBP MIO IDD EOG  IPD…  EIM
 * OBD: Descriptor Position X'43' (ID 1), Measurement Units X'4B' (14400 per 10 in = 1440 per
 * inch), Object Area Size X'4C' (the requested width × height). OBP: the area at (x, y) of the
 * page, no rotation, reference coordinate system X'01' (page, standard origin). MIO: Mapping
 * Option X'04' = X'60' scale to fill (modca-reference-10 MIO: X'10' position and trim, X'20'
 * scale to fit, X'30' center and trim, X'60' scale to fill). IDD: unit base 10 in, the image's
 * own resolution (pixels per 10 inches), its size in pixels and the IOCA Function Set
 * Identification X'F7' (FS10 bilevel / FS11 grey and colour).
 *
 * The IOCA image segment (ioca-reference-09 Chapter 5, FS10/FS11 in Chapter 7):
 *   70 00 | 91 01 FF | 94 09 00 HRES VRES HSIZE VSIZE | 95 02 COMPRID 01 | 96 01 IDESZ |
 *   [9B IDE structure] [9F external algorithm (JPEG)] | FE92 LLLL data … | 93 00 | 71 00
 * Every IPD holds whole self-defining fields (the first one the parameters and the first
 * FE92, then one FE92 per IPD, the last one also 93 00 71 00), so readers that do not join the
 * IPDs of an image into one stream still decode it; each IPD stays within 32,752 bytes.
 *
 * JPEG is passed through unchanged (COMPRID X'83', FS11): 1 component → 8-bit IDEs (YCbCr Y),
 * 3 components → 24-bit IDEs, YCbCr (RGB when an Adobe APP14 marker says transform 0).
 * 4-component (CMYK/YCCK) JPEG is rejected: FS11 has no CMYK IDE structure and FS45 needs
 * banded, tiled data, which a pass-through cannot produce.
 * PNG is decoded with libpng's simplified API: 1-bit greyscale becomes an FS10 bilevel image
 * (uncompressed, RIDIC, rows padded to a byte); everything else becomes FS11 24-bit RGB
 * (palette, grey, 16-bit and alpha converted; alpha composited on white), uncompressed.
 * Bilevel polarity: in IOCA an IDE value B'1' is a significant (toned, dark) pel and B'0' is
 * untoned (ioca-reference-09 Chapter 5 "IDE Structure", Appendix B, FS10 note), while in a PNG
 * grey sample 0 is black; so a dark pixel (grey < 128 after compositing) becomes bit 1.
 *
 * Resolution: JFIF APP0 density (units 1 = dpi, 2 = dots per cm) and PNG pHYs (unit metre)
 * are reported by afp_image_probe (0 when absent). afp_image_write uses 72 dpi when the file
 * has none (as FOP does for PNGs without pHYs); with scale-to-fill the resolution does not
 * change the printed size, which is always the requested area.
 *
 * Errors: a file that is neither PNG nor JPEG, is truncated or corrupt → AFP_ERR_FORMAT naming
 * the image; sizes beyond IOCA's 32,767 pixels → AFP_ERR_LIMIT.
 *
 * Memory: the decoded pixels are allocated with afp_alloc before libpng starts; libpng's own
 * state (its malloc) lives only inside png_image_begin_read_from_memory…png_image_finish_read,
 * whose errors are caught by libpng itself (no longjmp crosses this file), and no afp_alloc or
 * interrupt check happens in between, so an error/cancel longjmp cannot leak libpng memory.
 */
#include "afp_gen.h"

#include <png.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#define IPD_MAX (AFP_SF_WRITE_MAX - AFP_SF_INTRO)   /* data bytes per IPD */
#define DEFAULT_DPI 72.0
#define MAX_PIXEL_BYTES ((size_t) 256 * 1024 * 1024)
/* Separator after a message prefix: ": " unless the prefix is empty. */
#define SEP(what) ((what)[0] ? ": " : "")

/* Details of a JPEG beyond afp_image_info. */
typedef struct jpeg_extra {
    uint8_t sof;            /* SOFn marker (C0 baseline, C1 extended, C2 progressive, …) */
    int adobe_transform;    /* APP14 Adobe transform byte, -1 if absent */
    uint8_t comp_id[4];
} jpeg_extra;

/* Details of a PNG beyond afp_image_info. */
typedef struct png_extra {
    int color_type;
} png_extra;

/* Reads a big-endian 16-bit value. */
static uint32_t
be16(const uint8_t *p)
{
    return ((uint32_t) p[0] << 8) | p[1];
}

/* Reads a big-endian 32-bit value. */
static uint32_t
be32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

/* Names a few other image formats by their signature, for a clearer error; NULL if unknown. */
static const char *
other_format(const uint8_t *d, size_t n)
{
    if (n >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0))
        return "GIF";
    if (n >= 4 && (memcmp(d, "II*\0", 4) == 0 || memcmp(d, "MM\0*", 4) == 0))
        return "TIFF";
    if (n >= 2 && d[0] == 'B' && d[1] == 'M')
        return "BMP";
    if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0)
        return "WebP";
    if (n >= 5 && (memcmp(d, "<?xml", 5) == 0 || memcmp(d, "<svg", 4) == 0))
        return "SVG";
    if (n >= 5 && memcmp(d, "%PDF-", 5) == 0)
        return "PDF";
    return NULL;
}

/* Parses the marker segments of a JPEG up to the first SOS and checks there is an EOI. */
static afp_status
probe_jpeg(const uint8_t *d, size_t n, const char *what, afp_image_info *info, jpeg_extra *x,
           afp_error *err)
{
    size_t pos = 2, sos = 0, i;
    int have_sof = 0;

    x->sof = 0;
    x->adobe_transform = -1;
    memset(x->comp_id, 0, sizeof(x->comp_id));
    while (pos < n)
    {
        uint8_t marker;
        size_t seglen;
        const uint8_t *p;
        size_t plen;

        if (d[pos] != 0xFF)
            return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                                 "%s%scorrupt JPEG: expected a marker (X'FF') at byte %zu", what, SEP(what), pos);
        while (pos < n && d[pos] == 0xFF)
            pos++;
        if (pos >= n)
            break;
        marker = d[pos++];
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7))
            continue;
        if (marker == 0xD8 || marker == 0xD9 || marker == 0x00)
            return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                                 "%s%scorrupt JPEG: unexpected marker X'FF%02X' before the image data",
                                 what, SEP(what), marker);
        if (pos + 2 > n)
            break;
        seglen = be16(d + pos);
        if (seglen < 2 || pos + seglen > n)
            return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                                 "%s%struncated JPEG: segment X'FF%02X' of %zu bytes at byte %zu "
                                 "runs past the end of the file (%zu bytes)", what, SEP(what), marker, seglen,
                                 pos, n);
        p = d + pos + 2;
        plen = seglen - 2;
        if (marker == 0xE0 && plen >= 12 && memcmp(p, "JFIF", 5) == 0)
        {
            uint32_t xd = be16(p + 8), yd = be16(p + 10);

            if (p[7] == 1 && xd > 0 && yd > 0)
            {
                info->xdpi = xd;
                info->ydpi = yd;
            }
            else if (p[7] == 2 && xd > 0 && yd > 0)
            {
                info->xdpi = xd * 2.54;
                info->ydpi = yd * 2.54;
            }
        }
        else if (marker == 0xEE && plen >= 12 && memcmp(p, "Adobe", 5) == 0)
            x->adobe_transform = p[11];
        else if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
                 marker != 0xCC)
        {
            if (have_sof)
                return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                                     "%s%scorrupt JPEG: more than one frame header", what, SEP(what));
            if (plen < 6 || plen < 6 + 3 * (size_t) p[5] || p[5] == 0)
                return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                                     "%s%scorrupt JPEG: bad frame header (SOF) length", what, SEP(what));
            x->sof = marker;
            info->bits = p[0];
            info->height = be16(p + 1);
            info->width = be16(p + 3);
            info->components = p[5];
            for (i = 0; i < 4 && i < p[5]; i++)
                x->comp_id[i] = p[6 + 3 * i];
            have_sof = 1;
        }
        else if (marker == 0xDA)
        {
            sos = pos + seglen;
            break;
        }
        pos += seglen;
    }
    if (!have_sof)
        return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                             "%s%struncated or corrupt JPEG: no frame header (SOF) found", what, SEP(what));
    if (sos == 0)
        return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                             "%s%struncated JPEG: no image data (SOS) found", what, SEP(what));
    if (info->width == 0 || info->height == 0)
        return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                             "%s%sunsupported JPEG: the frame header gives no image size", what, SEP(what));
    /* The entropy-coded data must be followed by an EOI marker (trailing bytes are tolerated). */
    for (i = n; i >= sos + 2; i--)
        if (d[i - 2] == 0xFF && d[i - 1] == 0xD9)
            break;
    if (i < sos + 2)
        return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                             "%s%struncated JPEG: no end-of-image marker (X'FFD9') after the image "
                             "data", what, SEP(what));
    return AFP_OK;
}

/* Checks the chunk structure of a PNG and reads IHDR and pHYs. */
static afp_status
probe_png(const uint8_t *d, size_t n, const char *what, afp_image_info *info, png_extra *x,
          afp_error *err)
{
    size_t pos = 8;
    int seen_idat = 0, seen_iend = 0;
    uint8_t depth, ct;

    if (n < 8 + 25 || be32(d + 8) != 13 || memcmp(d + 12, "IHDR", 4) != 0)
        return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                             "%s%scorrupt PNG: the IHDR chunk is missing or damaged", what, SEP(what));
    info->width = be32(d + 16);
    info->height = be32(d + 20);
    depth = d[24];
    ct = d[25];
    x->color_type = ct;
    info->bits = depth;
    if (info->width == 0 || info->height == 0 || info->width > 0x7FFFFFFFu ||
        info->height > 0x7FFFFFFFu)
        return afp_error_set(err, AFP_ERR_FORMAT, -1, "", "%s%scorrupt PNG: image size %ux%u",
                             what, SEP(what), info->width, info->height);
    switch (ct)
    {
        case 0:
            if (depth != 1 && depth != 2 && depth != 4 && depth != 8 && depth != 16)
                goto bad_depth;
            info->components = 1;
            break;
        case 3:
            if (depth != 1 && depth != 2 && depth != 4 && depth != 8)
                goto bad_depth;
            info->components = 3;
            break;
        case 2:
        case 6:
            if (depth != 8 && depth != 16)
                goto bad_depth;
            info->components = 3;
            break;
        case 4:
            if (depth != 8 && depth != 16)
                goto bad_depth;
            info->components = 1;
            break;
        default:
            return afp_error_set(err, AFP_ERR_FORMAT, -1, "", "%s%scorrupt PNG: colour type %u",
                                 what, SEP(what), ct);
    }
    while (pos + 12 <= n)
    {
        uint32_t clen = be32(d + pos);
        const uint8_t *type = d + pos + 4;

        if (clen > 0x7FFFFFFFu || (size_t) clen > n - pos - 12)
            return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                                 "%s%struncated PNG: the chunk of %u bytes at byte %zu runs past "
                                 "the end of the file (%zu bytes)", what, SEP(what), clen, pos, n);
        if (memcmp(type, "pHYs", 4) == 0 && clen == 9 && d[pos + 16] == 1)
        {
            info->xdpi = be32(d + pos + 8) * 0.0254;
            info->ydpi = be32(d + pos + 12) * 0.0254;
        }
        else if (memcmp(type, "IDAT", 4) == 0)
            seen_idat = 1;
        else if (memcmp(type, "IEND", 4) == 0)
        {
            seen_iend = 1;
            break;
        }
        pos += 12 + (size_t) clen;
    }
    if (!seen_idat || !seen_iend)
        return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                             "%s%struncated PNG: %s", what, SEP(what),
                             seen_idat ? "no IEND chunk" : "no image data (IDAT)");
    return AFP_OK;

bad_depth:
    return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                         "%s%scorrupt PNG: bit depth %u is invalid for colour type %u", what, SEP(what), depth, ct);
}

/* Probes data as JPEG or PNG, filling info and the format-specific extras. */
static afp_status
probe_any(const uint8_t *data, size_t len, const char *what, afp_image_info *info, jpeg_extra *jx,
          png_extra *px, afp_error *err)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    const char *other;

    memset(info, 0, sizeof(*info));
    if (data == NULL || len == 0)
        return afp_error_set(err, AFP_ERR_FORMAT, -1, "", "%s%sempty image data", what, SEP(what));
    if (len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
    {
        info->kind = 1;
        return probe_jpeg(data, len, what, info, jx, err);
    }
    if (len >= 8 && memcmp(data, png_sig, 8) == 0)
    {
        info->kind = 2;
        return probe_png(data, len, what, info, px, err);
    }
    other = other_format(data, len);
    if (other)
        return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                             "%s%s%s images are not supported (use PNG or JPEG)", what, SEP(what), other);
    return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                         "%s%snot a PNG or JPEG image (unknown signature)", what, SEP(what));
}

/* Reads the size/resolution of a PNG or JPEG without decoding it. */
afp_status
afp_image_probe(const uint8_t *data, size_t len, afp_image_info *info, afp_error *err)
{
    jpeg_extra jx;
    png_extra px;

    memset(&jx, 0, sizeof(jx));
    memset(&px, 0, sizeof(px));
    return probe_any(data, len, "", info, &jx, &px, err);
}

/* ------------------------------------------------------------------ IPD output */

/* Collects IOCA self-defining fields into IPDs that each hold whole fields. */
typedef struct ipd_stream {
    afp_writer *w;
    afp_buf cur;
} ipd_stream;

/* Writes the collected bytes as one IPD; AFP_ERR_INTERRUPTED if the interrupt hook fires. */
static afp_status
ipd_flush(ipd_stream *s, afp_error *err)
{
    if (s->cur.len > 0)
    {
        afp_write_sf(s->w, 0xD3EEFB, s->cur.data, s->cur.len);
        s->cur.len = 0;
    }
    if (afp_check_interrupt())
        return afp_error_set(err, AFP_ERR_INTERRUPTED, -1, "IPD", "interrupted");
    return AFP_OK;
}

/* Appends image data as FE92 fields, starting a new IPD whenever the current one is full. */
static afp_status
ipd_image_data(ipd_stream *s, const uint8_t *p, size_t n, afp_error *err)
{
    while (n > 0)
    {
        size_t room, k;

        if (s->cur.len + 4 + 512 > IPD_MAX)
        {
            afp_status st = ipd_flush(s, err);

            if (st != AFP_OK)
                return st;
        }
        room = IPD_MAX - s->cur.len - 4;
        k = n < room ? n : room;
        afp_buf_putc(&s->cur, 0xFE);
        afp_buf_putc(&s->cur, 0x92);
        afp_buf_put16(&s->cur, (uint16_t) k);
        afp_buf_append(&s->cur, p, k);
        p += k;
        n -= k;
    }
    return AFP_OK;
}

/* Ends the image content and segment, and writes the last IPD. */
static afp_status
ipd_finish(ipd_stream *s, afp_error *err)
{
    static const uint8_t tail[4] = {0x93, 0x00, 0x71, 0x00};
    afp_status st;

    if (s->cur.len + sizeof(tail) > IPD_MAX && (st = ipd_flush(s, err)) != AFP_OK)
        return st;
    afp_buf_append(&s->cur, tail, sizeof(tail));
    return ipd_flush(s, err);
}

/* Writes BIM and the object environment group (OBD, OBP, MIO, IDD). */
static void
write_image_head(afp_writer *w, const char *name, int32_t x, int32_t y, int32_t wdt, int32_t hgt,
                 uint16_t xres, uint16_t yres, uint32_t pw, uint32_t ph, uint8_t fs)
{
    afp_buf b;

    afp_write_begin(w, 0xD3A8FB, name, NULL, 0);            /* BIM */
    afp_write_begin(w, 0xD3A8C7, NULL, NULL, 0);            /* BOG */
    afp_write_object_area(w, x, y, (uint32_t) wdt, (uint32_t) hgt);     /* OBD, OBP */

    afp_buf_init(&b);
    afp_buf_put16(&b, 5);                                   /* RGLength */
    afp_buf_putc(&b, 3);                                    /* Mapping Option triplet */
    afp_buf_putc(&b, 0x04);
    afp_buf_putc(&b, 0x60);                                 /* scale to fill */
    afp_write_sf(w, 0xD3ABFB, b.data, b.len);               /* MIO */

    b.len = 0;
    afp_buf_putc(&b, 0x00);                                 /* unit base 10 inches */
    afp_buf_put16(&b, xres);
    afp_buf_put16(&b, yres);
    afp_buf_put16(&b, (uint16_t) pw);
    afp_buf_put16(&b, (uint16_t) ph);
    afp_buf_putc(&b, 0xF7);                                 /* IOCA Function Set Identification */
    afp_buf_putc(&b, 2);
    afp_buf_putc(&b, 0x01);                                 /* category: IOCA */
    afp_buf_putc(&b, fs);
    afp_write_sf(w, 0xD3A6FB, b.data, b.len);               /* IDD */
    afp_buf_free(&b);
    afp_write_end(w);                                       /* EOG */
}

/* Appends Begin Segment, Begin Image Content and Image Size. */
static void
ioca_begin(afp_buf *b, uint16_t xres, uint16_t yres, uint32_t pw, uint32_t ph)
{
    static const uint8_t head[5] = {0x70, 0x00, 0x91, 0x01, 0xFF};

    afp_buf_append(b, head, sizeof(head));
    afp_buf_putc(b, 0x94);
    afp_buf_putc(b, 9);
    afp_buf_putc(b, 0x00);
    afp_buf_put16(b, xres);
    afp_buf_put16(b, yres);
    afp_buf_put16(b, (uint16_t) pw);
    afp_buf_put16(b, (uint16_t) ph);
}

/* Resolution in image points per 10 inches (IOCA range 1 … 32767). */
static uint16_t
res10(double dpi)
{
    double v = (dpi > 0 ? dpi : DEFAULT_DPI) * 10.0;

    if (v < 1)
        v = 1;
    if (v > 32767)
        v = 32767;
    return (uint16_t) lround(v);
}

/* Decodes a PNG into 8-bit grey (bilevel) or RGB rows, composited on white. Returns the
 * afp_alloc'd pixels (stride = width × channels) or NULL with err filled. */
static uint8_t *
decode_png(const uint8_t *data, size_t len, const char *what, uint32_t pw, uint32_t ph, int grey,
           afp_error *err)
{
    png_image img;
    png_color white = {255, 255, 255};
    size_t channels = grey ? 1 : 3;
    size_t stride = (size_t) pw * channels;
    uint8_t *pix;

    if (stride != 0 && (size_t) ph > MAX_PIXEL_BYTES / stride)
    {
        afp_error_set(err, AFP_ERR_LIMIT, -1, "",
                      "%s: PNG of %ux%u pixels is too large to convert (limit %zu MB of pixels)",
                      what, pw, ph, MAX_PIXEL_BYTES >> 20);
        return NULL;
    }
    /* Allocate before libpng holds any state (see the file comment). */
    pix = afp_alloc(stride * ph);
    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, data, len))
    {
        afp_error_set(err, AFP_ERR_FORMAT, -1, "", "%s: corrupt PNG: %s", what, img.message);
        png_image_free(&img);
        afp_free(pix);
        return NULL;
    }
    if (img.width != pw || img.height != ph)
    {
        png_image_free(&img);
        afp_free(pix);
        afp_error_set(err, AFP_ERR_FORMAT, -1, "", "%s: corrupt PNG: inconsistent image size", what);
        return NULL;
    }
    img.format = grey ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    if (!png_image_finish_read(&img, &white, pix, (png_int_32) stride, NULL))
    {
        /* png_image_finish_read has released libpng's state already; free is harmless. */
        afp_error_set(err, AFP_ERR_FORMAT, -1, "", "%s: corrupt PNG: %s", what, img.message);
        png_image_free(&img);
        afp_free(pix);
        return NULL;
    }
    png_image_free(&img);
    return pix;
}

/* Packs 8-bit grey rows in place into 1-bit rows (padded to a byte), dark pixel = 1. */
static size_t
pack_bilevel(uint8_t *pix, uint32_t pw, uint32_t ph)
{
    size_t pstride = ((size_t) pw + 7) / 8, r, k;

    for (r = 0; r < ph; r++)
    {
        const uint8_t *src = pix + r * pw;
        uint8_t *dst = pix + r * pstride;

        for (k = 0; k < pstride; k++)
        {
            uint8_t v = 0;
            size_t i;

            for (i = 0; i < 8; i++)
            {
                size_t col = k * 8 + i;

                if (col < pw && src[col] < 128)
                    v |= (uint8_t) (0x80 >> i);
            }
            dst[k] = v;     /* dst + k <= src + 8k: only already-read bytes are overwritten */
        }
    }
    return pstride * ph;
}

/* Writes an IOCA image object for a PNG or JPEG at (x, y) scaled to fill wdt × hgt. */
afp_status
afp_image_write(afp_writer *w, const char *name, const uint8_t *data, size_t len, int32_t x,
                int32_t y, int32_t wdt, int32_t hgt, afp_error *err)
{
    char what[64];
    afp_image_info info;
    jpeg_extra jx;
    png_extra px;
    afp_status st;
    uint16_t xres, yres;
    ipd_stream s;
    uint8_t *pix = NULL;
    size_t npix = 0;
    int bilevel = 0;

    memset(&jx, 0, sizeof(jx));
    memset(&px, 0, sizeof(px));
    snprintf(what, sizeof(what), "image %s", name && name[0] ? name : "(unnamed)");
    if ((st = probe_any(data, len, what, &info, &jx, &px, err)) != AFP_OK)
        return st;
    if (wdt <= 0 || hgt <= 0 || wdt > 0xFFFFFF || hgt > 0xFFFFFF)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s: invalid image area %d x %d",
                             what, (int) wdt, (int) hgt);
    if (x < -32768 || x > 32767 || y < -32768 || y > 32767)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                             "%s: position (%d, %d) is outside the page coordinate range", what,
                             (int) x, (int) y);
    if (info.width > 0x7FFF || info.height > 0x7FFF)
        return afp_error_set(err, AFP_ERR_LIMIT, -1, "",
                             "%s: %ux%u pixels exceeds IOCA's maximum of 32767 pixels per side",
                             what, info.width, info.height);
    xres = res10(info.xdpi);
    yres = res10(info.ydpi > 0 ? info.ydpi : info.xdpi);

    if (info.kind == 1)
    {
        if (info.components == 4)
            return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                                 "%s: CMYK JPEG images are not supported (IOCA FS11 carries grey, "
                                 "YCbCr and RGB JPEG only); convert the image to RGB", what);
        if (info.components != 1 && info.components != 3)
            return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                                 "%s: JPEG with %d components is not supported", what,
                                 info.components);
        if (info.bits != 8)
            return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                                 "%s: %d-bit JPEG is not supported (8-bit only)", what, info.bits);
        if (jx.sof != 0xC0 && jx.sof != 0xC1 && jx.sof != 0xC2 && jx.sof != 0xC9 && jx.sof != 0xCA)
            return afp_error_set(err, AFP_ERR_FORMAT, -1, "",
                                 "%s: JPEG process X'%02X' (lossless or hierarchical) is not "
                                 "supported by IOCA", what, jx.sof);
    }
    else
    {
        bilevel = px.color_type == 0 && info.bits == 1;
        pix = decode_png(data, len, what, info.width, info.height, bilevel, err);
        if (pix == NULL)
            return err ? err->status : AFP_ERR_FORMAT;
        npix = bilevel ? pack_bilevel(pix, info.width, info.height)
                       : (size_t) info.width * info.height * 3;
    }

    write_image_head(w, name, x, y, wdt, hgt, xres, yres, info.width, info.height,
                     bilevel ? 0x0A : 0x0B);
    s.w = w;
    afp_buf_init(&s.cur);
    afp_buf_reserve(&s.cur, IPD_MAX);
    ioca_begin(&s.cur, xres, yres, info.width, info.height);
    afp_buf_putc(&s.cur, 0x95);                             /* Image Encoding */
    afp_buf_putc(&s.cur, 2);
    afp_buf_putc(&s.cur, info.kind == 1 ? 0x83 : 0x03);     /* JPEG / no compression */
    afp_buf_putc(&s.cur, 0x01);                             /* RIDIC */
    afp_buf_putc(&s.cur, 0x96);                             /* IDE Size */
    afp_buf_putc(&s.cur, 1);
    if (bilevel)
        afp_buf_putc(&s.cur, 1);
    else
    {
        int rgb = info.kind == 2 || (info.components == 3 &&
                                     (jx.adobe_transform == 0 ||
                                      (jx.comp_id[0] == 'R' && jx.comp_id[1] == 'G' &&
                                       jx.comp_id[2] == 'B')));
        int one = info.kind == 1 && info.components == 1;
        static const uint8_t zero3[3] = {0, 0, 0};

        afp_buf_putc(&s.cur, one ? 8 : 24);
        afp_buf_putc(&s.cur, 0x9B);                         /* IDE Structure */
        afp_buf_putc(&s.cur, 8);
        afp_buf_putc(&s.cur, 0x00);                         /* additive, no gray coding */
        afp_buf_putc(&s.cur, rgb ? 0x01 : 0x12);            /* RGB / YCbCr */
        afp_buf_append(&s.cur, zero3, 3);
        afp_buf_putc(&s.cur, 8);
        afp_buf_putc(&s.cur, one ? 0 : 8);
        afp_buf_putc(&s.cur, one ? 0 : 8);
        if (info.kind == 1)
        {
            afp_buf_putc(&s.cur, 0x9F);                     /* External Algorithm Specification */
            afp_buf_putc(&s.cur, 10);
            afp_buf_putc(&s.cur, 0x10);                     /* compression algorithm */
            afp_buf_putc(&s.cur, 0x00);
            afp_buf_putc(&s.cur, 0x83);                     /* JPEG */
            afp_buf_append(&s.cur, zero3, 3);
            afp_buf_putc(&s.cur, jx.sof);                   /* the SOFn marker */
            afp_buf_append(&s.cur, zero3, 3);
        }
    }
    if (info.kind == 1)
        st = ipd_image_data(&s, data, len, err);
    else
        st = ipd_image_data(&s, pix, npix, err);
    if (st == AFP_OK)
        st = ipd_finish(&s, err);
    afp_buf_free(&s.cur);
    if (pix)
        afp_free(pix);
    if (st != AFP_OK)
        return st;
    afp_write_end(w);                                       /* EIM */
    return AFP_OK;
}
