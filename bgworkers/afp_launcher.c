/*
 * afp_launcher.c — the delivery launcher (static background worker, one per server).
 *
 * Registered from _PG_init when afp is in shared_preload_libraries, started once recovery has
 * finished (BgWorkerStart_RecoveryFinished: on a standby nothing runs; after promotion it starts).
 * It connects to no database (shared catalogs only, which makes it visible in pg_stat_activity
 * like the logical replication launcher). It starts the channel workers (email, SMS and push, dynamic
 * background workers) for the database named by afp.delivery_database, restarts each when it exits (with a growing delay
 * when it keeps failing right after start), replaces it when the setting changes and stops it
 * when the setting becomes empty. With afp.delivery_database empty it only sleeps. Email gets
 * afp.email_workers workers (afp_email_workers.c), each told its number in bgw_extra.
 *
 * Signals: SIGHUP rereads the configuration; SIGINT (pg_cancel_backend) is ignored; interrupts
 * such as ProcSignalBarriers are absorbed on every wake-up; SIGTERM stops the channel workers and exits with code
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

/* A channel worker the launcher supervises. */
typedef struct ChildState
{
    const char *channel;                /* "email", "sms", "push" */
    const char *function;               /* bgw_function_name */
    BackgroundWorkerHandle *handle;     /* NULL when not running */
    TimestampTz started_at;             /* when it was registered */
    TimestampTz next_start_at;          /* earliest time for the next start */
    int         fast_failures;          /* consecutive exits soon after start */
    TimestampTz register_warned_at;     /* last "could not register" warning */
    int         index;                  /* email: worker number, 0..afp.email_workers-1; else 0 */
} ChildState;

/* email, sms, push, and the further email workers (afp.email_workers > 1) */
#define AFP_NUM_CHANNELS 3
#define AFP_NUM_CHILDREN (AFP_NUM_CHANNELS + AFP_MAX_EMAIL_WORKERS - 1)

typedef struct LauncherState
{
    char        database[NAMEDATALEN];  /* the workers' database */
    bool        announced_disabled;     /* "delivery disabled" logged */
    ChildState  children[AFP_NUM_CHILDREN];
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

/* Registers the worker c for database; on failure (no free slot) retries later. */
static void
launcher_start_worker(ChildState *c, const char *database)
{
    BackgroundWorker worker;
    AfpWorkerArgs args;
    TimestampTz now = GetCurrentTimestamp();

    memset(&worker, 0, sizeof(worker));
    memset(&args, 0, sizeof(args));
    strlcpy(args.database, database, NAMEDATALEN);
    args.worker_index = c->index;
    args.worker_count = afp_email_workers;
    StaticAssertStmt(sizeof(AfpWorkerArgs) <= BGW_EXTRALEN, "worker arguments exceed bgw_extra");
    memcpy(worker.bgw_extra, &args, sizeof(args));

    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = BGW_NEVER_RESTART;   /* the launcher supervises */
    snprintf(worker.bgw_library_name, BGW_MAXLEN, "afp");
    snprintf(worker.bgw_function_name, BGW_MAXLEN, "%s", c->function);
    if (c->index > 0)
        snprintf(worker.bgw_name, BGW_MAXLEN, "afp %s worker %d", c->channel, c->index + 1);
    else
        snprintf(worker.bgw_name, BGW_MAXLEN, "afp %s worker", c->channel);
    snprintf(worker.bgw_type, BGW_MAXLEN, "afp %s worker", c->channel);
    worker.bgw_main_arg = (Datum) 0;
    worker.bgw_notify_pid = MyProcPid;             /* state changes set our latch */

    if (RegisterDynamicBackgroundWorker(&worker, &c->handle))
    {
        c->started_at = now;
        ereport(LOG, (errmsg("afp delivery launcher: starting the %s worker for database \"%s\"",
                             c->channel, database)));
        return;
    }
    c->handle = NULL;
    c->next_start_at = TimestampTzPlusMilliseconds(now, 10000);
    if (c->register_warned_at == 0 ||
        TimestampDifferenceExceeds(c->register_warned_at, now, 300000))
    {
        c->register_warned_at = now;
        ereport(WARNING,
                (errmsg("afp delivery launcher: could not start the %s worker", c->channel),
                 errhint("Raise max_worker_processes; the launcher keeps trying every 10 s.")));
    }
}

/*
 * Notices that worker c exited (schedules its restart with a delay growing while it keeps
 * failing right after start) or, while it runs, stops it when the database setting changed.
 * Returns true when it was told to stop.
 */
static bool
launcher_check_child(LauncherState *st, ChildState *c, const char *want)
{
    TimestampTz now = GetCurrentTimestamp();
    BgwHandleStatus status;
    pid_t       pid;

    if (c->handle == NULL)
        return false;
    status = GetBackgroundWorkerPid(c->handle, &pid);
    if (status == BGWH_POSTMASTER_DIED)
        proc_exit(1);
    if (status == BGWH_STOPPED)
    {
        long        delay;

        if (!TimestampDifferenceExceeds(c->started_at, now, AFP_FAST_FAILURE_MS))
            c->fast_failures++;
        else
            c->fast_failures = 0;
        delay = c->fast_failures == 0 ? 1000
            : Min((long) AFP_MAX_RESTART_MS, 1000L << Min(c->fast_failures, 6));
        c->next_start_at = TimestampTzPlusMilliseconds(now, delay);
        pfree(c->handle);
        c->handle = NULL;
        if (strcmp(st->database, want) == 0 && want[0] != '\0')
            ereport(LOG,
                    (errmsg("afp delivery launcher: the %s worker for database \"%s\" exited; restarting in %ld ms",
                            c->channel, st->database, delay)));
        return false;
    }
    if (strcmp(st->database, want) != 0)
    {
        /* setting changed: stop the worker, start anew once it has gone */
        TerminateBackgroundWorker(c->handle);
        c->fast_failures = 0;
        c->next_start_at = now;
        return true;
    }
    return false;
}

/*
 * One supervision step: notices exited workers, applies a changed afp.delivery_database and
 * starts the workers when due. Returns how long to sleep at most (milliseconds).
 */
static long
launcher_supervise(LauncherState *st)
{
    const char *want = afp_delivery_database ? afp_delivery_database : "";
    long        timeout = 10000;
    bool        stopping = false;
    bool        any_running = false;
    int         i;

    if (strlen(want) >= NAMEDATALEN)
    {
        ereport(WARNING,
                (errmsg("afp delivery launcher: afp.delivery_database is longer than %d bytes; delivery disabled",
                        NAMEDATALEN - 1)));
        want = "";
    }

    for (i = 0; i < AFP_NUM_CHILDREN; i++)
    {
        if (launcher_check_child(st, &st->children[i], want))
            stopping = true;
        if (st->children[i].handle != NULL)
            any_running = true;
    }
    if (stopping)
        return 1000;

    if (want[0] == '\0')
    {
        if (any_running)
            return 1000;
        if (!st->announced_disabled)
            ereport(LOG, (errmsg("afp delivery launcher: delivery disabled (afp.delivery_database is empty)")));
        st->announced_disabled = true;
        st->database[0] = '\0';
        return 60000;
    }
    st->announced_disabled = false;
    if (strcmp(st->database, want) != 0)
    {
        if (any_running)
            return 1000;        /* wait until the old database's workers have gone */
        strlcpy(st->database, want, NAMEDATALEN);
        for (i = 0; i < AFP_NUM_CHILDREN; i++)
        {
            st->children[i].fast_failures = 0;
            st->children[i].next_start_at = GetCurrentTimestamp();
        }
    }

    for (i = 0; i < AFP_NUM_CHILDREN; i++)
    {
        ChildState *c = &st->children[i];

        if (c->handle != NULL || c->channel == NULL || c->index >= afp_email_workers)
            continue;
        if (ms_until(c->next_start_at) == 0)
            launcher_start_worker(c, st->database);
        if (c->handle == NULL)
            timeout = Min(timeout, Max(ms_until(c->next_start_at), 10));
    }
    return timeout;
}

/* Main function of the launcher. */
void
afp_launcher_main(Datum arg)
{
    LauncherState st;

    memset(&st, 0, sizeof(st));
    st.children[0].channel = "email";
    st.children[0].function = "afp_email_worker_main";
    st.children[1].channel = "sms";
    st.children[1].function = "afp_sms_worker_main";
    st.children[2].channel = "push";
    st.children[2].function = "afp_push_worker_main";
    for (int i = AFP_NUM_CHANNELS; i < AFP_NUM_CHILDREN; i++)
    {
        /* email workers 2.. (started only up to afp.email_workers) */
        st.children[i].channel = "email";
        st.children[i].function = "afp_email_worker_main";
        st.children[i].index = i - AFP_NUM_CHANNELS + 1;
    }

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

    for (int i = 0; i < AFP_NUM_CHILDREN; i++)
        if (st.children[i].handle != NULL)
            TerminateBackgroundWorker(st.children[i].handle);
    proc_exit(1);
}
