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

/* Resource provider for the batch: the highest version in afp.resources (kept for the call). */
static int
lo_resource(void *ctx, const char *type, const char *name, const uint8_t **data, size_t *len)
{
    List **cache = ctx;
    ListCell *lc;
    Oid argtypes[2] = {TEXTOID, TEXTOID};
    Datum args[2];
    int found = 0;

    foreach(lc, *cache)
    {
        bytea **e = lfirst(lc);     /* e[0] = "type:name" as bytea, e[1] = content */

        if (VARSIZE_ANY_EXHDR(e[0]) == strlen(type) + 1 + strlen(name) &&
            strncmp(VARDATA_ANY(e[0]), type, strlen(type)) == 0 &&
            strncmp(VARDATA_ANY(e[0]) + strlen(type) + 1, name, strlen(name)) == 0)
        {
            *data = (const uint8_t *) VARDATA_ANY(e[1]);
            *len = VARSIZE_ANY_EXHDR(e[1]);
            return 1;
        }
    }
    args[0] = CStringGetTextDatum(name);
    args[1] = CStringGetTextDatum(type);
    if (SPI_execute_with_args("SELECT content FROM afp.resources WHERE name = $1 AND type = $2 "
                              "ORDER BY version DESC LIMIT 1", 2, argtypes, args, NULL, true, 1) == SPI_OK_SELECT &&
        SPI_processed == 1)
    {
        bool isnull;
        Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

        if (!isnull)
        {
            MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
            bytea **e = palloc(2 * sizeof(bytea *));
            char *key = psprintf("%s:%s", type, name);

            e[0] = (bytea *) cstring_to_text(key);
            e[1] = DatumGetByteaPCopy(d);
            *cache = lappend(*cache, e);
            MemoryContextSwitchTo(old);
            *data = (const uint8_t *) VARDATA_ANY(e[1]);
            *len = VARSIZE_ANY_EXHDR(e[1]);
            found = 1;
        }
    }
    return found;
}

/* SQL: afp_generate_batch_lo(template jsonb, query text) RETURNS oid. The query's first column
 * must be jsonb: one document per row, in the query's order. */
Datum
pg_afp_generate_batch_lo(PG_FUNCTION_ARGS)
{
    char *query = text_to_cstring(PG_GETARG_TEXT_PP(1));
    MemoryContext callcxt = CurrentMemoryContext, rowcxt, old;
    afp_json *tmpl = afp_pg_jsonb_to_core(PG_GETARG_JSONB_P(0), "template");
    afp_path_issue_list issues = {0};
    List *cache = NIL;
    afp_generator *g;
    afp_buf out;
    afp_error err;
    int32 lo;
    Portal portal;
    Oid loid;
    int64 rows = 0;

    afp_template_validate(tmpl, &issues);
    if (issues.count > 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("afp: template: %s: %s", issues.items[0].path, issues.items[0].message)));
    loid = DatumGetObjectId(DirectFunctionCall1(be_lo_create, ObjectIdGetDatum(InvalidOid)));
    lo = DatumGetInt32(DirectFunctionCall2(be_lo_open, ObjectIdGetDatum(loid), Int32GetDatum(INV_WRITE)));
    afp_buf_init(&out);
    afp_error_clear(&err);
    if (SPI_connect() != SPI_OK_CONNECT)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("afp: SPI_connect failed")));
    old = MemoryContextSwitchTo(callcxt);
    afp_pg_check(afp_generator_begin(&g, tmpl, lo_resource, &cache, &out, &err), &err);
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
