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
 *              APNs requests as HTTP/2 streams multiplexed over one connection (afp_http.c).
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
 * The main loop, signals and error recovery are the channel-worker skeleton's (afp_channel.c, as
 * for the SMS worker): a progress callback on every transfer aborts it on SIGTERM, cancel or
 * postmaster death (aborted rows go back to the queue without counting the attempt); ERRORs are
 * caught, libcurl state reset, and the worker sleeps with a growing delay.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "nodes/pg_list.h"
#include "utils/memutils.h"

#include "afp_channel.h"
#include "afp_push.h"

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

/* Marks job j failed before or instead of its transfer. */
static void
push_fail(PushJob *j, const char *code, const char *message)
{
    j->outcome = AFP_SEND_ERROR;
    strlcpy(j->code, code, sizeof(j->code));
    strlcpy(j->message, message, sizeof(j->message));
}

/* Text column as a palloc'd C string (NULL for SQL NULL or ""). */
static char *
push_col(HeapTuple tup, TupleDesc desc, const char *name)
{
    char       *s = afp_channel_text(tup, desc, name);

    return (s && s[0]) ? s : NULL;
}

/* The provider of the batch named name (created from the row on first sight). */
static AfpPushProvider *
push_provider(List **provs, HeapTuple tup, TupleDesc desc)
{
    char       *name = push_col(tup, desc, "provider");
    char       *service = push_col(tup, desc, "service");
    AfpPushProvider *p;
    ListCell   *lc;

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
    p->tls_verify = afp_channel_bool(tup, desc, "tls_verify", true);
    p->auth_retry_after = -1;
    *provs = lappend(*provs, p);
    return p;
}

/* The jobs and providers of a claimed batch (the AfpClaimReader's arg). */
typedef struct PushBatch
{
    PushJob    *jobs;
    List       *provs;
} PushBatch;

/* Reads the claimed rows and their providers (AfpClaimReader); arg is a PushBatch. */
static void
push_read_rows(SPITupleTable *tt, int n, void *arg)
{
    PushBatch  *b = (PushBatch *) arg;
    TupleDesc   desc = tt->tupdesc;
    int         i;

    b->jobs = palloc0(sizeof(PushJob) * n);
    for (i = 0; i < n; i++)
    {
        HeapTuple   tup = tt->vals[i];
        PushJob    *j = &b->jobs[i];

        j->id = afp_channel_int64(tup, desc, "id", 0);
        j->attempts = (int32) afp_channel_int64(tup, desc, "attempts", 0);
        j->key = push_col(tup, desc, "idempotency_key");
        j->recipient = push_col(tup, desc, "recipient");
        j->url = push_col(tup, desc, "url");
        j->body = push_col(tup, desc, "body");
        j->topic = push_col(tup, desc, "topic");
        j->expiration = afp_channel_int64(tup, desc, "expiration", 0);
        j->prov = push_provider(&b->provs, tup, desc);
        j->apns = j->prov != NULL && strcmp(j->prov->service, "apns") == 0;
    }
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
    r->version = AFP_HTTP_2;        /* APNs requires HTTP/2; FCM takes it over TLS too */
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
    afp_http_copy_printable(detail, sizeof(detail), r->resp, ' ');
    snprintf(j->message, sizeof(j->message), "HTTP/%ld %ld%s%s", r->http_version, r->status,
             detail[0] ? ": " : "", detail);
}

/* After afp.push_record_results (AfpRecordHook): logs the push tokens it removed. */
static void
push_log_removed_tokens(void)
{
    bool        isnull;
    int32       removed;

    if (SPI_processed != 1)
        ereport(ERROR, (errmsg("afp push worker: afp.push_record_results failed")));
    removed = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    if (!isnull && removed > 0)
        ereport(LOG, (errmsg("afp push worker: removed %d push token(s) the provider reported unregistered",
                             removed)));
}

/*
 * Claims, authenticates, sends and records one batch (AfpChannel.run_batch); returns the rows
 * claimed (-1: no afp).
 */
static int
push_run_batch(void)
{
    static const char *const record_sql =
        "SELECT tokens_removed FROM afp.push_record_results($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    int         batch_size = afp_push_batch_size;
    int         concurrency = Min(afp_push_concurrency, AFP_HTTP_MAX_SLOTS);
    long        timeout_ms = afp_http_timeout_ms;
    PushBatch   batch = {NULL, NIL};
    PushJob    *jobs;
    List       *provs;
    AfpHttpReq **reqs;
    AfpResult  *res;
    bool        timed_out;
    int         n, m, i;
    MemoryContext old;

    /* the lease: rounds of transfers, the token exchanges and one auth retry, plus a minute */
    n = afp_channel_claim("SELECT * FROM afp.push_claim($1, make_interval(secs => $2), $3)", batch_size,
                          afp_channel_lease_s(batch_size, concurrency, timeout_ms, 4),
                          0, NULL, NULL, push_read_rows, &batch);
    if (n <= 0)
        return n;
    jobs = batch.jobs;
    provs = batch.provs;

    old = MemoryContextSwitchTo(afp_channel_batch_context);
    reqs = palloc(sizeof(AfpHttpReq *) * n);
    for (i = 0; i < n; i++)
        push_prepare(&jobs[i]);

    afp_channel_send_begin();
    m = push_authorize(jobs, n, provs, false, reqs, timeout_ms);
    afp_http_run(reqs, m, concurrency, timeout_ms, "afp push worker");
    for (i = 0; i < n; i++)
        if (jobs[i].req.outcome != AFP_SEND_PENDING && jobs[i].outcome == AFP_SEND_PENDING)
            push_evaluate(&jobs[i], true);

    /* once more with fresh tokens for the requests the provider refused to authenticate */
    m = push_authorize(jobs, n, provs, true, reqs, timeout_ms);
    if (m > 0)
    {
        afp_http_run(reqs, m, concurrency, timeout_ms, "afp push worker");
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
    timed_out = afp_channel_send_end();
    afp_http_forget_hosts();

    res = palloc(sizeof(AfpResult) * n);
    for (i = 0; i < n; i++)
    {
        PushJob    *j = &jobs[i];

        res[i].id = j->id;
        res[i].attempts = j->attempts;
        res[i].outcome = j->outcome;
        res[i].code = j->code;
        res[i].message = j->outcome == AFP_SEND_SENT ? NULL : j->message;
        res[i].detail = j->outcome == AFP_SEND_SENT ? j->provider_message_id : NULL;
        res[i].retry_after = j->retry_after;
    }
    MemoryContextSwitchTo(old);
    afp_channel_record(res, n, timed_out, record_sql, push_log_removed_tokens);
    return n;
}

/* At exit (AfpChannel.at_exit, after the libcurl state): frees the token caches. */
static void
push_reset_caches(void)
{
    afp_fcm_reset_cache();
    afp_apns_reset_cache();
}

/* The push channel for the worker skeleton. */
static const AfpChannel push_channel = {
    .name = "afp push worker",
    .role = AFP_ROLE_PUSH,
    .batch_size = &afp_push_batch_size,
    .release_sql = "SELECT afp.outbox_release_leases('push')",
    .run_batch = push_run_batch,
    .reset = afp_http_cleanup,
    .at_exit = push_reset_caches,
};

/* Main function of the push worker. */
void
afp_push_worker_main(Datum arg)
{
    afp_channel_main(&push_channel);
}
