/*
 * afp_dbcs.h — double-byte (DBCS) code pages and per-font code page assignments.
 *
 * The tables (core/afp_dbcs_tables.c) are generated from glibc iconv by tools/gen_dbcs.sh; the
 * AFP code page global IDs (CPGIDs), CCSIDs and resource names that select them are in
 * afp_dbcs.c. EBCDIC pages (Japanese 300/16684, Korean 834/4930, Simplified Chinese 837/4933,
 * Traditional Chinese 835) are pure double-byte: every character is two bytes (AFP switches
 * between SBCS and DBCS by font). ASCII-based pages given by their mixed CCSID (950 Big5, 936
 * GBK, 943 Shift-JIS, 949 Korean) decode single bytes and lead byte + trail byte pairs; given by
 * their DBCS CPGID (947, 1385, 941, 1362) they are pure double-byte. See docs/conversion.md.
 */
#ifndef AFP_DBCS_H
#define AFP_DBCS_H

#include "afp.h"

struct afp_json;

typedef struct afp_dbcs afp_dbcs;

/* A double-byte page by name: a number (CPGID or CCSID, "950", "300"), "CP950", "IBM939",
 * "IBM-939", or an AFP code page resource name "T1" + 6 characters ending in the number
 * ("T1000300", "T1016684"). NULL when the name is no DBCS page known here (or the table
 * cannot be loaded). */
const afp_dbcs *afp_dbcs_find(const char *name);
/* Canonical name ("CP300", "CP950" …) and number. */
const char *afp_dbcs_name(const afp_dbcs *d);
int afp_dbcs_number(const afp_dbcs *d);
/* True when byte b starts a two-byte character (always, for a pure double-byte page). */
int afp_dbcs_is_lead(const afp_dbcs *d, uint8_t b);
/* Unicode of a code (a single byte of a mixed page, or lead << 8 | trail); 0 when undefined. */
uint32_t afp_dbcs_to_unicode(const afp_dbcs *d, uint32_t code);
/* The variable space code: X'4040' (EBCDIC), X'20' (mixed ASCII), 0xFFFFFFFF (none). */
uint32_t afp_dbcs_space(const afp_dbcs *d);
/* Number of defined codes (tests). */
size_t afp_dbcs_count(const afp_dbcs *d);

/* One code page assignment: fonts whose coded font or font character set name matches the
 * pattern ('*' any run, '?' one character, case-insensitive) use this code page. */
typedef struct afp_cp_override {
    char pattern[17];
    const afp_codepage *cp;         /* single-byte page, or NULL */
    const afp_dbcs *dcp;            /* double-byte page, or NULL */
} afp_cp_override;

/* Reads {"PATTERN": "CODEPAGE", …} (the "code_pages" option) and appends to *items (grown
 * with afp_alloc). where names the option in messages ("options.code_pages"). Unknown code
 * pages, bad patterns and non-string values fail with AFP_ERR_ARGUMENT naming the key. */
afp_status afp_cp_overrides_parse(afp_cp_override **items, size_t *count, size_t *cap,
                                  const struct afp_json *v, const char *where, afp_error *err);
/* The first assignment matching a coded font or font character set name, or NULL. */
const afp_cp_override *afp_cp_override_match(const afp_cp_override *items, size_t count,
                                             const char *cf, const char *fcs);

/* Options of text extraction (afp_extract_text_opts). */
typedef struct afp_text_options {
    afp_cp_override *code_pages;    /* per-font code pages ({"code_pages": {...}}) */
    size_t ncode_pages, capcode_pages;
    int missing;                    /* 0 error (default), 1 warn, 2 ignore: characters a code
                                     * page cannot map */
    int no_includes;                /* {"includes": false}: no text of IPO overlays / IPS page
                                     * segments (afp_text_include.c) */
    void (*warning)(void *ctx, const char *message);
    void *cb_ctx;
} afp_text_options;

/* Reads {"code_pages": {...}, "missing": "error"|"warn"|"ignore", "includes": true|false};
 * other keys fail with
 * AFP_ERR_ARGUMENT. */
afp_status afp_text_options_parse(afp_text_options *o, const char *json, size_t len,
                                  afp_error *err);
/* Frees what the options own. */
void afp_text_options_free(afp_text_options *o);
/* afp_extract_text with options (NULL = defaults). In afp_text.c. */
afp_status afp_extract_text_opts(const uint8_t *buf, size_t len, const afp_text_options *o,
                                 afp_buf *out, afp_error *err);

#endif
