/*
 * afp.h — the afp format core: MO:DCA structured-field reader, validator, writer, PTOCA
 * builder/decoder, code pages and page-text extraction.
 *
 * Plain C99 with no PostgreSQL headers. The extension (extension/afp/), the CLI (cli/) and the
 * unit tests and fuzzers (test/unit/, test/fuzz/) all link this one library.
 *
 * Memory: functions that return heap data use the allocator hooks below (afp_set_allocator),
 * so the extension can route every allocation through palloc and the CLI through malloc.
 * Errors: every function that can fail takes an afp_error* and fills it with the byte offset,
 * the structured field (if any) and a message naming what was expected.
 */
#ifndef AFP_CORE_H
#define AFP_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ allocation */

typedef struct afp_allocator {
    void *(*alloc)(size_t size, void *ctx);          /* must not return NULL on success path */
    void *(*realloc)(void *ptr, size_t size, void *ctx);
    void (*free)(void *ptr, void *ctx);
    void *ctx;
} afp_allocator;

/* Installs the allocator used by the whole core (NULL restores malloc/realloc/free). */
void afp_set_allocator(const afp_allocator *a);
void *afp_alloc(size_t size);
void *afp_realloc(void *ptr, size_t size);
void afp_free(void *ptr);

/* Optional interrupt hook: long loops call it every few thousand iterations; a non-zero return
 * aborts the operation with an error ("interrupted"). The extension points it at a function that
 * runs CHECK_FOR_INTERRUPTS (which longjmps out on cancel). */
typedef int (*afp_interrupt_fn)(void);
void afp_set_interrupt_hook(afp_interrupt_fn fn);
int afp_check_interrupt(void);

/* ------------------------------------------------------------------ errors */

typedef enum afp_status {
    AFP_OK = 0,
    AFP_ERR_FORMAT = 1,     /* damaged / malformed input (data exception in SQL) */
    AFP_ERR_ENCODING = 2,   /* a character a code page cannot hold */
    AFP_ERR_LIMIT = 3,      /* an architected limit exceeded (e.g. too deep nesting) */
    AFP_ERR_INTERRUPTED = 4,
    AFP_ERR_ARGUMENT = 5    /* invalid caller argument */
} afp_status;

typedef struct afp_error {
    afp_status status;
    int64_t offset;         /* byte offset into the input the error refers to, -1 if none */
    char sf[8];             /* abbreviation of the structured field involved, "" if none */
    char message[512];      /* complete, human-readable message (includes offset and field) */
} afp_error;

void afp_error_clear(afp_error *err);
/* Fills err (printf-style message); always returns the status passed in. The message is
 * prefixed with "at byte offset N" when offset >= 0. */
afp_status afp_error_set(afp_error *err, afp_status st, int64_t offset, const char *sf,
                         const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* ------------------------------------------------------------------ growable buffer */

typedef struct afp_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} afp_buf;

void afp_buf_init(afp_buf *b);
void afp_buf_free(afp_buf *b);
void afp_buf_reserve(afp_buf *b, size_t extra);
void afp_buf_append(afp_buf *b, const void *p, size_t n);
void afp_buf_putc(afp_buf *b, uint8_t c);
void afp_buf_put16(afp_buf *b, uint16_t v);   /* big-endian */
void afp_buf_put24(afp_buf *b, uint32_t v);   /* big-endian */
void afp_buf_printf(afp_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Appends s as a JSON string literal (quotes + escapes); s is UTF-8, n bytes. */
void afp_buf_json_string(afp_buf *b, const char *s, size_t n);
/* NUL-terminates (without counting the NUL in len) and returns data. */
char *afp_buf_cstr(afp_buf *b);

/* ------------------------------------------------------------------ structured-field table */

#define AFP_SF_BEGIN 0xA8
#define AFP_SF_END   0xA9

typedef struct afp_sf_info {
    uint32_t id;            /* 0xD3TTCC */
    const char *abbr;       /* "BDT" */
    const char *name;       /* "Begin Document" */
} afp_sf_info;

/* Looks up a structured-field ID; NULL when unknown. */
const afp_sf_info *afp_sf_lookup(uint32_t id);
/* Abbreviation for an ID, "UNK" when unknown. */
const char *afp_sf_abbr(uint32_t id);
/* Number of entries and entry i of the table (for listings/tests). */
size_t afp_sf_table_size(void);
const afp_sf_info *afp_sf_table_entry(size_t i);

static inline uint8_t afp_sf_type(uint32_t id) { return (uint8_t)((id >> 8) & 0xFF); }
static inline uint8_t afp_sf_category(uint32_t id) { return (uint8_t)(id & 0xFF); }

/* ------------------------------------------------------------------ reader */

#define AFP_FLAG_EXT 0x80
#define AFP_FLAG_SEG 0x20
#define AFP_FLAG_PAD 0x08

#define AFP_SF_MAX_LENGTH 32767
#define AFP_SF_WRITE_MAX 32752    /* recommended maximum SFLength for writers */
#define AFP_SF_INTRO 8            /* SFLength(2)+ID(3)+flags(1)+reserved(2) */

typedef struct afp_sf {
    int64_t offset;         /* offset of the X'5A' */
    uint16_t length;        /* SFLength (excludes the X'5A') */
    uint32_t id;            /* 0xD3TTCC */
    uint8_t flags;
    const uint8_t *ext;     /* extension data (without its length byte), NULL if none */
    size_t ext_len;
    const uint8_t *data;    /* field data, excluding extension and padding */
    size_t data_len;
    int64_t data_offset;    /* file offset of data[0] */
    size_t pad_len;
    int depth;              /* Begin/End nesting depth (a Begin has the depth of its parent) */
} afp_sf;

typedef struct afp_reader {
    const uint8_t *buf;
    size_t len;
    size_t pos;
    int64_t seq;            /* number of fields returned so far */
    int depth;
    int strict_nesting;     /* reserved for callers; the reader itself only tracks depth */
} afp_reader;

void afp_reader_init(afp_reader *r, const uint8_t *buf, size_t len);
/* Reads the next field. Returns 1 and fills *sf, 0 at a clean end of input, -1 on error
 * (err filled: offset, field, what was expected). Never reads outside buf. */
int afp_reader_next(afp_reader *r, afp_sf *sf, afp_error *err);
/* The level of the innermost open Begin of category cat in stack[0..depth) (categories of the
 * open Begin fields, outermost first); -1 when none: the level an End of that category closes. */
int afp_sf_open_level(const uint8_t *stack, int depth, uint8_t cat);

/* ------------------------------------------------------------------ triplets */

typedef struct afp_triplet {
    uint8_t id;
    const uint8_t *data;    /* after Tlength and Tid */
    size_t len;             /* data length (Tlength - 2) */
    int64_t offset;         /* file offset of the Tlength byte */
} afp_triplet;

typedef struct afp_triplet_iter {
    const uint8_t *p;
    size_t len;
    size_t pos;
    int64_t base_offset;    /* file offset of p[0] */
} afp_triplet_iter;

void afp_triplet_iter_init(afp_triplet_iter *it, const uint8_t *p, size_t len, int64_t base_offset);
/* 1 = triplet returned, 0 = end, -1 = malformed (Tlength < 2 or past the end). */
int afp_triplet_next(afp_triplet_iter *it, afp_triplet *t, afp_error *err);

/* Offset within the data of a field where its triplets start, or -1 if the field carries no
 * triplets at a fixed position (fields with repeating groups are handled by afp_sf_detail_json). */
int afp_sf_triplet_start(uint32_t id, size_t data_len);

/* Decodes an 8-byte (or shorter) EBCDIC token name into ASCII (trailing blanks trimmed).
 * out must hold n+1 bytes. Non-printable bytes become '?'. Returns out. */
char *afp_token_name(const uint8_t *p, size_t n, char *out);

/* Decodes character data of names and attribute values to UTF-8: EBCDIC CP500 when any byte has
 * the high bit set (EBCDIC letters and digits all do), otherwise ASCII as some generators write.
 * Control characters become U+FFFD. */
void afp_chars_to_utf8(const uint8_t *p, size_t n, afp_buf *out);

/* Appends the decoded field details as a JSON object (names, triplets, key parameters). */
afp_status afp_sf_detail_json(const afp_sf *sf, afp_buf *out, afp_error *err);

/* ------------------------------------------------------------------ validation */

typedef enum afp_severity { AFP_SEV_WARNING = 1, AFP_SEV_ERROR = 2 } afp_severity;

typedef struct afp_issue {
    afp_severity severity;
    int64_t offset;
    char message[400];
} afp_issue;

typedef struct afp_issue_list {
    afp_issue *items;
    size_t count;
    size_t cap;
} afp_issue_list;

void afp_issue_list_free(afp_issue_list *l);
/* Validates framing, Begin/End nesting and names, containment of common structures and the
 * triplets/PTOCA chains of fields it understands. Appends problems to out (none = valid).
 * Stops at the first framing error (after recording it); returns AFP_ERR_INTERRUPTED only if
 * the interrupt hook fired, otherwise AFP_OK. */
afp_status afp_validate(const uint8_t *buf, size_t len, afp_issue_list *out, afp_error *err);

/* ------------------------------------------------------------------ code pages */

typedef struct afp_codepage afp_codepage;

/* Finds a code page by AFP name (T1V10500, T1000037, T1001140 … T1001149, T1001047) or by
 * number ("500", "1140", "cp1047"). NULL when unknown. */
const afp_codepage *afp_codepage_find(const char *name);
/* The code page number a name gives: "500", "cp500", "IBM-1047", "CCSID 1148", or an AFP resource
 * name "T1" + two characters + four digits ("T1V10500"; with any_t1 false only "V1"/"00" are
 * accepted there) — with any_t1 also "T1" + one character + five digits ("T1016684").
 * Case-insensitive, surrounding blanks ignored; -1 when the name has none of these forms. */
int afp_codepage_name_number(const char *name, int any_t1);
const char *afp_codepage_name(const afp_codepage *cp);   /* canonical AFP name, "T1V10500" */
int afp_codepage_number(const afp_codepage *cp);         /* 500, 37, 1140, ... */
/* Unicode code point of an EBCDIC byte (0 … 255); 0xFFFD when the position is undefined. */
uint32_t afp_codepage_to_unicode(const afp_codepage *cp, uint8_t b);
/* EBCDIC byte for a code point; -1 when the code page cannot hold it. */
int afp_codepage_from_unicode(const afp_codepage *cp, uint32_t u);
/* Encodes UTF-8 text; on a character the page cannot hold, or invalid UTF-8, fails with
 * AFP_ERR_ENCODING naming the character (U+XXXX and the glyph) and its byte position in the text. */
afp_status afp_codepage_encode(const afp_codepage *cp, const char *utf8, size_t n, afp_buf *out,
                               afp_error *err);
/* Appends a code point as UTF-8. */
void afp_utf8_put(afp_buf *b, uint32_t u);
/* Decodes one UTF-8 character at s[0..n); returns its length (>=1) and sets *u, or 0 if invalid. */
size_t afp_utf8_get(const uint8_t *s, size_t n, uint32_t *u);

/* ------------------------------------------------------------------ writer */

typedef struct afp_writer {
    afp_buf out;
    int depth;
    uint32_t open_ids[64];  /* stack of open Begin IDs, to close with the matching End */
    char open_names[64][9];
} afp_writer;

void afp_writer_init(afp_writer *w);
void afp_writer_free(afp_writer *w);
/* Writes one structured field with the given data (any size: data beyond one field is carried
 * on by segmented fields (X'20') — or, for IPD/OCD/GAD/BDA, by consecutive complete fields,
 * as the data architectures allow). */
void afp_write_sf(afp_writer *w, uint32_t id, const uint8_t *data, size_t len);
/* Writes a Begin field with an 8-character token name (padded with blanks, CP500) followed by
 * optional triplets, and pushes it; afp_write_end writes the matching End with the same name. */
void afp_write_begin(afp_writer *w, uint32_t id, const char *name, const uint8_t *triplets,
                     size_t tlen);
void afp_write_end(afp_writer *w);
/* Encodes an ASCII token name into 8 EBCDIC bytes (blank padded). */
void afp_token_encode(const char *name, uint8_t out[8]);
/* Copies name to out when it is a valid token name (1..8 of A–Z 0–9 $ # @), else writes
 * PREFIXnnnnn (prefix of 3 characters, seq modulo 100000). Returns 1 when name was used. */
int afp_token_make(const char *name, const char *prefix, uint64_t seq, char out[9]);
/* Writes PGD and PTD-2 for a page of xsize × ysize in 1440ths of an inch (unit base 10 inches). */
void afp_write_page_descriptors(afp_writer *w, uint32_t xsize, uint32_t ysize);
/* Writes OBD (object area xsize x ysize, 1440ths of an inch) and OBP placing it unrotated at
 * (x, y) on the page: the start of a generated image's or bar code's object environment group. */
void afp_write_object_area(afp_writer *w, int32_t x, int32_t y, uint32_t xsize, uint32_t ysize);
/* ASCII case-insensitive string equality. */
int afp_strieq(const char *a, const char *b);
/* ASCII case-insensitive glob match of s against pattern ('*' any run, '?' any character). */
int afp_glob_ci(const char *pattern, const char *s);

/* Triplet helpers (append to a buffer). */
void afp_triplet_fqn(afp_buf *b, uint8_t fqn_type, const char *name_ascii);   /* X'02', EBCDIC name */
void afp_triplet_fqn_raw(afp_buf *b, uint8_t fqn_type, uint8_t fmt, const uint8_t *n, size_t len);
void afp_triplet_attr_value(afp_buf *b, const uint8_t *ebcdic, size_t len);   /* X'36' */
void afp_triplet_rli(afp_buf *b, uint8_t restype, uint8_t lid);              /* X'24' */
void afp_triplet_units(afp_buf *b, uint16_t xunits, uint16_t yunits);        /* X'4B', base 10in */
void afp_triplet_area_size(afp_buf *b, uint32_t x, uint32_t y);              /* X'4C' */

/* ------------------------------------------------------------------ PTOCA builder */

typedef struct afp_ptx {
    afp_writer *w;
    afp_buf cur;            /* control sequences of the PTX being built */
    int in_chain;
} afp_ptx;

void afp_ptx_begin(afp_ptx *p, afp_writer *w);
void afp_ptx_amb(afp_ptx *p, int16_t y);
void afp_ptx_ami(afp_ptx *p, int16_t x);
void afp_ptx_rmi(afp_ptx *p, int16_t dx);
void afp_ptx_rmb(afp_ptx *p, int16_t dy);
void afp_ptx_scfl(afp_ptx *p, uint8_t lid);
void afp_ptx_svi(afp_ptx *p, int16_t increment);
void afp_ptx_sto(afp_ptx *p, uint16_t inline_deg, uint16_t baseline_deg);
void afp_ptx_sec_rgb(afp_ptx *p, uint8_t r, uint8_t g, uint8_t b);
void afp_ptx_dir(afp_ptx *p, int16_t length, int16_t width);
void afp_ptx_dbr(afp_ptx *p, int16_t length, int16_t width);
void afp_ptx_bln(afp_ptx *p);
/* Transparent data (EBCDIC bytes); split into TRNs of at most 253 bytes. */
void afp_ptx_trn(afp_ptx *p, const uint8_t *ebcdic, size_t len);
/* Ends the chain with an even-type NOP and writes the PTX field(s). */
void afp_ptx_end(afp_ptx *p);

/* ------------------------------------------------------------------ PTOCA decoding & text */

/* One run of text found in a page: position in page units after orientation is applied. */
typedef struct afp_text_run {
    int32_t x, y;            /* position of the first character (page coordinates, L-units) */
    int32_t width;           /* advance spanned in inline direction (estimated), L-units */
    int page;                /* 0-based page index */
    char *utf8;              /* decoded text (allocated) */
    size_t utf8_len;
} afp_text_run;

/* Extracts the text of every page in reading order: lines grouped by baseline, words ordered by
 * inline position; pages separated by '\f' (form feed), lines by '\n'. */
afp_status afp_extract_text(const uint8_t *buf, size_t len, afp_buf *out, afp_error *err);
/* Number of pages (BPG…EPG at document level, not counting overlays/page segments). */
afp_status afp_page_count(const uint8_t *buf, size_t len, int64_t *count, afp_error *err);

/* ------------------------------------------------------------------ documents */

typedef struct afp_index_pair {
    char *name;              /* UTF-8 */
    char *value;             /* UTF-8 */
} afp_index_pair;

typedef struct afp_document {
    char *name;              /* page-group (or document) name, UTF-8 */
    int64_t first_page;      /* 1-based page number of its first page in the file */
    int64_t page_count;
    int level;               /* nesting level of the page group (1 = outermost) */
    afp_index_pair *index;
    size_t index_count;
} afp_document;

typedef struct afp_document_list {
    afp_document *items;
    size_t count;
    size_t cap;
} afp_document_list;

/* Lists named page groups (BNG…ENG) with their TLE name/value pairs. A document (BDT) that holds
 * no page group is listed as one entry named after the BDT. */
afp_status afp_documents(const uint8_t *buf, size_t len, afp_document_list *out, afp_error *err);
void afp_document_list_free(afp_document_list *l);
/* Appends a document's index as a JSON object {"name": "value", ...} ({} for NULL). */
void afp_document_index_json(const afp_document *doc, afp_buf *out);

/* ------------------------------------------------------------------ text composition */

/* A plain-text document to compose into AFP pages: pages separated by '\f', lines by '\n'. */
typedef struct afp_compose_doc {
    const char *name;               /* page-group name (≤ 8 chars used as token), may be NULL */
    const char *text;               /* UTF-8 */
    size_t text_len;
    const afp_index_pair *index;    /* TLE pairs */
    size_t index_count;
} afp_compose_doc;

typedef struct afp_compose_opts {
    double page_width_in, page_height_in;   /* default A4 8.27 x 11.69 */
    double margin_in;                       /* default 0.75 */
    double font_size_pt;                    /* Courier; default 10 */
    const char *codepage;                   /* default: T1V10500, falling back to T1001148 for € */
    int lines_per_page;                     /* 0 = as many as fit */
} afp_compose_opts;

/* Composes one print file (BDT … EDT) with one named page group per document: Courier text,
 * a new page at each '\f' or when the page is full. Text that no supported code page can encode
 * fails with AFP_ERR_ENCODING naming the character, the document and the position. */
afp_status afp_compose_text(const afp_compose_doc *docs, size_t ndocs, const afp_compose_opts *opts,
                            afp_buf *out, afp_error *err);

#ifdef __cplusplus
}
#endif
#endif
