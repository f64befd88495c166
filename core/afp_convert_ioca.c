/*
 * afp_convert_ioca.c — IOCA image content (ioca-reference-09 Chapter 5) to PDF image XObjects.
 *
 * The IPD data of one image is joined into one stream before it is parsed (real files split it
 * anywhere, even one self-defining field per IPD). Parameters read: Image Size (X'94'), Image
 * Encoding (X'95'), IDE Size (X'96'), IDE Structure (X'9B'), Band Image (X'98'), Image Data
 * (X'FE92'), Band Image Data (X'FE9C'); the IDD supplies the defaults (size, resolution) and the
 * bilevel colour (X'F6' named, X'F4' extended).
 *
 * Encodings: JPEG (X'83') passes through as DCTDecode (components and size from its SOF),
 * G4 MMR (X'82') as CCITTFaxDecode K=-1; uncompressed (X'03') and RL4 (X'06') data are
 * decoded and written with Flate. Bilevel images become stencil masks painted in the bilevel
 * colour (IOCA: B'1' is a toned pel, B'0' is not painted); grey (YCbCr/YCrCb Y only) DeviceGray;
 * RGB DeviceRGB; YCbCr/YCrCb 24-bit converted to RGB; CMYK DeviceCMYK. Tiled images (FS45) and
 * the other encodings (IBM MMR, ABIC, LZW, JBIG2 …) are reported as unsupported.
 */
#include "afp_pdf_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_PAD ((size_t) 16 << 20)         /* missing image data we are willing to make up */
#define MAX_RAW ((size_t) 256 << 20)        /* decoded image size limit */

/* What the image content declares. */
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

/* Parses the joined image content into im. */
static afp_status
parse_content(ioca *im, const uint8_t *d, size_t n, const afp_ptx_seg *segs, size_t nsegs,
              afp_error *err)
{
    size_t pos = 0;

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

            if (id2 == 0x92)
            {
                if (im->data.len == 0)
                    im->data_off = pdf_seg_offset(segs, nsegs, pos);
                afp_buf_append(&im->data, p, len);
            }
            else if (id2 == 0x9C && len >= 3)
            {
                unsigned b = p[0] ? p[0] - 1u : 0;   /* band numbers count from 1 */

                if (b < 4)
                    afp_buf_append(&im->band[b], p + 3, len - 3);
                if (im->data_off == 0)
                    im->data_off = pdf_seg_offset(segs, nsegs, pos);
            }
        }
        else
        {
            switch (id)
            {
                case 0x94:     /* Image Size */
                    if (len >= 9)
                    {
                        im->unitbase = p[0];
                        im->hres = (unsigned) ((p[1] << 8) | p[2]);
                        im->vres = (unsigned) ((p[3] << 8) | p[4]);
                        im->hsize = (unsigned) ((p[5] << 8) | p[6]);
                        im->vsize = (unsigned) ((p[7] << 8) | p[8]);
                    }
                    break;
                case 0x95:     /* Image Encoding */
                    if (len >= 1)
                        im->comprid = p[0];
                    if (len >= 2)
                        im->recid = p[1];
                    if (len >= 3)
                        im->bitordr = p[2];
                    break;
                case 0x96:     /* IDE Size */
                    if (len >= 1)
                        im->idesz = p[0];
                    break;
                case 0x98:     /* Band Image */
                    if (len >= 1)
                        im->bands = p[0];
                    break;
                case 0x9B:     /* IDE Structure */
                    if (len >= 6)
                    {
                        int k;

                        im->asflag = (p[0] & 0x80) != 0;
                        im->format = p[1];
                        im->nsize = 0;
                        for (k = 0; k < 4 && 5 + k < (int) len; k++)
                            im->sizes[im->nsize++] = p[5 + k];
                    }
                    break;
                case 0x8C:     /* Begin Tile */
                    im->tiles++;
                    break;
                case 0xF6:
                case 0xF4:
                    bilevel_color(im, id, p, len);
                    break;
                default:       /* segments, image content, LUT-ID, tile/mask parameters, … */
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
jpeg_xobject(pdf_writer *w, const uint8_t *d, size_t n, pdf_image *img)
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
             "/ColorSpace %s /BitsPerComponent 8%s", jw, jh,
             comps == 1 ? "/DeviceGray" : comps == 3 ? "/DeviceRGB" : "/DeviceCMYK",
             comps == 4 && adobe ? " /Decode [1 0 1 0 1 0 1 0]" : "");
    pdfw_stream(w, img->obj, dict, d, n, 0, "/DCTDecode");
    return 1;
}

/* JPEG bytes from an object container as an image; resolution from the JFIF APP0 density. */
int
pdf_jpeg_write(pdf_writer *w, const uint8_t *d, size_t n, pdf_image *img)
{
    memset(img, 0, sizeof(*img));
    if (!jpeg_xobject(w, d, n, img))
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
                 "/ColorSpace %s /BitsPerComponent %d%s", width, height, cs, bpc,
                 invert ? (ncomp == 1 ? " /Decode [1 0]" : ncomp == 3 ? " /Decode [1 0 1 0 1 0]"
                                                                     : " /Decode [1 0 1 0 1 0 1 0]")
                        : "");
    pdfw_stream(w, img->obj, dict, raw, rawlen, 1, NULL);
    (void) im;
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

/* Decodes IOCA content and writes the image XObject. */
afp_status
pdf_ioca_write(pdf_writer *w, const uint8_t *idd, size_t idd_len, const uint8_t *d, size_t n,
               const afp_ptx_seg *segs, size_t nsegs, long tile_w, long tile_h, pdf_image *img,
               char *why, size_t whylen, afp_error *err)
{
    ioca im;
    afp_status st;
    int k;

    memset(img, 0, sizeof(*img));
    memset(&im, 0, sizeof(im));
    im.comprid = 0x03;
    im.recid = 0x01;
    im.idesz = 1;
    im.format = -1;
    afp_buf_init(&im.data);
    for (k = 0; k < 4; k++)
        afp_buf_init(&im.band[k]);
    if (idd)
        parse_idd(&im, idd, idd_len);
    st = parse_content(&im, d, n, segs, nsegs, err);
    if (st != AFP_OK)
        goto done;
    img->xres = im.hres ? (im.unitbase == 0x01 ? im.hres * 2.54 / 10 : im.hres / 10.0) : 0;
    img->yres = im.vres ? (im.unitbase == 0x01 ? im.vres * 2.54 / 10 : im.vres / 10.0) : 0;
    img->has_color = im.color_set;
    memcpy(img->rgb, im.rgb, sizeof(img->rgb));
    if (im.tiles > 0)
    {
        set_why(why, whylen, "tiled IOCA images (FS45) are not supported yet");
        goto done;
    }
    if (im.data.len == 0 && im.bands == 0)
    {
        set_why(why, whylen, "the IOCA image holds no image data");
        goto done;
    }
    switch (im.comprid)
    {
        case 0x83:     /* JPEG: passed through */
            if (!jpeg_xobject(w, im.data.data, im.data.len, img))
                st = afp_error_set(err, AFP_ERR_FORMAT, im.data_off, "IPD",
                                   "IOCA JPEG image data has no readable JPEG frame header");
            break;
        case 0x82:     /* G4 MMR: passed through */
        {
            char dict[320];

            if (im.hsize == 0 || im.vsize == 0)
            {
                st = afp_error_set(err, AFP_ERR_FORMAT, im.data_off, "IPD",
                                   "IOCA G4 image without HSIZE/VSIZE in its Image Size parameter");
                goto done;
            }
            img->obj = pdfw_alloc(w);
            img->mask = 1;
            img->w = im.hsize;
            img->h = im.vsize;
            snprintf(dict, sizeof(dict), "/Type /XObject /Subtype /Image /Width %u /Height %u "
                     "/ImageMask true /BitsPerComponent 1 /DecodeParms << /K -1 /Columns %u "
                     "/Rows %u >>", im.hsize, im.vsize, im.hsize, im.vsize);
            if (im.bitordr == 1)
                reverse_bits(im.data.data, im.data.len);
            pdfw_stream(w, img->obj, dict, im.data.data, im.data.len, 0, "/CCITTFaxDecode");
            break;
        }
        case 0x03:     /* none */
        case 0x06:     /* RL4 */
            st = write_decoded(w, &im, tile_w, tile_h, img, why, whylen, err);
            break;
        default:
        {
            char msg[96];

            snprintf(msg, sizeof(msg), "IOCA compression X'%02X' is not supported", im.comprid);
            set_why(why, whylen, msg);
            break;
        }
    }
done:
    afp_buf_free(&im.data);
    for (k = 0; k < 4; k++)
        afp_buf_free(&im.band[k]);
    return st;
}
