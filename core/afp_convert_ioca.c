/*
 * afp_convert_ioca.c — IOCA image content (ioca-reference-09 Chapter 5) to PDF image XObjects.
 *
 * The IPD data of one image is joined into one stream before it is parsed (real files split it
 * anywhere, even one self-defining field per IPD). Parameters read: Image Size (X'94'), Image
 * Encoding (X'95'), IDE Size (X'96'), IDE Structure (X'9B'), Band Image (X'98'), Image Data
 * (X'FE92'), Band Image Data (X'FE9C'), the transparency mask (X'8E' … X'8F' with its own Image
 * Size, Encoding and Data) and tiles (Tile TOC X'FEBB', Begin/End Tile X'8C'/X'8D', Tile
 * Position X'B5', Tile Size X'B6' with RELRES, Tile Set Color X'B7'); the IDD supplies the
 * defaults (size, resolution) and the bilevel colour (X'F6' named, X'F4' extended).
 *
 * Encodings: JPEG (X'83') passes through as DCTDecode (components and size from its SOF);
 * G4 MMR (X'82'), G3 MH (X'80'), G3 MR (X'81') and TIFF algorithm 2 (X'09', byte-aligned MH)
 * pass through as CCITTFaxDecode (K -1, 0, 1, 0 + EncodedByteAlign); uncompressed (X'03'),
 * RL4 (X'06'), TIFF PackBits (X'0C'), TIFF LZW (X'0D') and TIFF LZW with the horizontal
 * differencing predictor (X'0E') are decoded here and written with Flate. Bilevel images become
 * stencil masks painted in the bilevel colour (IOCA: B'1' is a toned pel, B'0' is not painted);
 * grey (YCbCr/YCrCb Y only) DeviceGray; RGB DeviceRGB; YCbCr/YCrCb 24-bit converted to RGB;
 * CMYK DeviceCMYK. A transparency mask becomes the image's /Mask (a stencil image: B'1' pels of
 * the mask show the image); on a decoded bilevel image it is ANDed into the image itself.
 *
 * Tiled images (FS45) become a form XObject over the unit square in which every tile is its
 * own image XObject placed at its position and size (RELRES 2 tiles are scaled up), bilevel
 * tiles painted in their Tile Set Color, Solid Fill Rectangle tiles (X'20') as filled
 * rectangles. Tiles referencing tile resources (Include Tile) and the encodings IBM MMR, ABIC,
 * JBIG2 and user-defined ones are reported as unsupported (img->unsupported, with why).
 */
#include "afp_pdf_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_PAD ((size_t) 16 << 20)         /* missing image data we are willing to make up */
#define MAX_RAW ((size_t) 256 << 20)        /* decoded image size limit */

#define MAX_TILES 4096

/* What the image content (or one tile of it) declares. */
typedef struct ioca {
    unsigned hres, vres, hsize, vsize, unitbase;
    int comprid, recid, bitordr;
    int idesz;
    int format, asflag, nsize, sizes[4];
    int bands, tiles;
    int color_set;
    double rgb[3];
    afp_buf data;              /* joined Image Data / Band Image Data */
    afp_buf band[4];
    int64_t data_off;          /* file offset of the first image data (for messages) */
    /* transparency mask */
    int has_mask;
    unsigned mask_w, mask_h;
    int mask_compr, mask_recid, mask_bitordr;
    afp_buf mask;
    int64_t mask_off;
    /* tiles */
    long tx, ty;               /* Tile Position (image points) */
    int relres;
    int include_tile;
    int mask_obj;              /* written /Mask image, 0 none */
    char extra[48];            /* more image dictionary entries (" /Mask 12 0 R") */
} ioca;

/* Copies a reason for an unsupported image. */
static void
set_why(char *why, size_t n, const char *msg)
{
    if (why && n)
        snprintf(why, n, "%s", msg);
}

/* Reads the bilevel colour of X'F6' (named OCA colour) or X'F4' (extended colour). */
static void
bilevel_color(ioca *im, uint8_t id, const uint8_t *p, size_t n)
{
    double c[3];

    if (id == 0xF6 && n >= 4)
    {
        if (afp_ptoca_oca_rgb((unsigned) ((p[2] << 8) | p[3]), c))
        {
            memcpy(im->rgb, c, sizeof(c));
            im->color_set = 1;
        }
    }
    else if (id == 0xF4 && n >= 14 && p[1 + 1] == 0x01)
    {
        /* AREA, reserved, COLSPCE X'01' RGB, reserved(4), sizes(4), value */
        int k;

        for (k = 0; k < 3; k++)
            im->rgb[k] = p[11 + k] / 255.0;
        im->color_set = 1;
    }
}

/* Parses the IDD's trailing self-defining fields (after its 9 fixed bytes). */
static void
parse_idd(ioca *im, const uint8_t *d, size_t n)
{
    size_t pos = 9;

    if (n >= 9)
    {
        im->unitbase = d[0];
        im->hres = (unsigned) ((d[1] << 8) | d[2]);
        im->vres = (unsigned) ((d[3] << 8) | d[4]);
        im->hsize = (unsigned) ((d[5] << 8) | d[6]);
        im->vsize = (unsigned) ((d[7] << 8) | d[8]);
    }
    while (pos + 2 <= n)
    {
        uint8_t id = d[pos];
        size_t len = d[pos + 1];

        if (pos + 2 + len > n)
            break;
        if (id == 0xF6 || id == 0xF4)
            bilevel_color(im, id, d + pos + 2, len);
        pos += 2 + len;
    }
}

/* Starts a unit (tile) with the image-level defaults of im. */
static void
unit_init(ioca *t, const ioca *im)
{
    int k;

    memset(t, 0, sizeof(*t));
    t->hres = im->hres;
    t->vres = im->vres;
    t->unitbase = im->unitbase;
    t->comprid = im->comprid;
    t->recid = im->recid;
    t->bitordr = im->bitordr;
    t->idesz = im->idesz;
    t->format = im->format;
    t->asflag = im->asflag;
    t->bands = im->bands;
    t->relres = 1;
    t->color_set = im->color_set;
    memcpy(t->rgb, im->rgb, sizeof(t->rgb));
    afp_buf_init(&t->data);
    afp_buf_init(&t->mask);
    for (k = 0; k < 4; k++)
        afp_buf_init(&t->band[k]);
}

/* Releases a unit's buffers. */
static void
unit_free(ioca *t)
{
    int k;

    afp_buf_free(&t->data);
    afp_buf_free(&t->mask);
    for (k = 0; k < 4; k++)
        afp_buf_free(&t->band[k]);
}

/* Big-endian 32-bit value. */
static unsigned long
u32(const uint8_t *p)
{
    return ((unsigned long) p[0] << 24) | ((unsigned long) p[1] << 16) | ((unsigned long) p[2] << 8) |
           p[3];
}

/* Reads a Tile Set Color (X'B7': CSPACE, reserved(3), sizes(4), colour) as RGB. */
static void
tile_color(ioca *t, const uint8_t *p, size_t len)
{
    double c[3];

    if (len < 9)
        return;
    if (p[0] == 0x01 && len >= 11)                 /* RGB, 8 bits */
    {
        t->rgb[0] = p[8] / 255.0, t->rgb[1] = p[9] / 255.0, t->rgb[2] = p[10] / 255.0;
        t->color_set = 1;
    }
    else if (p[0] == 0x04 && len >= 12)            /* CMYK, 8 bits: naive conversion */
    {
        double k = p[11] / 255.0;
        int i;

        for (i = 0; i < 3; i++)
            t->rgb[i] = (1 - p[8 + i] / 255.0) * (1 - k);
        t->color_set = 1;
    }
    else if (p[0] == 0x40 && len >= 10 && afp_ptoca_oca_rgb((unsigned) ((p[8] << 8) | p[9]), c))
    {
        memcpy(t->rgb, c, sizeof(c));
        t->color_set = 1;
    }
    else if (p[0] == 0x08 && len >= 9)             /* CIELAB: lightness as grey */
    {
        t->rgb[0] = t->rgb[1] = t->rgb[2] = p[8] / 255.0;
        t->color_set = 1;
    }
}

/* Parses the joined image content into im (untiled) or im and its tiles. */
static afp_status
parse_content(ioca *im, ioca **tiles, size_t *ntiles, const uint8_t *d, size_t n,
              const afp_ptx_seg *segs, size_t nsegs, afp_error *err)
{
    size_t pos = 0, captiles = 0;
    ioca *cur = im;
    int in_mask = 0;

    while (pos < n)
    {
        uint8_t id = d[pos];
        size_t hdr, len;
        const uint8_t *p;

        if (id == 0xFE)
        {
            if (n - pos < 4)
                return afp_error_set(err, AFP_ERR_FORMAT, pdf_seg_offset(segs, nsegs, pos), "IPD",
                                     "truncated IOCA self-defining field X'FE%02X': 2-byte length "
                                     "expected", pos + 1 < n ? d[pos + 1] : 0);
            hdr = 4;
            len = ((size_t) d[pos + 2] << 8) | d[pos + 3];
        }
        else
        {
            if (n - pos < 2)
                return afp_error_set(err, AFP_ERR_FORMAT, pdf_seg_offset(segs, nsegs, pos), "IPD",
                                     "truncated IOCA self-defining field X'%02X': length expected",
                                     id);
            hdr = 2;
            len = d[pos + 1];
        }
        if (len > n - pos - hdr)
            return afp_error_set(err, AFP_ERR_FORMAT, pdf_seg_offset(segs, nsegs, pos), "IPD",
                                 "IOCA self-defining field X'%s%02X' with length %zu runs past the "
                                 "end of the image data (%zu bytes left)", id == 0xFE ? "FE" : "",
                                 id == 0xFE ? d[pos + 1] : id, len, n - pos - hdr);
        p = d + pos + hdr;
        if (id == 0xFE)
        {
            uint8_t id2 = d[pos + 1];

            if (id2 == 0x92 && in_mask)
            {
                if (cur->mask.len == 0)
                    cur->mask_off = pdf_seg_offset(segs, nsegs, pos);
                afp_buf_append(&cur->mask, p, len);
            }
            else if (id2 == 0x92)
            {
                if (cur->data.len == 0)
                    cur->data_off = pdf_seg_offset(segs, nsegs, pos);
                afp_buf_append(&cur->data, p, len);
            }
            else if (id2 == 0x9C && len >= 3)
            {
                unsigned b = p[0] ? p[0] - 1u : 0;   /* band numbers count from 1 */

                if (b < 4)
                    afp_buf_append(&cur->band[b], p + 3, len - 3);
                if (cur->data_off == 0)
                    cur->data_off = pdf_seg_offset(segs, nsegs, pos);
            }
            else if (id2 == 0xBB)                  /* Tile TOC: the image is tiled */
                im->tiles = im->tiles ? im->tiles : -1;
            else if (id2 == 0xB8 && cur != im)     /* Include Tile */
                cur->include_tile = 1;
        }
        else
        {
            switch (id)
            {
                case 0x94:     /* Image Size */
                    if (in_mask && len >= 9)
                    {
                        cur->mask_w = (unsigned) ((p[5] << 8) | p[6]);
                        cur->mask_h = (unsigned) ((p[7] << 8) | p[8]);
                    }
                    else if (len >= 9)
                    {
                        cur->unitbase = p[0];
                        cur->hres = (unsigned) ((p[1] << 8) | p[2]);
                        cur->vres = (unsigned) ((p[3] << 8) | p[4]);
                        cur->hsize = (unsigned) ((p[5] << 8) | p[6]);
                        cur->vsize = (unsigned) ((p[7] << 8) | p[8]);
                    }
                    break;
                case 0x95:     /* Image Encoding */
                    if (in_mask)
                    {
                        if (len >= 1)
                            cur->mask_compr = p[0];
                        if (len >= 2)
                            cur->mask_recid = p[1];
                        if (len >= 3)
                            cur->mask_bitordr = p[2];
                        break;
                    }
                    if (len >= 1)
                        cur->comprid = p[0];
                    if (len >= 2)
                        cur->recid = p[1];
                    if (len >= 3)
                        cur->bitordr = p[2];
                    break;
                case 0x96:     /* IDE Size */
                    if (len >= 1)
                        cur->idesz = p[0];
                    break;
                case 0x98:     /* Band Image */
                    if (len >= 1)
                        cur->bands = p[0];
                    break;
                case 0x9B:     /* IDE Structure */
                    if (len >= 6)
                    {
                        int k;

                        cur->asflag = (p[0] & 0x80) != 0;
                        cur->format = p[1];
                        cur->nsize = 0;
                        for (k = 0; k < 4 && 5 + k < (int) len; k++)
                            cur->sizes[cur->nsize++] = p[5 + k];
                    }
                    break;
                case 0x8C:     /* Begin Tile */
                    if (*ntiles >= MAX_TILES)
                        return afp_error_set(err, AFP_ERR_LIMIT, pdf_seg_offset(segs, nsegs, pos),
                                             "IPD", "IOCA image with more than %d tiles",
                                             MAX_TILES);
                    if (*ntiles == captiles)
                    {
                        captiles = captiles ? captiles * 2 : 8;
                        *tiles = afp_realloc(*tiles, captiles * sizeof(ioca));
                    }
                    cur = &(*tiles)[(*ntiles)++];
                    unit_init(cur, im);
                    im->tiles = (int) *ntiles;
                    in_mask = 0;
                    break;
                case 0x8D:     /* End Tile */
                    cur = im;
                    in_mask = 0;
                    break;
                case 0x8E:     /* Begin Transparency Mask */
                    in_mask = 1;
                    cur->has_mask = 1;
                    cur->mask_compr = 0x03;
                    cur->mask_recid = 0x01;
                    break;
                case 0x8F:     /* End Transparency Mask */
                    in_mask = 0;
                    break;
                case 0xB5:     /* Tile Position */
                    if (len >= 8 && cur != im)
                    {
                        cur->tx = (long) (u32(p) & 0x7FFFFFFF);
                        cur->ty = (long) (u32(p + 4) & 0x7FFFFFFF);
                    }
                    break;
                case 0xB6:     /* Tile Size: THSIZE TVSIZE [RELRES] */
                    if (len >= 8 && cur != im)
                    {
                        unsigned long w = u32(p), h = u32(p + 4);

                        cur->hsize = w > 65535 ? 0 : (unsigned) w;
                        cur->vsize = h > 65535 ? 0 : (unsigned) h;
                        cur->relres = len >= 9 && p[8] == 2 ? 2 : 1;
                    }
                    break;
                case 0xB7:     /* Tile Set Color */
                    if (cur != im)
                        tile_color(cur, p, len);
                    break;
                case 0xF6:
                case 0xF4:
                    bilevel_color(cur, id, p, len);
                    break;
                default:       /* segments, image content, LUT-ID, … */
                    break;
            }
        }
        pos += hdr + len;
    }
    return AFP_OK;
}

/* Reverses the bits of every byte (BITORDR 1: least significant bit first). */
static void
reverse_bits(uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
    {
        uint8_t b = p[i], r = 0;
        int k;

        for (k = 0; k < 8; k++)
            r = (uint8_t) (r | (((b >> k) & 1) << (7 - k)));
        p[i] = r;
    }
}

/* Reads nbits from a bit stream (MSB first); -1 past the end. */
static long
get_bits(const uint8_t *d, size_t n, size_t *bitpos, int nbits)
{
    long v = 0;
    int k;

    if (*bitpos + (size_t) nbits > n * 8)
        return -1;
    for (k = 0; k < nbits; k++, (*bitpos)++)
        v = (v << 1) | ((d[*bitpos >> 3] >> (7 - (*bitpos & 7))) & 1);
    return v;
}

/* Sets bits [from, to) of a row to 1. */
static void
set_run(uint8_t *row, size_t from, size_t to)
{
    size_t i;

    for (i = from; i < to; i++)
        row[i >> 3] |= (uint8_t) (0x80 >> (i & 7));
}

/* Decodes RL4 (ioca-reference-09 Appendix A) into 1-bit rows of rowbytes bytes (0 = white). */
static afp_status
decode_rl4(const ioca *im, afp_buf *out, size_t rowbytes, afp_error *err)
{
    const uint8_t *d = im->data.data;
    size_t n = im->data.len, pos = 0, w = im->hsize;
    long first = -1;

    memset(out->data, 0, rowbytes * im->vsize);
    while (pos + 4 <= n)
    {
        long line = (long) ((d[pos] << 8) | d[pos + 1]);
        size_t len = ((size_t) d[pos + 2] << 8) | d[pos + 3], bit = (pos + 4) * 8, x = 0;
        int black = 0;
        uint8_t *row;

        if (first < 0)
            first = line;
        line -= first > 0 ? 1 : 0;             /* line numbers count from 1 (or from 0) */
        row = (line >= 0 && (size_t) line < im->vsize) ? out->data + (size_t) line * rowbytes : NULL;
        for (;;)
        {
            long v = get_bits(d, n, &bit, 4), run, t = 0;

            if (v < 0)
                break;
            if (v < 8)
                run = v + 1;
            else if (v < 12)
            {
                t = get_bits(d, n, &bit, 4);
                run = 9 + ((v & 3) << 4 | t);
            }
            else if (v < 14)
            {
                t = get_bits(d, n, &bit, 8);
                run = 73 + ((v & 1) << 8 | t);
            }
            else if (v == 14)
            {
                t = get_bits(d, n, &bit, 12);
                run = 585 + t;
            }
            else
            {
                t = get_bits(d, n, &bit, 4);
                if (t == 15 || t < 0)
                    break;             /* EOL (8 bits; a 12-bit EOL ends on the next nibble) */
                if (t == 14)
                    run = 0;
                else if (t < 8)
                {
                    long lo = get_bits(d, n, &bit, 12);

                    run = 4681 + (t << 12 | lo);
                    t = lo;
                }
                else
                    return afp_error_set(err, AFP_ERR_FORMAT, im->data_off + (int64_t) (bit / 8),
                                         "IPD", "invalid RL4 code word in line %ld", line + 1);
            }
            if (t < 0)
                break;
            if (black && row)
                set_run(row, x, x + (size_t) run > w ? w : x + (size_t) run);
            x += (size_t) run;
            black = !black;
        }
        if (len >= 4 && pos + len <= n)
            pos += len;        /* the line length, when plausible, says where the next starts */
        else
            pos = (bit + 7) / 8;
    }
    return AFP_OK;
}

/* Finds the SOF of a JPEG: components, width, height; Adobe APP14 (inverted CMYK). 0 if none. */
static int
jpeg_info(const uint8_t *d, size_t n, int *comps, unsigned *w, unsigned *h, int *adobe)
{
    size_t pos = 2;

    *adobe = 0;
    if (n < 4 || d[0] != 0xFF || d[1] != 0xD8)
        return 0;
    while (pos + 4 <= n)
    {
        uint8_t m;
        size_t len;

        if (d[pos] != 0xFF)
            return 0;
        m = d[pos + 1];
        if (m == 0xFF)
        {
            pos++;
            continue;
        }
        len = ((size_t) d[pos + 2] << 8) | d[pos + 3];
        if (len < 2 || pos + 2 + len > n)
            return 0;
        if (m == 0xEE && len >= 7 && memcmp(d + pos + 4, "Adobe", 5) == 0)
            *adobe = 1;
        if ((m >= 0xC0 && m <= 0xCF) && m != 0xC4 && m != 0xC8 && m != 0xCC && len >= 8)
        {
            *h = (unsigned) ((d[pos + 5] << 8) | d[pos + 6]);
            *w = (unsigned) ((d[pos + 7] << 8) | d[pos + 8]);
            *comps = d[pos + 9];
            return *w > 0 && *h > 0 && (*comps == 1 || *comps == 3 || *comps == 4);
        }
        pos += 2 + len;
    }
    return 0;
}

/* Writes a JPEG image XObject (DCTDecode, passed through); 0 if the data is not a JPEG. */
static int
jpeg_xobject(pdf_writer *w, const uint8_t *d, size_t n, pdf_image *img, const char *extra)
{
    int comps, adobe;
    unsigned jw = 0, jh = 0;
    char dict[256];

    if (!jpeg_info(d, n, &comps, &jw, &jh, &adobe))
        return 0;
    img->obj = pdfw_alloc(w);
    img->w = jw;
    img->h = jh;
    snprintf(dict, sizeof(dict), "/Type /XObject /Subtype /Image /Width %u /Height %u "
             "/ColorSpace %s /BitsPerComponent 8%s%s", jw, jh,
             comps == 1 ? "/DeviceGray" : comps == 3 ? "/DeviceRGB" : "/DeviceCMYK",
             comps == 4 && adobe ? " /Decode [1 0 1 0 1 0 1 0]" : "", extra ? extra : "");
    pdfw_stream(w, img->obj, dict, d, n, 0, "/DCTDecode");
    return 1;
}

/* JPEG bytes from an object container as an image; resolution from the JFIF APP0 density. */
int
pdf_jpeg_write(pdf_writer *w, const uint8_t *d, size_t n, pdf_image *img)
{
    memset(img, 0, sizeof(*img));
    if (!jpeg_xobject(w, d, n, img, NULL))
        return 0;
    if (n >= 18 && d[2] == 0xFF && d[3] == 0xE0 && memcmp(d + 6, "JFIF", 5) == 0)
    {
        unsigned xd = (unsigned) ((d[14] << 8) | d[15]), yd = (unsigned) ((d[16] << 8) | d[17]);

        if (d[13] == 1 && xd && yd)
            img->xres = xd, img->yres = yd;
        else if (d[13] == 2 && xd && yd)
            img->xres = xd * 2.54, img->yres = yd * 2.54;
    }
    return 1;
}

/* Converts YCbCr (or YCrCb) samples to RGB in place (JFIF full-range equations). */
static void
ycc_to_rgb(uint8_t *p, size_t pixels, int crcb)
{
    size_t i;

    for (i = 0; i < pixels; i++, p += 3)
    {
        double y = p[0], cb = (crcb ? p[2] : p[1]) - 128.0, cr = (crcb ? p[1] : p[2]) - 128.0;
        double c[3] = {y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb};
        int k;

        for (k = 0; k < 3; k++)
            p[k] = (uint8_t) (c[k] < 0 ? 0 : c[k] > 255 ? 255 : lround(c[k]));
    }
}

/* Copies src rows (srcw x srch pixels, bpp bits) over a dstw x dsth raster (replicate). */
static void
replicate(const uint8_t *src, size_t srcw, size_t srch, int bpp, uint8_t *dst, size_t dstw,
          size_t dsth)
{
    size_t srow = (srcw * (size_t) bpp + 7) / 8, drow = (dstw * (size_t) bpp + 7) / 8, y, x;

    memset(dst, 0, drow * dsth);
    for (y = 0; y < dsth; y++)
    {
        const uint8_t *s = src + (y % srch) * srow;
        uint8_t *t = dst + y * drow;

        if (bpp % 8 == 0)
        {
            size_t px = (size_t) bpp / 8;

            for (x = 0; x < dstw; x++)
                memcpy(t + x * px, s + (x % srcw) * px, px);
        }
        else
            for (x = 0; x < dstw * (size_t) bpp; x++)
            {
                size_t sx = x % (srcw * (size_t) bpp);

                if (s[sx >> 3] & (0x80 >> (sx & 7)))
                    t[x >> 3] |= (uint8_t) (0x80 >> (x & 7));
            }
    }
}

/* Writes a decoded raster as an image XObject. */
static void
write_raster(pdf_writer *w, ioca *im, pdf_image *img, const uint8_t *raw, size_t rawlen,
             size_t width, size_t height, int bpc, const char *cs, int mask, int invert)
{
    char dict[256];
    int ncomp = strcmp(cs, "/DeviceRGB") == 0 ? 3 : strcmp(cs, "/DeviceCMYK") == 0 ? 4 : 1;

    img->obj = pdfw_alloc(w);
    img->mask = mask;
    img->w = (double) width;
    img->h = (double) height;
    if (mask)
        snprintf(dict, sizeof(dict), "/Type /XObject /Subtype /Image /Width %zu /Height %zu "
                 "/ImageMask true /BitsPerComponent 1 /Decode [1 0]", width, height);
    else
        snprintf(dict, sizeof(dict), "/Type /XObject /Subtype /Image /Width %zu /Height %zu "
                 "/ColorSpace %s /BitsPerComponent %d%s%s", width, height, cs, bpc,
                 invert ? (ncomp == 1 ? " /Decode [1 0]" : ncomp == 3 ? " /Decode [1 0 1 0 1 0]"
                                                                     : " /Decode [1 0 1 0 1 0 1 0]")
                        : "", im->extra);
    pdfw_stream(w, img->obj, dict, raw, rawlen, 1, NULL);
}

/* Decodes and writes an uncompressed or RL4 image. */
static afp_status
write_decoded(pdf_writer *w, ioca *im, long tile_w, long tile_h, pdf_image *img, char *why,
              size_t whylen, afp_error *err)
{
    int bpp = im->idesz > 0 ? im->idesz : 1, crcb = im->format == 0x02;
    size_t width = im->hsize, height = im->vsize, rowbytes, need, k;
    const char *cs;
    int mask = 0, invert = 0, bpc = 8;
    afp_buf raw, rep;
    afp_status st = AFP_OK;

    if (im->bands > 1 || (im->bands == 1 && im->data.len == 0))
    {
        /* band-interleaved 8-bit planes → pixel-interleaved */
        size_t px = width * height, b;

        if (im->bands > 4 || px == 0 || px > MAX_RAW / 4)
        {
            set_why(why, whylen, "banded IOCA image layout not supported");
            return AFP_OK;
        }
        im->data.len = 0;
        afp_buf_reserve(&im->data, px * (size_t) im->bands);
        memset(im->data.data, 0xFF, px * (size_t) im->bands);
        for (b = 0; b < (size_t) im->bands; b++)
            for (k = 0; k < px && k < im->band[b].len; k++)
                im->data.data[k * (size_t) im->bands + b] = im->band[b].data[k];
        im->data.len = px * (size_t) im->bands;
        bpp = 8 * im->bands;
    }
    if (bpp == 1)
    {
        mask = 1;
        bpc = 1;
        cs = "";
    }
    else if (bpp == 4 || bpp == 8 || bpp == 16)
    {
        cs = "/DeviceGray";
        bpc = bpp;
        invert = im->asflag;
    }
    else if (bpp == 24)
        cs = "/DeviceRGB";
    else if (bpp == 32)
        cs = "/DeviceCMYK";
    else
    {
        set_why(why, whylen, "IOCA IDE size not supported");
        return AFP_OK;
    }
    if (width == 0 || height == 0 || width > 65535 || height > 65535)
        return afp_error_set(err, AFP_ERR_FORMAT, im->data_off, "IPD",
                             "IOCA image size %zu x %zu cannot be decoded (HSIZE and VSIZE are "
                             "required for this encoding)", width, height);
    rowbytes = (width * (size_t) bpp + 7) / 8;
    need = rowbytes * height;
    if (need > MAX_RAW)
        return afp_error_set(err, AFP_ERR_LIMIT, im->data_off, "IPD",
                             "IOCA image of %zu x %zu pels exceeds the size limit", width, height);
    afp_buf_init(&raw);
    afp_buf_init(&rep);
    afp_buf_reserve(&raw, need);
    raw.len = need;
    if (im->comprid == 0x06)
    {
        if (bpp != 1)
        {
            set_why(why, whylen, "RL4 is defined for bilevel images only");
            goto done;
        }
        if ((st = decode_rl4(im, &raw, rowbytes, err)) != AFP_OK)
            goto done;
    }
    else
    {
        size_t have = im->data.len;

        if (im->recid == 0x04 && (width * (size_t) bpp) % 8 != 0)
        {
            /* unpadded rows: re-pack onto byte boundaries */
            size_t y, bits = width * (size_t) bpp, x;

            memset(raw.data, 0, need);
            for (y = 0; y < height; y++)
                for (x = 0; x < bits; x++)
                {
                    size_t sbit = y * bits + x;

                    if (sbit / 8 < have && (im->data.data[sbit >> 3] & (0x80 >> (sbit & 7))))
                        raw.data[y * rowbytes + (x >> 3)] |= (uint8_t) (0x80 >> (x & 7));
                }
        }
        else
        {
            if (have < need && need - have > MAX_PAD)
            {
                st = afp_error_set(err, AFP_ERR_FORMAT, im->data_off, "IPD",
                                   "IOCA image data holds %zu bytes but %zu x %zu pels at %d bits "
                                   "need %zu", have, width, height, bpp, need);
                goto done;
            }
            memcpy(raw.data, im->data.data, have < need ? have : need);
            if (have < need)
                memset(raw.data + have, mask ? 0x00 : 0xFF, need - have);
        }
    }
    if (im->bitordr == 1 && bpp == 1)
        reverse_bits(raw.data, raw.len);
    if (im->recid == 0x03)
    {
        /* bottom-to-top: reverse the row order */
        uint8_t *tmp = afp_alloc(rowbytes);
        size_t y;

        for (y = 0; y < height / 2; y++)
        {
            memcpy(tmp, raw.data + y * rowbytes, rowbytes);
            memcpy(raw.data + y * rowbytes, raw.data + (height - 1 - y) * rowbytes, rowbytes);
            memcpy(raw.data + (height - 1 - y) * rowbytes, tmp, rowbytes);
        }
        afp_free(tmp);
    }
    if (mask && im->has_mask && im->mask_obj == -1 && im->mask_w == width && im->mask_h == height &&
        im->mask.len >= need)
    {
        /* a decoded transparency mask on a bilevel image: only pels of both are painted */
        size_t k2;

        for (k2 = 0; k2 < need; k2++)
            raw.data[k2] &= im->mask.data[k2];
    }
    if (bpp == 24 && (im->format == 0x02 || im->format == 0x12))
        ycc_to_rgb(raw.data, width * height, crcb);
    if (tile_w > 0 && tile_h > 0 && (size_t) tile_w * (size_t) tile_h * (size_t) bpp / 8 < MAX_RAW)
    {
        size_t tw = (size_t) tile_w, th = (size_t) tile_h;

        afp_buf_reserve(&rep, ((tw * (size_t) bpp + 7) / 8) * th);
        rep.len = ((tw * (size_t) bpp + 7) / 8) * th;
        replicate(raw.data, width, height, bpp, rep.data, tw, th);
        write_raster(w, im, img, rep.data, rep.len, tw, th, bpc, cs, mask, invert);
    }
    else
        write_raster(w, im, img, raw.data, raw.len, width, height, bpc, cs, mask, invert);
done:
    afp_buf_free(&raw);
    afp_buf_free(&rep);
    return st;
}

/* Decodes TIFF PackBits (X'0C') into out, at most limit bytes. */
static afp_status
decode_packbits(const ioca *im, afp_buf *out, size_t limit, afp_error *err)
{
    const uint8_t *d = im->data.data;
    size_t n = im->data.len, pos = 0;

    while (pos < n && out->len < limit)
    {
        int c = (int8_t) d[pos++];

        if (c >= 0)
        {
            size_t k = (size_t) c + 1;

            if (k > n - pos)
                return afp_error_set(err, AFP_ERR_FORMAT, im->data_off + (int64_t) pos, "IPD",
                                     "TIFF PackBits literal run of %zu bytes runs past the end of "
                                     "the image data", k);
            afp_buf_append(out, d + pos, k);
            pos += k;
        }
        else if (c != -128)
        {
            size_t k = (size_t) (1 - c), i;

            if (pos >= n)
                return afp_error_set(err, AFP_ERR_FORMAT, im->data_off + (int64_t) pos, "IPD",
                                     "TIFF PackBits repeat run without its byte at the end of the "
                                     "image data");
            for (i = 0; i < k; i++)
                afp_buf_putc(out, d[pos]);
            pos++;
        }
    }
    return AFP_OK;
}

/* Decodes TIFF LZW (X'0D'/X'0E': 9-12 bit codes, MSB first, early change) into out, at most
 * limit bytes. */
static afp_status
decode_lzw(const ioca *im, afp_buf *out, size_t limit, afp_error *err)
{
    const uint8_t *d = im->data.data;
    size_t n = im->data.len, bit = 0;
    uint16_t *prefix = afp_alloc(4096 * sizeof(uint16_t)), *length = afp_alloc(4096 * sizeof(uint16_t));
    uint8_t *suffix = afp_alloc(4096), *first = afp_alloc(4096), stack[4096];
    int width = 9, next = 258, old = -1, k;
    afp_status st = AFP_OK;

    for (k = 0; k < 256; k++)
    {
        prefix[k] = 0;
        suffix[k] = first[k] = (uint8_t) k;
        length[k] = 1;
    }
    while (out->len < limit)
    {
        long code = get_bits(d, n, &bit, width);
        int c, len, i;

        if (code < 0 || code == 257)
            break;             /* end of the data, or End of Information */
        if (code == 256)
        {
            width = 9;
            next = 258;
            old = -1;
            continue;
        }
        c = (int) code;
        if (old < 0)
        {
            if (c > 255)
            {
                st = afp_error_set(err, AFP_ERR_FORMAT, im->data_off + (int64_t) (bit / 8), "IPD",
                                   "TIFF LZW data: code %d before any string", c);
                break;
            }
            afp_buf_putc(out, (uint8_t) c);
            old = c;
            continue;
        }
        if (c > next || (c == next && next >= 4096))
        {
            st = afp_error_set(err, AFP_ERR_FORMAT, im->data_off + (int64_t) (bit / 8), "IPD",
                               "TIFF LZW data: invalid code %d (next free code %d)", c, next);
            break;
        }
        if (next < 4096)
        {
            prefix[next] = (uint16_t) old;
            first[next] = first[old];
            suffix[next] = c == next ? first[old] : first[c];
            length[next] = (uint16_t) (length[old] + 1);
            next++;
            if (next >= (1 << width) - 1 && width < 12)
                width++;
        }
        /* the string of c, built backwards */
        len = length[c];
        for (i = len - 1, k = c; i >= 0; i--, k = prefix[k])
            stack[i] = suffix[k];
        afp_buf_append(out, stack, (size_t) len);
        old = c;
    }
    afp_free(prefix);
    afp_free(length);
    afp_free(suffix);
    afp_free(first);
    return st;
}

/* Decodes a PackBits or LZW image into uncompressed RIDIC data (im->data replaced). */
static afp_status
decode_to_raw(ioca *im, char *why, size_t whylen, afp_error *err)
{
    int bpp = im->bands > 1 ? 8 * im->bands : (im->idesz > 0 ? im->idesz : 1);
    size_t rowbytes = ((size_t) im->hsize * (size_t) bpp + 7) / 8, need = rowbytes * im->vsize;
    afp_buf out;
    afp_status st;

    if (im->hsize == 0 || im->vsize == 0 || need > MAX_RAW)
        return afp_error_set(err, im->hsize && im->vsize ? AFP_ERR_LIMIT : AFP_ERR_FORMAT,
                             im->data_off, "IPD", "IOCA image size %u x %u cannot be decoded",
                             im->hsize, im->vsize);
    if (im->comprid == 0x0E && bpp % 8 != 0)
    {
        set_why(why, whylen, "TIFF LZW with the differencing predictor on images of less than 8 "
                "bits per pel is not supported");
        return AFP_OK;
    }
    afp_buf_init(&out);
    st = im->comprid == 0x0C ? decode_packbits(im, &out, need, err) : decode_lzw(im, &out, need, err);
    if (st == AFP_OK && im->comprid == 0x0E)
    {
        /* horizontal differencing: each sample adds the one of the pel to its left */
        size_t comps = (size_t) bpp / 8, y, x;

        for (y = 0; y < im->vsize && (y + 1) * rowbytes <= out.len; y++)
            for (x = comps; x < rowbytes; x++)
                out.data[y * rowbytes + x] = (uint8_t) (out.data[y * rowbytes + x] +
                                                        out.data[y * rowbytes + x - comps]);
    }
    if (st == AFP_OK)
    {
        afp_buf_free(&im->data);
        im->data = out;
        im->comprid = 0x03;
        if (im->recid != 0x03)
            im->recid = 0x01;
        im->bands = im->bands > 1 ? 0 : im->bands;
    }
    else
        afp_buf_free(&out);
    return st;
}

/* The name of an IOCA compression algorithm (ioca-reference-09 Appendix A). */
static const char *
compression_name(int id)
{
    switch (id)
    {
        case 0x01: return "IBM MMR";
        case 0x08: return "ABIC (Bilevel Q-Coder)";
        case 0x0A: return "Concatenated ABIC";
        case 0x0B: return "OS/2 Image Support colour compression";
        case 0x20: return "Solid Fill Rectangle";
        case 0x84: return "JBIG2";
        case 0xFE: return "user-defined";
        default: return "unknown or retired";
    }
}

/* CCITT fax dictionary entries for a compression (G4, G3 MH/MR, TIFF algorithm 2); NULL if
 * the compression is not a fax code. */
static const char *
ccitt_parms(int comprid)
{
    switch (comprid)
    {
        case 0x82: return "/K -1";
        case 0x80: return "/K 0";
        case 0x81: return "/K 1";
        case 0x09: return "/K 0 /EncodedByteAlign true";
        default: return NULL;
    }
}

/* Writes the transparency mask of u as a stencil /Mask image (u->extra); decoded masks are also
 * kept in u->mask (u->mask_obj -1) so bilevel images can AND them. */
static void
write_mask(pdf_writer *w, ioca *u, afp_error *err)
{
    char dict[256];
    const char *fax = ccitt_parms(u->mask_compr);
    size_t mw = u->mask_w, mh = u->mask_h, rowbytes = (mw + 7) / 8;
    int obj;

    if (!u->has_mask || u->mask.len == 0 || mw == 0 || mh == 0 || rowbytes * mh > MAX_RAW)
        return;
    if (u->mask_bitordr == 1)
        reverse_bits(u->mask.data, u->mask.len);
    if (fax)
    {
        obj = pdfw_alloc(w);
        snprintf(dict, sizeof(dict), "/Type /XObject /Subtype /Image /Width %zu /Height %zu "
                 "/ImageMask true /BitsPerComponent 1 /DecodeParms << %s /Columns %zu /Rows %zu >>",
                 mw, mh, fax, mw, mh);
        pdfw_stream(w, obj, dict, u->mask.data, u->mask.len, 0, "/CCITTFaxDecode");
    }
    else if (u->mask_compr == 0x03 || u->mask_compr == 0x06)
    {
        afp_buf raw;

        afp_buf_init(&raw);
        afp_buf_reserve(&raw, rowbytes * mh);
        raw.len = rowbytes * mh;
        memset(raw.data, 0, raw.len);
        if (u->mask_compr == 0x06)
        {
            ioca tmp;

            memset(&tmp, 0, sizeof(tmp));
            tmp.data = u->mask;
            tmp.hsize = (unsigned) mw;
            tmp.vsize = (unsigned) mh;
            tmp.data_off = u->mask_off;
            if (decode_rl4(&tmp, &raw, rowbytes, err) != AFP_OK)
            {
                afp_buf_free(&raw);
                return;        /* a damaged mask: the image is drawn without it */
            }
        }
        else
            memcpy(raw.data, u->mask.data, u->mask.len < raw.len ? u->mask.len : raw.len);
        obj = pdfw_alloc(w);
        snprintf(dict, sizeof(dict), "/Type /XObject /Subtype /Image /Width %zu /Height %zu "
                 "/ImageMask true /BitsPerComponent 1 /Decode [1 0]", mw, mh);
        pdfw_stream(w, obj, dict, raw.data, raw.len, 1, NULL);
        afp_buf_free(&u->mask);
        u->mask = raw;
        u->mask_obj = -1;      /* decoded: available for AND */
        snprintf(u->extra, sizeof(u->extra), " /Mask %d 0 R", obj);
        return;
    }
    else
        return;
    snprintf(u->extra, sizeof(u->extra), " /Mask %d 0 R", obj);
}

/* Writes one image unit (an untiled image or a tile) as an image XObject. */
static afp_status
write_unit(pdf_writer *w, ioca *u, long tile_w, long tile_h, pdf_image *img, char *why,
           size_t whylen, afp_error *err)
{
    afp_status st = AFP_OK;
    const char *fax = ccitt_parms(u->comprid);

    img->xres = u->hres ? (u->unitbase == 0x01 ? u->hres * 2.54 / 10 : u->hres / 10.0) : 0;
    img->yres = u->vres ? (u->unitbase == 0x01 ? u->vres * 2.54 / 10 : u->vres / 10.0) : 0;
    img->has_color = u->color_set;
    memcpy(img->rgb, u->rgb, sizeof(img->rgb));
    if (u->include_tile)
    {
        set_why(why, whylen, "IOCA tiles that include tile resources (Include Tile X'FEB8') are "
                "not supported");
        img->unsupported = 1;
        return AFP_OK;
    }
    if (u->data.len == 0 && u->bands == 0)
    {
        set_why(why, whylen, "the IOCA image holds no image data");
        return AFP_OK;
    }
    write_mask(w, u, err);
    if (fax)
    {
        char dict[320];

        if (u->hsize == 0 || u->vsize == 0)
            return afp_error_set(err, AFP_ERR_FORMAT, u->data_off, "IPD",
                                 "IOCA fax-coded (X'%02X') image without HSIZE/VSIZE in its Image "
                                 "Size parameter", u->comprid);
        img->obj = pdfw_alloc(w);
        img->mask = 1;
        img->w = u->hsize;
        img->h = u->vsize;
        snprintf(dict, sizeof(dict), "/Type /XObject /Subtype /Image /Width %u /Height %u "
                 "/ImageMask true /BitsPerComponent 1 /DecodeParms << %s /Columns %u "
                 "/Rows %u >>", u->hsize, u->vsize, fax, u->hsize, u->vsize);
        if (u->bitordr == 1)
            reverse_bits(u->data.data, u->data.len);
        pdfw_stream(w, img->obj, dict, u->data.data, u->data.len, 0, "/CCITTFaxDecode");
        img->mask_ignored = u->has_mask;   /* a stencil mask cannot carry a /Mask */
        return AFP_OK;
    }
    switch (u->comprid)
    {
        case 0x83:     /* JPEG: passed through */
            if (!jpeg_xobject(w, u->data.data, u->data.len, img, u->extra))
                st = afp_error_set(err, AFP_ERR_FORMAT, u->data_off, "IPD",
                                   "IOCA JPEG image data has no readable JPEG frame header");
            break;
        case 0x0C:     /* TIFF PackBits */
        case 0x0D:     /* TIFF LZW */
        case 0x0E:     /* TIFF LZW with the differencing predictor */
            st = decode_to_raw(u, why, whylen, err);
            if (st == AFP_OK && u->comprid == 0x03)
                st = write_decoded(w, u, tile_w, tile_h, img, why, whylen, err);
            break;
        case 0x03:     /* none */
        case 0x06:     /* RL4 */
            st = write_decoded(w, u, tile_w, tile_h, img, why, whylen, err);
            break;
        default:
        {
            char msg[120];

            snprintf(msg, sizeof(msg), "IOCA compression X'%02X' (%s) is not supported", u->comprid,
                     compression_name(u->comprid));
            set_why(why, whylen, msg);
            img->unsupported = 1;
            break;
        }
    }
    return st;
}

/* Writes a tiled image: every tile as an image XObject, placed in a form XObject over the unit
 * square (the image presentation space, y up like an image XObject). */
static afp_status
write_tiled(pdf_writer *w, ioca *im, ioca *tiles, size_t ntiles, pdf_image *img, char *why,
            size_t whylen, afp_error *err)
{
    afp_buf cs, res;
    size_t i;
    afp_status st = AFP_OK;
    double W = im->hsize, H = im->vsize;
    int drawn = 0;

    if (W <= 0 || H <= 0)
        return afp_error_set(err, AFP_ERR_FORMAT, im->data_off, "IPD",
                             "tiled IOCA image without its size (Image Size in the IDD or the "
                             "image content)");
    afp_buf_init(&cs);
    afp_buf_init(&res);
    for (i = 0; i < ntiles && st == AFP_OK; i++)
    {
        ioca *t = &tiles[i];
        pdf_image ti;
        char twhy[160] = "";
        double sw, sh;
        const double *rgb = t->color_set ? t->rgb : im->color_set ? im->rgb : NULL;

        memset(&ti, 0, sizeof(ti));
        if (t->hsize == 0 || t->vsize == 0)
            continue;          /* an empty tile (or without its Tile Size) */
        sw = t->hsize * (double) t->relres;
        sh = t->vsize * (double) t->relres;
        afp_buf_printf(&cs, "q ");
        pdf_num(&cs, sw / W);
        afp_buf_printf(&cs, " 0 0 ");
        pdf_num(&cs, sh / H);
        afp_buf_putc(&cs, ' ');
        pdf_num(&cs, t->tx / W);
        afp_buf_putc(&cs, ' ');
        pdf_num(&cs, 1 - (t->ty + sh) / H);
        afp_buf_printf(&cs, " cm ");
        if (rgb)
        {
            pdf_num(&cs, rgb[0]);
            afp_buf_putc(&cs, ' ');
            pdf_num(&cs, rgb[1]);
            afp_buf_putc(&cs, ' ');
            pdf_num(&cs, rgb[2]);
            afp_buf_printf(&cs, " rg ");
        }
        else
            afp_buf_printf(&cs, "0 g ");
        if (t->comprid == 0x20)
        {
            /* Solid Fill Rectangle: the whole tile in its colour */
            afp_buf_printf(&cs, "0 0 1 1 re f Q\n");
            drawn++;
            continue;
        }
        st = write_unit(w, t, 0, 0, &ti, twhy, sizeof(twhy), err);
        if (st == AFP_OK && ti.obj == 0 && ti.unsupported)
        {
            snprintf(why, whylen, "tile %zu: %s", i + 1, twhy);
            img->unsupported = 1;
            break;
        }
        if (st != AFP_OK || ti.obj == 0)
        {
            afp_buf_printf(&cs, "Q\n");
            continue;
        }
        afp_buf_printf(&cs, "/T%zu Do Q\n", i + 1);
        afp_buf_printf(&res, "/T%zu %d 0 R ", i + 1, ti.obj);
        drawn++;
    }
    if (st == AFP_OK && !img->unsupported)
    {
        afp_buf d;

        if (drawn == 0)
            set_why(why, whylen, "the tiled IOCA image has no tile with image data");
        else
        {
            afp_buf_init(&d);
            afp_buf_printf(&d, "/Type /XObject /Subtype /Form /BBox [0 0 1 1] /Resources << "
                           "/XObject << ");
            afp_buf_append(&d, res.data, res.len);
            afp_buf_printf(&d, ">> >>");
            img->obj = pdfw_alloc(w);
            img->w = W;
            img->h = H;
            img->mask = 0;
            img->xres = im->hres ? (im->unitbase == 0x01 ? im->hres * 2.54 / 10 : im->hres / 10.0) : 0;
            img->yres = im->vres ? (im->unitbase == 0x01 ? im->vres * 2.54 / 10 : im->vres / 10.0) : 0;
            pdfw_stream(w, img->obj, afp_buf_cstr(&d), cs.data, cs.len, 1, NULL);
            afp_buf_free(&d);
        }
    }
    afp_buf_free(&cs);
    afp_buf_free(&res);
    return st;
}

/* Decodes IOCA content and writes the image XObject. */
afp_status
pdf_ioca_write(pdf_writer *w, const uint8_t *idd, size_t idd_len, const uint8_t *d, size_t n,
               const afp_ptx_seg *segs, size_t nsegs, long tile_w, long tile_h, pdf_image *img,
               char *why, size_t whylen, afp_error *err)
{
    ioca im, *tiles = NULL;
    size_t ntiles = 0, i;
    afp_status st;
    int k;

    memset(img, 0, sizeof(*img));
    memset(&im, 0, sizeof(im));
    im.comprid = 0x03;
    im.recid = 0x01;
    im.idesz = 1;
    im.format = -1;
    im.relres = 1;
    afp_buf_init(&im.data);
    afp_buf_init(&im.mask);
    for (k = 0; k < 4; k++)
        afp_buf_init(&im.band[k]);
    if (idd)
        parse_idd(&im, idd, idd_len);
    st = parse_content(&im, &tiles, &ntiles, d, n, segs, nsegs, err);
    if (st == AFP_OK && im.tiles != 0)
        st = write_tiled(w, &im, tiles, ntiles, img, why, whylen, err);
    else if (st == AFP_OK)
        st = write_unit(w, &im, tile_w, tile_h, img, why, whylen, err);
    unit_free(&im);
    for (i = 0; i < ntiles; i++)
        unit_free(&tiles[i]);
    afp_free(tiles);
    return st;
}
