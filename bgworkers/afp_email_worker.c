/*
 * afp_email_worker.c — the email worker: drains the email rows of afp.outbox over SMTP.
 *
 * A dynamic background worker started by the launcher for afp.delivery_database (with
 * afp.email_workers = n, n of them, worker i draining the rows with id % n = i: see
 * afp_email_workers.c). Loop:
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
 * The loop, signals and error recovery are the channel-worker skeleton's (afp_channel.c), which
 * the SMS and push workers run too; this file supplies the batch (claim, build, send, record).
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

#include "afp_channel.h"
#include "afp_delivery.h"
#include "afp_ratelimit.h"
#include "afp_send_timeout.h"

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

/* Reads the claimed rows (AfpClaimReader); arg is the EmailRow ** to set. */
static void
email_read_rows(SPITupleTable *tt, int n, void *arg)
{
    EmailRow   *rows = palloc0(sizeof(EmailRow) * n);
    int         i;

    for (i = 0; i < n; i++)
        read_row(tt->vals[i], tt->tupdesc, &rows[i]);
    *(EmailRow **) arg = rows;
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

/*
 * Claims, builds, sends and records one batch (AfpChannel.run_batch); returns the number of rows
 * claimed (-1: no afp).
 */
static int
run_batch(void)
{
    static const char *const record_sql =
        "SELECT afp.outbox_record_results($1, $2, $3, $4, $5, $6, $7, 'smtp', $8, $9, $10)";
    Oid         types[2] = {INT4OID, INT4OID};
    Datum       values[2];
    int         batch_size = afp_email_batch_size;
    int         concurrency = afp_email_concurrency;
    long        timeout_ms = afp_smtp_timeout_ms;
    EmailRow   *rows = NULL;
    AfpSmtpJob *jobs;
    AfpResult  *res;
    bool        timed_out;
    int         n, i;
    MemoryContext old;

    /* this worker's share of the rows: id % count = index (afp_email_workers.c) */
    values[0] = Int32GetDatum(afp_email_worker_count());
    values[1] = Int32GetDatum(afp_email_worker_index());
    /* the lease covers every round of transfers of the batch, plus a minute */
    n = afp_channel_claim("SELECT * FROM afp.email_claim($1, make_interval(secs => $2), $3, $4, $5)",
                          batch_size, afp_channel_lease_s(batch_size, concurrency, timeout_ms, 0),
                          2, types, values, email_read_rows, &rows);
    if (n <= 0)
        return n;
    afp_email_workers_wake_others();    /* work is due: the other email workers look too */

    old = MemoryContextSwitchTo(afp_channel_batch_context);
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

    afp_channel_send_begin();
    afp_smtp_send(jobs, n, concurrency, timeout_ms);
    timed_out = afp_channel_send_end();

    old = MemoryContextSwitchTo(afp_channel_batch_context);
    res = palloc(sizeof(AfpResult) * n);
    for (i = 0; i < n; i++)
    {
        AfpSmtpJob *j = &jobs[i];

        res[i].id = rows[i].id;
        res[i].attempts = rows[i].attempts;
        res[i].outcome = j->outcome;
        res[i].code = j->code;
        res[i].message = j->message;
        res[i].detail = j->outcome == AFP_SEND_SENT ? rows[i].message_id : NULL;
        /* deferred: retry after j->retry_after s */
        res[i].retry_after = j->outcome == AFP_SEND_DEFERRED ? Max(j->retry_after, 0) : -1;
    }
    MemoryContextSwitchTo(old);
    afp_channel_record(res, n, timed_out, record_sql, NULL);
    return n;
}

/*
 * Ends leases held by an earlier incarnation of this worker (AfpChannel.release_leases; after a
 * crash or restart): only this worker's share of the rows (afp.email_workers).
 */
static void
release_stale_leases(void)
{
    Oid         types[2] = {INT4OID, INT4OID};
    Datum       values[2];

    values[0] = Int32GetDatum(afp_email_worker_count());
    values[1] = Int32GetDatum(afp_email_worker_index());
    if (SPI_execute_with_args("SELECT afp.email_release_leases($1, $2)", 2, types, values, NULL,
                              false, 0) != SPI_OK_SELECT)
        ereport(ERROR, (errmsg("afp email worker: afp.email_release_leases failed")));
}

/* Registers worker index of count (AfpChannel.attach) and logs its start. */
static void
email_attach(const AfpWorkerArgs *args)
{
    afp_email_workers_attach(args->worker_index, args->worker_count, args->database);
    ereport(LOG, (errmsg("afp email worker %d of %d started for database \"%s\"",
                         afp_email_worker_index() + 1, afp_email_worker_count(), args->database)));
}

/* At exit (AfpChannel.at_exit, after the libcurl state): frees the cached DKIM key. */
static void
email_reset_caches(void)
{
    afp_mime_reset_cache();
}

/* The email channel for the worker skeleton. */
static const AfpChannel email_channel = {
    .name = "afp email worker",
    .role = AFP_ROLE_EMAIL,
    .batch_size = &afp_email_batch_size,
    .release_sql = NULL,
    .run_batch = run_batch,
    .reset = afp_smtp_cleanup,
    .at_exit = email_reset_caches,
    .attach = email_attach,
    .release_leases = release_stale_leases,
};

/* Main function of the email worker. */
void
afp_email_worker_main(Datum arg)
{
    afp_channel_main(&email_channel);
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
