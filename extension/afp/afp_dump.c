/*
 * afp_dump.c — afp_dump(bytea): one row per structured field of an AFP stream.
 *
 *   seq int, "offset" bigint, length int, id text, abbr text, depth int, detail jsonb
 *
 * seq counts from 1; offset is the byte offset of the X'5A'; length is SFLength (which excludes
 * the X'5A'); id is the six hex digits of the structured-field identifier; depth is the Begin/End
 * nesting depth; detail is the core's decoding of the field (names, triplets, key parameters).
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "afp_pg.h"

#define AFP_DUMP_COLS 7

PG_FUNCTION_INFO_V1(pg_afp_dump);

/* Decodes one field's detail as jsonb; a field the decoder rejects gets {"error": message}
 * rather than failing the whole dump (afp_validate reports such problems). */
static Datum
afp_dump_detail(const afp_sf *sf)
{
    afp_buf json;
    afp_error err;
    afp_status st;

    afp_buf_init(&json);
    afp_error_clear(&err);
    st = afp_sf_detail_json(sf, &json, &err);
    if (st == AFP_ERR_INTERRUPTED)
        afp_pg_raise(&err);
    if (st != AFP_OK)
    {
        json.len = 0;
        afp_buf_printf(&json, "{\"error\": ");
        afp_buf_json_string(&json, err.message, strlen(err.message));
        afp_buf_printf(&json, "}");
    }
    if (json.len == 0)
        afp_buf_printf(&json, "{}");
    return afp_pg_jsonb_from_utf8((const char *) json.data, json.len);
}

/* SQL: afp_dump(bytea) RETURNS TABLE(...); materializes every field into a tuplestore. */
Datum
pg_afp_dump(PG_FUNCTION_ARGS)
{
    bytea *input = PG_GETARG_BYTEA_PP(0);
    const uint8_t *buf = (const uint8_t *) VARDATA_ANY(input);
    size_t len = VARSIZE_ANY_EXHDR(input);
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    MemoryContext rowcxt, oldcxt;
    afp_reader reader;
    afp_sf sf;
    afp_error err;
    int rc;

    afp_pg_require_input("afp_dump", len);
    InitMaterializedSRF(fcinfo, 0);

    rowcxt = AllocSetContextCreate(CurrentMemoryContext, "afp_dump row", ALLOCSET_DEFAULT_SIZES);
    afp_reader_init(&reader, buf, len);
    afp_error_clear(&err);
    while ((rc = afp_reader_next(&reader, &sf, &err)) == 1)
    {
        Datum values[AFP_DUMP_COLS];
        bool nulls[AFP_DUMP_COLS] = {false};
        char idhex[8];

        CHECK_FOR_INTERRUPTS();
        oldcxt = MemoryContextSwitchTo(rowcxt);
        snprintf(idhex, sizeof(idhex), "%06X", (unsigned) sf.id);
        values[0] = Int32GetDatum((int32) reader.seq);
        values[1] = Int64GetDatum(sf.offset);
        values[2] = Int32GetDatum((int32) sf.length);
        values[3] = CStringGetTextDatum(idhex);
        values[4] = CStringGetTextDatum(afp_sf_abbr(sf.id));
        values[5] = Int32GetDatum(sf.depth);
        values[6] = afp_dump_detail(&sf);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
        MemoryContextSwitchTo(oldcxt);
        MemoryContextReset(rowcxt);
    }
    if (rc < 0)
        afp_pg_raise(&err);
    MemoryContextDelete(rowcxt);
    return (Datum) 0;
}
