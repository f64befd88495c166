/*
 * fuzz_pdf_resources.c — libFuzzer target for the external-resource, form map and image paths
 * of the AFP→PDF converter (afp_convert_resolve.c, afp_convert_formmap.c,
 * afp_convert_image.c, afp_convert_ioca.c).
 *
 * The input is converted with a resolver that answers every overlay, page segment and font
 * request with the input itself (so resolved AFP bytes are as hostile as the input) and every
 * object request with the input's second half (raw bytes: PNG, TIFF, JPEG or garbage), with
 * {"missing": "warn", "compress": false, "copies": true}. A conversion must either fail with a
 * message and no output, or produce a PDF that starts with "%PDF-", ends with "%%EOF" and whose
 * startxref points at its xref table; anything else aborts like a crash.
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
        fprintf(stderr, "fuzz_pdf_resources: invariant violated: " __VA_ARGS__);         \
        fputc('\n', stderr);                                                             \
        abort();                                                                         \
    } while (0)

/* The input, handed out by the resolver. */
typedef struct fuzz_input {
    const uint8_t *data;
    size_t size;
} fuzz_input;

/* Ignores warnings (they must not be empty). */
static void
quiet(void *ctx, const char *msg)
{
    (void) ctx;
    if (msg == NULL || msg[0] == '\0')
        FUZZ_FAIL("empty warning");
}

/* Resolver: the whole input for AFP resources, its second half for objects. */
static int
resolve(void *ctx, const char *type, const char *name, const uint8_t **data, size_t *len)
{
    fuzz_input *in = ctx;

    if (type == NULL || name == NULL || name[0] == '\0')
        FUZZ_FAIL("resolver called without a type or name");
    if (strcmp(type, "object") == 0 || strcmp(type, "image") == 0)
    {
        *data = in->data + in->size / 2;
        *len = in->size - in->size / 2;
    }
    else
    {
        *data = in->data;
        *len = in->size;
    }
    return *len > 0;
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

/* libFuzzer entry point. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char json[] = "{\"missing\": \"warn\", \"compress\": false, \"copies\": true}";
    afp_pdf_options o;
    afp_error err;
    afp_buf pdf;
    afp_status st;
    fuzz_input in = {data, size};

    afp_pdf_options_init(&o);
    afp_error_clear(&err);
    if (afp_pdf_options_parse(&o, json, strlen(json), &err) != AFP_OK)
        FUZZ_FAIL("options rejected: %s", err.message);
    o.warning = quiet;
    o.resolve = resolve;
    o.resolve_ctx = &in;
    afp_buf_init(&pdf);
    st = afp_to_pdf(data, size, &o, &pdf, NULL, &err);
    if (st == AFP_OK)
        check_pdf(&pdf);
    else if (err.message[0] == '\0' || pdf.len != 0)
        FUZZ_FAIL("failure %d without a message or with output", (int) st);
    afp_buf_free(&pdf);
    return 0;
}
