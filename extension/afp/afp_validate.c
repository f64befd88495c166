/*
 * afp_validate.c — afp_validate(bytea): the problems the core's validator finds.
 *
 *   severity text ('error' | 'warning'), "offset" bigint (NULL when not tied to a byte), message
 *
 * No rows means the stream is valid. Damage is reported as rows, not raised: only an interrupt
 * or a failure of the validator itself raises an ERROR.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "afp_pg.h"

#define AFP_VALIDATE_COLS 3

PG_FUNCTION_INFO_V1(pg_afp_validate);

/* SQL: afp_validate(bytea) RETURNS TABLE(severity text, "offset" bigint, message text). */
Datum
pg_afp_validate(PG_FUNCTION_ARGS)
{
    bytea *input = PG_GETARG_BYTEA_PP(0);
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    afp_issue_list issues = {0};
    afp_error err;
    afp_status st;
    size_t i;

    InitMaterializedSRF(fcinfo, 0);
    afp_error_clear(&err);
    st = afp_validate((const uint8_t *) VARDATA_ANY(input), VARSIZE_ANY_EXHDR(input), &issues, &err);
    afp_pg_check(st, &err);

    for (i = 0; i < issues.count; i++)
    {
        const afp_issue *is = &issues.items[i];
        Datum values[AFP_VALIDATE_COLS];
        bool nulls[AFP_VALIDATE_COLS] = {false};

        values[0] = CStringGetTextDatum(is->severity == AFP_SEV_ERROR ? "error" : "warning");
        if (is->offset >= 0)
            values[1] = Int64GetDatum(is->offset);
        else
            nulls[1] = true;
        values[2] = PointerGetDatum(afp_pg_text_from_utf8(is->message, strnlen(is->message, sizeof(is->message))));
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    afp_issue_list_free(&issues);
    return (Datum) 0;
}
