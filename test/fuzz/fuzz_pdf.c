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
#define FUZZ_NAME "fuzz_pdf"
#include "afp.h"
#include "afp_pdf.h"
#include "fuzz_util.h"

/* libFuzzer entry point: both conversions of one input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_convert(data, size, NULL, NULL, NULL);
    fuzz_convert(data, size, "{\"missing\": \"warn\", \"fonts\": \"base14\", \"compress\": false}", NULL,
                 NULL);
    return 0;
}
