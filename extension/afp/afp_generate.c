/*
 * afp_generate.c — SQL glue of the generator: afp_generate(template jsonb, data jsonb),
 * afp_template_validate(jsonb) and the afp_generate_batch aggregate.
 *
 * Templates and data arrive as jsonb and are handed to the core as UTF-8 JSON text. Resources
 * (images, overlays, page segments) are read from afp.resources with SPI, once per name per call.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "afp_pg.h"
#include "afp_gen.h"
#include "afp_pg_json.h"
#include "afp_pg_gen.h"

PG_FUNCTION_INFO_V1(pg_afp_generate);
PG_FUNCTION_INFO_V1(pg_afp_template_validate);
PG_FUNCTION_INFO_V1(pg_afp_generate_batch_step);
PG_FUNCTION_INFO_V1(pg_afp_generate_batch_final);

/* A resource fetched from afp.resources, cached for the rest of the call. */
typedef struct pg_res {
    char *type;
    char *name;
    bytea *content;
} pg_res;

/* Resource provider of the generator (afp_resource_fn; ctx is an afp_pg_res_cache): SELECT
 * content FROM afp.resources (highest version of name and type), copied into the cache's
 * context once per name. It opens its own SPI connection, so it may run inside a caller's SPI
 * connection without disturbing its SPI_tuptable (afp_generate_lo.c). */
int
afp_pg_resource(void *ctx, const char *type, const char *name, const uint8_t **data, size_t *len)
{
    afp_pg_res_cache *c = ctx;
    ListCell *lc;
    Oid argtypes[2] = {TEXTOID, TEXTOID};
    Datum args[2];
    int found = 0;
    MemoryContext old;
    pg_res *r;

    foreach(lc, c->items)
    {
        r = lfirst(lc);
        if (strcmp(r->type, type) == 0 && strcmp(r->name, name) == 0)
        {
            *data = (const uint8_t *) VARDATA_ANY(r->content);
            *len = VARSIZE_ANY_EXHDR(r->content);
            return 1;
        }
    }
    if (SPI_connect() != SPI_OK_CONNECT)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("afp: SPI_connect failed")));
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
            old = MemoryContextSwitchTo(c->cxt);
            r = palloc(sizeof(pg_res));
            r->type = pstrdup(type);
            r->name = pstrdup(name);
            r->content = DatumGetByteaPCopy(d);
            c->items = lappend(c->items, r);
            MemoryContextSwitchTo(old);
            *data = (const uint8_t *) VARDATA_ANY(r->content);
            *len = VARSIZE_ANY_EXHDR(r->content);
            found = 1;
        }
    }
    SPI_finish();
    return found;
}

/* Raises the first template problem, if any, as 22023 with its path (and a detail counting
 * the others); also used by afp_generate_batch_lo (afp_generate_lo.c). */
void
afp_pg_check_template(const afp_json *tmpl)
{
    afp_path_issue_list issues = {0};

    afp_template_validate(tmpl, &issues);
    if (issues.count > 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("afp: template: %s: %s", issues.items[0].path, issues.items[0].message),
                        issues.count > 1 ? errdetail("%zu more problem(s); see afp_template_validate()",
                                                     issues.count - 1) : 0));
}

/* Builds a bytea from a buffer. */
static bytea *
buf_to_bytea(const afp_buf *b)
{
    bytea *r = palloc(VARHDRSZ + b->len);

    SET_VARSIZE(r, VARHDRSZ + b->len);
    if (b->len)
        memcpy(VARDATA(r), b->data, b->len);
    return r;
}

/* SQL: afp_generate(template jsonb, data jsonb) RETURNS bytea. An array of data objects gives
 * one print file with one document per element. */
Datum
pg_afp_generate(PG_FUNCTION_ARGS)
{
    afp_json *tmpl = afp_pg_jsonb_to_core(PG_GETARG_JSONB_P(0), "template");
    afp_json *data = afp_pg_jsonb_to_core(PG_GETARG_JSONB_P(1), "data");
    afp_pg_res_cache cache = {CurrentMemoryContext, NIL};
    afp_generator *g;
    afp_buf out;
    afp_error err;
    size_t i, n = data->type == AFP_JSON_ARRAY ? data->count : 1;

    afp_pg_check_template(tmpl);
    afp_buf_init(&out);
    afp_error_clear(&err);
    afp_pg_check(afp_generator_begin(&g, tmpl, afp_pg_resource, &cache, &out, &err), &err);
    for (i = 0; i < n; i++)
    {
        const afp_json *doc = data->type == AFP_JSON_ARRAY ? data->items[i] : data;

        if (afp_generator_add(g, doc, &err) != AFP_OK)
        {
            if (data->type == AFP_JSON_ARRAY)
            {
                afp_error e2 = err;

                snprintf(e2.message, sizeof(e2.message), "data[%zu]: %s", i, err.message);
                afp_pg_raise(&e2);
            }
            afp_pg_raise(&err);
        }
    }
    afp_generator_end(g, &err);
    PG_RETURN_BYTEA_P(buf_to_bytea(&out));
}

/* SQL: afp_template_validate(jsonb) RETURNS TABLE(path text, message text). */
Datum
pg_afp_template_validate(PG_FUNCTION_ARGS)
{
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    afp_json *tmpl = afp_pg_jsonb_to_core(PG_GETARG_JSONB_P(0), "template");
    afp_path_issue_list issues = {0};
    size_t i;

    InitMaterializedSRF(fcinfo, 0);
    afp_template_validate(tmpl, &issues);
    for (i = 0; i < issues.count; i++)
    {
        Datum values[2];
        bool nulls[2] = {false, false};

        values[0] = PointerGetDatum(afp_pg_text_from_utf8(issues.items[i].path, strlen(issues.items[i].path)));
        values[1] = PointerGetDatum(afp_pg_text_from_utf8(issues.items[i].message, strlen(issues.items[i].message)));
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum) 0;
}

/* State of the afp_generate_batch aggregate, in the aggregate's memory context. */
typedef struct batch_state {
    MemoryContext cxt;
    afp_json *tmpl;
    afp_generator *g;
    afp_buf out;
    afp_pg_res_cache cache;
    int64 rows;
} batch_state;

/* Aggregate step: parses the template on the first row, then lays out and writes one document. */
Datum
pg_afp_generate_batch_step(PG_FUNCTION_ARGS)
{
    MemoryContext aggcxt, old;
    batch_state *st;
    afp_json *data;
    afp_error err;

    if (!AggCheckCallContext(fcinfo, &aggcxt))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("afp_generate_batch_step called outside an aggregate")));
    if (PG_ARGISNULL(1))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("afp_generate_batch: template is NULL")));
    if (PG_ARGISNULL(2))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("afp_generate_batch: data of row %lld is NULL",
                               PG_ARGISNULL(0) ? 1LL : (long long) ((batch_state *) PG_GETARG_POINTER(0))->rows + 1)));
    afp_error_clear(&err);
    old = MemoryContextSwitchTo(aggcxt);
    if (PG_ARGISNULL(0))
    {
        st = palloc0(sizeof(batch_state));
        st->cxt = aggcxt;
        st->cache.cxt = aggcxt;
        st->tmpl = afp_pg_jsonb_to_core(PG_GETARG_JSONB_P(1), "template");
        afp_pg_check_template(st->tmpl);
        afp_buf_init(&st->out);
        afp_pg_check(afp_generator_begin(&st->g, st->tmpl, afp_pg_resource, &st->cache, &st->out, &err), &err);
    }
    else
        st = (batch_state *) PG_GETARG_POINTER(0);
    MemoryContextSwitchTo(old);

    /* the row's data and its layout live in a short-lived context; the generator's output
     * and its own state are in the aggregate context */
    data = afp_pg_jsonb_to_core(PG_GETARG_JSONB_P(2), "data");
    old = MemoryContextSwitchTo(aggcxt);
    if (afp_generator_add(st->g, data, &err) != AFP_OK)
    {
        MemoryContextSwitchTo(old);
        snprintf(err.message + strlen(err.message), sizeof(err.message) - strlen(err.message),
                 " (row %lld)", (long long) st->rows + 1);
        afp_pg_raise(&err);
    }
    MemoryContextSwitchTo(old);
    afp_json_free(data);
    st->rows++;
    PG_RETURN_POINTER(st);
}

/* Aggregate final: ends the print file and returns it. */
Datum
pg_afp_generate_batch_final(PG_FUNCTION_ARGS)
{
    batch_state *st;
    afp_error err;
    MemoryContext old;

    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    st = (batch_state *) PG_GETARG_POINTER(0);
    afp_error_clear(&err);
    if (st->g)
    {
        old = MemoryContextSwitchTo(st->cxt);
        afp_generator_end(st->g, &err);
        MemoryContextSwitchTo(old);
        st->g = NULL;
    }
    PG_RETURN_BYTEA_P(buf_to_bytea(&st->out));
}
