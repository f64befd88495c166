/*
 * afp_pg_json.h — jsonb → the core's JSON tree (or UTF-8 JSON text), for the SQL functions.
 */
#ifndef AFP_PG_JSON_H
#define AFP_PG_JSON_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "afp_gen.h"

/* Converts a jsonb value to the core's JSON tree (UTF-8); a parse failure raises 22023 naming
 * what the value is ("template", "data"). */
extern afp_json *afp_pg_jsonb_to_core(Jsonb *jb, const char *what);

/* Serialises a jsonb value as UTF-8 JSON text (palloc'd, NUL-terminated; *len its length). */
extern char *afp_pg_jsonb_to_utf8(Jsonb *jb, size_t *len);

#endif
