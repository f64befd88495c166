/*
 * afp_bridge.c — routes the format core's allocator, interrupt hook and errors to the backend.
 *
 * Memory: every core allocation is a palloc in CurrentMemoryContext (huge allocations allowed,
 * since a print file can exceed 1 GB of intermediate data only in theory but a field table can be
 * large). Nothing has to be freed explicitly: when an ERROR or a cancel longjmps out of the core,
 * the memory context reset reclaims whatever the core had allocated.
 *
 * SQLSTATEs chosen for core failures:
 *   AFP_ERR_FORMAT       22P03 invalid_binary_representation (a data exception: the bytea does
 *                        not hold a well-formed MO:DCA stream; XX001 data_corrupted is reserved
 *                        for damaged database storage, so it is not used)
 *   AFP_ERR_ENCODING     22021 character_not_in_repertoire
 *   AFP_ERR_LIMIT        54000 program_limit_exceeded
 *   AFP_ERR_INTERRUPTED  57014 query_canceled
 *   AFP_ERR_ARGUMENT     22023 invalid_parameter_value
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"

#include "afp_pg.h"

/* Core allocator: palloc in the current memory context (huge chunks allowed). */
static void *
afp_pg_alloc(size_t size, void *ctx)
{
    return MemoryContextAllocHuge(CurrentMemoryContext, size ? size : 1);
}

/* Core reallocator: repalloc keeps the chunk in the context it was allocated in. */
static void *
afp_pg_realloc(void *ptr, size_t size, void *ctx)
{
    return repalloc_huge(ptr, size ? size : 1);
}

/* Core free: pfree. */
static void
afp_pg_free(void *ptr, void *ctx)
{
    pfree(ptr);
}

/* Core interrupt hook: a pending cancel or timeout longjmps out of CHECK_FOR_INTERRUPTS. */
static int
afp_pg_interrupt(void)
{
    CHECK_FOR_INTERRUPTS();
    return 0;
}

/* Installs the palloc allocator and the interrupt hook in the core. */
void
afp_pg_install_hooks(void)
{
    static const afp_allocator pg_allocator = {afp_pg_alloc, afp_pg_realloc, afp_pg_free, NULL};

    afp_set_allocator(&pg_allocator);
    afp_set_interrupt_hook(afp_pg_interrupt);
}

/* Maps a core status to the SQLSTATE documented at the top of this file. */
static int
afp_pg_sqlstate(afp_status st)
{
    switch (st)
    {
        case AFP_ERR_FORMAT:
            return ERRCODE_INVALID_BINARY_REPRESENTATION;
        case AFP_ERR_ENCODING:
            return ERRCODE_CHARACTER_NOT_IN_REPERTOIRE;
        case AFP_ERR_LIMIT:
            return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
        case AFP_ERR_INTERRUPTED:
            return ERRCODE_QUERY_CANCELED;
        case AFP_ERR_ARGUMENT:
            return ERRCODE_INVALID_PARAMETER_VALUE;
        default:
            return ERRCODE_INTERNAL_ERROR;
    }
}

/* Raises an afp_error as an SQL ERROR; the message already names offset and field. */
void
afp_pg_raise(const afp_error *err)
{
    ereport(ERROR,
            (errcode(afp_pg_sqlstate(err->status)),
             errmsg("afp: %s", err->message[0] ? err->message : "unspecified error")));
    pg_unreachable();
}

/* Raises err unless st is AFP_OK. */
void
afp_pg_check(afp_status st, const afp_error *err)
{
    if (st != AFP_OK)
    {
        afp_error copy = *err;

        copy.status = st;
        afp_pg_raise(&copy);
    }
}

/* Rejects an empty bytea argument: no function of the extension accepts zero bytes. */
void
afp_pg_require_input(const char *func, size_t len)
{
    if (len == 0)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
                 errmsg("afp: %s: input is empty (an AFP stream starts with a X'5A' structured field)",
                        func)));
}
