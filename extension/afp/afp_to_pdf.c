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

#include "fmgr.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "afp_pdf.h"
#include "afp_pg.h"

PG_FUNCTION_INFO_V1(pg_afp_to_pdf);

/* Conversion warning callback: reported as a WARNING (the conversion goes on). */
static void
afp_pg_pdf_warning(void *ctx, const char *msg)
{
    ereport(WARNING, (errmsg("afp_to_pdf: %s", msg)));
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
    char *json, *utf8;
    size_t ulen;

    afp_pg_require_input("afp_to_pdf", len);
    afp_error_clear(&err);
    afp_pdf_options_init(&opts);
    json = JsonbToCString(NULL, &options->root, VARSIZE(options));
    utf8 = afp_pg_utf8_from_server(json, strlen(json), &ulen);
    afp_pg_check(afp_pdf_options_parse(&opts, utf8, ulen, &err), &err);
    opts.warning = afp_pg_pdf_warning;
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
