/*
 * afp_generate_lo.c — afp_generate_batch_lo(template jsonb, query text) RETURNS oid: a batch
 * written straight into a new large object, document by document, from a cursor over the query.
 *
 * Memory stays bounded by one document's layout plus one fetch of rows, however many documents
 * the query yields: each document's bytes go to the large object as soon as it is complete.
 */
#include "postgres.h"

#include "catalog/pg_type_d.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "libpq/libpq-fs.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "afp_pg.h"
#include "afp_gen.h"
#include "afp_pg_json.h"
#include "afp_pg_gen.h"

PG_FUNCTION_INFO_V1(pg_afp_generate_batch_lo);

#define FETCH_ROWS 100

/* Writes the buffer to the large object (descriptor fd, through the SQL-level lowrite so the
 * server's large-object bookkeeping and cleanup apply) and empties it. */
static void
flush_to_lo(int32 fd, afp_buf *out)
{
    size_t pos = 0;

    while (pos < out->len)
    {
        size_t n = Min(out->len - pos, (size_t) (1 << 20));
        bytea *chunk = palloc(VARHDRSZ + n);

        SET_VARSIZE(chunk, VARHDRSZ + n);
        memcpy(VARDATA(chunk), out->data + pos, n);
        if (DatumGetInt32(DirectFunctionCall2(be_lowrite, Int32GetDatum(fd), PointerGetDatum(chunk))) != (int32) n)
            ereport(ERROR, (errcode(ERRCODE_IO_ERROR), errmsg("afp: short write to the large object")));
        pfree(chunk);
        pos += n;
    }
    out->len = 0;
}

/* SQL: afp_generate_batch_lo(template jsonb, query text) RETURNS oid. The query's first column
 * must be jsonb: one document per row, in the query's order. */
Datum
pg_afp_generate_batch_lo(PG_FUNCTION_ARGS)
{
    char *query = text_to_cstring(PG_GETARG_TEXT_PP(1));
    MemoryContext callcxt = CurrentMemoryContext, rowcxt, old;
    afp_json *tmpl = afp_pg_jsonb_to_core(PG_GETARG_JSONB_P(0), "template");
    afp_pg_res_cache cache = {callcxt, NIL};   /* resources, kept for the call */
    afp_generator *g;
    afp_buf out;
    afp_error err;
    int32 lo;
    Portal portal;
    Oid loid;
    int64 rows = 0;

    afp_pg_check_template(tmpl);                /* afp_generate.c */
    loid = DatumGetObjectId(DirectFunctionCall1(be_lo_create, ObjectIdGetDatum(InvalidOid)));
    lo = DatumGetInt32(DirectFunctionCall2(be_lo_open, ObjectIdGetDatum(loid), Int32GetDatum(INV_WRITE)));
    afp_buf_init(&out);
    afp_error_clear(&err);
    if (SPI_connect() != SPI_OK_CONNECT)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("afp: SPI_connect failed")));
    old = MemoryContextSwitchTo(callcxt);
    afp_pg_check(afp_generator_begin(&g, tmpl, afp_pg_resource, &cache, &out, &err), &err);
    MemoryContextSwitchTo(old);
    portal = SPI_cursor_open_with_args(NULL, query, 0, NULL, NULL, NULL, true, 0);
    if (portal->tupDesc == NULL || portal->tupDesc->natts < 1 ||
        TupleDescAttr(portal->tupDesc, 0)->atttypid != JSONBOID)
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("afp_generate_batch_lo: the query's first column must be jsonb")));
    rowcxt = AllocSetContextCreate(callcxt, "afp batch row", ALLOCSET_DEFAULT_SIZES);
    for (;;)
    {
        uint64 i;

        SPI_cursor_fetch(portal, true, FETCH_ROWS);
        if (SPI_processed == 0)
            break;
        for (i = 0; i < SPI_processed; i++)
        {
            bool isnull;
            Datum d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
            afp_json *data;

            rows++;
            if (isnull)
                ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                                errmsg("afp_generate_batch_lo: data of row %lld is NULL", (long long) rows)));
            /* the row's data and layout live in rowcxt, reset per row; the generator and the
             * output buffer stay in the call's context */
            old = MemoryContextSwitchTo(rowcxt);
            data = afp_pg_jsonb_to_core(DatumGetJsonbP(d), "data");
            MemoryContextSwitchTo(callcxt);
            if (afp_generator_add(g, data, &err) != AFP_OK)
            {
                snprintf(err.message + strlen(err.message), sizeof(err.message) - strlen(err.message),
                         " (row %lld)", (long long) rows);
                afp_pg_raise(&err);
            }
            MemoryContextSwitchTo(old);
            MemoryContextReset(rowcxt);
            flush_to_lo(lo, &out);
        }
        SPI_freetuptable(SPI_tuptable);
    }
    SPI_cursor_close(portal);
    old = MemoryContextSwitchTo(callcxt);
    afp_generator_end(g, &err);
    MemoryContextSwitchTo(old);
    flush_to_lo(lo, &out);
    DirectFunctionCall1(be_lo_close, Int32GetDatum(lo));
    SPI_finish();
    PG_RETURN_OID(loid);
}
