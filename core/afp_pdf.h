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

typedef struct afp_pdf_options {
    afp_pdf_missing missing;
    int base14;                     /* reference Helvetica/Times/Courier instead of embedding */
    int compress;                   /* Flate-compress content streams and fonts (default 1) */
    const char *font_dir;           /* Liberation fonts; NULL = $AFP_FONT_DIR or Debian's path */
    char title[256];                /* document title (Info /Title), UTF-8, "" = none */
    /* Callbacks (all optional). warning: one message per problem that did not stop the
     * conversion. progress: after each page, with the input offset reached. write: streaming
     * output; when set, the PDF is passed on in chunks (a non-zero return aborts) and the out
     * buffer of afp_to_pdf only holds what was not yet passed on. */
    void (*warning)(void *ctx, const char *message);
    void (*progress)(void *ctx, int64_t pages, int64_t offset, int64_t total);
    int (*write)(void *ctx, const uint8_t *data, size_t len);
    void *cb_ctx;
} afp_pdf_options;

/* Sets the defaults: missing = error, embedded fonts, compression on, no callbacks. */
void afp_pdf_options_init(afp_pdf_options *o);

/* Reads options from a JSON object (UTF-8): {"missing": "error"|"warn"|"ignore",
 * "fonts": "embed"|"base14", "compress": true|false, "title": "..."}. Unknown keys and wrong
 * types fail with AFP_ERR_ARGUMENT naming the key. */
afp_status afp_pdf_options_parse(afp_pdf_options *o, const char *json, size_t len, afp_error *err);

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
