/*
 * afp_push_json.c — the few JSON operations of the push worker: reading one value of a provider
 * reply (with PostgreSQL's own JSON parser, common/jsonapi.h, which reports errors instead of
 * raising them) and writing string literals.
 */
#include "postgres.h"

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"

#include "afp_push.h"

#define JSON_MAX_DEPTH  16

/* Parser state: the path to the current value and the one looked for. */
typedef struct JsonGetState
{
    const char *want;                   /* path looked for */
    char        path[512];              /* path of the current value */
    int         lens[JSON_MAX_DEPTH + 1];   /* path length before each level */
    int         depth;
    int         overflow;               /* levels deeper than JSON_MAX_DEPTH */
    char       *out;
    size_t      outsz;
    bool        found;
} JsonGetState;

/* Enters a level of the path: ".name" for an object field, "[]" for an array element. */
static void
json_push(JsonGetState *st, const char *segment, bool field)
{
    int         len;

    if (st->depth >= JSON_MAX_DEPTH)
    {
        st->overflow++;
        return;
    }
    len = (int) strlen(st->path);
    st->lens[st->depth++] = len;
    snprintf(st->path + len, sizeof(st->path) - len, "%s%s",
             field && len > 0 ? "." : "", segment);
}

/* Leaves the innermost level of the path. */
static void
json_pop(JsonGetState *st)
{
    if (st->overflow > 0)
    {
        st->overflow--;
        return;
    }
    if (st->depth > 0)
        st->path[st->lens[--st->depth]] = '\0';
}

/* object_field_start callback: enters the field. */
static void
json_field_start(void *state, char *fname, bool isnull)
{
    json_push((JsonGetState *) state, fname ? fname : "", true);
}

/* object_field_end callback: leaves the field. */
static void
json_field_end(void *state, char *fname, bool isnull)
{
    json_pop((JsonGetState *) state);
}

/* array_element_start callback: enters an element. */
static void
json_elem_start(void *state, bool isnull)
{
    json_push((JsonGetState *) state, "[]", false);
}

/* array_element_end callback: leaves the element. */
static void
json_elem_end(void *state, bool isnull)
{
    json_pop((JsonGetState *) state);
}

/* scalar callback: copies the first string or number found at the wanted path. */
static void
json_scalar(void *state, char *token, JsonTokenType type)
{
    JsonGetState *st = (JsonGetState *) state;

    if (st->found || st->overflow > 0 || token == NULL ||
        (type != JSON_TOKEN_STRING && type != JSON_TOKEN_NUMBER))
        return;
    if (strcmp(st->path, st->want) == 0)
    {
        strlcpy(st->out, token, st->outsz);
        st->found = true;
    }
}

/* Reads one value of a JSON text; see afp_push.h. */
bool
afp_push_json_get(const char *json, size_t len, const char *path, char *out, size_t outsz)
{
    JsonGetState st;
    JsonSemAction sem;
    JsonLexContext *lex;
    char       *copy;

    if (outsz == 0)
        return false;
    out[0] = '\0';
    if (json == NULL || len == 0 || len > 1024 * 1024 ||
        !pg_verifymbstr(json, (int) len, true))
        return false;
    memset(&st, 0, sizeof(st));
    st.want = path;
    st.out = out;
    st.outsz = outsz;
    memset(&sem, 0, sizeof(sem));
    sem.semstate = &st;
    sem.object_field_start = json_field_start;
    sem.object_field_end = json_field_end;
    sem.array_element_start = json_elem_start;
    sem.array_element_end = json_elem_end;
    sem.scalar = json_scalar;

    copy = pnstrdup(json, len);
    lex = makeJsonLexContextCstringLen(copy, (int) len, GetDatabaseEncoding(), true);
    /* a reply cut off or malformed after the value still yields what was read before */
    (void) pg_parse_json(lex, &sem);
    pfree(copy);
    if (!st.found)
        out[0] = '\0';
    return st.found;
}

/* Appends s as a JSON string literal to buf (control characters escaped). */
void
afp_push_json_string(StringInfo buf, const char *s)
{
    const char *p;

    appendStringInfoChar(buf, '"');
    for (p = s ? s : ""; *p; p++)
    {
        unsigned char c = (unsigned char) *p;

        if (c == '"' || c == '\\')
        {
            appendStringInfoChar(buf, '\\');
            appendStringInfoChar(buf, (char) c);
        }
        else if (c < 0x20)
            appendStringInfo(buf, "\\u%04x", c);
        else
            appendStringInfoChar(buf, (char) c);
    }
    appendStringInfoChar(buf, '"');
}
