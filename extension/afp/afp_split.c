/*
 * afp_split.c — afp_split(bytea): one self-contained AFP per document of a print file.
 *
 *   seq int, index jsonb, afp bytea
 *
 * Each row holds one outermost named page group (or one BDT without page groups) with the file's
 * inline resource groups and form maps copied in front (core/afp_split.c). index is the jsonb
 * object of the group's TLE name/value pairs, as afp_documents reports it.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "afp_pg.h"
#include "afp_split.h"

#define AFP_SPLIT_COLS 3

PG_FUNCTION_INFO_V1(pg_afp_split);

/* Core callback: stores one part as a row. */
static int
afp_split_row(void *p, const afp_split_part *part)
{
    ReturnSetInfo *rsinfo = p;
    Datum values[AFP_SPLIT_COLS];
    bool nulls[AFP_SPLIT_COLS] = {false};
    bytea *afp;

    CHECK_FOR_INTERRUPTS();
    if (part->seq > PG_INT32_MAX || part->len > MaxAllocSize - VARHDRSZ)
        ereport(ERROR,
                (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                 errmsg("afp_split: document %lld is too large", (long long) part->seq)));
    afp = palloc(VARHDRSZ + part->len);
    SET_VARSIZE(afp, VARHDRSZ + part->len);
    memcpy(VARDATA(afp), part->afp, part->len);
    values[0] = Int32GetDatum((int32) part->seq);
    values[1] = afp_pg_document_index(part->doc);   /* {} when unknown */
    values[2] = PointerGetDatum(afp);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    pfree(afp);
    return 0;
}

/* SQL: afp_split(bytea) RETURNS TABLE(seq int, index jsonb, afp bytea). */
Datum
pg_afp_split(PG_FUNCTION_ARGS)
{
    bytea *input = PG_GETARG_BYTEA_PP(0);
    size_t len = VARSIZE_ANY_EXHDR(input);
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    afp_error err;

    afp_pg_require_input("afp_split", len);
    InitMaterializedSRF(fcinfo, 0);
    afp_error_clear(&err);
    afp_pg_check(afp_split((const uint8_t *) VARDATA_ANY(input), len, afp_split_row, rsinfo, NULL,
                           &err), &err);
    return (Datum) 0;
}
