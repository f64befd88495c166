/*
 * afp_email_workers.c — several email workers per database (afp.email_workers).
 *
 * The launcher starts afp.email_workers email workers (a server setting: changing it needs a
 * restart). Worker i of n claims only the email rows with id % n = i and, when it starts, ends
 * only the leases of that share, so a restarting worker never frees rows another worker is still
 * sending. Worker 0 occupies the email slot of the shared delivery state (afp_delivery_workers()
 * shows it, its latch is set by the outbox wake-up trigger, and all workers add their counts to
 * it); workers 1..n-1 publish their latches in AfpDeliveryShared.email_procnos, and worker 0 sets
 * them whenever one of its claims found work, so a bulk dispatch wakes every worker at once.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"

#include "afp_delivery.h"

/* This process's worker number and the number of email workers (set by afp_email_workers_attach). */
static int my_index = 0;
static int my_count = 1;

/* before_shmem_exit callback of workers 1..n-1: withdraws the published latch. */
static void
email_workers_detach(int code, Datum arg)
{
    if (afp_delivery_shared == NULL || my_index <= 0)
        return;
    SpinLockAcquire(&afp_delivery_shared->mutex);
    if (afp_delivery_shared->email_procnos[my_index] == (MyProc ? MyProc->pgprocno : -1))
        afp_delivery_shared->email_procnos[my_index] = -1;
    SpinLockRelease(&afp_delivery_shared->mutex);
}

/*
 * Registers the calling email worker: number index of count (as the launcher passed them; bad
 * values fall back to a single worker). Worker 0 takes the email slot, the others publish their
 * latches.
 */
void
afp_email_workers_attach(int index, int count, const char *database)
{
    if (count < 1 || count > AFP_MAX_EMAIL_WORKERS || index < 0 || index >= count)
    {
        index = 0;
        count = 1;
    }
    my_index = index;
    my_count = count;
    if (index == 0)
    {
        afp_delivery_slot_attach(AFP_ROLE_EMAIL, database);
        return;
    }
    if (afp_delivery_shared == NULL)
        return;
    SpinLockAcquire(&afp_delivery_shared->mutex);
    afp_delivery_shared->email_procnos[index] = MyProc ? MyProc->pgprocno : -1;
    SpinLockRelease(&afp_delivery_shared->mutex);
    before_shmem_exit(email_workers_detach, (Datum) 0);
}

/* This worker's number (0..count-1). */
int
afp_email_worker_index(void)
{
    return my_index;
}

/* The number of email workers the rows are shared among. */
int
afp_email_worker_count(void)
{
    return my_count;
}

/* Worker 0 only: sets the latches of the other email workers (after a claim that found work). */
void
afp_email_workers_wake_others(void)
{
    int         procnos[AFP_MAX_EMAIL_WORKERS];
    int         i;

    if (my_index != 0 || my_count <= 1 || afp_delivery_shared == NULL)
        return;
    SpinLockAcquire(&afp_delivery_shared->mutex);
    memcpy(procnos, afp_delivery_shared->email_procnos, sizeof(procnos));
    SpinLockRelease(&afp_delivery_shared->mutex);
    for (i = 1; i < my_count; i++)
        if (procnos[i] >= 0 && procnos[i] < (int) ProcGlobal->allProcCount)
            SetLatch(&GetPGProcByNumber(procnos[i])->procLatch);
}
