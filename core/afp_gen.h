/*
 * afp_gen.h — generation side of the format core: JSON, template data binding and validation,
 * font metrics, IOCA images, BCOCA bar codes, and the generator (layout + AFP output).
 *
 * Plain C, no PostgreSQL headers. Contract for templates: docs/templates.md.
 */
#ifndef AFP_GEN_H
#define AFP_GEN_H

#include "afp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ JSON (afp_json.c) */

typedef enum afp_json_type {
    AFP_JSON_NULL, AFP_JSON_FALSE, AFP_JSON_TRUE, AFP_JSON_NUMBER, AFP_JSON_STRING,
    AFP_JSON_ARRAY, AFP_JSON_OBJECT
} afp_json_type;

typedef struct afp_json afp_json;
struct afp_json {
    afp_json_type type;
    double number;
    char *string;           /* STRING: UTF-8, NUL-terminated (len in string_len) */
    size_t string_len;
    char *number_text;      /* NUMBER: the literal as written (exact decimal formatting) */
    afp_json **items;       /* ARRAY items / OBJECT values, in document order */
    char **keys;            /* OBJECT keys, parallel to items */
    size_t count;
};

/* Parses UTF-8 JSON text; on error: AFP_ERR_FORMAT with the byte offset and what was expected. */
afp_status afp_json_parse(const char *text, size_t len, afp_json **out, afp_error *err);
void afp_json_free(afp_json *v);
/* Object member by key (NULL if absent or v is not an object). */
const afp_json *afp_json_get(const afp_json *v, const char *key);
/* Serialises v as compact JSON. */
void afp_json_write(const afp_json *v, afp_buf *out);
/* Parses an options argument that must be a JSON object; *root is NULL when json is NULL or
 * empty (no options). Bad JSON or another value: AFP_ERR_ARGUMENT. */
afp_status afp_json_options_parse(const char *json, size_t len, afp_json **root, afp_error *err);
/* The "missing" option: "error" 0, "warn" 1, "ignore" 2 into *out; else AFP_ERR_ARGUMENT. */
afp_status afp_json_missing_option(const afp_json *v, int *out, afp_error *err);

/* ------------------------------------------------------------------ binding (afp_bind.c) */

/* A scope chain for placeholder resolution: the data root plus loop variables. */
typedef struct afp_scope afp_scope;
struct afp_scope {
    const afp_scope *parent;
    const char *name;           /* variable name ("item"), NULL for the data root */
    const afp_json *value;
    int64_t page_number;        /* > 0 where page.number / page.count are available */
    int64_t page_count;         /* 0 while unknown (first layout pass) */
};

/* Resolves a data path ("customer.name", "items[2].amount", "item.x", "loop.index") in the
 * scope; NULL when it does not exist. */
const afp_json *afp_scope_lookup(const afp_scope *s, const char *path);

/* Expands the placeholders {{ path | formatter ... }} of tmpl into out (UTF-8). tpath is the
 * template's JSON path of this string (for error messages: "$.body[3].text"). A missing path
 * without a default is AFP_ERR_ARGUMENT: "$.body[3].text: data path customer.nmae not found". */
afp_status afp_bind_text(const char *tmpl, const afp_scope *s, const char *tpath, afp_buf *out,
                         afp_error *err);

/* True when tmpl contains a placeholder that refers to page.count (needs the second pass). */
int afp_bind_uses_page_count(const char *tmpl);

/* Truthiness of a value for "if": exists and not null/false/0/""/[]. */
int afp_json_truthy(const afp_json *v);

/* ------------------------------------------------------------------ template validation (afp_template.c) */

typedef struct afp_path_issue {
    char *path;             /* "$.body[2].columns[0].width" */
    char *message;          /* "expected a number" */
} afp_path_issue;

typedef struct afp_path_issue_list {
    afp_path_issue *items;
    size_t count;
    size_t cap;
} afp_path_issue_list;

void afp_path_issue_list_free(afp_path_issue_list *l);
/* Checks a template against docs/templates.md: unknown elements/keys, wrong types, bad values,
 * unknown fonts, malformed placeholders. Appends every problem (none = valid). */
void afp_template_validate(const afp_json *tmpl, afp_path_issue_list *out);

/* ------------------------------------------------------------------ fonts (afp_font.c) */

typedef enum afp_family { AFP_FAMILY_HELVETICA = 0, AFP_FAMILY_TIMES = 1, AFP_FAMILY_COURIER = 2 } afp_family;
typedef enum afp_style {
    AFP_STYLE_REGULAR = 0, AFP_STYLE_ITALIC = 1, AFP_STYLE_BOLD = 2, AFP_STYLE_BOLD_ITALIC = 3
} afp_style;

typedef struct afp_font_metrics afp_font_metrics;

/* Parses "Helvetica"/"Arial"/"Times"/"Courier" (case-insensitive); -1 when unknown. */
int afp_font_parse_family(const char *name);
/* Parses "regular"/"bold"/"italic"/"bold-italic"; -1 when unknown. */
int afp_font_parse_style(const char *name);
/* Loads (once, then cached for the process) the metrics of the Liberation font matching the
 * family/style, with FreeType, from AFP_FONT_DIR or /usr/share/fonts/truetype/liberation. */
afp_status afp_font_load(afp_family f, afp_style s, const afp_font_metrics **out, afp_error *err);
/* Advance width of a code point in 1/1000 em; -1 when the font has no glyph for it. */
int afp_font_advance(const afp_font_metrics *m, uint32_t cp);
/* Width of UTF-8 text at size_pt, in points (sum of advances; no kerning). */
double afp_font_text_width(const afp_font_metrics *m, const char *utf8, size_t n, double size_pt);
/* Ascender and descender (positive) as a fraction of the em. */
double afp_font_ascent(const afp_font_metrics *m);
double afp_font_descent(const afp_font_metrics *m);
/* IBM core font character-set name for family/style/size: size-suffixed raster-table name
 * (C0H200A0) when the size is in the table (sets *outline = 0), else the outline name
 * (CZH200, padded to 8 with blanks) with *outline = 1 (the size goes in a X'1F' triplet). */
void afp_font_ibm_charset(afp_family f, afp_style s, double size_pt, char out[9], int *outline);

/* ------------------------------------------------------------------ images (afp_ioca.c) */

typedef struct afp_image_info {
    int kind;               /* 1 = JPEG, 2 = PNG */
    uint32_t width, height; /* pixels */
    double xdpi, ydpi;      /* resolution from the file (JFIF / pHYs), 0 if absent */
    int components;         /* 1 grey/bilevel, 3 RGB, 4 CMYK */
    int bits;               /* bits per component */
} afp_image_info;

/* Reads the size/resolution of a PNG or JPEG without decoding it; AFP_ERR_FORMAT if neither. */
afp_status afp_image_probe(const uint8_t *data, size_t len, afp_image_info *info, afp_error *err);

/* Writes an IOCA image object (BIM, OEG with OBD/OBP/MIO/IDD, IPD chunks, EIM) placed at
 * (x, y) with size w × h, all in 1440ths of an inch in the page coordinate system; the image
 * is scaled to fill the area (MIO scale-to-fill). JPEG: passed through, compression X'83'.
 * PNG: decoded with libpng; 1-bit grey → FS10 bilevel, otherwise FS11 RGB 24-bit (alpha
 * composited on white), uncompressed. */
afp_status afp_image_write(afp_writer *w, const char *name, const uint8_t *data, size_t len,
                           int32_t x, int32_t y, int32_t wdt, int32_t hgt, afp_error *err);

/* ------------------------------------------------------------------ bar codes (afp_bcoca.c) */

typedef enum afp_symbology {
    AFP_BC_CODE128 = 1, AFP_BC_QR = 2, AFP_BC_DATAMATRIX = 3, AFP_BC_IMB = 4
} afp_symbology;

/* Parses "code128", "qr", "datamatrix", "imb"; -1 when unknown. */
int afp_symbology_parse(const char *name);

typedef struct afp_barcode {
    afp_symbology type;
    const char *data;       /* UTF-8 (Code 128 / IMB: ASCII digits/characters) */
    size_t data_len;
    int32_t x, y;           /* top-left of the symbol area, 1440ths of an inch */
    double module_pt;       /* module (narrow bar / cell) width in points; 0 = default */
    double height_pt;       /* bar height (linear symbols) in points; 0 = default */
    int hri;                /* human-readable interpretation below the bars (Code 128, IMB) */
} afp_barcode;

/* Checks the data against the symbology (IMB: 20/25/29/31 digits; Code 128: ASCII; ...) */
afp_status afp_barcode_check(const afp_barcode *bc, afp_error *err);
/* Approximate size of the symbol in points (for flow layout). */
void afp_barcode_size(const afp_barcode *bc, double *w_pt, double *h_pt);
/* Writes a BCOCA object (BBC, OEG with OBD/OBP/MBC/BDD, BDA, EBC) at (x, y). */
afp_status afp_barcode_write(afp_writer *w, const char *name, const afp_barcode *bc, afp_error *err);

/* ------------------------------------------------------------------ generator (afp_generate.c) */

/* Supplies resource bytes (images, overlays, page segments) by name. Returns 1 and sets
 * data and len (owned by the provider, valid until generation ends), 0 when missing. */
typedef int (*afp_resource_fn)(void *ctx, const char *type, const char *name, const uint8_t **data,
                               size_t *len);

typedef struct afp_generator afp_generator;

/* Starts a print file (BDT …) into out; documents are appended one at a time, so a batch uses
 * memory bounded by its largest document, not by the number of documents. */
afp_status afp_generator_begin(afp_generator **g, const afp_json *tmpl, afp_resource_fn res, void *res_ctx,
                               afp_buf *out, afp_error *err);
/* Lays out and writes one document (named page group with TLE index) bound to data. */
afp_status afp_generator_add(afp_generator *g, const afp_json *data, afp_error *err);
/* Ends the print file (… EDT) and frees the generator. */
afp_status afp_generator_end(afp_generator *g, afp_error *err);
/* Frees a generator after an error without finishing the file. */
void afp_generator_abort(afp_generator *g);

#ifdef __cplusplus
}
#endif
#endif
