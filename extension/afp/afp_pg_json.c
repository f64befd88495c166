/*
 * afp_pg_json.c — jsonb → the core's JSON tree (see afp_pg_json.h).
 */
#include "postgres.h"

#include "afp_pg.h"
#include "afp_pg_json.h"

/* Serialises the jsonb, converts it to UTF-8 and parses it with the core's parser. */
afp_json *
afp_pg_jsonb_to_core(Jsonb *jb, const char *what)
{
    char *s = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
    size_t len;
    char *utf8 = afp_pg_utf8_from_server(s, strlen(s), &len);
    afp_json *v = NULL;
    afp_error err;

    afp_error_clear(&err);
    if (afp_json_parse(utf8, len, &v, &err) != AFP_OK)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("afp: %s: %s", what, err.message)));
    if (utf8 != s)
        pfree(utf8);
    pfree(s);
    return v;
}
