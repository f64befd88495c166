/*
 * test_documents.c — afp_documents at the end of the input: Begin fields left open are closed
 * there (as afp_page_count and afp_extract_text read the file), damaged framing and mismatched
 * Ends stay errors with their byte offset; the shared sample that ends inside its resource group.
 */
#include "afp.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

/* Appends a structured field with an 8-byte EBCDIC name of letters A-I (none when NULL). */
static void
field(afp_buf *b, uint32_t id, const char *name)
{
    uint8_t h[9];
    size_t n = name ? 8 : 0, i;

    h[0] = 0x5A;
    h[1] = (uint8_t) ((8 + n) >> 8);
    h[2] = (uint8_t) (8 + n);
    h[3] = (uint8_t) (id >> 16);
    h[4] = (uint8_t) (id >> 8);
    h[5] = (uint8_t) id;
    h[6] = h[7] = h[8] = 0;
    afp_buf_append(b, h, 9);
    for (i = 0; i < n; i++)
        afp_buf_putc(b, (uint8_t) (i < strlen(name) ? 0xC1 + (name[i] - 'A') : 0x40));
}

/* BDT BNG BPG EPG BPG EPG, then the input ends: one document of two pages. */
static void
test_unclosed(void)
{
    afp_buf b;
    afp_document_list dl = {0};
    afp_error err;
    int64_t pages = -1;

    afp_buf_init(&b);
    field(&b, 0xD3A8A8, "CAB");
    field(&b, 0xD3A8AD, "BIG");
    field(&b, 0xD3A8AF, "HA");
    field(&b, 0xD3A9AF, "HA");
    field(&b, 0xD3A8AF, "HB");
    field(&b, 0xD3A9AF, "HB");
    CHECK(afp_page_count(b.data, b.len, &pages, &err) == AFP_OK && pages == 2);
    CHECK(afp_documents(b.data, b.len, &dl, &err) == AFP_OK);
    CHECK(dl.count == 1);
    if (dl.count == 1)
    {
        CHECK_STR(dl.items[0].name, "BIG");
        CHECK(dl.items[0].first_page == 1 && dl.items[0].page_count == 2 && dl.items[0].level == 1);
    }
    afp_document_list_free(&dl);
    /* the page itself left open: still counted, the group ends with it */
    b.len -= 17;
    CHECK(afp_documents(b.data, b.len, &dl, &err) == AFP_OK && dl.count == 1 &&
          dl.items[0].page_count == 2);
    afp_document_list_free(&dl);
    /* a mismatched End stays an error with its offset */
    field(&b, 0xD3A9A8, "CAB");
    CHECK(afp_documents(b.data, b.len, &dl, &err) == AFP_ERR_FORMAT && err.offset == (int64_t) b.len - 17);
    afp_document_list_free(&dl);
    /* truncated framing stays an error */
    b.len -= 3;
    CHECK(afp_documents(b.data, b.len, &dl, &err) == AFP_ERR_FORMAT);
    afp_document_list_free(&dl);
    afp_buf_free(&b);
}

/* The sample FOP wrote that ends inside its BRG: no documents, no pages, no error. */
static void
test_sample(void)
{
    char path[1024];
    size_t len = 0;
    unsigned char *buf;
    afp_document_list dl = {0};
    afp_error err;
    afp_buf text;
    int64_t pages = -1;

    snprintf(path, sizeof(path), "%s/afp/fop_expected_resource.afp", unit_samples_dir());
    buf = unit_read_file(path, &len);
    if (buf == NULL)
    {
        fprintf(stderr, "documents: %s not found, sample test skipped\n", path);
        return;
    }
    CHECK(afp_documents(buf, len, &dl, &err) == AFP_OK && dl.count == 0);
    CHECK(afp_page_count(buf, len, &pages, &err) == AFP_OK && pages == 0);
    afp_buf_init(&text);
    CHECK(afp_extract_text(buf, len, &text, &err) == AFP_OK);
    afp_buf_free(&text);
    afp_document_list_free(&dl);
    free(buf);
}

/* Runs the afp_documents end-of-input tests. */
void suite_documents(void);
void
suite_documents(void)
{
    test_unclosed();
    test_sample();
}
