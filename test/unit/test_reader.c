/*
 * test_reader.c — unit tests of the reader, validator, writer, PTOCA builder, documents and
 * text composition.
 */
#include "afp.h"
#include "unit.h"
#include "unit_afp.h"

#include <stdlib.h>
#include <string.h>

/* Counts the fields of buf; -1 on a reader error (message in err). */
static int
count_fields(const uint8_t *buf, size_t len, afp_error *err)
{
    afp_reader r;
    afp_sf sf;
    int n = 0, rc;

    afp_error_clear(err);
    afp_reader_init(&r, buf, len);
    while ((rc = afp_reader_next(&r, &sf, err)) == 1)
        n++;
    return rc < 0 ? -1 : n;
}

/* Framing: lengths, flags, truncation, garbage. */
static void
framing_tests(void)
{
    /* BDT "DOC1" + EDT, minimal */
    static const uint8_t ok[] = {0x5A, 0x00, 0x10, 0xD3, 0xA8, 0xA8, 0x00, 0x00, 0x00, 0xC4, 0xD6, 0xC3,
                                 0xF1, 0x40, 0x40, 0x40, 0x40, 0x5A, 0x00, 0x08, 0xD3, 0xA9, 0xA8, 0x00,
                                 0x12, 0x34};
    afp_error err;
    afp_reader r;
    afp_sf sf;
    uint8_t bad[sizeof(ok)];
    char name[9];
    size_t cut;

    CHECK(count_fields(ok, sizeof(ok), &err) == 2);
    afp_reader_init(&r, ok, sizeof(ok));
    CHECK(afp_reader_next(&r, &sf, &err) == 1);
    CHECK(sf.id == 0xD3A8A8 && sf.length == 16 && sf.data_len == 8 && sf.depth == 0);
    CHECK_STR(afp_token_name(sf.data, 8, name), "DOC1");
    CHECK(afp_reader_next(&r, &sf, &err) == 1);
    CHECK(sf.id == 0xD3A9A8 && sf.offset == 17 && sf.depth == 0);   /* sequence number ignored */
    CHECK(afp_reader_next(&r, &sf, &err) == 0);
    CHECK(unit_issues(ok, sizeof(ok), AFP_SEV_ERROR, NULL, 0) == 0);

    /* every truncation is an error with an offset, never a crash */
    for (cut = 1; cut < sizeof(ok); cut++)
        if (cut != 17)
        {
            CHECK(count_fields(ok, cut, &err) == -1);
            CHECK(err.offset >= 0 && strstr(err.message, "byte offset") != NULL);
        }
    /* missing 5A */
    memcpy(bad, ok, sizeof(ok));
    bad[17] = 0x5B;
    CHECK(count_fields(bad, sizeof(bad), &err) == -1);
    CHECK(err.offset == 17 && strstr(err.message, "X'5A'") != NULL);
    /* SFLength below 8 */
    memcpy(bad, ok, sizeof(ok));
    bad[19] = 0x07;
    CHECK(count_fields(bad, sizeof(bad), &err) == -1 && err.offset == 17);
    /* SFLength past the end */
    memcpy(bad, ok, sizeof(ok));
    bad[2] = 0x40;
    CHECK(count_fields(bad, sizeof(bad), &err) == -1 && strstr(err.message, "truncated") != NULL);
    /* padding flag with inconsistent padding */
    memcpy(bad, ok, sizeof(ok));
    bad[6] = AFP_FLAG_PAD;
    bad[16] = 0x20;
    CHECK(count_fields(bad, sizeof(bad), &err) == -1 && strstr(err.message, "padding") != NULL);
    /* padding flag with 1 byte of padding */
    memcpy(bad, ok, sizeof(ok));
    bad[6] = AFP_FLAG_PAD;
    bad[16] = 0x01;
    afp_reader_init(&r, bad, sizeof(bad));
    CHECK(afp_reader_next(&r, &sf, &err) == 1 && sf.data_len == 7 && sf.pad_len == 1);
    /* extension flag */
    memcpy(bad, ok, sizeof(ok));
    bad[6] = AFP_FLAG_EXT;
    bad[9] = 0x03;
    afp_reader_init(&r, bad, sizeof(bad));
    CHECK(afp_reader_next(&r, &sf, &err) == 1 && sf.ext_len == 2 && sf.data_len == 5);
    bad[9] = 0x09;
    afp_reader_init(&r, bad, sizeof(bad));
    CHECK(afp_reader_next(&r, &sf, &err) == -1 && strstr(err.message, "extension") != NULL);
    /* empty input */
    CHECK(count_fields(ok, 0, &err) == 0);
    CHECK(unit_issues(ok, 0, AFP_SEV_ERROR, NULL, 0) == 1);
    /* table */
    CHECK_STR(afp_sf_abbr(0xD3EE9B), "PTX");
    CHECK_STR(afp_sf_abbr(0xD3A7CA), "CCP");
    CHECK_STR(afp_sf_abbr(0xD3FFFF), "UNK");
    {
        size_t i;
        int sorted = 1;

        for (i = 1; i < afp_sf_table_size(); i++)
            if (afp_sf_table_entry(i - 1)->id >= afp_sf_table_entry(i)->id)
                sorted = 0;
        CHECK(sorted);
    }
}

/* Nesting checks of the validator. */
static void
nesting_tests(void)
{
    afp_writer w;
    char msg[400];

    /* EDT without BDT */
    afp_writer_init(&w);
    afp_write_sf(&w, 0xD3A9A8, (const uint8_t *) "\x40\x40\x40\x40\x40\x40\x40\x40", 8);
    CHECK(unit_issues(w.out.data, w.out.len, AFP_SEV_ERROR, msg, sizeof(msg)) == 1);
    CHECK(strstr(msg, "without a matching Begin") != NULL);
    afp_writer_free(&w);

    /* BDT BPG EDT: page never ended */
    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8A8, "D", NULL, 0);
    afp_write_begin(&w, 0xD3A8AF, "P", NULL, 0);
    afp_write_sf(&w, 0xD3A9A8, (const uint8_t *) "\xC4\x40\x40\x40\x40\x40\x40\x40", 8);
    CHECK(unit_issues(w.out.data, w.out.len, AFP_SEV_ERROR, msg, sizeof(msg)) >= 1);
    afp_writer_free(&w);

    /* name mismatch */
    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8A8, "ALPHA", NULL, 0);
    afp_write_sf(&w, 0xD3A9A8, (const uint8_t *) "\xC2\xC5\xE3\xC1\x40\x40\x40\x40", 8);
    CHECK(unit_issues(w.out.data, w.out.len, AFP_SEV_ERROR, msg, sizeof(msg)) == 1);
    CHECK(strstr(msg, "does not match") != NULL);
    afp_writer_free(&w);

    /* PTX outside BPT */
    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8A8, "D", NULL, 0);
    afp_write_sf(&w, 0xD3EE9B, (const uint8_t *) "\x2B\xD3\x02\xF8", 4);
    afp_write_end(&w);
    CHECK(unit_issues(w.out.data, w.out.len, AFP_SEV_ERROR, msg, sizeof(msg)) == 1);
    CHECK(strstr(msg, "must be inside BPT") != NULL);
    afp_writer_free(&w);

    /* runaway begins: bounded, reported */
    {
        int i;

        afp_writer_init(&w);
        for (i = 0; i < 200; i++)
            afp_write_begin(&w, 0xD3A8AD, "G", NULL, 0);
        CHECK(unit_issues(w.out.data, w.out.len, AFP_SEV_ERROR, msg, sizeof(msg)) >= 1);
        afp_writer_free(&w);
    }
}

/* Writer: large data split, PTOCA chaining. */
static void
writer_tests(void)
{
    afp_writer w;
    afp_error err;
    afp_reader r;
    afp_sf sf;
    uint8_t *big = calloc(1, 100000);
    size_t total = 0;
    int n = 0, segs = 0;

    afp_writer_init(&w);
    afp_write_sf(&w, 0xD3EEFB, big, 100000);        /* IPD: complete fields */
    afp_reader_init(&r, w.out.data, w.out.len);
    while (afp_reader_next(&r, &sf, &err) == 1)
    {
        n++;
        total += sf.data_len;
        CHECK(sf.length <= AFP_SF_WRITE_MAX);
        CHECK(sf.flags == 0);
    }
    CHECK(n == 4 && total == 100000);
    afp_writer_free(&w);

    afp_writer_init(&w);
    afp_write_sf(&w, 0xD3EE92 ^ 0x000100, big, 70000);   /* not a concatenating field: segmented */
    afp_reader_init(&r, w.out.data, w.out.len);
    n = 0;
    while (afp_reader_next(&r, &sf, &err) == 1)
    {
        n++;
        if (sf.flags & AFP_FLAG_SEG)
            segs++;
    }
    CHECK(n == 3 && segs == 2);
    afp_writer_free(&w);
    free(big);

    /* PTOCA: 2BD3, odd types in the chain, ended by NOP F8 */
    {
        afp_ptx p;
        static const uint8_t hello[] = {0xC8, 0x85, 0x93, 0x93, 0x96};

        afp_writer_init(&w);
        afp_write_begin(&w, 0xD3A89B, NULL, NULL, 0);
        afp_ptx_begin(&p, &w);
        afp_ptx_amb(&p, 100);
        afp_ptx_ami(&p, 200);
        afp_ptx_trn(&p, hello, sizeof(hello));
        afp_ptx_end(&p);
        afp_write_end(&w);
        afp_reader_init(&r, w.out.data, w.out.len);
        CHECK(afp_reader_next(&r, &sf, &err) == 1);
        CHECK(afp_reader_next(&r, &sf, &err) == 1 && sf.id == 0xD3EE9B);
        CHECK(sf.data_len == 2 + 4 + 4 + 7 + 2);
        CHECK(sf.data[0] == 0x2B && sf.data[1] == 0xD3 && sf.data[3] == 0xD3 && sf.data[7] == 0xC7 &&
              sf.data[11] == 0xDB);
        CHECK(sf.data[sf.data_len - 2] == 0x02 && sf.data[sf.data_len - 1] == 0xF8);
        CHECK(unit_issues(w.out.data, w.out.len, AFP_SEV_ERROR, NULL, 0) == 0);
        CHECK(unit_issues(w.out.data, w.out.len, AFP_SEV_WARNING, NULL, 0) == 0);
        afp_writer_free(&w);
    }
}

/* Composition: pages, documents, TLEs, text, encoding errors. */
static void
compose_tests(void)
{
    afp_index_pair idx[2] = {{"Account", "12345678"}, {"Customer", "Ada Lovelace"}};
    const char *t1 = "Dear Ada,\nyour statement is ready.\fPage two\nTotal: 100 EUR";
    const char *t2 = "Second customer\nprice: 5 \xE2\x82\xAC";
    afp_compose_doc docs[2] = {{"LETTER1", t1, 0, idx, 2}, {"Statement for Bob", t2, 0, NULL, 0}};
    afp_compose_opts opts;
    afp_document_list dl = {0};
    afp_buf out, text;
    afp_error err;
    int64_t pages = 0;

    docs[0].text_len = strlen(t1);
    docs[1].text_len = strlen(t2);
    memset(&opts, 0, sizeof(opts));
    afp_buf_init(&out);
    afp_error_clear(&err);
    CHECK(afp_compose_text(docs, 2, &opts, &out, &err) == AFP_OK);
    CHECK(unit_issues(out.data, out.len, AFP_SEV_ERROR, NULL, 0) == 0);
    CHECK(unit_issues(out.data, out.len, AFP_SEV_WARNING, NULL, 0) == 0);
    CHECK(afp_page_count(out.data, out.len, &pages, &err) == AFP_OK && pages == 3);
    CHECK(afp_documents(out.data, out.len, &dl, &err) == AFP_OK);
    CHECK(dl.count == 2);
    if (dl.count == 2)
    {
        CHECK_STR(dl.items[0].name, "LETTER1");
        CHECK(dl.items[0].first_page == 1 && dl.items[0].page_count == 2);
        CHECK(dl.items[0].index_count == 2);
        if (dl.items[0].index_count == 2)
        {
            CHECK_STR(dl.items[0].index[0].name, "Account");
            CHECK_STR(dl.items[0].index[1].value, "Ada Lovelace");
        }
        CHECK_STR(dl.items[1].name, "Statement for Bob");
        CHECK(dl.items[1].first_page == 3 && dl.items[1].page_count == 1);
    }
    afp_document_list_free(&dl);
    afp_buf_init(&text);
    CHECK(afp_extract_text(out.data, out.len, &text, &err) == AFP_OK);
    CHECK_STR(afp_buf_cstr(&text),
              "Dear Ada,\nyour statement is ready.\fPage two\nTotal: 100 EUR\fSecond customer\nprice: 5 \xE2\x82\xAC");
    afp_buf_free(&text);
    afp_buf_free(&out);

    /* options are optional: NULL means the defaults */
    afp_buf_init(&out);
    CHECK(afp_compose_text(docs, 1, NULL, &out, &err) == AFP_OK && out.len > 0);
    afp_buf_free(&out);

    /* a character no supported code page holds */
    docs[1].text = "snowman \xE2\x98\x83";
    docs[1].text_len = strlen(docs[1].text);
    afp_buf_init(&out);
    CHECK(afp_compose_text(docs, 2, &opts, &out, &err) == AFP_ERR_ENCODING);
    CHECK(strstr(err.message, "U+2603") != NULL && strstr(err.message, "document 2") != NULL);
    afp_buf_free(&out);

    /* long text wraps and flows over pages */
    {
        afp_buf big;
        int i;

        afp_buf_init(&big);
        for (i = 0; i < 500; i++)
            afp_buf_printf(&big, "Line %d of a long statement with enough words to wrap around the right margin of the page\n", i);
        docs[0].text = (const char *) big.data;
        docs[0].text_len = big.len;
        afp_buf_init(&out);
        CHECK(afp_compose_text(docs, 1, &opts, &out, &err) == AFP_OK);
        CHECK(afp_page_count(out.data, out.len, &pages, &err) == AFP_OK && pages > 10);
        CHECK(unit_issues(out.data, out.len, AFP_SEV_ERROR, NULL, 0) == 0);
        afp_buf_free(&out);
        afp_buf_free(&big);
    }
}

/* Detail JSON of a sample field. */
static void
detail_tests(void)
{
    afp_writer w;
    afp_buf t, d;
    afp_reader r;
    afp_sf sf;
    afp_error err;
    static const uint8_t val[] = {0xF1, 0xF2, 0xF3};

    afp_writer_init(&w);
    afp_buf_init(&t);
    afp_triplet_fqn(&t, 0x0B, "Account");
    afp_triplet_attr_value(&t, val, 3);
    afp_write_sf(&w, 0xD3A090, t.data, t.len);
    afp_reader_init(&r, w.out.data, w.out.len);
    CHECK(afp_reader_next(&r, &sf, &err) == 1);
    afp_buf_init(&d);
    CHECK(afp_sf_detail_json(&sf, &d, &err) == AFP_OK);
    CHECK(strstr(afp_buf_cstr(&d), "\"value\": \"Account\"") != NULL);
    CHECK(strstr(afp_buf_cstr(&d), "\"value\": \"123\"") != NULL);
    /* malformed triplet is reported inside the detail, not a failure */
    w.out.data[9] = 0x7F;
    afp_reader_init(&r, w.out.data, w.out.len);
    CHECK(afp_reader_next(&r, &sf, &err) == 1);
    d.len = 0;
    CHECK(afp_sf_detail_json(&sf, &d, &err) == AFP_OK);
    CHECK(strstr(afp_buf_cstr(&d), "triplet_error") != NULL);
    afp_buf_free(&d);
    afp_buf_free(&t);
    afp_writer_free(&w);
}

/* All reader/validator/writer tests. */
void
suite_reader(void)
{
    framing_tests();
    nesting_tests();
    writer_tests();
    detail_tests();
    compose_tests();
}
