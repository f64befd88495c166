/*
 * afp_pdf_int.h — private interface of the AFP→PDF converter: the PDF object writer
 * (afp_pdf_writer.c), fonts (afp_convert_fonts.c), IOCA images (afp_convert_ioca.c), GOCA
 * graphics (afp_convert_goca.c) and the page walker (afp_convert.c). Not part of the public API.
 */
#ifndef AFP_PDF_INT_H
#define AFP_PDF_INT_H

#include "afp_pdf.h"
#include "afp_text_int.h"

/* ------------------------------------------------------------------ writer (afp_pdf_writer.c) */

typedef struct pdf_writer {
    afp_buf out;                /* bytes not yet passed to the sink (all of them without one) */
    int64_t flushed;            /* bytes already passed to the sink */
    int (*sink)(void *ctx, const uint8_t *p, size_t n);
    void *sink_ctx;
    int sink_failed;
    int64_t *xref;              /* file offset of object i; -1 while not written */
    size_t nobj, capobj;        /* object numbers 1 .. nobj-1 are allocated */
    int compress;
} pdf_writer;

void pdfw_init(pdf_writer *w, int compress);
void pdfw_free(pdf_writer *w);
/* Reserves an object number. */
int pdfw_alloc(pdf_writer *w);
/* Starts object num ("num 0 obj") at the current offset; pdfw_end closes it. */
void pdfw_begin(pdf_writer *w, int num);
void pdfw_end(pdf_writer *w);
void pdfw_printf(pdf_writer *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void pdfw_append(pdf_writer *w, const void *p, size_t n);
/* Writes object num as a stream: dict holds the entries besides /Length and /Filter (may be
 * ""). flate: compress with zlib (when compression is on); filter: a filter the data already
 * has (e.g. "/DCTDecode"), NULL for none. */
void pdfw_stream(pdf_writer *w, int num, const char *dict, const uint8_t *data, size_t n,
                 int flate, const char *filter);
/* Hands finished output to the sink once enough is buffered. */
void pdfw_maybe_flush(pdf_writer *w);
/* Writes the cross-reference table and trailer. */
void pdfw_finish(pdf_writer *w, int root, int info);
/* Number formatting for content streams: shortest of %.4f (no exponent, no "-0"). */
void pdf_num(afp_buf *b, double v);
/* Appends a PDF text string: (ASCII) literal, or <FEFF…> UTF-16BE hex for other text. */
void pdf_text_string(afp_buf *b, const char *utf8, size_t n);
/* Appends s as a PDF name (leading '/', delimiters and non-regular bytes as #xx). */
void pdf_name(afp_buf *b, const char *s);
/* zlib-compresses data into out; returns 0 on failure. */
int pdf_deflate(const uint8_t *data, size_t n, afp_buf *out);

/* ------------------------------------------------------------------ fonts (afp_convert_fonts.c) */

typedef struct pdf_font pdf_font;

typedef struct pdf_fonts {
    pdf_font **items;
    size_t count, cap;
    const char *font_dir;
    int base14;
    void (*warn)(void *ctx, const char *msg);   /* problems that do not stop the conversion */
    void *warn_ctx;
} pdf_fonts;

/* The PDF font for an AFP font (IBM core font name → Liberation family and style; unknown
 * names → Liberation Sans; data-object fonts as carried). Never fails: a font file that cannot
 * be loaded falls back to a standard-14 reference with a warning. */
pdf_font *pdf_font_for(pdf_fonts *fs, pdf_writer *w, const afp_font_ref *f);
/* A font from TrueType/OpenType bytes carried in the file (copied); NULL when FreeType cannot
 * open them (the caller falls back to pdf_font_for). */
pdf_font *pdf_font_carried(pdf_fonts *fs, pdf_writer *w, const uint8_t *data, size_t len);
/* Nominal size in points of an AFP font (X'1F' size, else from the name; 10 pt default). */
double pdf_font_size(const afp_font_ref *f);
/* Glyph code (GID, or WinAnsi byte for standard-14 fonts) and advance (1/1000 em) of u. */
void pdf_font_glyph(pdf_font *pf, uint32_t u, unsigned *code, int *w1000);
/* Records that code shows u (subset and ToUnicode). */
void pdf_font_use(pdf_font *pf, unsigned code, uint32_t u);
/* Bytes per code in show strings (2 for Identity-H, 1 for simple fonts). */
int pdf_font_code_bytes(const pdf_font *pf);
/* Resource name ("F3") and underline metrics (1/1000 em: position below baseline, thickness). */
const char *pdf_font_resname(const pdf_font *pf);
void pdf_font_underline(const pdf_font *pf, double *pos, double *thick);
/* Writes every font used and appends "/F1 n 0 R …" to fontdict. */
void pdf_fonts_write(pdf_fonts *fs, pdf_writer *w, afp_buf *fontdict);
void pdf_fonts_free(pdf_fonts *fs);

/* ------------------------------------------------------------------ IOCA (afp_convert_ioca.c) */

/* An image XObject written for an IOCA image. */
typedef struct pdf_image {
    int obj;                    /* XObject number (0: nothing could be written) */
    int mask;                   /* stencil mask (bilevel): paints the current fill colour */
    double w, h;                /* pixels */
    double xres, yres;          /* pixels per inch (from the Image Size parameter; 0 unknown) */
    int has_color;              /* bilevel colour set by the image (X'F6') */
    double rgb[3];
} pdf_image;

/* Decodes IOCA image content (the joined IPD data, segs mapping it to file offsets) and writes
 * it as an image XObject. tile_w/tile_h > 0: replicate the image to that many pixels
 * (replicate-and-trim mapping). AFP_ERR_FORMAT for damaged data; unsupported encodings leave
 * img->obj 0 and fill why (the caller warns). */
afp_status pdf_ioca_write(pdf_writer *w, const uint8_t *d, size_t n, const afp_ptx_seg *segs,
                          size_t nsegs, long tile_w, long tile_h, pdf_image *img, char *why,
                          size_t whylen, afp_error *err);

/* ------------------------------------------------------------------ GOCA (afp_convert_goca.c) */

/* Draws GOCA drawing orders (joined GAD data) into a content stream. The stream's coordinates
 * are points, y downwards; (ox, oy) is the graphics presentation space origin on it and scale
 * points per GOCA unit (the GPS window maps y upwards: y is flipped here). Unsupported orders
 * are skipped by their length; damaged data fails with the offset. */
afp_status pdf_goca_draw(afp_buf *cs, const uint8_t *d, size_t n, const afp_ptx_seg *segs,
                         size_t nsegs, double ox, double oy, double scale, double ymax,
                         afp_error *err);

/* File offset of position q of a joined data stream (segments as for the PTX). */
int64_t pdf_seg_offset(const afp_ptx_seg *segs, size_t nsegs, size_t q);

#endif
