/*
 * afp_channel.c — the channel-worker skeleton (main loop, error recovery, claim / record helpers)
 * shared by the email, SMS and push workers; see afp_channel.h. Also the interrupt checks every
 * send loop uses (afp_send_should_abort, afp_send_absorb_interrupts; afp_delivery.h).
 *
 * Modelled on worker_spi and PostgreSQL's auxiliary processes: the error recovery after
 * sigsetjmp is what those do (abort the transaction, flush the error state), plus the release of
 * libcurl state, since an ERROR can leave transfers attached to the multi handle.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "storage/procsignal.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/wait_event.h"

#include "afp_channel.h"
#include "afp_ratelimit.h"
#include "afp_send_timeout.h"

volatile sig_atomic_t afp_worker_got_sigterm = false;
MemoryContext afp_channel_batch_context = NULL;

/* The channel this process runs (set by afp_channel_main). */
static const AfpChannel *channel = NULL;

/* SIGTERM: remember it and wake the main loop; transfers check the flag. */
static void
channel_sigterm(SIGNAL_ARGS)
{
    int         save_errno = errno;

    afp_worker_got_sigterm = true;
    SetLatch(MyLatch);
    errno = save_errno;
}

/*
 * True when transfers must stop now: SIGTERM, a cancel or die request, or postmaster death.
 * A SIGTERM or SIGINT that is pending but not handled yet (should signals ever be blocked while
 * libcurl runs) counts too; that system call is made at most every 10 ms (libcurl calls this for
 * every transfer on every pass, and the handlers normally set the flags above at once).
 */
bool
afp_send_should_abort(void)
{
    static int64 last_sigpending_us = 0;
    sigset_t    pending;
    struct timespec ts;
    int64       now_us;

    if (afp_worker_got_sigterm)
        return true;
    if (InterruptPending && (QueryCancelPending || ProcDiePending))
        return true;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now_us = (int64) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    if (now_us - last_sigpending_us >= 10000 || now_us < last_sigpending_us)
    {
        last_sigpending_us = now_us;
        if (sigpending(&pending) == 0 &&
            (sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1))
            return true;
    }
    return !PostmasterIsAlive();
}

/*
 * Called between polls while sending: absorbs ProcSignalBarriers (DROP DATABASE and others wait
 * for every backend) without waiting for the batch to end.
 */
void
afp_send_absorb_interrupts(void)
{
    if (ProcSignalBarrierPending)
        ProcessProcSignalBarrier();
}

/* Starts a transaction with SPI and a snapshot; see afp_channel.h. */
void
afp_channel_begin_tx(const char *what)
{
    char        activity[128];

    snprintf(activity, sizeof(activity), "%s: %s", channel->name, what);
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    if (SPI_connect() != SPI_OK_CONNECT)
        ereport(ERROR, (errmsg("%s: SPI_connect failed", channel->name)));
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, activity);
}

/* Commits the transaction opened by afp_channel_begin_tx. */
void
afp_channel_end_tx(void)
{
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
    pgstat_report_stat(false);
    pgstat_report_activity(STATE_IDLE, NULL);
}

/* The lease of a batch; see afp_channel.h. */
double
afp_channel_lease_s(int batch_size, int concurrency, long timeout_ms, int extra_rounds)
{
    concurrency = Max(concurrency, 1);
    return ((double) ((batch_size + concurrency - 1) / concurrency + extra_rounds) * timeout_ms) / 1000.0 + 60.0;
}

/* Column number of name in the claimed rows; ERROR when the claim function has no such column. */
static int
channel_column(TupleDesc desc, const char *name)
{
    int         col = SPI_fnumber(desc, name);

    if (col <= 0)
        ereport(ERROR, (errmsg("%s: the claimed rows have no column \"%s\"", channel->name, name)));
    return col;
}

/* Text column as a palloc'd C string; see afp_channel.h. */
char *
afp_channel_text(HeapTuple tup, TupleDesc desc, const char *name)
{
    bool        isnull;
    Datum       d = SPI_getbinval(tup, desc, channel_column(desc, name), &isnull);

    return isnull ? NULL : TextDatumGetCString(d);
}

/* bigint (or int) column; see afp_channel.h. */
int64
afp_channel_int64(HeapTuple tup, TupleDesc desc, const char *name, int64 isnull_value)
{
    int         col = channel_column(desc, name);
    bool        isnull;
    Datum       d = SPI_getbinval(tup, desc, col, &isnull);

    if (isnull)
        return isnull_value;
    return TupleDescAttr(desc, col - 1)->atttypid == INT4OID ? (int64) DatumGetInt32(d) : DatumGetInt64(d);
}

/* boolean column; see afp_channel.h. */
bool
afp_channel_bool(HeapTuple tup, TupleDesc desc, const char *name, bool isnull_value)
{
    bool        isnull;
    Datum       d = SPI_getbinval(tup, desc, channel_column(desc, name), &isnull);

    return isnull ? isnull_value : DatumGetBool(d);
}

/* Claims a batch; see afp_channel.h. */
int
afp_channel_claim(const char *sql, int batch_size, double lease_s, int nextra,
                  const Oid *extra_types, const Datum *extra_values, AfpClaimReader read, void *arg)
{
    Oid         types[8] = {INT4OID, FLOAT8OID, INT4OID};
    Datum       values[8];
    int         n = 0, i;

    if (nextra < 0 || nextra > (int) lengthof(types) - 3)
        elog(ERROR, "%s: too many claim parameters", channel->name);
    for (i = 0; i < nextra; i++)
    {
        types[3 + i] = extra_types[i];
        values[3 + i] = extra_values[i];
    }

    afp_channel_begin_tx("claiming");
    if (!OidIsValid(get_extension_oid("afp", true)))
    {
        afp_channel_end_tx();
        return -1;
    }
    values[0] = Int32GetDatum(batch_size);
    values[1] = Float8GetDatum(lease_s);
    values[2] = Int32GetDatum(afp_max_attempts);
    if (SPI_execute_with_args(sql, 3 + nextra, types, values, NULL, false, 0) != SPI_OK_SELECT)
        ereport(ERROR, (errmsg("%s: the claim failed: %s", channel->name, sql)));
    if (SPI_processed > 0)
    {
        MemoryContext old = MemoryContextSwitchTo(afp_channel_batch_context);

        n = (int) SPI_processed;
        read(SPI_tuptable, n, arg);
        MemoryContextSwitchTo(old);
        afp_rate_sync();        /* providers' rate_per_sec / rate_burst into shared memory */
    }
    afp_channel_end_tx();
    return n;
}

/* Starts the send phase; see afp_channel.h. */
void
afp_channel_send_begin(void)
{
    char        activity[128];

    snprintf(activity, sizeof(activity), "%s: sending", channel->name);
    pgstat_report_activity(STATE_RUNNING, activity);
    afp_send_timeout_begin();
}

/* Ends the send phase; see afp_channel.h. */
bool
afp_channel_send_end(void)
{
    return afp_send_timeout_end();
}

/* Text datum of a C string, or a NULL flag (NULL or ""). */
static Datum
text_or_null(const char *s, bool *isnull)
{
    *isnull = (s == NULL || *s == '\0');
    return *isnull ? (Datum) 0 : CStringGetTextDatum(s);
}

/* A one-dimensional text[] with NULLs. */
static Datum
text_array(Datum *values, bool *nulls, int n)
{
    int         dims[1] = {n};
    int         lbs[1] = {1};

    return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
}

/* Records a batch; see afp_channel.h. */
void
afp_channel_record(AfpResult *res, int n, bool timed_out, const char *sql, AfpRecordHook hook)
{
    Oid         types[10] = {INT8ARRAYOID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
                             TEXTARRAYOID, INT4ARRAYOID, INT4OID, INT4OID, INT4OID};
    Datum       values[10];
    Datum      *ids, *attempts, *outcomes, *codes, *messages, *details, *retry;
    bool       *n_codes, *n_messages, *n_details, *n_retry;
    int         dims[1] = {n};
    int         lbs[1] = {1};
    uint64      sent = 0, failed = 0;
    int         i;
    MemoryContext old;

    if (timed_out)
    {
        /* statement_timeout: the aborted transfers are transient failures (the attempt counts) */
        for (i = 0; i < n; i++)
            if (res[i].outcome == AFP_SEND_ABORTED)
            {
                res[i].outcome = AFP_SEND_ERROR;
                res[i].code = AFP_SEND_TIMEOUT_CODE;
                res[i].message = AFP_SEND_TIMEOUT_MESSAGE;
            }
        ereport(LOG, (errmsg("%s: statement_timeout; messages in flight will be retried", channel->name)));
    }
    /* a cancel request (pg_cancel_backend) has been honoured by aborting the transfers */
    if (QueryCancelPending)
    {
        QueryCancelPending = false;
        ereport(LOG, (errmsg("%s: canceled; in-flight messages go back to the queue", channel->name)));
    }

    afp_channel_begin_tx("recording");
    old = MemoryContextSwitchTo(afp_channel_batch_context);
    ids = palloc(sizeof(Datum) * n);
    attempts = palloc(sizeof(Datum) * n);
    outcomes = palloc(sizeof(Datum) * n);
    codes = palloc(sizeof(Datum) * n);
    messages = palloc(sizeof(Datum) * n);
    details = palloc(sizeof(Datum) * n);
    retry = palloc0(sizeof(Datum) * n);
    n_codes = palloc(sizeof(bool) * n);
    n_messages = palloc(sizeof(bool) * n);
    n_details = palloc(sizeof(bool) * n);
    n_retry = palloc(sizeof(bool) * n);
    for (i = 0; i < n; i++)
    {
        AfpResult  *r = &res[i];

        ids[i] = Int64GetDatum(r->id);
        attempts[i] = Int32GetDatum(r->attempts);
        outcomes[i] = CStringGetTextDatum(r->outcome == AFP_SEND_SENT ? "sent"
                                          : r->outcome == AFP_SEND_ABORTED ? "aborted"
                                          : r->outcome == AFP_SEND_DEFERRED ? "deferred" : "error");
        codes[i] = text_or_null(r->outcome == AFP_SEND_ERROR ? r->code : NULL, &n_codes[i]);
        messages[i] = text_or_null(r->message, &n_messages[i]);
        details[i] = text_or_null(r->detail, &n_details[i]);
        n_retry[i] = r->retry_after < 0;
        retry[i] = Int32GetDatum(Max(r->retry_after, 0));
        if (r->outcome == AFP_SEND_SENT)
            sent++;
        else if (r->outcome == AFP_SEND_ERROR)
            failed++;
    }
    values[0] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
    values[1] = PointerGetDatum(construct_array(attempts, n, INT4OID, 4, true, TYPALIGN_INT));
    values[2] = PointerGetDatum(construct_array(outcomes, n, TEXTOID, -1, false, TYPALIGN_INT));
    values[3] = text_array(codes, n_codes, n);
    values[4] = text_array(messages, n_messages, n);
    values[5] = text_array(details, n_details, n);
    values[6] = PointerGetDatum(construct_md_array(retry, n_retry, 1, dims, lbs, INT4OID, 4, true, TYPALIGN_INT));
    values[7] = Int32GetDatum(afp_max_attempts);
    values[8] = Int32GetDatum(afp_retry_base_ms);
    values[9] = Int32GetDatum(afp_retry_max_ms);
    MemoryContextSwitchTo(old);

    if (SPI_execute_with_args(sql, 10, types, values, NULL, false, 0) != SPI_OK_SELECT)
        ereport(ERROR, (errmsg("%s: recording the results failed", channel->name)));
    if (hook)
        hook();
    afp_channel_end_tx();
    afp_delivery_slot_count(channel->role, sent, failed);
}

/* Ends leases held by an earlier incarnation of this worker (after a crash or restart). */
static void
channel_release_stale_leases(void)
{
    afp_channel_begin_tx("releasing stale leases");
    if (OidIsValid(get_extension_oid("afp", true)))     /* else the loop waits for it */
    {
        if (channel->release_leases)
            channel->release_leases();
        else if (SPI_execute(channel->release_sql, false, 0) != SPI_OK_SELECT)
            ereport(ERROR, (errmsg("%s: %s failed", channel->name, channel->release_sql)));
    }
    afp_channel_end_tx();
}

/* before_shmem_exit: frees libcurl state and the channel's caches. */
static void
channel_exit(int code, Datum arg)
{
    channel->reset();
    if (channel->at_exit)
        channel->at_exit();
}

/* Sleeps up to ms on the latch (woken by inserts, SIGHUP, SIGTERM). */
static void
channel_sleep(long ms)
{
    (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
}

/* The main function of a channel worker; see afp_channel.h. */
void
afp_channel_main(const AfpChannel *ch)
{
    AfpWorkerArgs args;
    sigjmp_buf  local_sigjmp_buf;
    volatile int errors = 0;
    volatile bool released = false;
    volatile bool missing_logged = false;

    channel = ch;
    memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
    args.database[NAMEDATALEN - 1] = '\0';

    pqsignal(SIGTERM, channel_sigterm);
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    BackgroundWorkerUnblockSignals();

    BackgroundWorkerInitializeConnection(args.database, NULL, 0);
    pgstat_report_appname(ch->name);
    if (ch->attach)
        ch->attach(&args);
    else
    {
        afp_delivery_slot_attach(ch->role, args.database);
        ereport(LOG, (errmsg("%s started for database \"%s\"", ch->name, args.database)));
    }
    before_shmem_exit(channel_exit, (Datum) 0);
    /* never wait long for a row lock (the claim skips locked rows; recording may wait) */
    SetConfigOption("lock_timeout", "10s", PGC_SUSET, PGC_S_OVERRIDE);

    afp_channel_batch_context = AllocSetContextCreate(TopMemoryContext, "afp channel batch",
                                                      ALLOCSET_DEFAULT_SIZES);
    MemoryContextSetIdentifier(afp_channel_batch_context, ch->name);

    if (sigsetjmp(local_sigjmp_buf, 1) != 0)
    {
        /* error recovery, as in PostgreSQL's own auxiliary processes */
        long        delay;

        error_context_stack = NULL;
        HOLD_INTERRUPTS();
        disable_all_timeouts(false);
        QueryCancelPending = false;
        EmitErrorReport();
        AbortOutOfAnyTransaction();
        ch->reset();
        MemoryContextSwitchTo(TopMemoryContext);
        FlushErrorState();
        MemoryContextReset(afp_channel_batch_context);
        RESUME_INTERRUPTS();
        pgstat_report_activity(STATE_IDLE, NULL);

        released = false;       /* rows this worker claimed are unrecorded: free them */
        errors = Min(errors + 1, 10);
        delay = Min(60000L, 500L << errors);
        if (!afp_worker_got_sigterm)
            channel_sleep(delay);
    }
    PG_exception_stack = &local_sigjmp_buf;

    while (!afp_worker_got_sigterm)
    {
        int         n;

        if (QueryCancelPending)
            QueryCancelPending = false;     /* nothing in flight to cancel */
        CHECK_FOR_INTERRUPTS();
        /* WaitLatch returns at once for a set latch without looking at the postmaster: check here */
        if (!PostmasterIsAlive())
            proc_exit(1);
        if (ConfigReloadPending)
        {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
        if (!released)
        {
            channel_release_stale_leases();
            released = true;
        }
        MemoryContextReset(afp_channel_batch_context);
        n = ch->run_batch();
        MemoryContextReset(afp_channel_batch_context);
        if (n < 0)
        {
            if (!missing_logged)
                ereport(LOG, (errmsg("%s: extension afp is not installed in database \"%s\"; waiting",
                                     ch->name, args.database)));
            missing_logged = true;
            released = false;
            channel_sleep(Max(1000L, (long) afp_poll_interval_ms));
            continue;
        }
        missing_logged = false;
        errors = 0;
        if (n >= *ch->batch_size)
            continue;           /* more may be due: no sleep */
        channel_sleep(afp_poll_interval_ms);
    }

    ereport(LOG, (errmsg("%s for database \"%s\" stopping", ch->name, args.database)));
    proc_exit(0);
}
