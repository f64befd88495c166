/*
 * afp_text.c — afp_text(bytea [, options jsonb]) and afp_page_count(bytea).
 *
 * afp_text returns the text of every page in reading order, pages separated by form feeds and
 * lines by newlines (core: afp_extract_text, afp_extract_text_opts). afp_page_count counts
 * document-level pages.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/jsonb.h"

#include "afp_pg.h"
#include "afp_pg_json.h"
#include "afp_dbcs.h"

PG_FUNCTION_INFO_V1(pg_afp_text);
PG_FUNCTION_INFO_V1(pg_afp_text_opts);
PG_FUNCTION_INFO_V1(pg_afp_page_count);

/* SQL: afp_text(bytea) RETURNS text. */
Datum
pg_afp_text(PG_FUNCTION_ARGS)
{
    bytea *input = PG_GETARG_BYTEA_PP(0);
    size_t len = VARSIZE_ANY_EXHDR(input);
    afp_buf out;
    afp_error err;

    afp_pg_require_input("afp_text", len);
    afp_buf_init(&out);
    afp_error_clear(&err);
    afp_pg_check(afp_extract_text((const uint8_t *) VARDATA_ANY(input), len, &out, &err), &err);
    PG_RETURN_TEXT_P(afp_pg_text_from_utf8((const char *) out.data, out.len));
}

/* Text extraction warning ({"missing": "warn"}, missing included resources): a WARNING. */
static void
afp_pg_text_warning(void *ctx, const char *msg)
{
    (void) ctx;
    ereport(WARNING, (errmsg("afp_text: %s", msg)));
}

/* SQL: afp_text(bytea, options jsonb) RETURNS text — code_pages, missing, includes. */
Datum
pg_afp_text_opts(PG_FUNCTION_ARGS)
{
    bytea *input = PG_GETARG_BYTEA_PP(0);
    Jsonb *options = PG_GETARG_JSONB_P(1);
    size_t len = VARSIZE_ANY_EXHDR(input);
    afp_text_options opts;
    afp_buf out;
    afp_error err;
    char *utf8;
    size_t ulen;

    afp_pg_require_input("afp_text", len);
    memset(&opts, 0, sizeof opts);
    afp_error_clear(&err);
    utf8 = afp_pg_jsonb_to_utf8(options, &ulen);     /* afp_pg_json.c */
    afp_pg_check(afp_text_options_parse(&opts, utf8, ulen, &err), &err);
    opts.warning = afp_pg_text_warning;
    afp_buf_init(&out);
    afp_pg_check(afp_extract_text_opts((const uint8_t *) VARDATA_ANY(input), len, &opts, &out,
                                       &err), &err);
    PG_RETURN_TEXT_P(afp_pg_text_from_utf8((const char *) out.data, out.len));
}

/* SQL: afp_page_count(bytea) RETURNS int. */
Datum
pg_afp_page_count(PG_FUNCTION_ARGS)
{
    bytea *input = PG_GETARG_BYTEA_PP(0);
    size_t len = VARSIZE_ANY_EXHDR(input);
    int64_t count = 0;
    afp_error err;

    afp_pg_require_input("afp_page_count", len);
    afp_error_clear(&err);
    afp_pg_check(afp_page_count((const uint8_t *) VARDATA_ANY(input), len, &count, &err), &err);
    if (count < 0 || count > PG_INT32_MAX)
        ereport(ERROR,
                (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                 errmsg("afp: page count %lld is out of range for int", (long long) count)));
    PG_RETURN_INT32((int32) count);
}
