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
#define FUZZ_NAME "fuzz_pdf_resources"
#include "afp.h"
#include "afp_pdf.h"
#include "fuzz_util.h"

/* The input, handed out by the resolver. */
typedef struct fuzz_input {
    const uint8_t *data;
    size_t size;
} fuzz_input;

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

/* libFuzzer entry point. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char json[] = "{\"missing\": \"warn\", \"compress\": false, \"copies\": true}";
    fuzz_input in = {data, size};

    fuzz_convert(data, size, json, resolve, &in);
    return 0;
}
