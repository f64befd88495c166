/*
 * afp_convert_outline.c — documents of the print stream as PDF bookmarks and metadata.
 *
 * The named page groups (BNG … ENG) of the input, listed by afp_documents with their TLE index
 * values, become the PDF outline: one bookmark per group at its first page, nested like the
 * groups (a group of level n + 1 under the last group of level n). The title is the group name,
 * or its index values ("value, value") when the group has no name. The first group (or, in a
 * file without page groups, the document's own TLEs) fills the document information: /Title
 * (unless the "title" option gives one) the group name, /Subject its index pairs as
 * "Name: value; Name: value", /Keywords its values separated by commas.
 */
#include "afp_pdf_int.h"

#include <string.h>

/* Appends the values of a document's index separated by sep to b. */
static void
join_values(afp_buf *b, const afp_document *d, const char *sep, int with_names)
{
    size_t i;

    for (i = 0; i < d->index_count; i++)
    {
        if (i)
            afp_buf_append(b, sep, strlen(sep));
        if (with_names)
            afp_buf_printf(b, "%s: ", d->index[i].name ? d->index[i].name : "");
        if (d->index[i].value)
            afp_buf_append(b, d->index[i].value, strlen(d->index[i].value));
    }
}

/* Bookmark title of a page group: its name, else its index values. */
static void
outline_title(afp_buf *b, const afp_document *d)
{
    b->len = 0;
    if (d->name && d->name[0])
        afp_buf_append(b, d->name, strlen(d->name));
    else
        join_values(b, d, ", ", 0);
    if (b->len == 0)
        afp_buf_printf(b, "Page %lld", (long long) d->first_page);
}

/* Writes the outline of the page groups; returns its root object (0 when the input has no page
 * group) and appends the /Title, /Subject and /Keywords entries of the document information to
 * info. */
int
cv_outline_write(cv_ctx *ctx, afp_buf *info)
{
    afp_document_list docs;
    afp_error err;
    afp_buf t;
    const afp_document *meta = NULL;
    int *obj = NULL, *parent = NULL, *first = NULL, *last = NULL, *prev = NULL, *next = NULL;
    int *count = NULL, root = 0, stack[64];
    size_t i, n, top = 0;

    memset(&docs, 0, sizeof(docs));
    if (afp_documents(ctx->buf, ctx->len, &docs, &err) != AFP_OK)
    {
        cv_warn(ctx, "no bookmarks: %s", err.message);
        return 0;
    }
    afp_buf_init(&t);
    n = docs.count;
    for (i = 0; i < n && meta == NULL; i++)
        if (docs.items[i].level >= 1)
            meta = &docs.items[i];
    if (meta == NULL && n > 0 && docs.items[0].index_count > 0)
        meta = &docs.items[0];
    if (meta != NULL)
    {
        if (!ctx->opts->title[0] && meta->name && meta->name[0])
        {
            afp_buf_printf(info, " /Title ");
            pdf_text_string(info, meta->name, strlen(meta->name));
        }
        if (meta->index_count > 0)
        {
            join_values(&t, meta, "; ", 1);
            afp_buf_printf(info, " /Subject ");
            pdf_text_string(info, (const char *) t.data, t.len);
            t.len = 0;
            join_values(&t, meta, ", ", 0);
            afp_buf_printf(info, " /Keywords ");
            pdf_text_string(info, (const char *) t.data, t.len);
        }
    }

    /* the tree: parent of an item = the last item one level up (the root for level 1) */
    obj = afp_alloc(sizeof(int) * (n + 1) * 7);
    parent = obj + (n + 1);
    first = parent + (n + 1);
    last = first + (n + 1);
    prev = last + (n + 1);
    next = prev + (n + 1);
    count = next + (n + 1);
    memset(obj, 0, sizeof(int) * (n + 1) * 7);
    stack[0] = (int) n;                         /* index n stands for the root */
    for (i = 0; i < n; i++)
    {
        const afp_document *d = &docs.items[i];
        int lvl = d->level, p;

        if (lvl < 1 || d->first_page < 1 || (size_t) d->first_page > ctx->npages)
            continue;
        if (lvl > 63)
            lvl = 63;
        if ((size_t) lvl > top + 1)
            lvl = (int) top + 1;                /* a level skipped: attach to the deepest */
        top = (size_t) lvl;
        p = stack[lvl - 1];
        stack[lvl] = (int) i;
        obj[i] = pdfw_alloc(&ctx->w);
        parent[i] = p;
        if (first[p] == 0)
            first[p] = (int) i + 1;             /* 1-based item index, 0 = none */
        else
        {
            prev[i] = last[p];
            next[last[p] - 1] = (int) i + 1;
        }
        last[p] = (int) i + 1;
        count[p]++;
    }
    if (first[n] != 0)
    {
        root = pdfw_alloc(&ctx->w);
        obj[n] = root;
        for (i = 0; i < n; i++)
        {
            if (obj[i] == 0)
                continue;
            outline_title(&t, &docs.items[i]);
            pdfw_begin(&ctx->w, obj[i]);
            pdfw_printf(&ctx->w, "<< /Title ");
            {
                afp_buf s;

                afp_buf_init(&s);
                pdf_text_string(&s, (const char *) t.data, t.len);
                pdfw_append(&ctx->w, s.data, s.len);
                afp_buf_free(&s);
            }
            pdfw_printf(&ctx->w, " /Parent %d 0 R /Dest [%d 0 R /Fit]", obj[parent[i]],
                        ctx->pages[docs.items[i].first_page - 1]);
            if (prev[i])
                pdfw_printf(&ctx->w, " /Prev %d 0 R", obj[prev[i] - 1]);
            if (next[i])
                pdfw_printf(&ctx->w, " /Next %d 0 R", obj[next[i] - 1]);
            if (first[i])
                pdfw_printf(&ctx->w, " /First %d 0 R /Last %d 0 R /Count -%d", obj[first[i] - 1],
                            obj[last[i] - 1], count[i]);
            pdfw_printf(&ctx->w, " >>");
            pdfw_end(&ctx->w);
        }
        pdfw_begin(&ctx->w, root);
        pdfw_printf(&ctx->w, "<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count %d >>",
                    obj[first[n] - 1], obj[last[n] - 1], count[n]);
        pdfw_end(&ctx->w);
    }
    afp_free(obj);
    afp_buf_free(&t);
    afp_document_list_free(&docs);
    return root;
}
