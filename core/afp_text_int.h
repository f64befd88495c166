/*
 * afp_text_int.h — private interface between afp_text.c (structure walk, fonts, reading order)
 * and afp_ptoca.c (PTOCA control-sequence interpreter), shared with the PDF converter
 * (afp_convert.c), which drives the same interpreter through a visitor. Not part of the public API.
 */
#ifndef AFP_TEXT_INT_H
#define AFP_TEXT_INT_H

#include "afp.h"
#include "afp_dbcs.h"

/* A code page carried in the file (BCP … ECP, FOCA). */
typedef struct afp_inline_cp {
    char name[9];
    uint32_t map[256];          /* byte → Unicode, 0xFFFD undefined */
    uint8_t space;              /* variable space code point (CPC VSChar) */
    uint8_t rglen;              /* CPI repeating group length code (CPC CPIRGLen) */
} afp_inline_cp;

/* A coded font carried in the file (BCF … ECF): its FCS and code page names (first CFI group). */
typedef struct afp_coded_font {
    char name[9], cp[9], fcs[9];
} afp_coded_font;

/* What a font local ID maps to. */
typedef struct afp_font_ref {
    const afp_codepage *cp;         /* built-in code page, or NULL when icp is set */
    const afp_inline_cp *icp;       /* code page from the file, or NULL */
    int size10;                     /* nominal size in tenths of a point (from the font name) */
    int mono;                       /* fixed pitch (Courier family) */
    uint8_t space;                  /* variable space code point */
    char fcs[9];                    /* font character set (or coded font) name, "" if none */
    char cf[9];                     /* coded font name of the MCF, "" if none */
    int fds_size20;                 /* MCF X'1F' vertical size in 1/20 pt (0 = not given) */
    int dbcs;                       /* two-byte code points, UTF-16BE (set by renderers only) */
    const void *dofont;             /* renderer's data-object font (MDR), NULL otherwise */
    const afp_dbcs *dcp;            /* double-byte code page (afp_dbcs.c), NULL otherwise */
} afp_font_ref;

/* One character presented by the PTOCA interpreter to a visitor. Positions are in the text
 * object space (text units, fractions from metric advances), x to the right, y downwards. */
typedef struct afp_ptoca_glyph {
    double x, y;                    /* presentation position (on the baseline) */
    int qi, qb;                     /* inline / baseline direction: 0 +x, 1 +y, 2 -x, 3 -y */
    uint8_t lid;                    /* active font local ID */
    uint32_t code;                  /* code point (one byte, or two for dbcs fonts) */
    uint32_t u;                     /* Unicode (0xFFFD when the code page leaves it undefined) */
    double advance;                 /* inline advance applied after the character */
    int space;                      /* the variable space character */
    int64_t upi;                    /* text units per inch */
} afp_ptoca_glyph;

/* Receiver of what a text object presents (afp_text_ctx.vis). Without a visitor the interpreter
 * collects runs for text extraction and estimates advances. */
typedef struct afp_ptoca_visitor {
    void *ctx;
    /* Inline advance of a character of font f, in text units (upi per inch). */
    double (*advance)(void *ctx, const afp_font_ref *f, uint32_t code, uint32_t u, int64_t upi);
    void (*glyph)(void *ctx, const afp_ptoca_glyph *g, const afp_font_ref *f);
    /* A filled rectangle (rule or underscore) between two corners, text units. */
    void (*rule)(void *ctx, double x0, double y0, double x1, double y1, int64_t upi);
    /* Text colour: space 0 = default (black), 1 = RGB, 2 = grey, 4 = CMYK; components 0..1. */
    void (*color)(void *ctx, int space, const double *c);
    /* Underscore of [x,y] .. length along the inline direction qi below a baseline. */
    void (*underscore)(void *ctx, const afp_ptoca_glyph *at, double length, const afp_font_ref *f);
} afp_ptoca_visitor;

/* One run of text of a page, positioned in page coordinates (text units). */
typedef struct afp_run {
    int64_t x, y;           /* presentation position of the first character */
    int64_t xend;           /* x after the last character (estimated advance) */
    int64_t tol;            /* gap below which the next run counts as adjacent */
    int64_t seq;            /* stream order within the page */
    size_t off, len;        /* UTF-8 text in afp_text_ctx.text */
    int cont;               /* follows the previous run with no move in between */
} afp_run;

/* Maps an offset in the concatenated PTX stream back to the file. */
typedef struct afp_ptx_seg {
    size_t stream_off;
    int64_t file_off;
} afp_ptx_seg;

typedef struct afp_text_ctx {
    const uint8_t *buf;
    size_t len;
    int text_mode;                  /* 0 = count pages only */
    afp_buf *out;
    int64_t pages;

    afp_inline_cp *cps;             /* code pages in the file */
    size_t ncps, capcps;
    afp_coded_font *cfs;            /* coded fonts in the file */
    size_t ncfs, capcfs;

    afp_font_ref deffont;           /* for LIDs no MCF maps: CP500, 10 pt */

    /* current page */
    afp_font_ref fonts[256];
    const uint8_t *page_ptd, *obj_ptd;      /* PTD data of the page (AEG) / text object (OEG) */
    size_t page_ptd_len, obj_ptd_len;
    uint32_t page_ptd_id, obj_ptd_id;
    afp_font_ref saved_fonts[256];  /* page fonts while a text object maps its own */
    int obj_fonts;                  /* the current text object mapped fonts in its OEG */
    afp_buf ptx;                    /* PTX data of the current text object */
    afp_ptx_seg *segs;
    size_t nsegs, capsegs;
    afp_run *runs;
    size_t nruns, capruns;
    afp_buf text;                   /* text of the page's runs */
    int64_t seq;
    int64_t rps_budget;             /* characters repeat strings may still produce */
    const afp_ptoca_visitor *vis;   /* renderer (NULL: collect runs for text extraction) */
    /* code pages assigned by the caller ("code_pages" option) and what to do with characters a
     * double-byte code page cannot map: 0 error, 1 U+FFFD + warning, 2 U+FFFD (afp_dbcs.h) */
    const afp_cp_override *cpo;
    size_t ncpo;
    int missing;
    void (*warn)(void *ctx, const char *msg);
    void *warn_ctx;
    int64_t unmapped;               /* characters replaced so far */
    /* includes of overlays and page segments (afp_text_include.c) */
    int no_includes;                /* "includes": false — IPO/IPS contribute no text */
    int inc_depth;                  /* includes being extracted */
    double org_x, org_y;            /* include origin on the page, inches */
    double pgd_upi_x, pgd_upi_y;    /* PGD units per inch of the page/overlay, 0 = none seen */
    struct afp_text_res_index *res_index;   /* overlays/page segments of the file, or NULL */
    int64_t inc_budget;             /* bytes included resources may still be read */
    uint64_t inc_fields;            /* fields read in includes (interrupt checks) */
} afp_text_ctx;

/* afp_text.c */
void *afp_text_grow(void *p, size_t *cap, size_t need, size_t el);
/* Prepares a context over buf[0..len) (out and text_mode as for text extraction). */
void afp_text_ctx_init(afp_text_ctx *ctx, const uint8_t *buf, size_t len, afp_buf *out,
                       int text_mode);
/* Releases what the context owns. */
void afp_text_ctx_free(afp_text_ctx *ctx);
/* Pass 1: records the code pages and coded fonts carried in the file. */
afp_status afp_text_collect_resources(afp_text_ctx *ctx, afp_error *err);
/* Unicode value of an EBCDIC-encoded 8-byte GCGID (0xFFFD when unknown). */
uint32_t afp_gcgid_unicode(const uint8_t *gcgid);
/* Applies an MCF-2 (X'D3AB8A') or MCF-1 (X'D3B18A') to ctx->fonts. */
void afp_text_map_fonts(afp_text_ctx *ctx, const afp_sf *sf);
/* Text environment, shared by text extraction (afp_text.c, afp_text_include.c) and the PDF
 * converter: resets fonts, descriptors and pending text for a new page or overlay. */
void afp_text_env_reset(afp_text_ctx *ctx);
/* Forgets the descriptor and the fonts of the text object that ended (BPT/EPT). */
void afp_text_end_object(afp_text_ctx *ctx);
/* Scope of an environment field from the open Begin categories stack[0..depth): 1 the AEG of
 * a page or overlay, 2 the OEG of a text object, 0 elsewhere. */
int afp_text_env_scope(const uint8_t *stack, int depth);
/* Before a font map in scope 2: keeps the page's fonts (restored by afp_text_end_object). */
void afp_text_object_fonts(afp_text_ctx *ctx, int scope);
/* Records a PTD as the text object's (scope 2) or the page's / overlay's descriptor. */
void afp_text_set_ptd(afp_text_ctx *ctx, const afp_sf *sf, int scope);
/* Text extraction: applies MCF-2/MCF-1/MDR, PTD-2/PTD-1 and (scope 1) PGD fields in scope. */
void afp_text_env_field(afp_text_ctx *ctx, const afp_sf *sf, int scope);

/* afp_text_include.c */
/* IPO or IPS: decodes the included overlay's / page segment's text at the include's offset. */
afp_status afp_text_include(afp_text_ctx *ctx, const afp_sf *sf, afp_error *err);
/* Records the units of a PGD of the current page or overlay. */
void afp_text_set_pgd(afp_text_ctx *ctx, const uint8_t *d, size_t n);
/* Releases the resource index. */
void afp_text_include_free(afp_text_ctx *ctx);
/* The text environment of an including space (fonts, descriptors, include origin, PGD units),
 * saved around an include (here and by the PDF converter around an overlay). */
typedef struct afp_text_saved afp_text_saved;
/* Saves the environment into a new afp_text_saved. */
afp_text_saved *afp_text_env_save(afp_text_ctx *ctx);
/* Restores a saved environment and frees it. */
void afp_text_env_restore(afp_text_ctx *ctx, afp_text_saved *s);
/* MDR: maps local IDs of data-object fonts (UTF-16BE text) in ctx->fonts. */
void afp_text_map_mdr(afp_text_ctx *ctx, const afp_sf *sf);
/* One repeating group of an MDR (X'D3ABC3'), as the text interpreter needs it. */
typedef struct afp_mdr_group {
    int lid;                        /* font local ID (X'24' or FQN X'BE'), -1 if none */
    int font;                       /* has a data-object font descriptor (X'8B') */
    int vfs;                        /* its vertical font size, 1/20 pt (0: not given) */
    const uint8_t *name;            /* FQN X'DE' data-object font name, NULL if none */
    size_t name_len;
} afp_mdr_group;
/* Reads the MDR repeating group at *pos of d[0..n) into g and moves *pos past it; 0 when no
 * well-formed group is left. */
int afp_mdr_next(const uint8_t *d, size_t n, size_t *pos, afp_mdr_group *g);

/* afp_ptoca.c */
void afp_ptoca_append(afp_text_ctx *ctx, const afp_sf *sf);
afp_status afp_ptoca_flush(afp_text_ctx *ctx, afp_error *err);
/* RGB (0..1) of a Standard OCA colour value; 0 when it means the default colour. */
int afp_ptoca_oca_rgb(unsigned v, double *rgb);
/* An SEC/GSPCOL colour specification: 1 RGB, 2 grey, 4 CMYK (components 0..1), 0 default. */
int afp_ptoca_color(const uint8_t *p, size_t n, double *c);

#endif
