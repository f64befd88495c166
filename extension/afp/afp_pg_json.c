/*
 * afp_pg_json.c — jsonb → the core's JSON tree (see afp_pg_json.h).
 */
#include "postgres.h"

#include "afp_pg.h"
#include "afp_pg_json.h"

/* Serialises the jsonb as JSON text in UTF-8 (palloc'd, NUL-terminated; *len its length): the
 * form the core's parsers take (afp_text and afp_to_pdf options, afp_pg_jsonb_to_core). */
char *
afp_pg_jsonb_to_utf8(Jsonb *jb, size_t *len)
{
    char *s = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
    char *utf8 = afp_pg_utf8_from_server(s, strlen(s), len);

    if (utf8 != s)
        pfree(s);
    return utf8;
}

/* Serialises the jsonb, converts it to UTF-8 and parses it with the core's parser. */
afp_json *
afp_pg_jsonb_to_core(Jsonb *jb, const char *what)
{
    size_t len;
    char *utf8 = afp_pg_jsonb_to_utf8(jb, &len);
    afp_json *v = NULL;
    afp_error err;

    afp_error_clear(&err);
    if (afp_json_parse(utf8, len, &v, &err) != AFP_OK)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("afp: %s: %s", what, err.message)));
    pfree(utf8);
    return v;
}
