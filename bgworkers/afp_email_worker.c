/*
 * afp_email_worker.c — the email worker: drains the email rows of afp.outbox over SMTP.
 *
 * A dynamic background worker started by the launcher for afp.delivery_database. Loop:
 *
 *   1. claim   one transaction: afp.email_claim(batch, lease, max_attempts) marks up to
 *              afp.email_batch_size due rows 'sending' (FOR UPDATE SKIP LOCKED, lease in
 *              locked_until) and returns everything needed to send them; committed at once, so
 *              no transaction or lock is held while talking to the network;
 *   2. build   the MIME message of each row (afp_mime.c), DKIM-signed when the provider has a key;
 *              a row whose message cannot be built fails alone (config:... / invalid:...);
 *   3. send    all of them through libcurl multi, afp.email_concurrency at a time (afp_smtp.c);
 *   4. record  one transaction, one statement: afp.outbox_record_results(...) classifies the
 *              outcomes with afp.outcome_rules, updates the rows, writes the delivery events and
 *              hard-bounce suppressions.
 *
 * When a batch was full the next one starts at once; otherwise the worker sleeps until
 * afp.poll_interval_ms passes or its latch is set (an insert into afp.outbox committed, see
 * afp_outbox_wakeup; SIGHUP; SIGTERM).
 *
 * Signals: SIGTERM (shutdown, the launcher, pg_terminate_backend) sets a flag: transfers in
 * flight are aborted, the batch is recorded (aborted rows go back to the queue without counting
 * the attempt) and the worker exits. SIGINT (pg_cancel_backend) aborts the transfers in flight
 * the same way and the worker goes on. Errors (ERROR) are caught: the transaction is rolled
 * back, libcurl state is reset, and the worker sleeps with a growing delay before the next try;
 * rows it had claimed return to the queue when their lease ends.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
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
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "afp_delivery.h"
#include "afp_ratelimit.h"
#include "afp_send_timeout.h"

volatile sig_atomic_t afp_worker_got_sigterm = false;

/* One claimed outbox row (columns of afp.email_message), copied out of SPI. */
typedef struct EmailRow
{
    int64       id;
    int32       attempts;
    char       *idempotency_key;
    char       *recipient;
    char       *provider;
    char       *endpoint;
    char       *from_header;
    char       *envelope_from;
    char       *subject;
    char       *body_text;
    char       *body_html;
    char       *unsubscribe_url;
    char       *unsubscribe_mailto;
    char       *message_id_domain;
    char       *attachment;
    size_t      attachment_len;
    bytea      *attachment_copy;    /* owns attachment; freed once the message is built */
    char       *attachment_type;
    char       *attachment_name;
    char       *username;
    char       *password;
    char       *dkim_private_key;
    char       *dkim_selector;
    char       *dkim_domain;
    char       *starttls;
    bool        tls_verify;
    char       *ca_file;
    char       *message_id;     /* computed */
} EmailRow;

static MemoryContext batch_context = NULL;

/* SIGTERM: remember it and wake the main loop; transfers check the flag. */
static void
afp_worker_sigterm(SIGNAL_ARGS)
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

/* Text column as a palloc'd UTF-8 C string (NULL for SQL NULL). */
static char *
col_text(HeapTuple tup, TupleDesc desc, const char *name)
{
    int         col = SPI_fnumber(desc, name);
    bool        isnull;
    Datum       d;
    char       *s;

    if (col <= 0)
        ereport(ERROR, (errmsg("afp email worker: afp.email_message has no column \"%s\"", name)));
    d = SPI_getbinval(tup, desc, col, &isnull);
    if (isnull)
        return NULL;
    s = TextDatumGetCString(d);
    if (GetDatabaseEncoding() != PG_UTF8)
        s = pg_server_to_any(s, strlen(s), PG_UTF8);
    return s;
}

/* Reads one afp.email_message row into r (in the current memory context). */
static void
read_row(HeapTuple tup, TupleDesc desc, EmailRow *r)
{
    bool        isnull;
    int         col;
    char       *s;

    memset(r, 0, sizeof(*r));
    r->id = DatumGetInt64(SPI_getbinval(tup, desc, SPI_fnumber(desc, "id"), &isnull));
    r->attempts = DatumGetInt32(SPI_getbinval(tup, desc, SPI_fnumber(desc, "attempts"), &isnull));
    r->idempotency_key = col_text(tup, desc, "idempotency_key");
    r->recipient = col_text(tup, desc, "recipient");
    r->provider = col_text(tup, desc, "provider");
    r->endpoint = col_text(tup, desc, "endpoint");
    r->from_header = col_text(tup, desc, "from_header");
    r->envelope_from = col_text(tup, desc, "envelope_from");
    r->subject = col_text(tup, desc, "subject");
    r->body_text = col_text(tup, desc, "body_text");
    r->body_html = col_text(tup, desc, "body_html");
    r->unsubscribe_url = col_text(tup, desc, "unsubscribe_url");
    r->unsubscribe_mailto = col_text(tup, desc, "unsubscribe_mailto");
    r->message_id_domain = col_text(tup, desc, "message_id_domain");
    r->attachment_type = col_text(tup, desc, "attachment_type");
    r->attachment_name = col_text(tup, desc, "attachment_name");
    r->username = col_text(tup, desc, "username");
    r->password = col_text(tup, desc, "password");
    r->dkim_private_key = col_text(tup, desc, "dkim_private_key");
    r->dkim_selector = col_text(tup, desc, "dkim_selector");
    r->dkim_domain = col_text(tup, desc, "dkim_domain");
    r->starttls = col_text(tup, desc, "starttls");
    r->ca_file = col_text(tup, desc, "ca_file");
    col = SPI_fnumber(desc, "tls_verify");
    r->tls_verify = true;
    {
        Datum       d = SPI_getbinval(tup, desc, col, &isnull);

        if (!isnull)
            r->tls_verify = DatumGetBool(d);
    }
    col = SPI_fnumber(desc, "attachment");
    {
        Datum       d = SPI_getbinval(tup, desc, col, &isnull);

        if (!isnull)
        {
            bytea      *b = DatumGetByteaPCopy(d);

            r->attachment_copy = b;
            r->attachment = VARDATA_ANY(b);
            r->attachment_len = VARSIZE_ANY_EXHDR(b);
        }
    }
    s = r->envelope_from ? r->envelope_from : (r->from_header ? afp_mime_address_of(r->from_header) : NULL);
    r->envelope_from = s;
    if (r->message_id_domain == NULL && s && strchr(s, '@'))
        r->message_id_domain = pstrdup(strchr(s, '@') + 1);
    r->message_id = afp_mime_message_id(r->idempotency_key ? r->idempotency_key : "unknown",
                                        r->message_id_domain);
}

/* Starts a transaction with SPI and a snapshot, and shows activity in pg_stat_activity. */
static void
begin_tx(const char *activity)
{
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    if (SPI_connect() != SPI_OK_CONNECT)
        ereport(ERROR, (errmsg("afp email worker: SPI_connect failed")));
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, activity);
}

/* Commits the transaction opened by begin_tx. */
static void
end_tx(void)
{
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
    pgstat_report_stat(false);
    pgstat_report_activity(STATE_IDLE, NULL);
}

/* Claims a batch; returns the rows (in batch_context) and their number, -1 if afp is missing. */
static int
claim_batch(EmailRow **rows_out, int batch_size, double lease_s)
{
    static const char *const sql =
        "SELECT * FROM afp.email_claim($1, make_interval(secs => $2), $3, $4, $5)";
    Oid         types[5] = {INT4OID, FLOAT8OID, INT4OID, INT4OID, INT4OID};
    Datum       values[5];
    EmailRow   *rows = NULL;
    int         n = 0;
    uint64      i;

    begin_tx("afp email worker: claiming");
    if (!OidIsValid(get_extension_oid("afp", true)))
    {
        end_tx();
        return -1;
    }
    values[0] = Int32GetDatum(batch_size);
    values[1] = Float8GetDatum(lease_s);
    values[2] = Int32GetDatum(afp_max_attempts);
    values[3] = Int32GetDatum(afp_email_worker_count());   /* this worker's share: id % count = index */
    values[4] = Int32GetDatum(afp_email_worker_index());
    if (SPI_execute_with_args(sql, 5, types, values, NULL, false, 0) != SPI_OK_SELECT)
        ereport(ERROR, (errmsg("afp email worker: afp.email_claim failed")));
    if (SPI_processed > 0)
    {
        MemoryContext old = MemoryContextSwitchTo(batch_context);

        rows = palloc0(sizeof(EmailRow) * SPI_processed);
        for (i = 0; i < SPI_processed; i++)
            read_row(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, &rows[i]);
        n = (int) SPI_processed;
        MemoryContextSwitchTo(old);
        afp_rate_sync();        /* providers' rate_per_sec / rate_burst into shared memory */
    }
    end_tx();
    if (n > 0)
        afp_email_workers_wake_others();    /* work is due: the other email workers look too */
    *rows_out = rows;
    return n;
}

/*
 * Fills job j from row r and builds the message. With catch_errors (the worker, outside any
 * transaction) an ERROR while building (out of memory) fails only this job; without it (the
 * preview function, inside a transaction) errors propagate normally.
 */
static void
prepare_job(EmailRow *r, AfpSmtpJob *j, bool catch_errors)
{
    AfpEmail    e;
    StringInfoData msg;
    const char *volatile reason = NULL;
    const char *code = NULL;
    MemoryContext cxt = CurrentMemoryContext;

    memset(j, 0, sizeof(*j));
    j->outcome = AFP_SEND_ERROR;
    j->provider = r->provider;
    if (r->endpoint == NULL)
    {
        strlcpy(j->code, "config:provider", sizeof(j->code));
        strlcpy(j->message, "no enabled email provider (afp.providers)", sizeof(j->message));
        return;
    }
    if (r->envelope_from == NULL || strchr(r->envelope_from, '@') == NULL)
    {
        strlcpy(j->code, "config:from", sizeof(j->code));
        strlcpy(j->message, "the provider has no usable \"from\" / \"envelope_from\"", sizeof(j->message));
        return;
    }

    memset(&e, 0, sizeof(e));
    e.from = r->from_header;
    e.to = r->recipient;
    e.subject = r->subject;
    e.text = r->body_text;
    e.html = r->body_html;
    e.message_id = r->message_id;
    e.unsubscribe_url = r->unsubscribe_url;
    e.unsubscribe_mailto = r->unsubscribe_mailto;
    e.attachment = r->attachment;
    e.attachment_len = r->attachment_len;
    e.attachment_type = r->attachment_type;
    e.attachment_name = r->attachment_name;
    e.dkim_key_pem = r->dkim_private_key;
    e.dkim_selector = r->dkim_selector;
    e.dkim_domain = r->dkim_domain;
    e.date = (pg_time_t) time(NULL);

    if (!catch_errors)
    {
        initStringInfo(&msg);
        reason = afp_mime_build(&e, &msg, &code);
    }
    else
    {
        volatile bool failed = false;

        PG_TRY();
        {
            initStringInfo(&msg);
            reason = afp_mime_build(&e, &msg, &code);
        }
        PG_CATCH();
        {
            ErrorData  *edata;

            MemoryContextSwitchTo(cxt);
            edata = CopyErrorData();
            FlushErrorState();
            strlcpy(j->code, "invalid:build", sizeof(j->code));
            strlcpy(j->message, edata->message ? edata->message : "error", sizeof(j->message));
            FreeErrorData(edata);
            failed = true;
        }
        PG_END_TRY();
        if (failed)
            return;
    }
    if (reason)
    {
        strlcpy(j->code, code ? code : "invalid:message", sizeof(j->code));
        strlcpy(j->message, reason, sizeof(j->message));
        return;
    }
    j->url = r->endpoint;
    j->username = r->username;
    j->password = r->password;
    j->mail_from = r->envelope_from;
    j->rcpt = r->recipient;
    j->data = msg.data;
    j->len = msg.len;
    j->starttls = (r->starttls == NULL || strcmp(r->starttls, "try") == 0) ? 1
        : strcmp(r->starttls, "none") == 0 ? 0 : 2;
    j->tls_verify = r->tls_verify;
    j->ca_file = r->ca_file;
    j->outcome = AFP_SEND_PENDING;
}

/* Text datum of a C string, or a NULL flag. */
static Datum
text_or_null(const char *s, bool *isnull)
{
    *isnull = (s == NULL || *s == '\0');
    return *isnull ? (Datum) 0 : CStringGetTextDatum(s);
}

/* Records the outcomes of a batch with one call of afp.outbox_record_results. */
static void
record_batch(EmailRow *rows, AfpSmtpJob *jobs, int n, uint64 *sent, uint64 *failed)
{
    static const char *const sql =
        "SELECT afp.outbox_record_results($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
    Oid         types[11] = {INT8ARRAYOID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
                             TEXTARRAYOID, INT4ARRAYOID, TEXTOID, INT4OID, INT4OID, INT4OID};
    Datum       values[11];
    Datum      *ids, *attempts, *outcomes, *codes, *messages, *pids, *retry;
    bool       *n_codes, *n_messages, *n_pids, *n_retry;
    int         dims[1] = {n};
    int         lbs[1] = {1};
    int         i;
    MemoryContext old;

    begin_tx("afp email worker: recording");
    old = MemoryContextSwitchTo(batch_context);
    ids = palloc(sizeof(Datum) * n);
    attempts = palloc(sizeof(Datum) * n);
    outcomes = palloc(sizeof(Datum) * n);
    codes = palloc(sizeof(Datum) * n);
    messages = palloc(sizeof(Datum) * n);
    pids = palloc(sizeof(Datum) * n);
    retry = palloc0(sizeof(Datum) * n);
    n_codes = palloc(sizeof(bool) * n);
    n_messages = palloc(sizeof(bool) * n);
    n_pids = palloc(sizeof(bool) * n);
    n_retry = palloc(sizeof(bool) * n);
    *sent = *failed = 0;
    for (i = 0; i < n; i++)
    {
        AfpSmtpJob *j = &jobs[i];
        const char *outcome = j->outcome == AFP_SEND_SENT ? "sent"
            : j->outcome == AFP_SEND_ABORTED ? "aborted"
            : j->outcome == AFP_SEND_DEFERRED ? "deferred" : "error";

        ids[i] = Int64GetDatum(rows[i].id);
        attempts[i] = Int32GetDatum(rows[i].attempts);
        outcomes[i] = CStringGetTextDatum(outcome);
        codes[i] = text_or_null(j->outcome == AFP_SEND_ERROR ? j->code : NULL, &n_codes[i]);
        messages[i] = text_or_null(j->message, &n_messages[i]);
        pids[i] = text_or_null(j->outcome == AFP_SEND_SENT ? rows[i].message_id : NULL, &n_pids[i]);
        n_retry[i] = j->outcome != AFP_SEND_DEFERRED;  /* deferred: retry after j->retry_after s */
        retry[i] = Int32GetDatum(j->retry_after);
        if (j->outcome == AFP_SEND_SENT)
            (*sent)++;
        else if (j->outcome == AFP_SEND_ERROR)
            (*failed)++;
    }
    values[0] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
    values[1] = PointerGetDatum(construct_array(attempts, n, INT4OID, 4, true, TYPALIGN_INT));
    values[2] = PointerGetDatum(construct_array(outcomes, n, TEXTOID, -1, false, TYPALIGN_INT));
    values[3] = PointerGetDatum(construct_md_array(codes, n_codes, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
    values[4] = PointerGetDatum(construct_md_array(messages, n_messages, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
    values[5] = PointerGetDatum(construct_md_array(pids, n_pids, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
    values[6] = PointerGetDatum(construct_md_array(retry, n_retry, 1, dims, lbs, INT4OID, 4, true, TYPALIGN_INT));
    values[7] = CStringGetTextDatum("smtp");
    values[8] = Int32GetDatum(afp_max_attempts);
    values[9] = Int32GetDatum(afp_retry_base_ms);
    values[10] = Int32GetDatum(afp_retry_max_ms);
    MemoryContextSwitchTo(old);

    if (SPI_execute_with_args(sql, 11, types, values, NULL, false, 0) != SPI_OK_SELECT)
        ereport(ERROR, (errmsg("afp email worker: afp.outbox_record_results failed")));
    end_tx();
}

/* Claims, builds, sends and records one batch; returns the number of rows claimed (-1: no afp). */
static int
run_batch(void)
{
    int         batch_size = afp_email_batch_size;
    int         concurrency = afp_email_concurrency;
    long        timeout_ms = afp_smtp_timeout_ms;
    /* the lease covers every round of transfers of the batch, plus a minute */
    double      lease_s = ((double) ((batch_size + concurrency - 1) / concurrency) * timeout_ms) / 1000.0 + 60.0;
    EmailRow   *rows = NULL;
    AfpSmtpJob *jobs;
    uint64      sent, failed;
    int         n, i;
    MemoryContext old;

    MemoryContextReset(batch_context);
    n = claim_batch(&rows, batch_size, lease_s);
    if (n <= 0)
        return n;

    old = MemoryContextSwitchTo(batch_context);
    jobs = palloc0(sizeof(AfpSmtpJob) * n);
    for (i = 0; i < n; i++)
    {
        prepare_job(&rows[i], &jobs[i], true);
        /* the message holds its own (base64) copy now: keep the batch's memory down */
        if (rows[i].attachment_copy)
            pfree(rows[i].attachment_copy);
        rows[i].attachment_copy = NULL;
        rows[i].attachment = NULL;
    }
    MemoryContextSwitchTo(old);

    pgstat_report_activity(STATE_RUNNING, "afp email worker: sending");
    afp_send_timeout_begin();
    afp_smtp_send(jobs, n, concurrency, timeout_ms);
    if (afp_send_timeout_end())
    {
        /* statement_timeout: the aborted transfers are transient failures (the attempt counts) */
        for (i = 0; i < n; i++)
            if (jobs[i].outcome == AFP_SEND_ABORTED)
            {
                jobs[i].outcome = AFP_SEND_ERROR;
                strlcpy(jobs[i].code, AFP_SEND_TIMEOUT_CODE, sizeof(jobs[i].code));
                strlcpy(jobs[i].message, AFP_SEND_TIMEOUT_MESSAGE, sizeof(jobs[i].message));
            }
        ereport(LOG, (errmsg("afp email worker: statement_timeout; messages in flight will be retried")));
    }

    /* a cancel request (pg_cancel_backend) has been honoured by aborting the transfers */
    if (QueryCancelPending)
    {
        QueryCancelPending = false;
        ereport(LOG, (errmsg("afp email worker: canceled; in-flight messages go back to the queue")));
    }

    record_batch(rows, jobs, n, &sent, &failed);
    afp_delivery_slot_count(AFP_ROLE_EMAIL, sent, failed);
    MemoryContextReset(batch_context);
    return n;
}

/* Ends leases held by an earlier incarnation of this worker (after a crash or restart). */
static void
release_stale_leases(void)
{
    Oid         types[2] = {INT4OID, INT4OID};
    Datum       values[2];

    /* only this worker's share of the rows (afp.email_workers) */
    values[0] = Int32GetDatum(afp_email_worker_count());
    values[1] = Int32GetDatum(afp_email_worker_index());
    begin_tx("afp email worker: releasing stale leases");
    if (OidIsValid(get_extension_oid("afp", true)) &&
        SPI_execute_with_args("SELECT afp.email_release_leases($1, $2)", 2, types, values, NULL,
                              false, 0) != SPI_OK_SELECT)
        ereport(ERROR, (errmsg("afp email worker: afp.email_release_leases failed")));
    end_tx();
}

/* before_shmem_exit: frees libcurl and OpenSSL state. */
static void
email_worker_exit(int code, Datum arg)
{
    afp_smtp_cleanup();
    afp_mime_reset_cache();
}

/* Sleeps up to ms on the latch (woken by inserts, SIGHUP, SIGTERM). */
static void
worker_sleep(long ms)
{
    (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
}

/* Main function of the email worker. */
void
afp_email_worker_main(Datum arg)
{
    AfpWorkerArgs args;
    sigjmp_buf  local_sigjmp_buf;
    volatile int errors = 0;
    volatile bool released = false;
    volatile bool missing_logged = false;

    memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
    args.database[NAMEDATALEN - 1] = '\0';

    pqsignal(SIGTERM, afp_worker_sigterm);
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    BackgroundWorkerUnblockSignals();

    BackgroundWorkerInitializeConnection(args.database, NULL, 0);
    pgstat_report_appname("afp email worker");
    afp_email_workers_attach(args.worker_index, args.worker_count, args.database);
    before_shmem_exit(email_worker_exit, (Datum) 0);
    /* never wait long for a row lock (the claim skips locked rows; recording may wait) */
    SetConfigOption("lock_timeout", "10s", PGC_SUSET, PGC_S_OVERRIDE);

    batch_context = AllocSetContextCreate(TopMemoryContext, "afp email batch", ALLOCSET_DEFAULT_SIZES);
    ereport(LOG, (errmsg("afp email worker %d of %d started for database \"%s\"",
                         afp_email_worker_index() + 1, afp_email_worker_count(), args.database)));

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
        afp_smtp_cleanup();
        MemoryContextSwitchTo(TopMemoryContext);
        FlushErrorState();
        MemoryContextReset(batch_context);
        RESUME_INTERRUPTS();
        pgstat_report_activity(STATE_IDLE, NULL);

        released = false;       /* rows this worker claimed are unrecorded: free them */
        errors = Min(errors + 1, 10);
        delay = Min(60000L, 500L << errors);
        if (!afp_worker_got_sigterm)
            worker_sleep(delay);
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
            release_stale_leases();
            released = true;
        }

        n = run_batch();
        if (n < 0)
        {
            if (!missing_logged)
                ereport(LOG, (errmsg("afp email worker: extension afp is not installed in database \"%s\"; waiting",
                                     args.database)));
            missing_logged = true;
            released = false;
            worker_sleep(Max(1000L, (long) afp_poll_interval_ms));
            continue;
        }
        missing_logged = false;
        errors = 0;
        if (n >= afp_email_batch_size)
            continue;           /* more may be due: no sleep */
        worker_sleep(afp_poll_interval_ms);
    }

    ereport(LOG, (errmsg("afp email worker for database \"%s\" stopping", args.database)));
    proc_exit(0);
}

PG_FUNCTION_INFO_V1(afp_email_preview);

/* afp_email_preview(outbox_id): the message the worker would send now for one row. */
Datum
afp_email_preview(PG_FUNCTION_ARGS)
{
    int64       id = PG_GETARG_INT64(0);
    Oid         types[1] = {INT8OID};
    Datum       values[1];
    EmailRow    r;
    AfpSmtpJob  j;
    MemoryContext caller = CurrentMemoryContext;

    values[0] = Int64GetDatum(id);
    if (SPI_connect() != SPI_OK_CONNECT)
        ereport(ERROR, (errmsg("afp_email_preview: SPI_connect failed")));
    if (SPI_execute_with_args("SELECT s.* FROM afp.outbox o, LATERAL afp.email_source(o) s "
                              "WHERE o.id = $1 AND o.channel = 'email'",
                              1, types, values, NULL, true, 1) != SPI_OK_SELECT)
        ereport(ERROR, (errmsg("afp_email_preview: query failed")));
    if (SPI_processed == 0)
        ereport(ERROR,
                (errcode(ERRCODE_NO_DATA_FOUND),
                 errmsg("afp_email_preview: no email row %lld in afp.outbox", (long long) id)));
    {
        MemoryContext old = MemoryContextSwitchTo(caller);

        read_row(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, &r);
        prepare_job(&r, &j, false);
        MemoryContextSwitchTo(old);
    }
    SPI_finish();
    if (j.outcome != AFP_SEND_PENDING)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                 errmsg("afp_email_preview: %s: %s", j.code, j.message)));
    PG_RETURN_TEXT_P(cstring_to_text_with_len(j.data, j.len));
}
