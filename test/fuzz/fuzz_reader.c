/*
 * fuzz_reader.c — libFuzzer target for the afp core's read side.
 *
 * For one input: walks every structured field with afp_reader_next (checking the documented
 * invariants of each afp_sf), iterates the triplets of fields that have them, renders every field
 * with afp_sf_detail_json, then runs afp_validate, afp_extract_text, afp_page_count and
 * afp_documents on the whole input and frees everything (LeakSanitizer reports what is not).
 *
 * Output that PostgreSQL stores as text/jsonb (detail JSON, page text, document names and index
 * values) must be valid UTF-8; a violation aborts with a message, like a crash.
 *
 * Built by `make fuzz-build` (clang -fsanitize=fuzzer,address,undefined); run by test/fuzz/run.sh.
 */
#define FUZZ_NAME "fuzz_reader"
#include "afp.h"
#include "fuzz_util.h"

/* A pointer range must lie inside the input. */
static void
check_inside(const char *what, const uint8_t *buf, size_t len, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    if (p == NULL || p < buf || p > buf + len || n > (size_t) (buf + len - p))
        FUZZ_FAIL("%s: %zu bytes at %p are outside the input [%p, +%zu)", what, n, (const void *) p,
                  (const void *) buf, len);
}

/* Walks every structured field, checking framing, triplets and the detail JSON of each. */
static void
walk_fields(const uint8_t *data, size_t size)
{
    afp_reader r;
    afp_sf sf;
    afp_error err;
    afp_buf json;
    int rc;
    int64_t expect_offset = 0;

    afp_buf_init(&json);
    afp_reader_init(&r, data, size);
    for (;;)
    {
        afp_error_clear(&err);
        rc = afp_reader_next(&r, &sf, &err);
        if (rc <= 0)
            break;

        /* framing invariants */
        if (sf.offset != expect_offset)
            FUZZ_FAIL("field %lld at offset %lld, previous field ended at %lld", (long long) r.seq,
                      (long long) sf.offset, (long long) expect_offset);
        if (sf.offset < 0 || (size_t) sf.offset + 1 + sf.length > size)
            FUZZ_FAIL("field at %lld with SFLength %u exceeds the %zu-byte input",
                      (long long) sf.offset, sf.length, size);
        check_inside("sf.ext", data, size, sf.ext, sf.ext_len);
        check_inside("sf.data", data, size, sf.data, sf.data_len);
        if (sf.data_len > 0 && sf.data_offset != (int64_t) (sf.data - data))
            FUZZ_FAIL("sf.data_offset %lld but data is at %lld", (long long) sf.data_offset,
                      (long long) (sf.data - data));
        expect_offset = sf.offset + 1 + sf.length;

        /* triplets at their fixed position, where the field has one */
        {
            int start = afp_sf_triplet_start(sf.id, sf.data_len);

            if (start >= 0 && (size_t) start <= sf.data_len)
            {
                afp_triplet_iter it;
                afp_triplet t;
                int trc;

                afp_triplet_iter_init(&it, sf.data + start, sf.data_len - (size_t) start,
                                      sf.data_offset + start);
                while ((trc = afp_triplet_next(&it, &t, &err)) == 1)
                    check_inside("triplet data", data, size, t.data, t.len);
                afp_error_clear(&err);
            }
        }

        /* token name of Begin/End fields */
        if (sf.data_len >= 8)
        {
            char name[9];

            afp_token_name(sf.data, 8, name);
        }

        json.len = 0;
        afp_error_clear(&err);
        if (afp_sf_detail_json(&sf, &json, &err) == AFP_OK)
            fuzz_check_utf8("afp_sf_detail_json", json.data, json.len);
    }
    if (rc < 0 && err.status == AFP_OK)
        FUZZ_FAIL("afp_reader_next returned -1 without an error status");
    afp_buf_free(&json);
}

/* libFuzzer entry point: the field walk, then validate, text, page count and documents. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    afp_error err;

    walk_fields(data, size);

    {
        afp_issue_list issues;
        afp_status st;

        memset(&issues, 0, sizeof(issues));
        afp_error_clear(&err);
        st = afp_validate(data, size, &issues, &err);
        if (st != AFP_OK)
            FUZZ_FAIL("afp_validate returned %d (%s) without an interrupt hook", (int) st,
                      err.message);
        for (size_t i = 0; i < issues.count; i++)
            fuzz_check_utf8("afp_validate issue", (const uint8_t *) issues.items[i].message,
                       strnlen(issues.items[i].message, sizeof(issues.items[i].message)));
        afp_issue_list_free(&issues);
    }

    {
        afp_buf text;

        afp_buf_init(&text);
        afp_error_clear(&err);
        if (afp_extract_text(data, size, &text, &err) == AFP_OK)
            fuzz_check_utf8("afp_extract_text", text.data, text.len);
        afp_buf_free(&text);
    }

    {
        int64_t pages = -1;

        afp_error_clear(&err);
        if (afp_page_count(data, size, &pages, &err) == AFP_OK && pages < 0)
            FUZZ_FAIL("afp_page_count returned %lld", (long long) pages);
    }

    {
        afp_document_list docs;

        memset(&docs, 0, sizeof(docs));
        afp_error_clear(&err);
        if (afp_documents(data, size, &docs, &err) == AFP_OK)
        {
            for (size_t i = 0; i < docs.count; i++)
            {
                const afp_document *d = &docs.items[i];

                fuzz_check_cstr("afp_documents name", d->name, 1);
                for (size_t j = 0; j < d->index_count; j++)
                {
                    fuzz_check_cstr("afp_documents index name", d->index[j].name, 1);
                    fuzz_check_cstr("afp_documents index value", d->index[j].value, 1);
                }
            }
        }
        afp_document_list_free(&docs);
    }
    return 0;
}
