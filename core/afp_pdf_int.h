/*
 * afp_pdf_int.h — private interface of the AFP→PDF converter: the PDF object writer
 * (afp_pdf_writer.c), fonts (afp_convert_fonts.c), IOCA images (afp_convert_ioca.c), GOCA
 * graphics (afp_convert_goca.c) and the page walker (afp_convert.c). Not part of the public API.
 */
#ifndef AFP_PDF_INT_H
#define AFP_PDF_INT_H

#include "afp_pdf.h"
#include "afp_text_int.h"

#include <zlib.h>

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
    z_stream zs;                /* reused for every compressed stream */
    int zready;
    afp_buf zbuf;               /* compressed output, reused */
    int level;                  /* zlib level 1-9, 0 = the writer's default (3) */
    int pdfa;                   /* PDF/A-2b: DeviceCMYK image spaces become DeviceN (afp_pdfa.c) */
    int cmyk_obj;               /* that DeviceN colour space, 0 until written */
    int has_id;                 /* write id as the trailer /ID */
    uint8_t id[16];
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
/* The same with the stream data in two parts (pre, then data). */
void pdfw_stream2(pdf_writer *w, int num, const char *dict, const uint8_t *pre, size_t npre,
                  const uint8_t *data, size_t n, int flate, const char *filter);
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

/* ------------------------------------------------------------------ PDF/A-2b (afp_pdfa.c) */

/* The sRGB colorants adapted to the D50 PCS (Bradford): xyz[0] red, [1] green, [2] blue. */
void pdfa_srgb_colorants(double xyz[3][3]);
/* Appends an sRGB ICC v2.1 display profile computed from IEC 61966-2-1 facts. */
void pdfa_srgb_icc(afp_buf *out);
/* The DeviceN [Cyan Magenta Yellow Black] colour space (alternate DeviceRGB) that replaces
 * DeviceCMYK for images in PDF/A mode; written once, returns its object number. */
int pdfa_cmyk_space(pdf_writer *w);
/* A stream dictionary with "/ColorSpace /DeviceCMYK" rewritten to that space (into sub) when
 * w->pdfa; dict itself otherwise. */
const char *pdfa_stream_dict(pdf_writer *w, const char *dict, char *sub, size_t n);
/* Document end in PDF/A mode: info entries (" /Key value") cleaned and re-encoded into info_out
 * with the dates, XMP metadata and sRGB output intent written and appended to catalog, trailer
 * /ID set from seed. */
void pdfa_finish(pdf_writer *w, const afp_buf *info_in, afp_buf *info_out, afp_buf *catalog,
                 const uint8_t *seed, size_t seedlen);

/* ------------------------------------------------------------------ fonts (afp_convert_fonts.c) */

typedef struct pdf_font pdf_font;

typedef struct pdf_fonts {
    pdf_font **items;
    size_t count, cap;
    const char *font_dir;
    int base14;
    void (*warn)(void *ctx, const char *msg);   /* problems that do not stop the conversion */
    void *warn_ctx;
    struct pdf_fontsel *sel;    /* font map and font character sets (afp_convert_fontsel.c) */
} pdf_fonts;

/* Starts the font set of one conversion (font_dir NULL: $AFP_FONT_DIR or Debian's path). */
void pdf_fonts_init(pdf_fonts *fs, const char *font_dir, int base14);
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
/* The first font referenced rather than embedded (standard-14), NULL if all are embedded. */
const char *pdf_fonts_unembedded(const pdf_fonts *fs);
void pdf_fonts_free(pdf_fonts *fs);
/* A Liberation face by family (0 sans, 1 serif, 2 mono) and style (0 regular, 1 italic, 2 bold,
 * 3 bold italic); std14: reference the standard-14 font instead of embedding. */
pdf_font *pdf_font_liberation(pdf_fonts *fs, pdf_writer *w, int fam, int sty, int std14);

/* ------------------------------------------------------------------ font selection and raster
 * fonts (afp_convert_fontsel.c, afp_convert_raster.c) */

typedef struct pdf_raster pdf_raster;
struct afp_json;

/* Checks the raster font character sets recorded by pdf_fontsel_note (damaged: AFP_ERR_FORMAT
 * with the offset); keeps the options' font map for pdf_font_resolve. */
afp_status pdf_fontsel_init(pdf_fonts *fs, const uint8_t *buf, size_t len,
                            const afp_pdf_options *o, afp_error *err);
void pdf_fontsel_free(pdf_fonts *fs);
/* Records a BFN or EFN outside pages; called by the converter's first pass (afp_convert.c). */
void pdf_fontsel_note(pdf_fonts *fs, const afp_sf *sf, size_t len);
/* The PDF font of an AFP font: the first matching font map entry, else a raster font character
 * set of the file (Type 3), else pdf_font_for. */
pdf_font *pdf_font_resolve(pdf_fonts *fs, pdf_writer *w, const afp_font_ref *f);
/* The CJK outline font for double-byte text ($AFP_CJK_FONT, else Debian's Droid Sans Fallback
 * or WenQuanYi), embedded like a carried font; NULL when none can be read (afp_convert_cid.c). */
pdf_font *pdf_font_cjk(pdf_fonts *fs, pdf_writer *w, char *path, size_t pathlen);
/* Reads a whole font file of at most 64 MB into afp_alloc memory (*len its size); NULL when it
 * cannot be read or is empty or larger (afp_convert_fontsel.c). */
uint8_t *pdf_font_file_read(const char *path, size_t *len);
/* The first double-byte font no CJK font could be found for ("" if none). */
const char *pdf_fontsel_cjk_missing(const pdf_fonts *fs);
/* Options "font_map" and "raster_fonts" of afp_pdf_options_parse. */
afp_status cv_fontsel_option(afp_pdf_options *o, const char *key, const struct afp_json *v,
                             afp_error *err);
/* A Type 3 font drawing raster set r (the font takes ownership). */
pdf_font *pdf_font_raster(pdf_fonts *fs, pdf_writer *w, pdf_raster *r);
/* Checks the font character set buf[start, end) (BFN first): *is_raster, damaged → error. */
afp_status pdf_raster_check(const uint8_t *buf, size_t start, size_t end, int *is_raster,
                            afp_error *err);
/* Opens a checked raster set for a PDF font of size points; NULL if not raster/unreadable. */
pdf_raster *pdf_raster_open(const uint8_t *buf, size_t start, size_t end, const char *name,
                            double size, void (*warn)(void *, const char *), void *warn_ctx);
void pdf_raster_free(pdf_raster *r);
/* Code (assigned on first use, 1-byte) and advance (1/1000 of the size) of Unicode u. */
void pdf_raster_glyph(pdf_raster *r, uint32_t u, unsigned *code, int *w1000);
void pdf_raster_underline(const pdf_raster *r, double *pos, double *thick);
/* Writes the Type 3 font object obj: glyph procedures of the used codes, ToUnicode from uni. */
void pdf_raster_write(pdf_raster *r, pdf_writer *w, int obj, const uint8_t *used,
                      const uint32_t *uni);

/* ------------------------------------------------------------------ IOCA (afp_convert_ioca.c) */

/* An image XObject written for an IOCA image. */
typedef struct pdf_image {
    int obj;                    /* XObject number (0: nothing could be written) */
    int mask;                   /* stencil mask (bilevel): paints the current fill colour */
    double w, h;                /* pixels */
    double xres, yres;          /* pixels per inch (from the Image Size parameter; 0 unknown) */
    int has_color;              /* bilevel colour set by the image (X'F6') */
    double rgb[3];
    char name[16];              /* resource name once registered ("Im3") */
    int unsupported;            /* not written because of an unsupported encoding (see why) */
    int mask_ignored;           /* a transparency mask that could not be applied */
} pdf_image;

/* Decodes IOCA image content (the joined IPD data, segs mapping it to file offsets; idd the
 * Image Data Descriptor's data, may be NULL) and writes it as an image XObject. tile_w/tile_h
 * > 0: replicate the image to that many pixels (replicate-and-trim mapping). AFP_ERR_FORMAT for
 * damaged data; unsupported encodings leave img->obj 0 and fill why (the caller warns). */
afp_status pdf_ioca_write(pdf_writer *w, const uint8_t *idd, size_t idd_len, const uint8_t *d,
                          size_t n, const afp_ptx_seg *segs, size_t nsegs, long tile_w,
                          long tile_h, pdf_image *img, char *why, size_t whylen, afp_error *err);

/* Writes JPEG bytes (an object container's data) as a DCTDecode image; 0 when they are not a
 * readable JPEG. Resolution from the JFIF density, if any. */
int pdf_jpeg_write(pdf_writer *w, const uint8_t *d, size_t n, pdf_image *img);

/* File offset of position q of a joined data stream (segments as for the PTX). */
int64_t pdf_seg_offset(const afp_ptx_seg *segs, size_t nsegs, size_t q);

/* ------------------------------------------------------------------ converter (afp_convert*.c) */

/* A resource object found in the file (inline resource group or outside any page). */
typedef struct cv_res {
    char name[9];               /* token name of its Begin field (ASCII) */
    char alias[9];              /* name of the enclosing BRS, "" if none */
    const uint8_t *fqn;         /* BRS FQN type X'01' name bytes (long names), NULL if none */
    size_t fqn_len;
    uint8_t cat;                /* category of the Begin: FB, BB, DF, 5F, 92, EB */
    size_t start, end;          /* span: its Begin field … after its End field */
    int obj;                    /* written XObject (image, overlay form), 0 while none */
    pdf_image img;              /* image resources: what was written */
    int busy;                   /* being rendered (include loops) */
    pdf_font *font;             /* object containers used as data-object fonts */
    int font_tried;
    const uint8_t *base;        /* external resource (resolver): the buffer start/end refer to;
                                 * NULL = the input. raw: not AFP, the bytes are the object */
    size_t base_len;
    int raw;
    struct cv_res *next_ext;    /* list of external resources (stable addresses) */
} cv_res;

/* The object area of a data object (image, graphics) and its mapping. */
typedef struct cv_area {
    double xoa, yoa;            /* origin, points from the including space origin */
    int rot;                    /* object area rotation, degrees clockwise (0/90/180/270) */
    double w, h;                /* size in points (0 = not given) */
    double xoc, yoc;            /* content origin in the area, points */
    int map;                    /* mapping option (X'04'), -1 = the object's default */
} cv_area;

/* A content stream being built: a page or an overlay form. */
typedef struct cv_canvas {
    afp_buf cs;
    int bt;                     /* inside BT … ET */
    pdf_font *font;             /* font set with Tf (inside the current BT) */
    double size;
    int line;                   /* a text line origin is set */
    double lx, ly;              /* its origin (points) */
    int qi, qb;                 /* its orientation */
    double pen;                 /* inline distance from the origin where the next glyph goes */
    afp_buf tj;                 /* pending TJ array content */
    int tj_str;                 /* a hex string is open in tj */
    int fill_space;             /* fill colour in the stream: -1 unknown, 0 black, 1 rgb … */
    double fill[4];
    int want_space;             /* text colour requested by PTOCA */
    double want[4];
    double ox, oy;              /* origin of the current text space on this canvas (points) */
    int rgb_only;               /* PDF/A: CMYK colours are written as RGB (kept across resets) */
} cv_canvas;

/* One conversion. */
typedef struct cv_ctx {
    const uint8_t *buf;
    size_t len;
    const afp_pdf_options *opts;
    afp_error *err;
    pdf_writer w;
    pdf_fonts fonts;
    afp_text_ctx text;
    afp_ptoca_visitor vis;
    cv_res *res;
    size_t nres, capres;
    int *pages;
    size_t npages, cappages;
    int pages_obj, resources_obj;
    afp_buf xobjects;           /* "/Im1 12 0 R …" */
    int nxobj;
    cv_canvas *cv;              /* where drawing goes */
    int depth;                  /* include nesting */
    int64_t total_pages;
    char last_fcs[9];           /* font lookup cache: the last reference and its font */
    const void *last_dofont;
    int last_mono;
    pdf_font *last_pf;
    const void *last_cp;        /* … its code page, coded font and size (font map, raster) */
    const void *last_dcp;       /* … its double-byte code page */
    char last_cf[9];
    double last_size;
    afp_pdf_stats stats;
    int warned_bcoca;
    cv_res *ext;                /* external resources (afp_convert_resolve.c) */
    struct cv_tried *tried;     /* resolver calls made (type, name, result) */
    struct cv_formmap *fm;      /* the inline form map (afp_convert_formmap.c), NULL if none */
    int64_t fm_offset;          /* its BFM, -1 if none */
} cv_ctx;

enum { SP_PAGE, SP_OVERLAY, SP_SEGMENT };

/* A presentation space being walked: page, overlay or page segment. */
typedef struct cv_space {
    int kind;
    double upx, upy;            /* points per unit of the space (PGD) */
    double w, h;                /* size in points */
    double ox, oy;              /* origin on the canvas (page segments) */
} cv_space;

/* A data object being collected (inline, or read from a resource). */
typedef struct cv_obj {
    uint8_t cat;                /* FB image, BB graphics, EB bar code, 92 container */
    int64_t offset;             /* its Begin field */
    char name[9];
    double oux, ouy;            /* points per object-area unit (OBD X'4B'), 0 = space units */
    long oaw, oah;              /* OBD X'4C' size */
    long xoa, yoa, xoc, yoc;    /* OBP offsets */
    int rot, have_obp;
    int map;                    /* MIO/MGO mapping, -1 none */
    const uint8_t *desc;        /* IDD / GDD data */
    size_t desc_len;
    afp_buf data;               /* joined IPD / GAD / OCD data */
    afp_ptx_seg *segs;
    size_t nsegs, capsegs;
} cv_obj;

/* Include Object overrides (IOB); a field is "not given" as -1 / NAN. */
typedef struct cv_iob {
    double xoa, yoa;            /* points, NAN = the object's */
    int rot;                    /* -1 = the object's */
    double xoc, yoc;
    double w, h;                /* area size in points, 0 = the object's */
    int map;
} cv_iob;

/* Unsigned 16-bit big-endian. */
static inline unsigned
cv_u16(const uint8_t *p)
{
    return (unsigned) ((p[0] << 8) | p[1]);
}

/* Signed 24-bit big-endian; *ffffff set when all bits are 1 (the "use the object's" value). */
static inline long
cv_s24(const uint8_t *p, int *ffffff)
{
    long v = ((long) p[0] << 16) | ((long) p[1] << 8) | p[2];

    if (ffffff)
        *ffffff = v == 0xFFFFFF;
    return v >= 0x800000 ? v - 0x1000000 : v;
}

/* Points per unit of a measurement (unit base 0 = 10 in, 1 = 10 cm); 0 if unusable. */
static inline double
cv_unit_pt(uint8_t base, unsigned units)
{
    if (units == 0)
        return 0;
    return (base == 0x01 ? 720.0 / 2.54 : 720.0) / units;
}

/* Degrees of an orientation code (bits 0-8); 0 for unusual values. */
static inline int
cv_degrees(unsigned code)
{
    unsigned d = code >> 7;

    return d < 360 ? (int) d : 0;
}

/* afp_convert.c */
/* Decodes an 8-byte token name to upper-case ASCII. */
void cv_token(const uint8_t *p, size_t n, char out[9]);
/* Finds a resource by name (token, BRS name or BRS FQN bytes) and category (0 = any). */
cv_res *cv_find_res(cv_ctx *ctx, const char *name, const uint8_t *fqn, size_t fqn_len,
                    uint8_t cat);
/* Reports a missing resource according to the options (error, or warning and placeholder). */
afp_status cv_missing(cv_ctx *ctx, const afp_sf *sf, const char *what, const char *name, double x,
                      double y, double w, double h);
/* Walks the fields of a presentation space after its Begin (category cat) up to its End. */
afp_status cv_walk_space(cv_ctx *ctx, afp_reader *r, cv_space *sp, uint8_t cat);

/* afp_convert_objects.c: data objects (images, graphics, containers) and includes. */
void cv_obj_begin(cv_obj *o, const afp_sf *sf);
void cv_obj_field(cv_obj *o, const afp_sf *sf);
void cv_obj_free(cv_obj *o);
/* Draws a collected object. res: the resource it came from (image cache), or NULL. */
afp_status cv_obj_draw(cv_ctx *ctx, cv_obj *o, const cv_space *sp, const cv_iob *iob, cv_res *res);
/* afp_convert_goca.c: draws GOCA drawing orders (joined GAD data, segs mapping it to file
 * offsets) with the GDD's window into the object area; damaged orders fail with the offset. */
afp_status cv_goca_draw(cv_ctx *ctx, const cv_area *a, const uint8_t *gdd, size_t gdd_len,
                        const uint8_t *d, size_t n, const afp_ptx_seg *segs, size_t nsegs);
/* afp_convert_bcoca.c: draws a bar code object (BDD desc, BDA data) into its area with libzint;
 * a BDD or BDA too short fails with the offset, data zint refuses is a warning. */
afp_status cv_bcoca_draw(cv_ctx *ctx, const cv_area *a, const uint8_t *bdd, size_t bdd_len,
                         const uint8_t *d, size_t n, int64_t offset);
/* afp_convert_outline.c: writes the bookmarks of the named page groups (0 when there is none)
 * and appends /Title, /Subject, /Keywords of the first group's index to info. */
int cv_outline_write(cv_ctx *ctx, afp_buf *info);
/* IPO, IPS and IOB. */
afp_status cv_include_overlay(cv_ctx *ctx, const cv_space *sp, const afp_sf *sf);
afp_status cv_include_segment(cv_ctx *ctx, const cv_space *sp, const afp_sf *sf);
afp_status cv_include_object(cv_ctx *ctx, const cv_space *sp, const afp_sf *sf);

/* afp_convert_resolve.c: a resource by name from the file or, when the file lacks it, from the
 * resolver of the options (type "overlay", "segment", "object", "font"); NULL if neither has it.
 * Damaged external bytes fail (AFP_ERR_FORMAT naming the resource); *st reports that. */
cv_res *cv_lookup(cv_ctx *ctx, const char *type, const char *name, const uint8_t *fqn,
                  size_t fqn_len, uint8_t cat, afp_status *st);
/* The bytes a resource's start/end offsets refer to (the input or the external buffer). */
const uint8_t *cv_res_bytes(const cv_ctx *ctx, const cv_res *r, size_t *len);
/* Prefixes the error message with the external resource it happened in. */
void cv_res_error_context(cv_ctx *ctx, const cv_res *r, const char *what);
void cv_resolve_free(cv_ctx *ctx);
/* afp_convert_formmap.c: reads the inline form map (BFM at ctx->fm_offset); IMM selects a
 * medium map; per page: medium overlays, medium size and page position; catalog entries. */
afp_status cv_formmap_read(cv_ctx *ctx);
void cv_formmap_imm(cv_ctx *ctx, const afp_sf *sf);
/* Called after a page was walked: writes into head what goes before the page content (medium
 * overlays, page position transform) and sets the media box size *mw x *mh (points). */
afp_status cv_formmap_page(cv_ctx *ctx, const cv_space *sp, afp_buf *head, double *mw,
                           double *mh);
/* After a page object was written: its further copies ({"copies": true}); and before the page
 * tree is written: copies of a front side still waiting for its back. */
void cv_formmap_page_done(cv_ctx *ctx, int content, double w, double h);
void cv_formmap_finish(cv_ctx *ctx);
/* The copy count of the current medium map (1 without a form map). */
int cv_formmap_copies(cv_ctx *ctx);
/* Appends catalog entries (/ViewerPreferences with /Duplex and /NumCopies) to b. */
void cv_formmap_catalog(cv_ctx *ctx, afp_buf *b);
void cv_formmap_free(cv_ctx *ctx);
/* afp_convert_objects.c: renders an overlay resource once into a form XObject; its name in
 * res->img.name. */
afp_status cv_overlay_form(cv_ctx *ctx, cv_res *res);
/* afp_convert_image.c: PNG and TIFF object containers as image XObjects (libpng, libtiff);
 * returns 1 written, 0 not this format; bad data fails with AFP_ERR_FORMAT and the offset. */
afp_status pdf_png_write(pdf_writer *w, const uint8_t *d, size_t n, int64_t offset,
                         pdf_image *img, int *done, afp_error *err);
afp_status pdf_tiff_write(pdf_writer *w, const uint8_t *d, size_t n, int64_t offset,
                          pdf_image *img, int *done, afp_error *err);

/* afp_convert.c: the PDF font of an AFP font reference (cached lookup). */
pdf_font *cv_font(cv_ctx *ctx, const afp_font_ref *f);

/* afp_convert_canvas.c: the PTOCA visitor and drawing primitives. */
void cv_canvas_init(cv_canvas *c);
void cv_canvas_reset(cv_canvas *c);
void cv_canvas_free(cv_canvas *c);
/* Installs the text visitor of ctx (ctx->vis, ctx->text.vis). */
void cv_text_visitor(cv_ctx *ctx);
/* Ends a text object in the stream (flushes the pending TJ, ET). */
void cv_text_end(cv_canvas *c);
/* Sets the fill colour (space 0 black, 1 RGB, 2 grey, 4 CMYK) if it differs. */
void cv_fill(cv_canvas *c, int space, const double *v);
/* Draws an image XObject into an area (mapping options of MO:DCA). */
void cv_draw_image(cv_ctx *ctx, const cv_area *a, const pdf_image *img, const char *xname,
                   int map_default);
/* Draws a crossed rectangle marking a missing resource. */
void cv_placeholder(cv_ctx *ctx, double x, double y, double w, double h);
/* Registers an XObject name for object number obj; returns the name ("Im3", "Fm2"). */
const char *cv_xobject(cv_ctx *ctx, int obj, const char *prefix, char *name, size_t n);
/* Reports a warning (option callback) and counts it. */
void cv_warn(cv_ctx *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* afp_convert_cid.c — for double-byte fonts: the font that shows u — pf, or Liberation when the CJK font pf lacks
 * the character (the CJK fallback fonts carry no Latin letters or digits). */
pdf_font *cv_dbcs_glyph_font(cv_ctx *ctx, const afp_font_ref *f, pdf_font *pf, uint32_t u);

#endif
