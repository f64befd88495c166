/*
 * afp_to_pdf.c — afp_to_pdf(afp bytea, options jsonb DEFAULT '{}') RETURNS bytea.
 *
 * Converts an AFP print stream to a PDF (core: afp_to_pdf, docs/conversion.md). The options
 * object is handed to the core's parser as UTF-8 JSON text, so SQL and the CLI (--options)
 * accept exactly the same keys and report the same messages (22023 for a bad option). Damaged
 * input raises 22P03 with the byte offset; a file without pages as well ("no pages").
 * Conversion warnings (e.g. a missing resource with {"missing": "warn"}) become WARNINGs.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "utils/acl.h"

#include "afp_pdf.h"
#include "afp_pg.h"
#include "afp_pg_json.h"

PG_FUNCTION_INFO_V1(pg_afp_to_pdf);

/* Conversion warning callback: reported as a WARNING (the conversion goes on). */
static void
afp_pg_pdf_warning(void *ctx, const char *msg)
{
    ereport(WARNING, (errmsg("afp_to_pdf: %s", msg)));
}

/* Resolver of external resources: the highest version in afp.resources whose name equals the
 * requested one (compared in upper case, as AFP names are) and whose type fits: "overlay" →
 * overlay, "segment" → segment, "object"/"image" → object or image, "font" → font or object.
 * The content is copied into the memory context of the call (ctx), so it lives until the
 * conversion ends. */
static int
afp_pg_pdf_resolve(void *ctx, const char *type, const char *name, const uint8_t **data,
                   size_t *len)
{
    MemoryContext cxt = (MemoryContext) ctx, old;
    Oid argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
    Datum args[3];
    const char *t1 = strcmp(type, "overlay") == 0 ? "overlay"
                   : strcmp(type, "segment") == 0 ? "segment"
                   : strcmp(type, "font") == 0 ? "font" : "object";
    const char *t2 = strcmp(t1, "object") == 0 ? "image" : strcmp(t1, "font") == 0 ? "object" : t1;
    int found = 0;

    if (SPI_connect() != SPI_OK_CONNECT)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("afp_to_pdf: SPI_connect failed")));
    args[0] = CStringGetTextDatum(name);
    args[1] = CStringGetTextDatum(t1);
    args[2] = CStringGetTextDatum(t2);
    if (SPI_execute_with_args("SELECT content FROM afp.resources WHERE upper(name) = upper($1) "
                              "AND type IN ($2, $3) ORDER BY type = $2 DESC, version DESC LIMIT 1",
                              3, argtypes, args, NULL, true, 1) == SPI_OK_SELECT &&
        SPI_processed == 1)
    {
        bool isnull;
        Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

        if (!isnull)
        {
            bytea *b;

            old = MemoryContextSwitchTo(cxt);
            b = DatumGetByteaPCopy(d);
            MemoryContextSwitchTo(old);
            *data = (const uint8_t *) VARDATA_ANY(b);
            *len = VARSIZE_ANY_EXHDR(b);
            found = 1;
        }
    }
    SPI_finish();
    return found;
}

/* Text column i of SPI row r as a C string in the current context ("" when NULL). */
static const char *
afp_pg_fm_text(HeapTuple r, TupleDesc td, int i)
{
    bool isnull;
    Datum d = SPI_getbinval(r, td, i, &isnull);

    return isnull ? "" : TextDatumGetCString(d);
}

/* Appends the enabled rows of afp.font_map (priority, id order) to the options' font map, after
 * the entries of the "font_map" option. Rows with a font_path are used only when the caller
 * has the privileges of pg_read_server_files (the server reads the file); otherwise a WARNING
 * names the row and it is skipped. font_data is copied into the context of the call. */
static void
afp_pg_load_font_map(afp_pdf_options *o)
{
    MemoryContext outer = CurrentMemoryContext, old;
    uint64 i;
    bool may_read = superuser() || has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES);

    if (SPI_connect() != SPI_OK_CONNECT)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("afp_to_pdf: SPI_connect failed")));
    if (SPI_execute("SELECT id, char_set, coded_font, code_page, liberation, style, base14, "
                    "font_path, font_data FROM afp.font_map WHERE enabled "
                    "ORDER BY priority, id", true, 0) != SPI_OK_SELECT)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                        errmsg("afp_to_pdf: reading afp.font_map failed")));
    for (i = 0; i < SPI_processed; i++)
    {
        HeapTuple r = SPI_tuptable->vals[i];
        TupleDesc td = SPI_tuptable->tupdesc;
        bool isnull;
        int64 id = DatumGetInt64(SPI_getbinval(r, td, 1, &isnull));
        const char *lib, *b14, *path, *style;
        Datum data;
        afp_pdf_font_map *e;

        old = MemoryContextSwitchTo(outer);
        lib = afp_pg_fm_text(r, td, 5);
        style = afp_pg_fm_text(r, td, 6);
        b14 = afp_pg_fm_text(r, td, 7);
        path = afp_pg_fm_text(r, td, 8);
        data = SPI_getbinval(r, td, 9, &isnull);
        if (path[0] && !may_read)
        {
            ereport(WARNING,
                    (errmsg("afp_to_pdf: afp.font_map row %lld is skipped: its font_path is read "
                            "by the server, which needs the privileges of pg_read_server_files",
                            (long long) id)));
            MemoryContextSwitchTo(old);
            continue;
        }
        e = afp_pdf_font_map_add(o);
        snprintf(e->char_set, sizeof(e->char_set), "%s", afp_pg_fm_text(r, td, 2));
        snprintf(e->coded_font, sizeof(e->coded_font), "%s", afp_pg_fm_text(r, td, 3));
        snprintf(e->code_page, sizeof(e->code_page), "%s", afp_pg_fm_text(r, td, 4));
        snprintf(e->label, sizeof(e->label), "afp.font_map row %lld", (long long) id);
        if (lib[0])
        {
            static const char *const fam[3] = {"sans", "serif", "mono"};
            static const char *const sty[4] = {"regular", "italic", "bold", "bold-italic"};
            int k;

            e->kind = AFP_PDF_FONT_LIBERATION;
            for (k = 0; k < 3; k++)
                if (strcmp(lib, fam[k]) == 0)
                    e->family = k;
            for (k = 0; k < 4; k++)
                if (strcmp(style, sty[k]) == 0)
                    e->style = k;
        }
        else if (b14[0])
        {
            static const char *const names[12] = {
                "Helvetica", "Helvetica-Oblique", "Helvetica-Bold", "Helvetica-BoldOblique",
                "Times-Roman", "Times-Italic", "Times-Bold", "Times-BoldItalic",
                "Courier", "Courier-Oblique", "Courier-Bold", "Courier-BoldOblique"};
            int k;

            e->kind = AFP_PDF_FONT_BASE14;
            for (k = 0; k < 12; k++)
                if (strcmp(b14, names[k]) == 0)
                {
                    e->family = k / 4;
                    e->style = k % 4;
                }
        }
        else if (path[0])
        {
            e->kind = AFP_PDF_FONT_FILE;
            e->path = pstrdup(path);
        }
        else if (!isnull)
        {
            bytea *b = DatumGetByteaPCopy(data);

            e->kind = AFP_PDF_FONT_DATA;
            e->data = (const uint8_t *) VARDATA_ANY(b);
            e->data_len = VARSIZE_ANY_EXHDR(b);
        }
        MemoryContextSwitchTo(old);
    }
    SPI_finish();
}

/* SQL: afp_to_pdf(afp bytea, options jsonb DEFAULT '{}') RETURNS bytea. */
Datum
pg_afp_to_pdf(PG_FUNCTION_ARGS)
{
    bytea *input = PG_GETARG_BYTEA_PP(0);
    Jsonb *options = PG_GETARG_JSONB_P(1);
    size_t len = VARSIZE_ANY_EXHDR(input);
    afp_pdf_options opts;
    afp_error err;
    afp_buf out;
    bytea *result;
    char *utf8;
    size_t ulen;

    afp_pg_require_input("afp_to_pdf", len);
    afp_error_clear(&err);
    afp_pdf_options_init(&opts);
    utf8 = afp_pg_jsonb_to_utf8(options, &ulen);     /* afp_pg_json.c */
    afp_pg_check(afp_pdf_options_parse(&opts, utf8, ulen, &err), &err);
    if (opts.font_map_table)
        afp_pg_load_font_map(&opts);           /* afp.font_map (sql/052_font_map.sql) */
    opts.warning = afp_pg_pdf_warning;
    opts.resolve = afp_pg_pdf_resolve;         /* resources the file lacks: afp.resources */
    opts.resolve_ctx = CurrentMemoryContext;
    afp_buf_init(&out);
    afp_pg_check(afp_to_pdf((const uint8_t *) VARDATA_ANY(input), len, &opts, &out, NULL, &err),
                 &err);
    if (out.len > MaxAllocSize - VARHDRSZ)
        ereport(ERROR,
                (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                 errmsg("afp_to_pdf: the PDF (%zu bytes) exceeds the bytea limit", out.len)));
    result = (bytea *) palloc(VARHDRSZ + out.len);
    SET_VARSIZE(result, VARHDRSZ + out.len);
    memcpy(VARDATA(result), out.data, out.len);
    PG_RETURN_BYTEA_P(result);
}
