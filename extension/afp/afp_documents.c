/*
 * afp_documents.c — afp_documents(bytea): the named page groups (documents) of a print file.
 *
 *   seq int, name text, first_page int, page_count int, index jsonb
 *
 * index is a jsonb object of the group's TLE (Tag Logical Element) name/value pairs; when a name
 * repeats, the last value wins (jsonb object semantics).
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "afp_pg.h"

#define AFP_DOCUMENTS_COLS 5

PG_FUNCTION_INFO_V1(pg_afp_documents);

/* Builds the jsonb object {name: value, ...} of a document's index pairs ({} for NULL); also
 * the index column of afp_split (afp_split.c). */
Datum
afp_pg_document_index(const afp_document *doc)
{
    afp_buf json;

    afp_buf_init(&json);
    afp_document_index_json(doc, &json);       /* core/afp_documents.c */
    return afp_pg_jsonb_from_utf8((const char *) json.data, json.len);
}

/* Converts a 64-bit page number from the core into an int column value. */
static Datum
afp_documents_int(int64_t v, const char *what)
{
    if (v < PG_INT32_MIN || v > PG_INT32_MAX)
        ereport(ERROR,
                (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                 errmsg("afp: %s %lld is out of range for int", what, (long long) v)));
    return Int32GetDatum((int32) v);
}

/* SQL: afp_documents(bytea) RETURNS TABLE(seq int, name text, first_page int, page_count int,
 * index jsonb). */
Datum
pg_afp_documents(PG_FUNCTION_ARGS)
{
    bytea *input = PG_GETARG_BYTEA_PP(0);
    size_t len = VARSIZE_ANY_EXHDR(input);
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    afp_document_list docs = {0};
    afp_error err;
    size_t i;

    afp_pg_require_input("afp_documents", len);
    InitMaterializedSRF(fcinfo, 0);
    afp_error_clear(&err);
    afp_pg_check(afp_documents((const uint8_t *) VARDATA_ANY(input), len, &docs, &err), &err);

    for (i = 0; i < docs.count; i++)
    {
        const afp_document *doc = &docs.items[i];
        Datum values[AFP_DOCUMENTS_COLS];
        bool nulls[AFP_DOCUMENTS_COLS] = {false};

        values[0] = Int32GetDatum((int32) (i + 1));
        if (doc->name)
            values[1] = PointerGetDatum(afp_pg_text_from_utf8(doc->name, strlen(doc->name)));
        else
            nulls[1] = true;
        values[2] = afp_documents_int(doc->first_page, "first_page");
        values[3] = afp_documents_int(doc->page_count, "page_count");
        values[4] = afp_pg_document_index(doc);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    afp_document_list_free(&docs);
    return (Datum) 0;
}
