/*
 * afp_strings.c — conversions between the core's UTF-8 strings and the server encoding, and
 * JSON text to jsonb.
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"

#include "afp_pg.h"

/* Converts UTF-8 bytes to a NUL-terminated string in the server encoding (validated). */
static char *
afp_pg_server_cstring(const char *s, size_t len)
{
    char *conv;

    if (len > (size_t) MaxAllocSize - 1)
        ereport(ERROR,
                (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                 errmsg("afp: result of %zu bytes is too large", len)));
    conv = pg_any_to_server(s, (int) len, PG_UTF8);
    if (conv == s)
        conv = pnstrdup(s, len);
    return conv;
}

/* Builds a text datum from UTF-8 bytes. */
text *
afp_pg_text_from_utf8(const char *s, size_t len)
{
    char *conv = afp_pg_server_cstring(s, len);

    return cstring_to_text(conv);
}

/* Parses UTF-8 JSON text into jsonb. */
Datum
afp_pg_jsonb_from_utf8(const char *json, size_t len)
{
    char *conv = afp_pg_server_cstring(json, len);

    return DirectFunctionCall1(jsonb_in, CStringGetDatum(conv));
}

/* Converts server-encoded bytes into a palloc'd NUL-terminated UTF-8 string. */
char *
afp_pg_utf8_from_server(const char *s, size_t len, size_t *out_len)
{
    char *copy = pnstrdup(s, len);
    char *conv = pg_server_to_any(copy, (int) len, PG_UTF8);

    if (out_len)
        *out_len = strlen(conv);
    return conv;
}
