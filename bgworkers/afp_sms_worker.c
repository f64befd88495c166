/*
 * afp_sms_worker.c — the SMS worker: drains the sms rows of afp.outbox through a Twilio-shaped
 * HTTP API (docs/delivery.md).
 *
 * A dynamic background worker started by the launcher next to the email worker; it runs the
 * channel-worker skeleton (afp_channel.c: main loop, signals, error recovery) with this batch:
 *
 *   1. claim   one transaction: afp.sms_claim(batch, lease, max_attempts) (afp.outbox_claim for
 *              channel sms: FOR UPDATE SKIP LOCKED, lease) returns the rows and provider settings;
 *   2. send    POST {endpoint}/Accounts/{sid}/Messages.json, form-encoded To, From, Body and
 *              StatusCallback, HTTP Basic auth (account sid, auth token), Idempotency-Key = the
 *              row's idempotency key; afp.sms_concurrency requests in flight over one libcurl
 *              multi handle whose connections are reused between batches (afp_http.c);
 *   3. record  one transaction, one statement: afp.outbox_record_results(..., 'http', ...)
 *              classifies the HTTP status with afp.outcome_rules (2xx sent, with the provider
 *              message id from the JSON "sid"; 429 and 5xx transient, Retry-After honoured; other
 *              4xx permanent; a 4xx code carries the JSON "code", e.g. "400 21211", which the
 *              Twilio rules refine).
 *
 * Interrupts: every transfer has a progress callback that aborts it on SIGTERM, a cancel or die
 * request or postmaster death (afp_send_should_abort); CURLOPT_NOSIGNAL is set and host names are
 * resolved before the transfers (CURLOPT_RESOLVE), so libcurl starts no resolver thread (all in
 * afp_http.c). Aborted rows go back to the queue without counting the attempt.
 */
#include "postgres.h"

#include <curl/curl.h>

#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "utils/memutils.h"

#include "afp_channel.h"
#include "afp_delivery.h"
#include "afp_http.h"
#include "afp_push.h"           /* afp_push_json_get: the provider's error code in a reply */

/* One claimed row (columns of afp.sms_message) and its request. */
typedef struct SmsJob
{
    int64       id;
    int32       attempts;
    char       *key;
    char       *recipient;
    char       *provider;           /* afp.providers.name: rate limit and circuit breaker */
    char       *url;
    char       *sid;
    char       *token;
    char       *from;
    char       *body;
    char       *callback;
    bool        tls_verify;
    char       *ca_file;
    char       *post;               /* form-encoded request body */
    AfpSendOutcome outcome;
    char        code[32];
    char        message[256];
    int         retry_after;        /* seconds, -1 when absent */
    AfpHttpReq  req;
} SmsJob;

/* Copies s into dst, replacing control characters, truncated to size. */
static void
sms_copy_clean(char *dst, size_t size, const char *s)
{
    size_t      i;

    for (i = 0; s && s[i] && i + 1 < size; i++)
        dst[i] = ((unsigned char) s[i] < 0x20) ? ' ' : s[i];
    dst[i] = '\0';
}

/* Marks job j failed with code and message before any transfer. */
static void
sms_fail(SmsJob *j, const char *code, const char *message)
{
    j->outcome = AFP_SEND_ERROR;
    strlcpy(j->code, code, sizeof(j->code));
    strlcpy(j->message, message, sizeof(j->message));
}

/* Appends name=url-encoded(value) to the form body (skipped when value is NULL). */
static void
sms_form_add(StringInfo form, CURL *e, const char *name, const char *value)
{
    char       *enc;

    if (value == NULL)
        return;
    enc = curl_easy_escape(e, value, 0);
    if (enc == NULL)
        ereport(ERROR, (errmsg("afp sms worker: out of memory")));
    appendStringInfo(form, "%s%s=%s", form->len ? "&" : "", name, enc);
    curl_free(enc);
}

/*
 * The provider's error code of a JSON error reply (Twilio: top-level numeric "code", e.g. 21211)
 * into out; false when the reply has none (or not digits only).
 */
static bool
sms_provider_error(const AfpHttpReq *r, char *out, size_t outsz)
{
    MemoryContext old = MemoryContextSwitchTo(afp_channel_batch_context);  /* the parser's allocations */
    bool        found = afp_push_json_get(r->resp, r->resp_len, "code", out, outsz);
    size_t      i, len = strlen(out);

    MemoryContextSwitchTo(old);
    if (!found || len == 0 || len + 1 >= outsz)
        return false;
    for (i = 0; i < len; i++)
        if (out[i] < '0' || out[i] > '9')
            return false;
    return true;
}

/*
 * Outcome code of a reply that is not 2xx (AfpHttpReplyCode, also reported to the circuit
 * breaker): the HTTP status, with the provider's error code for a 4xx reply ("400 21211").
 */
static void
sms_reply_code(const AfpHttpReq *r, char *code, size_t size)
{
    char        perr[16];

    snprintf(code, size, "%ld", r->status);
    if (r->status >= 400 && r->status < 500 && sms_provider_error(r, perr, sizeof(perr)))
        snprintf(code, size, "%ld %s", r->status, perr);
}

/* Checks the row and builds its request; a row that cannot be sent fails alone. */
static void
sms_prepare(SmsJob *j)
{
    StringInfoData form;
    AfpHttpReq *r = &j->req;
    CURL       *e;

    j->retry_after = -1;
    j->outcome = AFP_SEND_PENDING;
    if (j->url == NULL || j->token == NULL || j->token[0] == '\0')
    {
        sms_fail(j, "config:provider", "no enabled sms provider with endpoint, account_sid and auth_token");
        return;
    }
    if (j->from == NULL || j->from[0] == '\0')
    {
        sms_fail(j, "config:from", "the provider has no \"from\" number");
        return;
    }
    if (j->body == NULL || j->body[0] == '\0')
    {
        sms_fail(j, "invalid:body", "empty message text");
        return;
    }
    e = curl_easy_init();
    if (e == NULL)
        ereport(ERROR, (errmsg("afp sms worker: curl_easy_init failed")));
    initStringInfo(&form);
    PG_TRY();
    {
        sms_form_add(&form, e, "To", j->recipient);
        sms_form_add(&form, e, "From", j->from);
        sms_form_add(&form, e, "Body", j->body);
        sms_form_add(&form, e, "StatusCallback", j->callback);
    }
    PG_FINALLY();
    {
        curl_easy_cleanup(e);
    }
    PG_END_TRY();
    j->post = form.data;

    afp_http_req_reset(r);
    r->url = j->url;
    r->body = j->post;
    r->headers[0] = psprintf("Idempotency-Key: %s", j->key);
    r->headers[1] = "Accept: application/json";
    r->version = AFP_HTTP_DEFAULT;
    r->username = j->sid;
    r->password = j->token;
    r->tls_verify = j->tls_verify;
    r->ca_file = j->ca_file;
    r->provider = j->provider;
    r->reply_code = sms_reply_code;
}

/*
 * Sets the outcome of job j from its finished request; the code of a 4xx reply carries the
 * provider's error code when it has one ("400 21211").
 */
static void
sms_evaluate(SmsJob *j)
{
    AfpHttpReq *r = &j->req;
    char        detail[200];

    j->retry_after = r->retry_after;
    if (r->outcome == AFP_SEND_ABORTED)
    {
        j->outcome = AFP_SEND_ABORTED;
        return;
    }
    if (r->outcome == AFP_SEND_DEFERRED)
    {
        /* not started: provider down or rate-limited too long (afp_ratelimit.h) */
        j->outcome = AFP_SEND_DEFERRED;
        strlcpy(j->message, r->message, sizeof(j->message));
        return;
    }
    if (r->outcome == AFP_SEND_ERROR)
    {
        sms_fail(j, r->code, r->message);
        return;
    }
    if (r->status >= 200 && r->status < 300)
    {
        j->outcome = AFP_SEND_SENT;
        return;
    }
    j->outcome = AFP_SEND_ERROR;
    sms_reply_code(r, j->code, sizeof(j->code));
    sms_copy_clean(detail, sizeof(detail), r->resp);
    snprintf(j->message, sizeof(j->message), "HTTP %ld%s%s", r->status, detail[0] ? ": " : "", detail);
}

/* Reads the claimed rows (AfpClaimReader); arg is the SmsJob ** to set. */
static void
sms_read_rows(SPITupleTable *tt, int n, void *arg)
{
    SmsJob     *jobs = palloc0(sizeof(SmsJob) * n);
    TupleDesc   desc = tt->tupdesc;
    int         i;

    for (i = 0; i < n; i++)
    {
        HeapTuple   tup = tt->vals[i];
        SmsJob     *j = &jobs[i];

        j->id = afp_channel_int64(tup, desc, "id", 0);
        j->attempts = (int32) afp_channel_int64(tup, desc, "attempts", 0);
        j->key = afp_channel_text(tup, desc, "idempotency_key");
        j->recipient = afp_channel_text(tup, desc, "recipient");
        j->provider = afp_channel_text(tup, desc, "provider");
        j->url = afp_channel_text(tup, desc, "url");
        j->sid = afp_channel_text(tup, desc, "account_sid");
        j->token = afp_channel_text(tup, desc, "auth_token");
        j->from = afp_channel_text(tup, desc, "from_number");
        j->body = afp_channel_text(tup, desc, "body");
        j->callback = afp_channel_text(tup, desc, "status_callback_url");
        j->ca_file = afp_channel_text(tup, desc, "ca_file");
        j->tls_verify = afp_channel_bool(tup, desc, "tls_verify", true);
    }
    *(SmsJob **) arg = jobs;
}

/* Claims, sends and records one batch (AfpChannel.run_batch); returns the rows claimed (-1: no afp). */
static int
sms_run_batch(void)
{
    /* $6: the replies; the provider message id is their JSON "sid" */
    static const char *const record_sql =
        "SELECT afp.outbox_record_results($1, $2, $3, $4, $5, "
        "ARRAY(SELECT afp.json_field_or_null(b, 'sid') FROM unnest($6::text[]) WITH ORDINALITY AS u(b, i) ORDER BY i), "
        "$7, 'http', $8, $9, $10)";
    int         batch_size = afp_sms_batch_size;
    int         concurrency = Min(afp_sms_concurrency, AFP_HTTP_MAX_SLOTS);
    long        timeout_ms = afp_http_timeout_ms;
    SmsJob     *jobs = NULL;
    AfpHttpReq **reqs;
    AfpResult  *res;
    bool        timed_out;
    int         n, m = 0, i;
    MemoryContext old;

    n = afp_channel_claim("SELECT * FROM afp.sms_claim($1, make_interval(secs => $2), $3)", batch_size,
                          afp_channel_lease_s(batch_size, concurrency, timeout_ms, 0),
                          0, NULL, NULL, sms_read_rows, &jobs);
    if (n <= 0)
        return n;

    old = MemoryContextSwitchTo(afp_channel_batch_context);
    reqs = palloc(sizeof(AfpHttpReq *) * n);
    for (i = 0; i < n; i++)
    {
        sms_prepare(&jobs[i]);
        if (jobs[i].outcome == AFP_SEND_PENDING)
            reqs[m++] = &jobs[i].req;
    }

    afp_channel_send_begin();
    afp_http_run(reqs, m, concurrency, timeout_ms, "afp sms worker");
    timed_out = afp_channel_send_end();
    afp_http_forget_hosts();
    for (i = 0; i < n; i++)
        if (jobs[i].outcome == AFP_SEND_PENDING)
            sms_evaluate(&jobs[i]);

    res = palloc(sizeof(AfpResult) * n);
    for (i = 0; i < n; i++)
    {
        SmsJob     *j = &jobs[i];
        AfpHttpReq *r = &j->req;

        res[i].id = j->id;
        res[i].attempts = j->attempts;
        res[i].outcome = j->outcome;
        res[i].code = j->code;
        res[i].message = j->outcome == AFP_SEND_SENT ? NULL : j->message;
        /* the response may not be valid UTF-8: only well-formed text reaches the server */
        res[i].detail = j->outcome == AFP_SEND_SENT &&
            pg_verifymbstr(r->resp, (int) r->resp_len, true) ? r->resp : NULL;
        res[i].retry_after = j->retry_after;
    }
    MemoryContextSwitchTo(old);
    afp_channel_record(res, n, timed_out, record_sql, NULL);
    return n;
}

/* The SMS channel for the worker skeleton. */
static const AfpChannel sms_channel = {
    .name = "afp sms worker",
    .role = AFP_ROLE_SMS,
    .batch_size = &afp_sms_batch_size,
    .release_sql = "SELECT afp.outbox_release_leases('sms')",
    .run_batch = sms_run_batch,
    .reset = afp_http_cleanup,
    .at_exit = NULL,
};

/* Main function of the SMS worker. */
void
afp_sms_worker_main(Datum arg)
{
    afp_channel_main(&sms_channel);
}
