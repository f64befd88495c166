/*
 * afp_documents.c — lists the documents of a print file: named page groups (BNG…ENG) with the
 * index values of their Tag Logical Elements (TLE: FQN X'0B' attribute name + X'36' attribute
 * value), the first page and the page count. A document (BDT) without page groups is listed
 * as one entry named after the BDT.
 *
 * Pages counted are BPG…EPG inside documents (or at top level), never the pages of resources
 * (overlays, page segments) inside resource groups. Begin fields still open at the end of the
 * input are closed there (the documents they open end with the last page), as the other
 * readers do; damaged framing and mismatched End fields are errors with the byte offset.
 */
#include "afp.h"

#include <string.h>

#define MAX_STACK 64

/* Frees one document's strings and index. */
static void
doc_free(afp_document *d)
{
    size_t i;

    for (i = 0; i < d->index_count; i++)
    {
        afp_free(d->index[i].name);
        afp_free(d->index[i].value);
    }
    afp_free(d->index);
    afp_free(d->name);
    memset(d, 0, sizeof(*d));
}

/* Appends the index of a document as a JSON object {"name": "value", ...} in TLE order (a name
 * that repeats is written again); a missing name or value is written as "", a NULL doc as {}. */
void
afp_document_index_json(const afp_document *doc, afp_buf *out)
{
    size_t i;

    afp_buf_putc(out, '{');
    for (i = 0; doc != NULL && i < doc->index_count; i++)
    {
        const char *name = doc->index[i].name ? doc->index[i].name : "";
        const char *value = doc->index[i].value ? doc->index[i].value : "";

        if (i > 0)
            afp_buf_printf(out, ", ");
        afp_buf_json_string(out, name, strlen(name));
        afp_buf_printf(out, ": ");
        afp_buf_json_string(out, value, strlen(value));
    }
    afp_buf_putc(out, '}');
}

/* Frees a document list. */
void
afp_document_list_free(afp_document_list *l)
{
    size_t i;

    for (i = 0; i < l->count; i++)
        doc_free(&l->items[i]);
    afp_free(l->items);
    l->items = NULL;
    l->count = l->cap = 0;
}

/* Appends an empty document and returns its index. */
static size_t
doc_add(afp_document_list *l)
{
    if (l->count == l->cap)
    {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->items = afp_realloc(l->items, l->cap * sizeof(afp_document));
    }
    memset(&l->items[l->count], 0, sizeof(afp_document));
    return l->count++;
}

/* Duplicates a buffer's content as a NUL-terminated string. */
static char *
buf_strdup(const afp_buf *b)
{
    char *s = afp_alloc(b->len + 1);

    if (b->len)
        memcpy(s, b->data, b->len);
    s[b->len] = '\0';
    return s;
}

/* Name of a Begin field: the FQN X'01' triplet when present (full name), else the token. */
static char *
begin_name(const afp_sf *sf)
{
    afp_buf b;
    int tstart = afp_sf_triplet_start(sf->id, sf->data_len);
    char *s;

    afp_buf_init(&b);
    if (tstart >= 0)
    {
        afp_triplet_iter it;
        afp_triplet t;
        afp_error e;

        afp_triplet_iter_init(&it, sf->data + tstart, sf->data_len - (size_t) tstart, 0);
        while (afp_triplet_next(&it, &t, &e) == 1)
            if (t.id == 0x02 && t.len >= 2 && t.data[0] == 0x01 && t.data[1] == 0x00)
            {
                afp_chars_to_utf8(t.data + 2, t.len - 2, &b);
                break;
            }
    }
    if (b.len == 0 && sf->data_len >= 8 && !(sf->data[0] == 0xFF && sf->data[1] == 0xFF))
        afp_chars_to_utf8(sf->data, 8, &b);
    s = buf_strdup(&b);
    afp_buf_free(&b);
    return s;
}

/* Adds the name/value of a TLE to a document's index (malformed TLEs are skipped). */
static void
add_tle(afp_document *d, const afp_sf *sf)
{
    afp_triplet_iter it;
    afp_triplet t;
    afp_error e;
    afp_buf name, value;
    int have_name = 0, have_value = 0;

    afp_buf_init(&name);
    afp_buf_init(&value);
    afp_triplet_iter_init(&it, sf->data, sf->data_len, sf->data_offset);
    while (afp_triplet_next(&it, &t, &e) == 1)
    {
        if (t.id == 0x02 && t.len >= 2 && t.data[0] == 0x0B && !have_name)
        {
            afp_chars_to_utf8(t.data + 2, t.len - 2, &name);
            have_name = 1;
        }
        else if (t.id == 0x36 && t.len >= 2 && !have_value)
        {
            afp_chars_to_utf8(t.data + 2, t.len - 2, &value);
            have_value = 1;
        }
    }
    if (have_name)
    {
        d->index = afp_realloc(d->index, (d->index_count + 1) * sizeof(afp_index_pair));
        d->index[d->index_count].name = buf_strdup(&name);
        d->index[d->index_count].value = buf_strdup(&value);
        d->index_count++;
    }
    afp_buf_free(&name);
    afp_buf_free(&value);
}

/* Lists the documents (named page groups) of a print file. */
afp_status
afp_documents(const uint8_t *buf, size_t len, afp_document_list *out, afp_error *err)
{
    afp_reader r;
    afp_sf sf;
    int rc;
    uint8_t stack[MAX_STACK];       /* categories of open Begins */
    long doc_of[MAX_STACK];         /* document entry opened by that Begin, or -1 */
    int depth = 0, resource_depth = 0, groups_in_doc = 0;
    int64_t pages = 0;
    long nfields = 0;

    if (len == 0)
        return afp_error_set(err, AFP_ERR_FORMAT, 0, "", "empty input: no structured fields");
    afp_reader_init(&r, buf, len);
    while ((rc = afp_reader_next(&r, &sf, err)) == 1)
    {
        uint8_t type = afp_sf_type(sf.id), cat = afp_sf_category(sf.id);

        if ((++nfields & 0xFFF) == 0 && afp_check_interrupt())
        {
            afp_document_list_free(out);
            return afp_error_set(err, AFP_ERR_INTERRUPTED, sf.offset, "", "interrupted");
        }
        if (type == AFP_SF_BEGIN)
        {
            long doc = -1;

            if (depth >= MAX_STACK)
            {
                afp_document_list_free(out);
                return afp_error_set(err, AFP_ERR_LIMIT, sf.offset, afp_sf_abbr(sf.id),
                                     "nesting deeper than %d Begin fields", MAX_STACK);
            }
            if (cat == 0xC6 || cat == 0xCE)     /* BRG, BRS: resources, not pages */
                resource_depth++;
            if (resource_depth == 0 && (cat == 0xA8 || cat == 0xAD))
            {
                int level = 1, i;

                doc = (long) doc_add(out);
                out->items[doc].name = begin_name(&sf);
                out->items[doc].first_page = pages + 1;
                for (i = 0; i < depth; i++)
                    if (stack[i] == 0xAD)
                        level++;
                out->items[doc].level = cat == 0xA8 ? 0 : level;
                if (cat == 0xA8)
                    groups_in_doc = 0;
                else
                    groups_in_doc++;
            }
            if (resource_depth == 0 && cat == 0xAF)
                pages++;
            stack[depth] = cat;
            doc_of[depth] = doc;
            depth++;
        }
        else if (type == AFP_SF_END)
        {
            if (depth == 0 || stack[depth - 1] != cat)
            {
                afp_document_list_free(out);
                return afp_error_set(err, AFP_ERR_FORMAT, sf.offset, afp_sf_abbr(sf.id),
                                     "%s does not close the open %s", afp_sf_abbr(sf.id),
                                     depth ? afp_sf_abbr(0xD3A800u | stack[depth - 1]) : "(nothing open)");
            }
            depth--;
            if (cat == 0xC6 || cat == 0xCE)
                resource_depth--;
            if (doc_of[depth] >= 0)
            {
                afp_document *d = &out->items[doc_of[depth]];

                d->page_count = pages - d->first_page + 1;
                /* a document with page groups is listed through its groups */
                if (cat == 0xA8 && groups_in_doc > 0 && d->index_count == 0)
                {
                    size_t k = (size_t) doc_of[depth];

                    doc_free(d);
                    memmove(&out->items[k], &out->items[k + 1], (out->count - k - 1) * sizeof(afp_document));
                    out->count--;
                }
            }
        }
        else if (sf.id == 0xD3A090 && resource_depth == 0)
        {
            /* group-level TLEs index the document; TLEs inside a page index that page only */
            if (depth > 0 && doc_of[depth - 1] >= 0)
                add_tle(&out->items[doc_of[depth - 1]], &sf);
        }
    }
    if (rc < 0)
    {
        afp_document_list_free(out);
        return err->status;
    }
    /* Begins still open at the end of the input are closed there, as afp_page_count,
     * afp_extract_text and afp_to_pdf read such a file (FOP's fop_expected_resource.afp ends
     * inside its BRG); afp_validate is the function that reports them as errors. */
    while (depth > 0)
    {
        depth--;
        if (doc_of[depth] >= 0)
        {
            afp_document *d = &out->items[doc_of[depth]];

            d->page_count = pages - d->first_page + 1;
            if (stack[depth] == 0xA8 && groups_in_doc > 0 && d->index_count == 0)
            {
                size_t k = (size_t) doc_of[depth];

                doc_free(d);
                memmove(&out->items[k], &out->items[k + 1], (out->count - k - 1) * sizeof(afp_document));
                out->count--;
            }
        }
    }
    return AFP_OK;
}
