/*
 * afp.c — module entry point of the afp extension.
 *
 * The SQL-callable functions live in their own files (afp_dump.c, afp_validate.c, afp_text.c,
 * afp_documents.c, afp_compose.c); the bridge to the format core is in afp_bridge.c.
 */
#include "postgres.h"

#include "fmgr.h"

#include "afp_pg.h"
#include "afp_delivery.h"

PG_MODULE_MAGIC;

void _PG_init(void);

/*
 * Runs when the library is loaded (at server start through shared_preload_libraries, or on the
 * first call of an afp function). Installs the palloc allocator and interrupt hook for the core,
 * and sets up delivery (bgworkers/afp_delivery.c): its GUCs always; shared memory and the
 * delivery launcher only when loaded through shared_preload_libraries.
 */
void
_PG_init(void)
{
    afp_pg_install_hooks();
    afp_delivery_init();
}
