/*
 * fuzz_dbcs.c — libFuzzer target for double-byte text: text extraction and the AFP→PDF
 * converter with every font assigned a double-byte code page ({"code_pages": {"*": …}}).
 *
 * The first input byte picks the page (EBCDIC CP300 pure double-byte, or CP950 Big5 mixed with
 * ASCII) and whether undefined codes fail or warn; the rest is the AFP. Text extraction and the
 * conversion must each succeed or fail with a message (a failed conversion leaves no output),
 * never crash. The CJK font is read from Debian's fonts-droid-fallback when installed (the
 * conversion fails cleanly without it).
 *
 * Built by `make fuzz-build`; run like the other targets by test/fuzz/run.sh.
 */
#define FUZZ_NAME "fuzz_dbcs"
#include "afp.h"
#include "afp_dbcs.h"
#include "afp_pdf.h"
#include "fuzz_util.h"

/* libFuzzer entry point. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const json[4] = {
        "{\"code_pages\": {\"*\": \"300\"}}",
        "{\"code_pages\": {\"*\": \"950\"}}",
        "{\"code_pages\": {\"*\": \"300\"}, \"missing\": \"warn\"}",
        "{\"code_pages\": {\"*\": \"950\"}, \"missing\": \"warn\"}"};
    const char *js;
    afp_text_options to;
    afp_pdf_options po;
    afp_error err;
    afp_buf out;
    afp_status st;

    if (size < 1)
        return 0;
    js = json[data[0] & 3];
    data++;
    size--;

    memset(&to, 0, sizeof(to));
    afp_error_clear(&err);
    if (afp_text_options_parse(&to, js, strlen(js), &err) != AFP_OK)
        FUZZ_FAIL("text options rejected: %s", err.message);
    to.warning = fuzz_quiet;
    afp_buf_init(&out);
    st = afp_extract_text_opts(data, size, &to, &out, &err);
    if (st != AFP_OK && err.message[0] == '\0')
        FUZZ_FAIL("text failure %d without a message", (int) st);
    afp_buf_free(&out);
    afp_text_options_free(&to);

    afp_pdf_options_init(&po);
    afp_error_clear(&err);
    if (afp_pdf_options_parse(&po, js, strlen(js), &err) != AFP_OK)
        FUZZ_FAIL("pdf options rejected: %s", err.message);
    po.warning = fuzz_quiet;
    po.compress = 0;
    afp_buf_init(&out);
    st = afp_to_pdf(data, size, &po, &out, NULL, &err);
    fuzz_check_conversion("pdf", st, &err, &out);
    afp_buf_free(&out);
    afp_pdf_options_free(&po);
    return 0;
}
