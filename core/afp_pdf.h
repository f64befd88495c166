/*
 * afp_pdf.h — AFP (MO:DCA) to PDF conversion: the public interface of afp_convert.c.
 *
 * afp_to_pdf renders every page of a print stream into one PDF 1.6 file: text stays text (an
 * embedded Liberation subset per IBM core font family, Identity-H with a ToUnicode map, so it
 * is searchable and copyable), rules are filled rectangles, IOCA images are passed through
 * (JPEG as DCTDecode, G4 MMR as CCITTFaxDecode) or re-encoded with Flate, overlays become form
 * XObjects shared by every page that includes them. See docs/conversion.md.
 *
 * Plain C, no PostgreSQL headers; memory through afp_alloc (the font cache excepted, see
 * afp_convert_fonts.c). Errors carry the byte offset of the structured field at fault.
 */
#ifndef AFP_PDF_H
#define AFP_PDF_H

#include "afp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What to do when an include (IPO, IPS, IOB, MDR font) names a resource the file lacks. */
typedef enum afp_pdf_missing {
    AFP_PDF_MISSING_ERROR = 0,      /* fail, naming the resource (default) */
    AFP_PDF_MISSING_WARN = 1,       /* draw a visible placeholder and report a warning */
    AFP_PDF_MISSING_IGNORE = 2      /* leave it out silently */
} afp_pdf_missing;

/* What a font map entry replaces a font with. */
typedef enum afp_pdf_font_kind {
    AFP_PDF_FONT_LIBERATION = 0,    /* a Liberation face: family (0 sans, 1 serif, 2 mono), style */
    AFP_PDF_FONT_BASE14 = 1,        /* a standard-14 reference (Helvetica/Times/Courier family) */
    AFP_PDF_FONT_FILE = 2,          /* a TrueType/OpenType file read from path */
    AFP_PDF_FONT_DATA = 3           /* TrueType/OpenType bytes (data, data_len; not copied) */
} afp_pdf_font_kind;

/* One font map entry (afp.font_map row, `afp pdf --font-map FILE`, option "font_map"). The
 * patterns match the font character set name, the coded font name and the code page name
 * ('*' any run, '?' one character, case-insensitive); "" matches anything, but an entry needs
 * a character set or coded font pattern. The first matching entry wins over every default
 * (the Liberation mapping by name and the raster font character sets of the file). */
typedef struct afp_pdf_font_map {
    char char_set[17], coded_font[17], code_page[17];
    afp_pdf_font_kind kind;
    int family, style;              /* LIBERATION and BASE14: 0-2, style 0 regular 1 italic 2 bold
                                     * 3 bold italic */
    char *path;                     /* FILE: afp_alloc'd copy */
    const uint8_t *data;            /* DATA: caller's bytes */
    size_t data_len;
    char label[48];                 /* where the entry came from, for messages */
} afp_pdf_font_map;

typedef struct afp_pdf_options {
    afp_pdf_missing missing;
    int base14;                     /* reference Helvetica/Times/Courier instead of embedding */
    int compress;                   /* Flate-compress content streams and fonts (default 1) */
    const char *font_dir;           /* Liberation fonts; NULL = $AFP_FONT_DIR or Debian's path */
    char title[256];                /* document title (Info /Title), UTF-8, "" = none */
    afp_pdf_font_map *font_map;     /* font map entries, first match wins (afp_pdf_font_map_add) */
    size_t nfont_map, capfont_map;
    int font_map_table;             /* SQL: also read afp.font_map (default 1; "font_map": false) */
    int raster_fonts;               /* draw raster font character sets carried in the file as
                                     * Type 3 fonts (default 1; "raster_fonts": false) */
    char author[256];               /* document author (Info /Author, XMP dc:creator), "" = none */
    int pdfa;                       /* 2 = PDF/A-2b ({"pdfa": "2b"}), 0 = plain PDF */
    int compress_level;             /* zlib level 1-9 ({"compress": N}), 0 = default (3) */
    /* Callbacks (all optional). warning: one message per problem that did not stop the
     * conversion. progress: after each page, with the input offset reached. write: streaming
     * output; when set, the PDF is passed on in chunks (a non-zero return aborts) and the out
     * buffer of afp_to_pdf only holds what was not yet passed on. */
    void (*warning)(void *ctx, const char *message);
    void (*progress)(void *ctx, int64_t pages, int64_t offset, int64_t total);
    int (*write)(void *ctx, const uint8_t *data, size_t len);
    void *cb_ctx;
    /* External resources (optional): called for an overlay, page segment, object or font the
     * file's resource group lacks. type is "overlay", "segment", "object" (IOB; "image" is
     * tried next), or "font" (MDR data-object font); name the ASCII name. Returns 1 and sets
     * *data and *len (valid until afp_to_pdf returns), 0 when not found. The bytes are AFP (the
     * resource's Begin … End, optionally in BRS/BRG) or, for objects and fonts, the raw object
     * (JPEG, PNG, TIFF, TrueType/OpenType). See docs/conversion.md. */
    int (*resolve)(void *ctx, const char *type, const char *name, const uint8_t **data,
                   size_t *len);
    void *resolve_ctx;
    int copies_pages;               /* {"copies": true}: repeat each page for its copies */
    /* {"code_pages": {"FONT": "950"}}: code pages assigned to fonts by name pattern, double-byte
     * or single-byte (afp_dbcs.h; grown with afp_alloc, freed by afp_pdf_options_free) */
    struct afp_cp_override *code_pages;
    size_t ncode_pages, capcode_pages;
} afp_pdf_options;

/* Sets the defaults: missing = error, embedded fonts, compression on, no callbacks. */
void afp_pdf_options_init(afp_pdf_options *o);

/* Reads options from a JSON object (UTF-8): {"missing": "error"|"warn"|"ignore",
 * "fonts": "embed"|"base14", "compress": true|false, "title": "...", "author": "...",
 * "pdfa": "2b"} ("pdfa" with "fonts": "base14" is refused: PDF/A embeds every font). Unknown keys and wrong
 * types fail with AFP_ERR_ARGUMENT naming the key. */
afp_status afp_pdf_options_parse(afp_pdf_options *o, const char *json, size_t len, afp_error *err);

/* Appends a zeroed font map entry to the options (grown with afp_alloc) and returns it. */
afp_pdf_font_map *afp_pdf_font_map_add(afp_pdf_options *o);

/* Reads font map entries from a JSON array (or an object {"font_map": [...]}) and appends them:
 * [{"char_set": "C0H2*", "coded_font": "X0…", "code_page": "T1V10500",
 *   then one of "liberation": "sans"|"serif"|"mono" (with "style": "regular"|"italic"|"bold"|
 *   "bold-italic"), "base14": "Helvetica-Bold" …, "file": "/path/font.ttf"}]. source names the
 * origin in messages. Bad entries fail with AFP_ERR_ARGUMENT naming the entry and key. */
afp_status afp_pdf_font_map_parse(afp_pdf_options *o, const char *json, size_t len,
                                  const char *source, afp_error *err);

/* Frees what the options own (font map entries and their paths). */
void afp_pdf_options_free(afp_pdf_options *o);

/* Statistics of one conversion. */
typedef struct afp_pdf_stats {
    int64_t pages;
    int64_t images;                 /* image XObjects written */
    int64_t fonts;                  /* font resources written */
    int64_t warnings;
} afp_pdf_stats;

/* Converts the print stream buf[0..len) into a PDF appended to out. A stream with no page
 * (only resources) fails with AFP_ERR_FORMAT "no pages"; damaged input fails with the offset.
 * stats may be NULL. On error out is left as it was. */
afp_status afp_to_pdf(const uint8_t *buf, size_t len, const afp_pdf_options *opts, afp_buf *out,
                      afp_pdf_stats *stats, afp_error *err);

#ifdef __cplusplus
}
#endif
#endif
