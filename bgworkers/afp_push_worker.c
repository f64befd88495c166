/*
 * afp_push_worker.c — the push worker: drains the push rows of afp.outbox to FCM (HTTP v1) and
 * APNs (HTTP/2) (docs/delivery.md, "Push").
 *
 * A dynamic background worker started by the launcher next to the email and SMS workers. Loop:
 *
 *   1. claim   one transaction: afp.push_claim(batch, lease, max_attempts) (afp.outbox_claim for
 *              channel push, FOR UPDATE SKIP LOCKED, lease) returns the rows with their provider
 *              (the one serving the token's platform), request URL, JSON body and credentials;
 *   2. auth    per provider of the batch: FCM an OAuth2 access token (cached until shortly
 *              before it expires, afp_push_fcm.c), APNs an ES256 provider token (reused for
 *              40 minutes, afp_push_apns.c);
 *   3. send    all requests through one libcurl multi handle, afp.push_concurrency at a time;
 *              APNs requests as HTTP/2 streams multiplexed over one connection (afp_push_http.c).
 *              FCM: POST .../messages:send with "authorization: Bearer", Idempotency-Key header
 *              and data.idempotency_key; APNs: POST /3/device/{token} with apns-topic,
 *              apns-push-type alert, apns-id (a UUID derived from the idempotency key),
 *              apns-expiration, apns-priority 10;
 *   4. retry   requests answered 401 (FCM) or 403 Expired/InvalidProviderToken (APNs) are sent
 *              once more with a fresh token;
 *   5. record  one transaction: afp.push_record_results(...) = afp.outbox_record_results(...,
 *              'http', ...) (outcome codes "<status> <provider error>" classified by
 *              afp.outcome_rules) plus the deletion of contact points whose token the provider
 *              reported unregistered.
 *
 * Interrupts and errors are handled as in the SMS worker: a progress callback on every transfer
 * aborts it on SIGTERM, cancel or postmaster death (aborted rows go back to the queue without
 * counting the attempt); ERRORs are caught, libcurl state reset, and the worker sleeps with a
 * growing delay.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/wait_event.h"

#include "afp_push.h"
#include "afp_ratelimit.h"
#include "afp_send_timeout.h"

/* One claimed row and its request. */
typedef struct PushJob
{
    int64       id;
    int32       attempts;
    char       *key;
    char       *recipient;
    char       *url;
    char       *body;
    char       *topic;
    int64       expiration;
    bool        apns;
    AfpPushProvider *prov;          /* NULL: no usable provider */
    AfpSendOutcome outcome;
    char        code[64];
    char        message[256];
    int         retry_after;
    char       *provider_message_id;
    char        apns_id[37];
    bool        auth_retry;         /* to be sent once more with a fresh token */
    AfpHttpReq  req;
} PushJob;

static MemoryContext push_batch_context = NULL;

/* SIGTERM: remember it and wake the main loop; transfers check the flag. */
static void
push_worker_sigterm(SIGNAL_ARGS)
{
    int         save_errno = errno;

    afp_worker_got_sigterm = true;
    SetLatch(MyLatch);
    errno = save_errno;
}

/* Marks job j failed before or instead of its transfer. */
static void
push_fail(PushJob *j, const char *code, const char *message)
{
    j->outcome = AFP_SEND_ERROR;
    strlcpy(j->code, code, sizeof(j->code));
    strlcpy(j->message, message, sizeof(j->message));
}

/* Starts a transaction with SPI and a snapshot, and shows activity in pg_stat_activity. */
static void
push_begin_tx(const char *activity)
{
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    if (SPI_connect() != SPI_OK_CONNECT)
        ereport(ERROR, (errmsg("afp push worker: SPI_connect failed")));
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, activity);
}

/* Commits the transaction opened by push_begin_tx. */
static void
push_end_tx(void)
{
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
    pgstat_report_stat(false);
    pgstat_report_activity(STATE_IDLE, NULL);
}

/* Text column as a palloc'd C string (NULL for SQL NULL or ""). */
static char *
push_col(HeapTuple tup, TupleDesc desc, const char *name)
{
    int         col = SPI_fnumber(desc, name);
    bool        isnull;
    Datum       d;
    char       *s;

    if (col <= 0)
        ereport(ERROR, (errmsg("afp push worker: afp.push_message has no column \"%s\"", name)));
    d = SPI_getbinval(tup, desc, col, &isnull);
    if (isnull)
        return NULL;
    s = TextDatumGetCString(d);
    return s[0] ? s : NULL;
}

/* The provider of the batch named name (created from the row on first sight). */
static AfpPushProvider *
push_provider(List **provs, HeapTuple tup, TupleDesc desc)
{
    char       *name = push_col(tup, desc, "provider");
    char       *service = push_col(tup, desc, "service");
    AfpPushProvider *p;
    ListCell   *lc;
    bool        isnull;
    Datum       d;

    if (name == NULL || service == NULL)
        return NULL;
    foreach(lc, *provs)
    {
        p = (AfpPushProvider *) lfirst(lc);
        if (strcmp(p->name, name) == 0)
            return p;
    }
    p = palloc0(sizeof(AfpPushProvider));
    p->name = name;
    p->service = service;
    p->client_email = push_col(tup, desc, "client_email");
    p->private_key = push_col(tup, desc, "private_key");
    p->token_uri = push_col(tup, desc, "token_uri");
    p->key_id = push_col(tup, desc, "key_id");
    p->team_id = push_col(tup, desc, "team_id");
    p->ca_file = push_col(tup, desc, "ca_file");
    d = SPI_getbinval(tup, desc, SPI_fnumber(desc, "tls_verify"), &isnull);
    p->tls_verify = isnull ? true : DatumGetBool(d);
    p->auth_retry_after = -1;
    *provs = lappend(*provs, p);
    return p;
}

/* Claims a batch; returns the jobs and providers (in push_batch_context), -1 if afp is missing. */
static int
push_claim(PushJob **jobs_out, List **provs, int batch_size, double lease_s)
{
    Oid         types[3] = {INT4OID, FLOAT8OID, INT4OID};
    Datum       values[3];
    PushJob    *jobs = NULL;
    uint64      i;
    int         n = 0;

    push_begin_tx("afp push worker: claiming");
    if (!OidIsValid(get_extension_oid("afp", true)))
    {
        push_end_tx();
        return -1;
    }
    values[0] = Int32GetDatum(batch_size);
    values[1] = Float8GetDatum(lease_s);
    values[2] = Int32GetDatum(afp_max_attempts);
    if (SPI_execute_with_args("SELECT * FROM afp.push_claim($1, make_interval(secs => $2), $3)",
                              3, types, values, NULL, false, 0) != SPI_OK_SELECT)
        ereport(ERROR, (errmsg("afp push worker: afp.push_claim failed")));
    if (SPI_processed > 0)
    {
        MemoryContext old = MemoryContextSwitchTo(push_batch_context);
        TupleDesc   desc = SPI_tuptable->tupdesc;

        jobs = palloc0(sizeof(PushJob) * SPI_processed);
        for (i = 0; i < SPI_processed; i++)
        {
            HeapTuple   tup = SPI_tuptable->vals[i];
            PushJob    *j = &jobs[i];
            bool        isnull;
            Datum       d;

            j->id = DatumGetInt64(SPI_getbinval(tup, desc, SPI_fnumber(desc, "id"), &isnull));
            j->attempts = DatumGetInt32(SPI_getbinval(tup, desc, SPI_fnumber(desc, "attempts"), &isnull));
            j->key = push_col(tup, desc, "idempotency_key");
            j->recipient = push_col(tup, desc, "recipient");
            j->url = push_col(tup, desc, "url");
            j->body = push_col(tup, desc, "body");
            j->topic = push_col(tup, desc, "topic");
            d = SPI_getbinval(tup, desc, SPI_fnumber(desc, "expiration"), &isnull);
            j->expiration = isnull ? 0 : DatumGetInt64(d);
            j->prov = push_provider(provs, tup, desc);
            j->apns = j->prov != NULL && strcmp(j->prov->service, "apns") == 0;
        }
        n = (int) SPI_processed;
        MemoryContextSwitchTo(old);
        afp_rate_sync();        /* providers' rate_per_sec / rate_burst into shared memory */
    }
    push_end_tx();
    *jobs_out = jobs;
    return n;
}

/* True when s can go into a header value: printable ASCII only (no CR/LF injection). */
static bool
push_header_safe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7e)
            return false;
    return true;
}

/* Checks a claimed row; a row that cannot be sent fails alone. */
static void
push_prepare(PushJob *j)
{
    j->outcome = AFP_SEND_PENDING;
    j->retry_after = -1;
    afp_http_req_reset(&j->req);
    if (j->prov == NULL)
        push_fail(j, "config:provider",
                  "no enabled push provider (config.service fcm or apns) for the token's platform");
    else if (j->url == NULL)
        push_fail(j, "config:project_id", "the FCM provider has no project_id");
    else if (j->apns && (j->topic == NULL || !push_header_safe(j->topic)))
        push_fail(j, "config:topic", "the APNs provider needs config.topic (the app's bundle id, printable ASCII)");
    else if (j->body == NULL)
        push_fail(j, "invalid:body", "no message body");
    else if (j->apns)
        afp_apns_id_for_key(j->key, j->apns_id);
}

/* Sets the request of job j (headers with the provider's current token). */
static void
push_build_request(PushJob *j)
{
    AfpHttpReq *r = &j->req;
    int         h = 0;

    afp_http_req_reset(r);
    memset(r->headers, 0, sizeof(r->headers));
    r->url = j->url;
    r->body = j->body;
    r->tls_verify = j->prov->tls_verify;
    r->ca_file = j->prov->ca_file;
    r->provider = j->prov->name;
    r->headers[h++] = "Content-Type: application/json";
    r->headers[h++] = psprintf("Authorization: Bearer %s", j->prov->bearer);
    r->http2 = true;                /* APNs requires HTTP/2; FCM takes it over TLS too */
    if (j->apns)
    {
        r->headers[h++] = psprintf("apns-topic: %s", j->topic);
        r->headers[h++] = "apns-push-type: alert";
        r->headers[h++] = "apns-priority: 10";
        r->headers[h++] = psprintf("apns-id: %s", j->apns_id);
        r->headers[h++] = psprintf("apns-expiration: " INT64_FORMAT, j->expiration);
    }
    else
        r->headers[h++] = psprintf("Idempotency-Key: %s", j->key);
}

/* Authenticates provider p (force: ignore its cached token). */
static void
push_authenticate(AfpPushProvider *p, bool force, long timeout_ms)
{
    if (strcmp(p->service, "fcm") == 0)
        afp_fcm_authenticate(p, force, timeout_ms);
    else
        afp_apns_authenticate(p, force);
}

/*
 * Authenticates the providers of the pending jobs (retry: only the jobs marked auth_retry, with
 * fresh tokens) and builds their requests. Jobs of a provider that cannot authenticate take its
 * failure. Returns the number of requests to send, collected in reqs.
 */
static int
push_authorize(PushJob *jobs, int n, List *provs, bool retry, AfpHttpReq **reqs, long timeout_ms)
{
    ListCell   *lc;
    int         i, m = 0;

    foreach(lc, provs)
    {
        AfpPushProvider *p = (AfpPushProvider *) lfirst(lc);
        bool        needed = false;

        for (i = 0; i < n && !needed; i++)
            needed = jobs[i].prov == p && (retry ? jobs[i].auth_retry : jobs[i].outcome == AFP_SEND_PENDING);
        if (!needed || afp_send_should_abort())
            continue;
        push_authenticate(p, retry, timeout_ms);
    }
    for (i = 0; i < n; i++)
    {
        PushJob    *j = &jobs[i];

        if (retry ? !j->auth_retry : j->outcome != AFP_SEND_PENDING)
            continue;
        j->auth_retry = false;
        j->outcome = AFP_SEND_PENDING;
        if (j->prov->auth_aborted || (j->prov->bearer == NULL && j->prov->auth_code[0] == '\0'))
        {
            j->outcome = AFP_SEND_ABORTED;
            strlcpy(j->message, "aborted while authenticating (shutdown or cancel)", sizeof(j->message));
        }
        else if (j->prov->bearer == NULL)
        {
            push_fail(j, j->prov->auth_code, j->prov->auth_message);
            j->retry_after = j->prov->auth_retry_after;
        }
        else
        {
            push_build_request(j);
            reqs[m++] = &j->req;
        }
    }
    return m;
}

/* Copies printable ASCII of s (a reply excerpt) into dst. */
static void
push_copy_clean(char *dst, size_t size, const char *s)
{
    size_t      i;

    for (i = 0; s && s[i] && i + 1 < size; i++)
        dst[i] = ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e) ? ' ' : s[i];
    dst[i] = '\0';
}

/*
 * Sets the outcome of job j from its reply. first: a 401 (FCM) or 403 provider-token reply
 * (APNs) marks the job for one more try with a fresh token instead.
 */
static void
push_evaluate(PushJob *j, bool first)
{
    AfpHttpReq *r = &j->req;
    char        name[256];
    char        detail[200];

    j->retry_after = r->retry_after;
    if (r->outcome == AFP_SEND_ABORTED || r->outcome == AFP_SEND_DEFERRED)
    {
        /* shutdown or cancel; or not started: provider down or rate-limited (afp_ratelimit.h) */
        j->outcome = r->outcome;
        strlcpy(j->message, r->message, sizeof(j->message));
        return;
    }
    if (r->outcome == AFP_SEND_ERROR)
    {
        push_fail(j, r->code, r->message);
        return;
    }
    if (r->status >= 200 && r->status < 300)
    {
        j->outcome = AFP_SEND_SENT;
        if (j->apns)
            j->provider_message_id = pstrdup(r->apns_id[0] ? r->apns_id : j->apns_id);
        else if (afp_push_json_get(r->resp, r->resp_len, "name", name, sizeof(name)) && name[0])
            j->provider_message_id = pstrdup(name);
        return;
    }
    if (j->apns)
        afp_apns_reply_code(r, j->code, sizeof(j->code));
    else
        afp_fcm_reply_code(r, j->code, sizeof(j->code));
    if (first && ((!j->apns && r->status == 401) ||
                  (j->apns && r->status == 403 &&
                   (strcmp(j->code, "403 ExpiredProviderToken") == 0 ||
                    strcmp(j->code, "403 InvalidProviderToken") == 0))))
    {
        j->auth_retry = true;
        return;
    }
    j->outcome = AFP_SEND_ERROR;
    push_copy_clean(detail, sizeof(detail), r->resp);
    snprintf(j->message, sizeof(j->message), "HTTP/%ld %ld%s%s", r->http_version, r->status,
             detail[0] ? ": " : "", detail);
}

/* Text datum of a C string, or a NULL flag. */
static Datum
push_text_or_null(const char *s, bool *isnull)
{
    *isnull = (s == NULL || *s == '\0');
    return *isnull ? (Datum) 0 : CStringGetTextDatum(s);
}

/* Records the outcomes of a batch with one call of afp.push_record_results. */
static void
push_record(PushJob *jobs, int n, uint64 *sent, uint64 *failed)
{
    Oid         types[10] = {INT8ARRAYOID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
                             TEXTARRAYOID, INT4ARRAYOID, INT4OID, INT4OID, INT4OID};
    Datum       values[10];
    Datum      *ids, *attempts, *outcomes, *codes, *messages, *pids, *retry;
    bool       *n_codes, *n_messages, *n_pids, *n_retry;
    int         dims[1] = {n};
    int         lbs[1] = {1};
    int         i;
    MemoryContext old;

    push_begin_tx("afp push worker: recording");
    old = MemoryContextSwitchTo(push_batch_context);
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
        PushJob    *j = &jobs[i];

        ids[i] = Int64GetDatum(j->id);
        attempts[i] = Int32GetDatum(j->attempts);
        outcomes[i] = CStringGetTextDatum(j->outcome == AFP_SEND_SENT ? "sent"
                                          : j->outcome == AFP_SEND_ABORTED ? "aborted"
                                          : j->outcome == AFP_SEND_DEFERRED ? "deferred" : "error");
        codes[i] = push_text_or_null(j->outcome == AFP_SEND_ERROR ? j->code : NULL, &n_codes[i]);
        messages[i] = push_text_or_null(j->outcome == AFP_SEND_SENT ? NULL : j->message, &n_messages[i]);
        pids[i] = push_text_or_null(j->outcome == AFP_SEND_SENT ? j->provider_message_id : NULL, &n_pids[i]);
        n_retry[i] = j->retry_after < 0;
        retry[i] = Int32GetDatum(Max(j->retry_after, 0));
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
    values[7] = Int32GetDatum(afp_max_attempts);
    values[8] = Int32GetDatum(afp_retry_base_ms);
    values[9] = Int32GetDatum(afp_retry_max_ms);
    MemoryContextSwitchTo(old);

    if (SPI_execute_with_args("SELECT tokens_removed FROM afp.push_record_results($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                              10, types, values, NULL, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
        ereport(ERROR, (errmsg("afp push worker: afp.push_record_results failed")));
    {
        bool        isnull;
        int32       removed = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

        if (!isnull && removed > 0)
            ereport(LOG, (errmsg("afp push worker: removed %d push token(s) the provider reported unregistered",
                                 removed)));
    }
    push_end_tx();
}

/* Claims, authenticates, sends and records one batch; returns the rows claimed (-1: no afp). */
static int
push_run_batch(void)
{
    int         batch_size = afp_push_batch_size;
    int         concurrency = Min(afp_push_concurrency, AFP_PUSH_MAX_SLOTS);
    long        timeout_ms = afp_http_timeout_ms;
    /* rounds of transfers, the token exchanges and one auth retry, plus a minute */
    double      lease_s = ((double) ((batch_size + concurrency - 1) / concurrency + 4) * timeout_ms) / 1000.0 + 60.0;
    PushJob    *jobs = NULL;
    List       *provs = NIL;
    AfpHttpReq **reqs;
    uint64      sent, failed;
    int         n, m, i;
    MemoryContext old;

    MemoryContextReset(push_batch_context);
    n = push_claim(&jobs, &provs, batch_size, lease_s);
    if (n <= 0)
        return n;

    old = MemoryContextSwitchTo(push_batch_context);
    reqs = palloc(sizeof(AfpHttpReq *) * n);
    for (i = 0; i < n; i++)
        push_prepare(&jobs[i]);

    pgstat_report_activity(STATE_RUNNING, "afp push worker: sending");
    afp_send_timeout_begin();
    m = push_authorize(jobs, n, provs, false, reqs, timeout_ms);
    afp_push_http_run(reqs, m, concurrency, timeout_ms);
    for (i = 0; i < n; i++)
        if (jobs[i].req.outcome != AFP_SEND_PENDING && jobs[i].outcome == AFP_SEND_PENDING)
            push_evaluate(&jobs[i], true);

    /* once more with fresh tokens for the requests the provider refused to authenticate */
    m = push_authorize(jobs, n, provs, true, reqs, timeout_ms);
    if (m > 0)
    {
        afp_push_http_run(reqs, m, concurrency, timeout_ms);
        for (i = 0; i < m; i++)
            push_evaluate((PushJob *) ((char *) reqs[i] - offsetof(PushJob, req)), false);
    }
    for (i = 0; i < n; i++)
        if (jobs[i].outcome == AFP_SEND_PENDING)
        {
            /* stopped before the request was made */
            jobs[i].outcome = AFP_SEND_ABORTED;
            strlcpy(jobs[i].message, "transfer aborted (shutdown or cancel)", sizeof(jobs[i].message));
        }
    if (afp_send_timeout_end())
    {
        /* statement_timeout: the aborted transfers are transient failures (the attempt counts) */
        for (i = 0; i < n; i++)
            if (jobs[i].outcome == AFP_SEND_ABORTED)
                push_fail(&jobs[i], AFP_SEND_TIMEOUT_CODE, AFP_SEND_TIMEOUT_MESSAGE);
        ereport(LOG, (errmsg("afp push worker: statement_timeout; messages in flight will be retried")));
    }
    MemoryContextSwitchTo(old);
    afp_push_http_forget_hosts();
    if (QueryCancelPending)
    {
        QueryCancelPending = false;
        ereport(LOG, (errmsg("afp push worker: canceled; in-flight messages go back to the queue")));
    }
    push_record(jobs, n, &sent, &failed);
    afp_delivery_slot_count(AFP_ROLE_PUSH, sent, failed);
    MemoryContextReset(push_batch_context);
    return n;
}

/* Ends leases held by an earlier incarnation of this worker (after a crash or restart). */
static void
push_release_stale_leases(void)
{
    push_begin_tx("afp push worker: releasing stale leases");
    if (OidIsValid(get_extension_oid("afp", true)) &&
        SPI_execute("SELECT afp.outbox_release_leases('push')", false, 0) != SPI_OK_SELECT)
        ereport(ERROR, (errmsg("afp push worker: afp.outbox_release_leases failed")));
    push_end_tx();
}

/* before_shmem_exit: frees libcurl state and the token caches. */
static void
push_worker_exit(int code, Datum arg)
{
    afp_push_http_cleanup();
    afp_fcm_reset_cache();
    afp_apns_reset_cache();
}

/* Sleeps up to ms on the latch (woken by inserts, SIGHUP, SIGTERM). */
static void
push_sleep(long ms)
{
    (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
}

/* Main function of the push worker. */
void
afp_push_worker_main(Datum arg)
{
    AfpWorkerArgs args;
    sigjmp_buf  local_sigjmp_buf;
    volatile int errors = 0;
    volatile bool released = false;
    volatile bool missing_logged = false;

    memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
    args.database[NAMEDATALEN - 1] = '\0';

    pqsignal(SIGTERM, push_worker_sigterm);
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    BackgroundWorkerUnblockSignals();

    BackgroundWorkerInitializeConnection(args.database, NULL, 0);
    pgstat_report_appname("afp push worker");
    afp_delivery_slot_attach(AFP_ROLE_PUSH, args.database);
    before_shmem_exit(push_worker_exit, (Datum) 0);
    SetConfigOption("lock_timeout", "10s", PGC_SUSET, PGC_S_OVERRIDE);

    push_batch_context = AllocSetContextCreate(TopMemoryContext, "afp push batch", ALLOCSET_DEFAULT_SIZES);
    ereport(LOG, (errmsg("afp push worker started for database \"%s\"", args.database)));

    if (sigsetjmp(local_sigjmp_buf, 1) != 0)
    {
        long        delay;

        error_context_stack = NULL;
        HOLD_INTERRUPTS();
        disable_all_timeouts(false);
        QueryCancelPending = false;
        EmitErrorReport();
        AbortOutOfAnyTransaction();
        afp_push_http_cleanup();
        MemoryContextSwitchTo(TopMemoryContext);
        FlushErrorState();
        MemoryContextReset(push_batch_context);
        RESUME_INTERRUPTS();
        pgstat_report_activity(STATE_IDLE, NULL);

        released = false;       /* rows this worker claimed are unrecorded: free them */
        errors = Min(errors + 1, 10);
        delay = Min(60000L, 500L << errors);
        if (!afp_worker_got_sigterm)
            push_sleep(delay);
    }
    PG_exception_stack = &local_sigjmp_buf;

    while (!afp_worker_got_sigterm)
    {
        int         n;

        if (QueryCancelPending)
            QueryCancelPending = false;
        CHECK_FOR_INTERRUPTS();
        if (ConfigReloadPending)
        {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
        if (!released)
        {
            push_release_stale_leases();
            released = true;
        }
        n = push_run_batch();
        if (n < 0)
        {
            if (!missing_logged)
                ereport(LOG, (errmsg("afp push worker: extension afp is not installed in database \"%s\"; waiting",
                                     args.database)));
            missing_logged = true;
            released = false;
            push_sleep(Max(1000L, (long) afp_poll_interval_ms));
            continue;
        }
        missing_logged = false;
        errors = 0;
        if (n >= afp_push_batch_size)
            continue;
        push_sleep(afp_poll_interval_ms);
    }

    ereport(LOG, (errmsg("afp push worker for database \"%s\" stopping", args.database)));
    proc_exit(0);
}
