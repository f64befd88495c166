/*
 * afp_launcher.c — the delivery launcher (static background worker, one per server).
 *
 * Registered from _PG_init when afp is in shared_preload_libraries, started once recovery has
 * finished (BgWorkerStart_RecoveryFinished: on a standby nothing runs; after promotion it starts).
 * It connects to no database (shared catalogs only, which makes it visible in pg_stat_activity
 * like the logical replication launcher). It starts the email worker (a dynamic background worker) for
 * the database named by afp.delivery_database, restarts it when it exits (with a growing delay
 * when it keeps failing right after start), replaces it when the setting changes and stops it
 * when the setting becomes empty. With afp.delivery_database empty it only sleeps.
 *
 * Signals: SIGHUP rereads the configuration; SIGINT (pg_cancel_backend) is ignored; interrupts
 * such as ProcSignalBarriers are absorbed on every wake-up; SIGTERM stops the email worker and exits with code
 * 1, so that the postmaster starts the launcher again after bgw_restart_time unless the server
 * is shutting down (to stop delivery, empty afp.delivery_database instead).
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "afp_delivery.h"

/* A worker that exits sooner than this after its start counts as a failed start. */
#define AFP_FAST_FAILURE_MS   10000
/* Upper bound of the delay between restarts of a failing worker. */
#define AFP_MAX_RESTART_MS    60000

typedef struct LauncherState
{
    BackgroundWorkerHandle *handle;     /* the email worker, NULL when none */
    char        database[NAMEDATALEN];  /* its database */
    TimestampTz started_at;             /* when it was registered */
    TimestampTz next_start_at;          /* earliest time for the next start */
    int         fast_failures;          /* consecutive exits soon after start */
    bool        announced_disabled;     /* "delivery disabled" logged */
    TimestampTz register_warned_at;     /* last "could not register" warning */
} LauncherState;

/* Milliseconds from now until t (0 when t has passed). */
static long
ms_until(TimestampTz t)
{
    TimestampTz now = GetCurrentTimestamp();

    if (t <= now)
        return 0;
    return (long) ((t - now) / 1000);
}

/* Registers the email worker for st->database; on failure (no free slot) retries later. */
static void
launcher_start_email_worker(LauncherState *st)
{
    BackgroundWorker worker;
    AfpWorkerArgs args;
    TimestampTz now = GetCurrentTimestamp();

    memset(&worker, 0, sizeof(worker));
    memset(&args, 0, sizeof(args));
    strlcpy(args.database, st->database, NAMEDATALEN);
    StaticAssertStmt(sizeof(AfpWorkerArgs) <= BGW_EXTRALEN, "worker arguments exceed bgw_extra");
    memcpy(worker.bgw_extra, &args, sizeof(args));

    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = BGW_NEVER_RESTART;   /* the launcher supervises */
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "afp");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "afp_email_worker_main");
    snprintf(worker.bgw_name, BGW_MAXLEN, "afp email worker");
    snprintf(worker.bgw_type, BGW_MAXLEN, "afp email worker");
    worker.bgw_main_arg = (Datum) 0;
    worker.bgw_notify_pid = MyProcPid;             /* state changes set our latch */

    if (RegisterDynamicBackgroundWorker(&worker, &st->handle))
    {
        st->started_at = now;
        ereport(LOG, (errmsg("afp delivery launcher: starting the email worker for database \"%s\"",
                             st->database)));
        return;
    }
    st->handle = NULL;
    st->next_start_at = TimestampTzPlusMilliseconds(now, 10000);
    if (st->register_warned_at == 0 ||
        TimestampDifferenceExceeds(st->register_warned_at, now, 300000))
    {
        st->register_warned_at = now;
        ereport(WARNING,
                (errmsg("afp delivery launcher: could not start the email worker"),
                 errhint("Raise max_worker_processes; the launcher keeps trying every 10 s.")));
    }
}

/*
 * One supervision step: notices an exited worker, applies a changed afp.delivery_database and
 * starts the worker when due. Returns how long to sleep at most (milliseconds).
 */
static long
launcher_supervise(LauncherState *st)
{
    const char *want = afp_delivery_database ? afp_delivery_database : "";
    TimestampTz now = GetCurrentTimestamp();
    pid_t       pid;

    if (strlen(want) >= NAMEDATALEN)
    {
        ereport(WARNING,
                (errmsg("afp delivery launcher: afp.delivery_database is longer than %d bytes; delivery disabled",
                        NAMEDATALEN - 1)));
        want = "";
    }

    if (st->handle != NULL)
    {
        BgwHandleStatus status = GetBackgroundWorkerPid(st->handle, &pid);

        if (status == BGWH_POSTMASTER_DIED)
            proc_exit(1);
        if (status == BGWH_STOPPED)
        {
            long        delay;

            if (!TimestampDifferenceExceeds(st->started_at, now, AFP_FAST_FAILURE_MS))
                st->fast_failures++;
            else
                st->fast_failures = 0;
            delay = st->fast_failures == 0 ? 1000
                : Min((long) AFP_MAX_RESTART_MS, 1000L << Min(st->fast_failures, 6));
            st->next_start_at = TimestampTzPlusMilliseconds(now, delay);
            pfree(st->handle);
            st->handle = NULL;
            if (strcmp(st->database, want) == 0 && want[0] != '\0')
                ereport(LOG,
                        (errmsg("afp delivery launcher: the email worker for database \"%s\" exited; restarting in %ld ms",
                                st->database, delay)));
        }
        else if (strcmp(st->database, want) != 0)
        {
            /* setting changed: stop the worker, start anew once it has gone */
            TerminateBackgroundWorker(st->handle);
            st->fast_failures = 0;
            st->next_start_at = now;
            return 1000;
        }
    }

    if (st->handle == NULL)
    {
        if (want[0] == '\0')
        {
            if (!st->announced_disabled)
                ereport(LOG, (errmsg("afp delivery launcher: delivery disabled (afp.delivery_database is empty)")));
            st->announced_disabled = true;
            st->database[0] = '\0';
            return 60000;
        }
        st->announced_disabled = false;
        if (strcmp(st->database, want) != 0)
        {
            strlcpy(st->database, want, NAMEDATALEN);
            st->fast_failures = 0;
            st->next_start_at = now;
        }
        if (ms_until(st->next_start_at) > 0)
            return Max(ms_until(st->next_start_at), 10);
        launcher_start_email_worker(st);
        if (st->handle == NULL)
            return Max(ms_until(st->next_start_at), 10);
    }
    return 10000;
}

/* Main function of the launcher. */
void
afp_launcher_main(Datum arg)
{
    LauncherState st;

    memset(&st, 0, sizeof(st));

    pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    BackgroundWorkerUnblockSignals();

    /* no database, like the logical replication launcher: visible in pg_stat_activity */
    BackgroundWorkerInitializeConnection(NULL, NULL, 0);
    pgstat_report_appname("afp delivery launcher");
    afp_delivery_slot_attach(AFP_ROLE_LAUNCHER, NULL);

    while (!ShutdownRequestPending)
    {
        long        timeout;

        /* absorb ProcSignalBarriers (DROP DATABASE waits for them); nothing to cancel here */
        QueryCancelPending = false;
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending)
        {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
        timeout = launcher_supervise(&st);
        (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, timeout,
                         PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }

    if (st.handle != NULL)
        TerminateBackgroundWorker(st.handle);
    proc_exit(1);
}
