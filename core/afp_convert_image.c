/*
 * afp_convert_image.c — PNG and TIFF object containers (BOC/OCD, included by IOB or carried in
 * a page segment, or raw files from the resource resolver) as PDF image XObjects.
 *
 * PNG is decoded with libpng's simplified API (any bit depth, palette, interlace, tRNS) into
 * 8-bit grey or RGB; an alpha channel becomes a /SMask (DeviceGray) of the image. The pHYs
 * chunk gives the resolution. TIFF is decoded with libtiff (Debian libtiff-dev) from memory:
 * the first image of the file, through TIFFReadRGBAImageOriented (every photometric and
 * compression libtiff reads: bilevel, grey, palette, RGB, CMYK, YCbCr; none, PackBits, LZW,
 * Deflate, CCITT G3/G4, JPEG), written as grey when every pel is grey, else RGB, with an /SMask
 * when the file has an alpha channel; XResolution/YResolution give the resolution. Decoded
 * images are Flate-compressed. Damaged data fails with AFP_ERR_FORMAT, the byte offset of the
 * object and the library's message; an image larger than 64 M pels with AFP_ERR_LIMIT.
 */
#include "afp_pdf_int.h"

#include <png.h>
#include <tiffio.h>

#include <stdio.h>
#include <string.h>

#define MAX_PELS ((size_t) 64 << 20)

/* Writes 8-bit samples (ncomp 1 or 3) and an optional alpha plane as an image with /SMask. */
static void
write_8bit(pdf_writer *w, pdf_image *img, const uint8_t *pix, const uint8_t *alpha,
           size_t width, size_t height, int ncomp)
{
    char dict[256];
    int smask = 0;

    if (alpha)
    {
        size_t i, n = width * height;

        for (i = 0; i < n && alpha[i] == 0xFF; i++)
            ;
        if (i < n)             /* some pel is not opaque */
        {
            smask = pdfw_alloc(w);
            snprintf(dict, sizeof(dict), "/Type /XObject /Subtype /Image /Width %zu /Height %zu "
                     "/ColorSpace /DeviceGray /BitsPerComponent 8", width, height);
            pdfw_stream(w, smask, dict, alpha, n, 1, NULL);
        }
    }
    img->obj = pdfw_alloc(w);
    img->w = (double) width;
    img->h = (double) height;
    if (smask)
        snprintf(dict, sizeof(dict), "/Type /XObject /Subtype /Image /Width %zu /Height %zu "
                 "/ColorSpace %s /BitsPerComponent 8 /SMask %d 0 R", width, height,
                 ncomp == 1 ? "/DeviceGray" : "/DeviceRGB", smask);
    else
        snprintf(dict, sizeof(dict), "/Type /XObject /Subtype /Image /Width %zu /Height %zu "
                 "/ColorSpace %s /BitsPerComponent 8", width, height,
                 ncomp == 1 ? "/DeviceGray" : "/DeviceRGB");
    pdfw_stream(w, img->obj, dict, pix, width * height * (size_t) ncomp, 1, NULL);
}

/* The pHYs chunk of a PNG (pixels per metre → per inch); 0 when absent. */
static void
png_resolution(const uint8_t *d, size_t n, pdf_image *img)
{
    size_t pos = 8;

    while (pos + 12 <= n)
    {
        size_t len = ((size_t) d[pos] << 24) | ((size_t) d[pos + 1] << 16) |
                     ((size_t) d[pos + 2] << 8) | d[pos + 3];

        if (len > n - pos - 12)
            return;
        if (memcmp(d + pos + 4, "pHYs", 4) == 0 && len >= 9 && d[pos + 16] == 1)
        {
            const uint8_t *p = d + pos + 8;
            double x = (double) (((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
                                 ((uint32_t) p[2] << 8) | p[3]);
            double y = (double) (((uint32_t) p[4] << 24) | ((uint32_t) p[5] << 16) |
                                 ((uint32_t) p[6] << 8) | p[7]);

            if (x > 0 && y > 0)
            {
                img->xres = x * 0.0254;
                img->yres = y * 0.0254;
            }
            return;
        }
        if (memcmp(d + pos + 4, "IDAT", 4) == 0)
            return;
        pos += 12 + len;
    }
}

/* Decodes a PNG with libpng and writes it (with /SMask for alpha); *done 0 if not a PNG. */
afp_status
pdf_png_write(pdf_writer *w, const uint8_t *d, size_t n, int64_t offset, pdf_image *img,
              int *done, afp_error *err)
{
    png_image pi;
    uint8_t *buf = NULL, *pix = NULL, *alpha = NULL;
    size_t width, height, px, i;
    int ncomp, has_alpha;
    afp_status st = AFP_OK;

    *done = 0;
    if (n < 8 || png_sig_cmp((png_const_bytep) d, 0, 8) != 0)
        return AFP_OK;
    memset(img, 0, sizeof(*img));
    memset(&pi, 0, sizeof(pi));
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&pi, d, n))
        return afp_error_set(err, AFP_ERR_FORMAT, offset, "BOC", "PNG object container: %s",
                             pi.message);
    width = pi.width;
    height = pi.height;
    if (width == 0 || height == 0 || width > MAX_PELS / height)
    {
        png_image_free(&pi);
        return afp_error_set(err, AFP_ERR_LIMIT, offset, "BOC",
                             "PNG object container of %zu x %zu pels exceeds the size limit",
                             width, height);
    }
    has_alpha = (pi.format & PNG_FORMAT_FLAG_ALPHA) != 0;
    ncomp = (pi.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
    pi.format = (ncomp == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY) | (has_alpha ? PNG_FORMAT_FLAG_ALPHA : 0);
    px = width * height;
    buf = afp_alloc(PNG_IMAGE_SIZE(pi));
    if (!png_image_finish_read(&pi, NULL, buf, 0, NULL))
    {
        st = afp_error_set(err, AFP_ERR_FORMAT, offset, "BOC", "PNG object container: %s",
                           pi.message);
        png_image_free(&pi);
        afp_free(buf);
        return st;
    }
    if (has_alpha)
    {
        int step = ncomp + 1, k;

        pix = afp_alloc(px * (size_t) ncomp);
        alpha = afp_alloc(px);
        for (i = 0; i < px; i++)
        {
            for (k = 0; k < ncomp; k++)
                pix[i * (size_t) ncomp + (size_t) k] = buf[i * (size_t) step + (size_t) k];
            alpha[i] = buf[i * (size_t) step + (size_t) ncomp];
        }
        write_8bit(w, img, pix, alpha, width, height, ncomp);
        afp_free(pix);
        afp_free(alpha);
    }
    else
        write_8bit(w, img, buf, NULL, width, height, ncomp);
    afp_free(buf);
    png_resolution(d, n, img);
    *done = 1;
    return AFP_OK;
}

/* ------------------------------------------------------------------ TIFF from memory */

/* A TIFF being read from memory, and the first error libtiff reported. */
typedef struct tiff_mem {
    const uint8_t *d;
    size_t n, pos;
    char msg[200];
} tiff_mem;

/* libtiff read procedure. */
static tmsize_t
tm_read(thandle_t h, void *buf, tmsize_t size)
{
    tiff_mem *m = (tiff_mem *) h;
    size_t k = size < 0 ? 0 : (size_t) size;

    if (m->pos >= m->n)
        return 0;
    if (k > m->n - m->pos)
        k = m->n - m->pos;
    memcpy(buf, m->d + m->pos, k);
    m->pos += k;
    return (tmsize_t) k;
}

/* libtiff write procedure: read-only. */
static tmsize_t
tm_write(thandle_t h, void *buf, tmsize_t size)
{
    (void) h;
    (void) buf;
    (void) size;
    return -1;
}

/* libtiff seek procedure. */
static toff_t
tm_seek(thandle_t h, toff_t off, int whence)
{
    tiff_mem *m = (tiff_mem *) h;
    uint64_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->n : 0;

    if (base + off > m->n)
        return (toff_t) -1;
    m->pos = (size_t) (base + off);
    return (toff_t) m->pos;
}

/* libtiff close procedure. */
static int
tm_close(thandle_t h)
{
    (void) h;
    return 0;
}

/* libtiff size procedure. */
static toff_t
tm_size(thandle_t h)
{
    return (toff_t) ((tiff_mem *) h)->n;
}

/* libtiff map procedure: not mapped. */
static int
tm_map(thandle_t h, void **base, toff_t *size)
{
    (void) h;
    (void) base;
    (void) size;
    return 0;
}

/* libtiff unmap procedure. */
static void
tm_unmap(thandle_t h, void *base, toff_t size)
{
    (void) h;
    (void) base;
    (void) size;
}

/* libtiff error handler of this open: keeps the first message (nothing goes to stderr). The
 * format comes from libtiff, whose handler type has no format attribute. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wsuggest-attribute=format"
#endif
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
static int
tm_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    tiff_mem *m = (tiff_mem *) user;

    (void) tif;
    (void) module;
    if (m->msg[0] == '\0')
        vsnprintf(m->msg, sizeof(m->msg), fmt, ap);
    return 1;
}
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* libtiff warning handler of this open: ignored. */
static int
tm_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap)
{
    (void) tif;
    (void) user;
    (void) module;
    (void) fmt;
    (void) ap;
    return 1;
}

/* Decodes the first image of a TIFF with libtiff and writes it; *done 0 if not a TIFF. */
afp_status
pdf_tiff_write(pdf_writer *w, const uint8_t *d, size_t n, int64_t offset, pdf_image *img,
               int *done, afp_error *err)
{
    tiff_mem m;
    TIFFOpenOptions *oo;
    TIFF *tif;
    uint32_t tw = 0, th = 0;
    uint16_t extra = 0, *extra_types = NULL, unit = RESUNIT_INCH;
    float xr = 0, yr = 0;
    uint32_t *raster;
    uint8_t *pix, *alpha = NULL;
    size_t px, i;
    int grey = 1, has_alpha;
    afp_status st = AFP_OK;

    *done = 0;
    if (n < 8 || !((d[0] == 'I' && d[1] == 'I' && (d[2] == 42 || d[2] == 43) && d[3] == 0) ||
                   (d[0] == 'M' && d[1] == 'M' && d[2] == 0 && (d[3] == 42 || d[3] == 43))))
        return AFP_OK;
    memset(img, 0, sizeof(*img));
    memset(&m, 0, sizeof(m));
    m.d = d;
    m.n = n;
    oo = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetErrorHandlerExtR(oo, tm_error, &m);
    TIFFOpenOptionsSetWarningHandlerExtR(oo, tm_warning, &m);
    tif = TIFFClientOpenExt("object container", "rm", (thandle_t) &m, tm_read, tm_write, tm_seek,
                            tm_close, tm_size, tm_map, tm_unmap, oo);
    TIFFOpenOptionsFree(oo);
    if (tif == NULL)
        return afp_error_set(err, AFP_ERR_FORMAT, offset, "BOC", "TIFF object container: %s",
                             m.msg[0] ? m.msg : "libtiff cannot open it");
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &tw);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &th);
    if (tw == 0 || th == 0 || tw > MAX_PELS / th)
    {
        TIFFClose(tif);
        return afp_error_set(err, tw && th ? AFP_ERR_LIMIT : AFP_ERR_FORMAT, offset, "BOC",
                             "TIFF object container of %u x %u pels cannot be converted (limit "
                             "%zu pels)", tw, th, MAX_PELS);
    }
    px = (size_t) tw * th;
    raster = afp_alloc(px * sizeof(uint32_t));
    if (!TIFFReadRGBAImageOriented(tif, tw, th, raster, ORIENTATION_TOPLEFT, 0))
    {
        st = afp_error_set(err, AFP_ERR_FORMAT, offset, "BOC", "TIFF object container: %s",
                           m.msg[0] ? m.msg : "libtiff cannot decode the image");
        TIFFClose(tif);
        afp_free(raster);
        return st;
    }
    has_alpha = TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &extra, &extra_types) == 1 && extra > 0;
    if (TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xr) == 1 &&
        TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yr) == 1 && xr > 0 && yr > 0)
    {
        TIFFGetField(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
        if (unit == RESUNIT_CENTIMETER)
            xr *= 2.54f, yr *= 2.54f;
        if (unit != RESUNIT_NONE)
            img->xres = xr, img->yres = yr;
    }
    TIFFClose(tif);
    for (i = 0; i < px && grey; i++)
        grey = TIFFGetR(raster[i]) == TIFFGetG(raster[i]) && TIFFGetG(raster[i]) == TIFFGetB(raster[i]);
    pix = afp_alloc(px * (grey ? 1 : 3));
    if (has_alpha)
        alpha = afp_alloc(px);
    for (i = 0; i < px; i++)
    {
        uint32_t v = raster[i];
        unsigned a = TIFFGetA(v), c[3] = {TIFFGetR(v), TIFFGetG(v), TIFFGetB(v)};
        int k;

        if (has_alpha)
        {
            /* libtiff premultiplies by alpha: undo it for the colour samples */
            alpha[i] = (uint8_t) a;
            for (k = 0; k < 3; k++)
                c[k] = a ? (c[k] * 255 + a / 2) / a : 0, c[k] = c[k] > 255 ? 255 : c[k];
        }
        if (grey)
            pix[i] = (uint8_t) c[0];
        else
            for (k = 0; k < 3; k++)
                pix[i * 3 + (size_t) k] = (uint8_t) c[k];
    }
    write_8bit(w, img, pix, alpha, tw, th, grey ? 1 : 3);
    afp_free(pix);
    afp_free(alpha);
    afp_free(raster);
    *done = 1;
    return AFP_OK;
}
