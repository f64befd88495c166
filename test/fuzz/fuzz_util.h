/*
 * fuzz_util.h — invariant checks shared by the libFuzzer targets in test/fuzz/.
 *
 * `make fuzz-build` compiles each test/fuzz/fuzz_*.c on its own (one .c per target, linked with
 * the core), so the helpers are static inline functions in this header. A target defines FUZZ_NAME (its
 * name, a string literal) before including it; a violated invariant prints
 * "FUZZ_NAME: invariant violated: …" (test/fuzz/run.sh looks for that) and aborts like a crash.
 */
#ifndef AFP_FUZZ_UTIL_H
#define AFP_FUZZ_UTIL_H

#include "afp.h"
#include "afp_pdf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_NAME
#error "define FUZZ_NAME before including fuzz_util.h"
#endif

/* Reports a violated invariant (printf-style) and aborts. */
#define FUZZ_FAIL(...)                                                                   \
    do {                                                                                 \
        fprintf(stderr, FUZZ_NAME ": invariant violated: " __VA_ARGS__);                 \
        fputc('\n', stderr);                                                             \
        abort();                                                                         \
    } while (0)

/* Warning callback: ignores warnings, but an empty one is an invariant violation. */
static inline void
fuzz_quiet(void *ctx, const char *msg)
{
    (void) ctx;
    if (msg == NULL || msg[0] == '\0')
        FUZZ_FAIL("empty warning");
}

/* Aborts unless s[0..n) is valid UTF-8 without NUL bytes (PostgreSQL text cannot hold them). */
static inline void
fuzz_check_utf8(const char *what, const uint8_t *s, size_t n)
{
    size_t i = 0;

    while (i < n)
    {
        uint32_t u;
        size_t k;

        if (s[i] == 0)
            FUZZ_FAIL("%s: NUL byte at %zu of %zu", what, i, n);
        k = afp_utf8_get(s + i, n - i, &u);
        if (k == 0)
            FUZZ_FAIL("%s: invalid UTF-8 at byte %zu of %zu (X'%02X')", what, i, n, s[i]);
        i += k;
    }
}

/* Checks a NUL-terminated string with fuzz_check_utf8; NULL is a violation unless null_ok. */
static inline void
fuzz_check_cstr(const char *what, const char *s, int null_ok)
{
    if (s == NULL)
    {
        if (!null_ok)
            FUZZ_FAIL("%s: NULL", what);
        return;
    }
    fuzz_check_utf8(what, (const uint8_t *) s, strlen(s));
}

/* Checks the frame of a produced PDF: "%PDF-" first, "%%EOF" last, startxref at the xref table. */
static inline void
fuzz_check_pdf(const afp_buf *pdf)
{
    long start = -1;
    size_t i;
    const uint8_t *p = pdf->data;

    if (pdf->len < 32 || memcmp(p, "%PDF-", 5) != 0)
        FUZZ_FAIL("output does not start with %%PDF- (%zu bytes)", pdf->len);
    if (memcmp(p + pdf->len - 6, "%%EOF\n", 6) != 0)
        FUZZ_FAIL("output does not end with %%%%EOF");
    for (i = pdf->len - 16; i-- > 0;)
        if (memcmp(p + i, "startxref\n", 10) == 0)
        {
            start = strtol((const char *) p + i + 10, NULL, 10);
            break;
        }
    if (start < 0 || (size_t) start + 5 > pdf->len || memcmp(p + start, "xref\n", 5) != 0)
        FUZZ_FAIL("startxref %ld does not point at the xref table", start);
}

/* Checks the outcome of afp_to_pdf: a well-framed PDF, or a failure with a message and no
 * output; what names the conversion in the report. */
static inline void
fuzz_check_conversion(const char *what, afp_status st, const afp_error *err, const afp_buf *pdf)
{
    if (st == AFP_OK)
        fuzz_check_pdf(pdf);
    else if (err->message[0] == '\0' || pdf->len != 0)
        FUZZ_FAIL("%s failure %d without a message or with output", what, (int) st);
}

/* Converts data[0..size) with the options JSON (NULL: defaults), fuzz_quiet for warnings and
 * the resolver (NULL: none), checks the outcome with fuzz_check_conversion and frees it all. */
static inline void
fuzz_convert(const uint8_t *data, size_t size, const char *json,
             int (*resolve)(void *, const char *, const char *, const uint8_t **, size_t *),
             void *resolve_ctx)
{
    afp_pdf_options o;
    afp_error err;
    afp_buf pdf;
    afp_status st;

    afp_pdf_options_init(&o);
    afp_error_clear(&err);
    if (json && afp_pdf_options_parse(&o, json, strlen(json), &err) != AFP_OK)
        FUZZ_FAIL("options rejected: %s", err.message);
    o.warning = fuzz_quiet;
    o.resolve = resolve;
    o.resolve_ctx = resolve_ctx;
    afp_buf_init(&pdf);
    st = afp_to_pdf(data, size, &o, &pdf, NULL, &err);
    fuzz_check_conversion("conversion", st, &err, &pdf);
    afp_buf_free(&pdf);
    afp_pdf_options_free(&o);
}

#endif
