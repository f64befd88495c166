/*
 * test_split.c — unit tests of afp_split (core/afp_split.c): one self-contained AFP per named
 * page group with the print file's resource group in front; a BDT without groups is one part;
 * the callback can stop the split; damaged framing fails with the offset.
 */
#include "afp.h"
#include "afp_split.h"
#include "unit.h"

#include <string.h>

/* What the callback saw. */
typedef struct seen {
    int parts;
    int64_t pages;
    int invalid;                    /* parts with validation errors */
    int prefix_ok;                  /* parts starting with the BRG */
    int index_ok;                   /* parts whose afp_documents index matches part->doc */
    int stop_after;                 /* stop after this many parts (0 = never) */
} seen;

/* Split callback: validates the part and compares its documents with the part's entry. */
static int
on_part(void *p, const afp_split_part *part)
{
    seen *s = p;
    afp_issue_list issues = {0};
    afp_document_list docs = {0};
    afp_error err;
    int64_t pages = 0;
    size_t i;

    s->parts++;
    CHECK(part->seq == s->parts);
    afp_validate(part->afp, part->len, &issues, &err);
    for (i = 0; i < issues.count; i++)
        if (issues.items[i].severity == AFP_SEV_ERROR)
            s->invalid++;
    afp_issue_list_free(&issues);
    if (afp_page_count(part->afp, part->len, &pages, &err) == AFP_OK)
        s->pages += pages;
    if (part->len > 6 && part->afp[0] == 0x5A && part->afp[3] == 0xD3 && part->afp[4] == 0xA8
        && part->afp[5] == 0xC6)
        s->prefix_ok++;
    if (part->doc && afp_documents(part->afp, part->len, &docs, &err) == AFP_OK && docs.count == 1
        && docs.items[0].index_count == part->doc->index_count
        && strcmp(docs.items[0].name, part->doc->name) == 0
        && (part->doc->index_count == 0
            || strcmp(docs.items[0].index[0].value, part->doc->index[0].value) == 0))
        s->index_ok++;
    afp_document_list_free(&docs);
    return s->stop_after && s->parts >= s->stop_after;
}

/* Splits composed documents with a resource group in front. */
static void
test_split_groups(void)
{
    afp_index_pair ix[3][1] = {{{"Account", "1"}}, {{"Account", "2"}}, {{"Account", "3"}}};
    afp_compose_doc docs[3] = {
        {"DOC1", "a\fb\fc", 5, ix[0], 1},
        {"DOC2", "d", 1, ix[1], 1},
        {"DOC3", "e\ff", 3, ix[2], 1},
    };
    afp_compose_opts co;
    afp_writer w;
    afp_buf afp;
    afp_error err;
    seen s;
    int64_t n = 0;

    memset(&co, 0, sizeof(co));
    afp_buf_init(&afp);
    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8C6, "RG1", NULL, 0);     /* an (empty) inline resource group */
    afp_write_end(&w);
    afp_buf_append(&afp, w.out.data, w.out.len);
    afp_writer_free(&w);
    CHECK(afp_compose_text(docs, 3, &co, &afp, &err) == AFP_OK);

    memset(&s, 0, sizeof(s));
    CHECK(afp_split(afp.data, afp.len, on_part, &s, &n, &err) == AFP_OK);
    CHECK(n == 3 && s.parts == 3);
    CHECK(s.pages == 6);
    CHECK(s.invalid == 0);
    CHECK(s.prefix_ok == 3);
    CHECK(s.index_ok == 3);

    memset(&s, 0, sizeof(s));
    s.stop_after = 2;
    CHECK(afp_split(afp.data, afp.len, on_part, &s, &n, &err) == AFP_ERR_INTERRUPTED);
    CHECK(s.parts == 2);

    memset(&s, 0, sizeof(s));
    CHECK(afp_split(afp.data, afp.len - 3, on_part, &s, &n, &err) == AFP_ERR_FORMAT);
    CHECK(err.offset > 0);
    afp_buf_free(&afp);
}

/* A BDT without page groups is one part, as valid as the input (pages without environment). */
static void
test_split_plain(void)
{
    afp_writer w;
    afp_error err;
    afp_issue_list issues = {0};
    seen s;
    int64_t n = 0;
    size_t i;
    int errors = 0;

    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8A8, "DOC1", NULL, 0);
    afp_write_begin(&w, 0xD3A8AF, "P1", NULL, 0);
    afp_write_end(&w);
    afp_write_begin(&w, 0xD3A8AF, "P2", NULL, 0);
    afp_write_end(&w);
    afp_write_end(&w);
    memset(&s, 0, sizeof(s));
    CHECK(afp_split(w.out.data, w.out.len, on_part, &s, &n, &err) == AFP_OK);
    CHECK(n == 1);
    CHECK(s.pages == 2);
    afp_validate(w.out.data, w.out.len, &issues, &err);
    for (i = 0; i < issues.count; i++)
        errors += issues.items[i].severity == AFP_SEV_ERROR;
    afp_issue_list_free(&issues);
    CHECK(s.invalid == errors);             /* the part is as valid as the input */
    CHECK(afp_split(NULL, 0, on_part, &s, &n, &err) == AFP_ERR_ARGUMENT);
    afp_writer_free(&w);
}

/* The split suite. */
void
suite_split(void)
{
    test_split_groups();
    test_split_plain();
}
