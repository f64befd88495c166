/*
 * fuzz_pdf.c — libFuzzer target for the AFP→PDF converter (afp_to_pdf).
 *
 * Each input is converted twice: with the defaults (missing resources are errors) and with
 * {"missing": "warn", "fonts": "base14", "compress": false} so includes of absent resources,
 * placeholders and the standard-14 path are exercised too. A conversion must either fail with
 * a status and a message, or produce a PDF that starts with "%PDF-", ends with "%%EOF" and
 * whose startxref points at its xref table; anything else aborts like a crash. Everything is
 * freed (LeakSanitizer reports what is not; the process-wide Liberation font cache is
 * reachable through static pointers and therefore not a leak).
 *
 * Built by `make fuzz-build`; run by test/fuzz/run.sh with the samples as seeds.
 */
#include "afp.h"
#include "afp_pdf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_FAIL(...)                                                                   \
    do {                                                                                 \
        fprintf(stderr, "fuzz_pdf: invariant violated: " __VA_ARGS__);                   \
        fputc('\n', stderr);                                                             \
        abort();                                                                         \
    } while (0)

/* Ignores conversion warnings. */
static void
quiet(void *ctx, const char *msg)
{
    (void) ctx;
    if (msg == NULL || msg[0] == '\0')
        FUZZ_FAIL("empty warning");
}

/* Checks the frame of a produced PDF. */
static void
check_pdf(const afp_buf *pdf)
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

/* Runs one conversion and checks its outcome. */
static void
run(const uint8_t *data, size_t size, const char *json)
{
    afp_pdf_options o;
    afp_error err;
    afp_buf pdf;
    afp_status st;

    afp_pdf_options_init(&o);
    afp_error_clear(&err);
    if (json && afp_pdf_options_parse(&o, json, strlen(json), &err) != AFP_OK)
        FUZZ_FAIL("options rejected: %s", err.message);
    o.warning = quiet;
    afp_buf_init(&pdf);
    st = afp_to_pdf(data, size, &o, &pdf, NULL, &err);
    if (st == AFP_OK)
        check_pdf(&pdf);
    else if (err.message[0] == '\0' || pdf.len != 0)
        FUZZ_FAIL("failure %d without a message or with output", (int) st);
    afp_buf_free(&pdf);
}

/* libFuzzer entry point: both conversions of one input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size, NULL);
    run(data, size, "{\"missing\": \"warn\", \"fonts\": \"base14\", \"compress\": false}");
    return 0;
}
