/*
 * afp_pg.h — glue between the PostgreSQL backend and the plain-C afp format core.
 *
 * The core (core/afp.h) knows nothing of PostgreSQL: it allocates through a pluggable allocator,
 * polls an interrupt hook in long loops and reports failures in an afp_error. The helpers here
 * route those to palloc, CHECK_FOR_INTERRUPTS and ereport, and convert between the core's UTF-8
 * strings and the server encoding.
 */
#ifndef AFP_PG_H
#define AFP_PG_H

#include "postgres.h"

#include "afp.h"

/* Points the core's allocator at palloc (CurrentMemoryContext) and its interrupt hook at
 * CHECK_FOR_INTERRUPTS. Called once from _PG_init. */
extern void afp_pg_install_hooks(void);

/* Raises an afp_error as an SQL ERROR with an SQLSTATE chosen by err->status. */
extern void afp_pg_raise(const afp_error *err) pg_attribute_noreturn();

/* Raises err unless st is AFP_OK. */
extern void afp_pg_check(afp_status st, const afp_error *err);

/* Builds a text datum from UTF-8 bytes (converted to, and validated in, the server encoding). */
extern text *afp_pg_text_from_utf8(const char *s, size_t len);

/* Parses UTF-8 JSON text (as the core produces it) into a jsonb datum. */
extern Datum afp_pg_jsonb_from_utf8(const char *json, size_t len);

/* Converts a string in the server encoding to a NUL-terminated, palloc'd UTF-8 copy. */
extern char *afp_pg_utf8_from_server(const char *s, size_t len, size_t *out_len);

/* Rejects an empty bytea argument with an ERROR naming the function. */
extern void afp_pg_require_input(const char *func, size_t len);

/* The jsonb object {name: value, ...} of a document's TLE index ({} for NULL) — the index
 * column of afp_documents and afp_split (afp_documents.c). */
extern Datum afp_pg_document_index(const afp_document *doc);

#endif
