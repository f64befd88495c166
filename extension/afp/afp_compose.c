/*
 * afp_compose.c — afp_compose_text(docs jsonb, options jsonb): plain text to an AFP print file.
 *
 * One BDT … EDT with a named page group per document, Courier text, a new page at each form feed
 * or when a page is full (core: afp_compose_text). Argument shapes: see afp_compose_args.c.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "afp_compose_args.h"
#include "afp_pg.h"

PG_FUNCTION_INFO_V1(pg_afp_compose_text);

/* SQL: afp_compose_text(docs jsonb, options jsonb DEFAULT '{}') RETURNS bytea. */
Datum
pg_afp_compose_text(PG_FUNCTION_ARGS)
{
    Jsonb *docs_arg = PG_GETARG_JSONB_P(0);
    Jsonb *opts_arg = PG_GETARG_JSONB_P(1);
    afp_compose_doc *docs;
    size_t ndocs;
    afp_compose_opts opts;
    afp_buf out;
    afp_error err;
    bytea *result;

    docs = afp_compose_docs_from_jsonb(docs_arg, &ndocs);
    afp_compose_opts_from_jsonb(opts_arg, &opts);

    afp_buf_init(&out);
    afp_error_clear(&err);
    afp_pg_check(afp_compose_text(docs, ndocs, &opts, &out, &err), &err);

    if (out.len > MaxAllocSize - VARHDRSZ)
        ereport(ERROR,
                (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                 errmsg("afp_compose_text: the composed file (%zu bytes) exceeds the bytea limit",
                        out.len)));
    result = (bytea *) palloc(VARHDRSZ + out.len);
    SET_VARSIZE(result, VARHDRSZ + out.len);
    if (out.len > 0)
        memcpy(VARDATA(result), out.data, out.len);
    PG_RETURN_BYTEA_P(result);
}
