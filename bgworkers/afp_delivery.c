/*
 * afp_delivery.c — delivery set-up: GUCs, shared memory, launcher registration, the outbox
 * wake-up trigger and the afp_delivery_workers() status function.
 *
 * Everything that needs the postmaster (shared memory, the static launcher worker) happens only
 * while shared_preload_libraries is processed. Loaded any other way (CREATE EXTENSION in a
 * server without the preload), the library just defines the GUCs; the trigger and the status
 * function then do nothing.
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "afp_delivery.h"
#include "afp_ratelimit.h"

/* GUC variables (see afp_delivery_define_gucs for their meaning). */
char *afp_delivery_database = NULL;
int   afp_email_batch_size = 100;
int   afp_email_concurrency = 8;
bool  afp_email_threads = true;
int   afp_email_workers = 1;
int   afp_sms_batch_size = 100;
int   afp_sms_concurrency = 16;
int   afp_http_timeout_ms = 30000;
int   afp_push_batch_size = 100;
int   afp_push_concurrency = 32;
int   afp_poll_interval_ms = 1000;
int   afp_max_attempts = 8;
int   afp_smtp_timeout_ms = 30000;
int   afp_retry_base_ms = 60000;
int   afp_retry_max_ms = 3600000;

AfpDeliveryShared *afp_delivery_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* Set by the wake-up trigger; the commit callback then wakes the workers once. */
static bool wakeup_pending = false;
static bool wakeup_callback_registered = false;

/* The role whose slot this process occupies (for the exit callback), -1 for none. */
static int attached_role = -1;

/* Defines the afp.* delivery settings (reloadable with SIGHUP / pg_reload_conf(), except
 * afp.email_workers). */
static void
afp_delivery_define_gucs(void)
{
    DefineCustomStringVariable("afp.delivery_database",
                               "Database whose afp.outbox the delivery workers drain.",
                               "Empty (the default) disables delivery: the launcher starts no worker.",
                               &afp_delivery_database, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("afp.email_batch_size",
                            "Outbox rows the email worker claims per statement.", NULL,
                            &afp_email_batch_size, 100, 1, 10000, PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("afp.email_concurrency",
                            "SMTP transfers the email worker keeps in flight.", NULL,
                            &afp_email_concurrency, 8, 1, 256, PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomBoolVariable("afp.email_threads",
                             "Sends each email worker's SMTP transfers from threads of their own.",
                             "On (the default): afp.email_concurrency threads per email worker (at most 64), "
                             "so a slow server reply delays only its own message. Off: one libcurl multi "
                             "handle, where libcurl's blocking wait for the reply to the message data "
                             "stalls the worker's other transfers.",
                             &afp_email_threads, true, PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("afp.email_workers",
                            "Email workers per database; each drains its own share of the email rows (id modulo the count).",
                            "Needs a server restart and room in max_worker_processes.",
                            &afp_email_workers, 1, 1, AFP_MAX_EMAIL_WORKERS, PGC_POSTMASTER, 0,
                            NULL, NULL, NULL);
    DefineCustomIntVariable("afp.sms_batch_size",
                            "Outbox rows the SMS worker claims per statement.", NULL,
                            &afp_sms_batch_size, 100, 1, 10000, PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("afp.sms_concurrency",
                            "HTTP requests the SMS worker keeps in flight.", NULL,
                            &afp_sms_concurrency, 16, 1, 256, PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("afp.http_timeout_ms",
                            "Limit per HTTP request of the SMS and push workers (connect and response).", NULL,
                            &afp_http_timeout_ms, 30000, 100, 3600000, PGC_SIGHUP, GUC_UNIT_MS,
                            NULL, NULL, NULL);
    DefineCustomIntVariable("afp.push_batch_size",
                            "Outbox rows the push worker claims per statement.", NULL,
                            &afp_push_batch_size, 100, 1, 10000, PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("afp.push_concurrency",
                            "HTTP requests (HTTP/2 streams for APNs) the push worker keeps in flight.", NULL,
                            &afp_push_concurrency, 32, 1, 256, PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("afp.poll_interval_ms",
                            "How long an idle worker sleeps before looking for due rows again.",
                            "Inserts into afp.outbox wake the worker earlier (after commit).",
                            &afp_poll_interval_ms, 1000, 10, 3600000, PGC_SIGHUP, GUC_UNIT_MS,
                            NULL, NULL, NULL);
    DefineCustomIntVariable("afp.max_attempts",
                            "Send attempts before a transiently failing message is dead.", NULL,
                            &afp_max_attempts, 8, 1, 1000, PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("afp.smtp_timeout_ms",
                            "Time limit of one SMTP transfer (connect included).", NULL,
                            &afp_smtp_timeout_ms, 30000, 100, 3600000, PGC_SIGHUP, GUC_UNIT_MS,
                            NULL, NULL, NULL);
    DefineCustomIntVariable("afp.retry_base_ms",
                            "Backoff after the first transient failure; doubles per attempt, with jitter.",
                            NULL, &afp_retry_base_ms, 60000, 1, 86400000, PGC_SIGHUP, GUC_UNIT_MS,
                            NULL, NULL, NULL);
    DefineCustomIntVariable("afp.retry_max_ms",
                            "Upper bound of the retry backoff.", NULL,
                            &afp_retry_max_ms, 3600000, 1, 604800000, PGC_SIGHUP, GUC_UNIT_MS,
                            NULL, NULL, NULL);
    afp_rate_define_gucs();
}

/* shmem_request_hook: reserves the delivery state. */
static void
afp_delivery_shmem_request(void)
{
    if (prev_shmem_request_hook)
        prev_shmem_request_hook();
    RequestAddinShmemSpace(MAXALIGN(sizeof(AfpDeliveryShared)));
    RequestAddinShmemSpace(afp_rate_shmem_size());     /* provider rate limits (afp_ratelimit.c) */
}

/* shmem_startup_hook: creates (postmaster) or attaches to the delivery state. */
static void
afp_delivery_shmem_startup(void)
{
    bool found;

    if (prev_shmem_startup_hook)
        prev_shmem_startup_hook();

    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    afp_delivery_shared = ShmemInitStruct("afp delivery", sizeof(AfpDeliveryShared), &found);
    if (!found)
    {
        int i;

        memset(afp_delivery_shared, 0, sizeof(AfpDeliveryShared));
        SpinLockInit(&afp_delivery_shared->mutex);
        for (i = 0; i < AFP_NUM_ROLES; i++)
            afp_delivery_shared->slots[i].procno = -1;
        for (i = 0; i < AFP_MAX_EMAIL_WORKERS; i++)
            afp_delivery_shared->email_procnos[i] = -1;
    }
    afp_rate_shmem_startup();
    LWLockRelease(AddinShmemInitLock);
}

/* Registers the static launcher worker (postmaster, during shared_preload_libraries). */
static void
afp_delivery_register_launcher(void)
{
    BackgroundWorker worker;

    memset(&worker, 0, sizeof(worker));
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = 5;
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "afp");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "afp_launcher_main");
    snprintf(worker.bgw_name, BGW_MAXLEN, "afp delivery launcher");
    snprintf(worker.bgw_type, BGW_MAXLEN, "afp delivery launcher");
    worker.bgw_main_arg = (Datum) 0;
    worker.bgw_notify_pid = 0;
    RegisterBackgroundWorker(&worker);
}

/* Defines the GUCs; with shared_preload_libraries also shared memory and the launcher. */
void
afp_delivery_init(void)
{
    afp_delivery_define_gucs();

    if (!process_shared_preload_libraries_in_progress)
        return;

    prev_shmem_request_hook = shmem_request_hook;
    shmem_request_hook = afp_delivery_shmem_request;
    prev_shmem_startup_hook = shmem_startup_hook;
    shmem_startup_hook = afp_delivery_shmem_startup;

    afp_delivery_register_launcher();
}

/* before_shmem_exit callback: empties the slot this process occupied. */
static void
afp_delivery_slot_detach(int code, Datum arg)
{
    AfpWorkerSlot *slot;

    if (afp_delivery_shared == NULL || attached_role < 0)
        return;
    slot = &afp_delivery_shared->slots[attached_role];
    SpinLockAcquire(&afp_delivery_shared->mutex);
    if (slot->pid == MyProcPid)
    {
        slot->pid = 0;
        slot->procno = -1;
    }
    SpinLockRelease(&afp_delivery_shared->mutex);
    attached_role = -1;
}

/* Publishes the calling process (pid, latch, database) in the slot of its role. */
void
afp_delivery_slot_attach(AfpWorkerRole role, const char *database)
{
    AfpWorkerSlot *slot;

    if (afp_delivery_shared == NULL)
        return;
    slot = &afp_delivery_shared->slots[role];
    SpinLockAcquire(&afp_delivery_shared->mutex);
    slot->pid = MyProcPid;
    slot->procno = MyProc ? MyProc->pgprocno : -1;
    strlcpy(slot->database, database ? database : "", NAMEDATALEN);
    slot->started_at = GetCurrentTimestamp();
    SpinLockRelease(&afp_delivery_shared->mutex);
    if (attached_role < 0)
        before_shmem_exit(afp_delivery_slot_detach, (Datum) 0);
    attached_role = role;
}

/* Adds one batch's counts to a slot. */
void
afp_delivery_slot_count(AfpWorkerRole role, uint64 sent, uint64 failed)
{
    AfpWorkerSlot *slot;

    if (afp_delivery_shared == NULL)
        return;
    slot = &afp_delivery_shared->slots[role];
    SpinLockAcquire(&afp_delivery_shared->mutex);
    slot->batches++;
    slot->sent += sent;
    slot->failed += failed;
    slot->last_batch_at = GetCurrentTimestamp();
    SpinLockRelease(&afp_delivery_shared->mutex);
}

/* Transaction callback: after a commit that inserted outbox rows, sets the channel workers' latches. */
static void
afp_delivery_xact_callback(XactEvent event, void *arg)
{
    int role;

    for (role = AFP_ROLE_EMAIL; event == XACT_EVENT_COMMIT && wakeup_pending &&
         afp_delivery_shared != NULL && role < AFP_NUM_ROLES; role++)
    {
        AfpWorkerSlot *slot = &afp_delivery_shared->slots[role];
        int procno = -1;

        SpinLockAcquire(&afp_delivery_shared->mutex);
        if (slot->pid != 0)
        {
            procno = slot->procno;
            slot->wakeups++;
        }
        SpinLockRelease(&afp_delivery_shared->mutex);
        if (procno >= 0 && procno < (int) ProcGlobal->allProcCount)
            SetLatch(&GetPGProcByNumber(procno)->procLatch);
    }
    if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE ||
        event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
        wakeup_pending = false;
}

PG_FUNCTION_INFO_V1(afp_outbox_wakeup);

/*
 * Statement-level trigger on afp.outbox: notes that the transaction inserted rows; the commit
 * callback wakes the worker once the rows are visible. Cheap enough for any statement size.
 */
Datum
afp_outbox_wakeup(PG_FUNCTION_ARGS)
{
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR,
                (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                 errmsg("afp.outbox_wakeup() must be called as a trigger")));
    if (afp_delivery_shared != NULL)
    {
        if (!wakeup_callback_registered)
        {
            RegisterXactCallback(afp_delivery_xact_callback, NULL);
            wakeup_callback_registered = true;
        }
        wakeup_pending = true;
    }
    return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(afp_delivery_workers);

/* afp_delivery_workers(): one row per worker role from shared memory. */
Datum
afp_delivery_workers(PG_FUNCTION_ARGS)
{
    static const char *const role_names[AFP_NUM_ROLES] = {"launcher", "email", "sms", "push"};
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    int         i;

    InitMaterializedSRF(fcinfo, 0);
    if (afp_delivery_shared == NULL)
        return (Datum) 0;

    for (i = 0; i < AFP_NUM_ROLES; i++)
    {
        AfpWorkerSlot s;
        Datum       values[9];
        bool        nulls[9];

        SpinLockAcquire(&afp_delivery_shared->mutex);
        s = afp_delivery_shared->slots[i];
        SpinLockRelease(&afp_delivery_shared->mutex);

        memset(nulls, 0, sizeof(nulls));
        values[0] = CStringGetTextDatum(role_names[i]);
        values[1] = Int32GetDatum((int32) s.pid);
        nulls[1] = (s.pid == 0);
        s.database[NAMEDATALEN - 1] = '\0';
        values[2] = CStringGetTextDatum(s.database);
        nulls[2] = (s.database[0] == '\0');
        values[3] = TimestampTzGetDatum(s.started_at);
        nulls[3] = (s.started_at == 0);
        values[4] = Int64GetDatum((int64) s.batches);
        values[5] = Int64GetDatum((int64) s.sent);
        values[6] = Int64GetDatum((int64) s.failed);
        values[7] = TimestampTzGetDatum(s.last_batch_at);
        nulls[7] = (s.last_batch_at == 0);
        values[8] = Int64GetDatum((int64) s.wakeups);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum) 0;
}
