/*
 * afp_sms_worker.c — the SMS worker: drains the sms rows of afp.outbox through a Twilio-shaped
 * HTTP API (docs/delivery.md).
 *
 * A dynamic background worker started by the launcher next to the email worker. Loop:
 *
 *   1. claim   one transaction: afp.sms_claim(batch, lease, max_attempts) (afp.outbox_claim for
 *              channel sms: FOR UPDATE SKIP LOCKED, lease) returns the rows and provider settings;
 *   2. send    POST {endpoint}/Accounts/{sid}/Messages.json, form-encoded To, From, Body and
 *              StatusCallback, HTTP Basic auth (account sid, auth token), Idempotency-Key = the
 *              row's idempotency key; afp.sms_concurrency requests in flight over one libcurl
 *              multi handle whose connections are reused between batches;
 *   3. record  one transaction, one statement: afp.outbox_record_results(..., 'http', ...)
 *              classifies the HTTP status with afp.outcome_rules (2xx sent, with the provider
 *              message id from the JSON "sid"; 429 and 5xx transient, Retry-After honoured; other
 *              4xx permanent; a 4xx code carries the JSON "code", e.g. "400 21211", which the
 *              Twilio rules refine).
 *
 * Interrupts: every transfer has a progress callback that aborts it on SIGTERM, a cancel or die
 * request or postmaster death (afp_send_should_abort); CURLOPT_NOSIGNAL is set and host names are
 * resolved before the transfers (CURLOPT_RESOLVE), so libcurl starts no resolver thread. Aborted
 * rows go back to the queue without counting the attempt. ERRORs are caught as in the email worker.
 */
#include "postgres.h"

#include <netdb.h>
#include <arpa/inet.h>
#include <curl/curl.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/wait_event.h"

#include "afp_delivery.h"
#include "afp_push.h"           /* afp_push_json_get: the provider's error code in a reply */
#include "afp_ratelimit.h"
#include "afp_send_timeout.h"

#define SMS_MAX_SLOTS   256         /* upper bound of afp.sms_concurrency */
#define SMS_RESP_MAX    8192        /* response bytes kept (the JSON with "sid") */
#define SMS_MAX_HOSTS   8

/* One claimed row (columns of afp.sms_message) and its transfer. */
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
    struct curl_slist *resolve;     /* owned by the host cache */
    int         slot;               /* index into slot_easy while in flight, else -1 */
    AfpSendOutcome outcome;
    char        code[32];
    char        message[256];
    int         retry_after;        /* seconds, -1 when absent */
    char        resp[SMS_RESP_MAX + 1];
    size_t      resp_len;
    char        errbuf[CURL_ERROR_SIZE];
} SmsJob;

/* A host resolved for this batch: the CURLOPT_RESOLVE entry or the failure. */
typedef struct SmsHost
{
    char        host[256];
    long        port;
    struct curl_slist *resolve;
    bool        failed;
} SmsHost;

static MemoryContext sms_batch_context = NULL;
static CURLM *sms_multi = NULL;
static bool sms_curl_ready = false;
static CURL *slot_easy[SMS_MAX_SLOTS];
static struct curl_slist *slot_headers[SMS_MAX_SLOTS];
static SmsHost sms_hosts[SMS_MAX_HOSTS];
static int  sms_nhosts = 0;

/* SIGTERM: remember it and wake the main loop; transfers check the flag. */
static void
sms_worker_sigterm(SIGNAL_ARGS)
{
    int         save_errno = errno;

    afp_worker_got_sigterm = true;
    SetLatch(MyLatch);
    errno = save_errno;
}

/* Frees the per-batch host cache. */
static void
sms_hosts_reset(void)
{
    int         i;

    for (i = 0; i < sms_nhosts; i++)
        curl_slist_free_all(sms_hosts[i].resolve);
    sms_nhosts = 0;
}

/* Removes every transfer still in flight and releases all libcurl state of the process. */
static void
sms_cleanup(void)
{
    int         i;

    for (i = 0; i < SMS_MAX_SLOTS; i++)
    {
        if (slot_easy[i])
        {
            if (sms_multi)
                curl_multi_remove_handle(sms_multi, slot_easy[i]);
            curl_easy_cleanup(slot_easy[i]);
            slot_easy[i] = NULL;
        }
        curl_slist_free_all(slot_headers[i]);
        slot_headers[i] = NULL;
    }
    if (sms_multi)
        curl_multi_cleanup(sms_multi);
    sms_multi = NULL;
    sms_hosts_reset();
}

/*
 * The CURLOPT_RESOLVE list for url's host (NULL for IP literals and on failure, then *error is
 * set). Resolved once per batch and host in this process, so libcurl never resolves itself.
 */
static struct curl_slist *
sms_resolve(const char *url, const char **error)
{
    CURLU      *u = curl_url();
    char       *host = NULL, *port = NULL;
    long        portnum;
    unsigned char buf[sizeof(struct in6_addr)];
    struct addrinfo hints, *res = NULL, *ai;
    SmsHost    *h = NULL;
    char        entry[1024];
    int         i, len;

    *error = NULL;
    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
    {
        *error = "invalid provider URL";
        goto done;
    }
    portnum = strtol(port, NULL, 10);
    if (host[0] == '[' || inet_pton(AF_INET, host, buf) == 1 || strlen(host) >= sizeof(h->host))
        goto done;              /* IP literal: nothing to resolve */
    for (i = 0; i < sms_nhosts; i++)
        if (sms_hosts[i].port == portnum && strcmp(sms_hosts[i].host, host) == 0)
            h = &sms_hosts[i];
    if (h == NULL)
    {
        if (sms_nhosts == SMS_MAX_HOSTS)
            sms_hosts_reset();
        h = &sms_hosts[sms_nhosts++];
        memset(h, 0, sizeof(*h));
        strlcpy(h->host, host, sizeof(h->host));
        h->port = portnum;
        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
            h->failed = true;
        else
        {
            len = snprintf(entry, sizeof(entry), "%s:%ld:", host, portnum);
            for (ai = res; ai && len < (int) sizeof(entry) - 64; ai = ai->ai_next)
            {
                char        addr[INET6_ADDRSTRLEN];
                const void *src = ai->ai_family == AF_INET
                    ? (const void *) &((struct sockaddr_in *) ai->ai_addr)->sin_addr
                    : (const void *) &((struct sockaddr_in6 *) ai->ai_addr)->sin6_addr;

                if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
                    inet_ntop(ai->ai_family, src, addr, sizeof(addr)) == NULL)
                    continue;
                len += snprintf(entry + len, sizeof(entry) - len, "%s%s%s%s",
                                entry[len - 1] == ':' ? "" : ",",
                                ai->ai_family == AF_INET6 ? "[" : "", addr,
                                ai->ai_family == AF_INET6 ? "]" : "");
            }
            freeaddrinfo(res);
            if (entry[len - 1] == ':')
                h->failed = true;
            else
                h->resolve = curl_slist_append(NULL, entry);
        }
    }
    if (h->failed || h->resolve == NULL)
        *error = "could not resolve the provider host";
done:
    curl_free(host);
    curl_free(port);
    if (u)
        curl_url_cleanup(u);
    return (*error == NULL && h) ? h->resolve : NULL;
}

/* CURLOPT_WRITEFUNCTION: keeps the first SMS_RESP_MAX bytes of the response. */
static size_t
sms_write(char *buf, size_t size, size_t nitems, void *userdata)
{
    SmsJob     *j = (SmsJob *) userdata;
    size_t      n = size * nitems;
    size_t      room = SMS_RESP_MAX - j->resp_len;

    memcpy(j->resp + j->resp_len, buf, Min(n, room));
    j->resp_len += Min(n, room);
    j->resp[j->resp_len] = '\0';
    return n;
}

/* CURLOPT_HEADERFUNCTION: picks up Retry-After (delta seconds or an HTTP date). */
static size_t
sms_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    SmsJob     *j = (SmsJob *) userdata;
    size_t      n = size * nitems;
    char        value[128];
    size_t      len;

    if (n > 12 && n < 12 + sizeof(value) && pg_strncasecmp(buf, "retry-after:", 12) == 0)
    {
        len = n - 12;
        memcpy(value, buf + 12, len);
        value[len] = '\0';
        while (len > 0 && (value[len - 1] == '\r' || value[len - 1] == '\n' || value[len - 1] == ' '))
            value[--len] = '\0';
        {
            char       *v = value + strspn(value, " \t");
            char       *end;
            long        secs = strtol(v, &end, 10);

            if (end != v && *end == '\0')
                j->retry_after = (int) Max(0, Min(secs, 86400L));
            else
            {
                time_t      t = curl_getdate(v, NULL);

                if (t > 0)
                    j->retry_after = (int) Max(0, Min((long) (t - time(NULL)), 86400L));
            }
        }
    }
    return n;
}

/* CURLOPT_XFERINFOFUNCTION: aborts the transfer on shutdown, cancel or postmaster death. */
static int
sms_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    return afp_send_should_abort() ? 1 : 0;
}

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

/* Checks the row and builds its request body; a row that cannot be sent fails alone. */
static void
sms_prepare(SmsJob *j)
{
    StringInfoData form;
    const char *error;
    CURL       *e;

    j->slot = -1;
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
    j->resolve = sms_resolve(j->url, &error);
    if (error)
        {
        sms_fail(j, "curl:6", error);
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
}

/* Starts the transfer of job j in slot; false (job failed) when libcurl refuses it. */
static bool
sms_start(SmsJob *j, int slot, long timeout_ms)
{
    CURL       *e = curl_easy_init();
    char        header[300];
    struct curl_slist *h;

    if (e == NULL)
    {
        sms_fail(j, "curl:27", "curl_easy_init failed");
        return false;
    }
    snprintf(header, sizeof(header), "Idempotency-Key: %s", j->key);
    h = curl_slist_append(NULL, header);
    if (h)
        h = curl_slist_append(h, "Accept: application/json");
    if (h == NULL)
    {
        curl_easy_cleanup(e);
        sms_fail(j, "curl:27", "out of memory");
        return false;
    }
    slot_easy[slot] = e;
    slot_headers[slot] = h;
    j->slot = slot;
    curl_easy_setopt(e, CURLOPT_PRIVATE, (void *) j);
    curl_easy_setopt(e, CURLOPT_URL, j->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->post);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
    curl_easy_setopt(e, CURLOPT_USERNAME, j->sid);
    curl_easy_setopt(e, CURLOPT_PASSWORD, j->token);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sms_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *) j);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, sms_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *) j);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, sms_progress);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, j->tls_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, j->tls_verify ? 2L : 0L);
    if (j->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, j->ca_file);
    if (j->resolve)
        curl_easy_setopt(e, CURLOPT_RESOLVE, j->resolve);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf);
    if (curl_multi_add_handle(sms_multi, e) != CURLM_OK)
    {
        curl_easy_cleanup(e);
        curl_slist_free_all(h);
        slot_easy[slot] = NULL;
        slot_headers[slot] = NULL;
        j->slot = -1;
        sms_fail(j, "curl:27", "curl_multi_add_handle failed");
        return false;
    }
    return true;
}

/* Ends the transfer of job j and frees its slot. */
static void
sms_release(SmsJob *j)
{
    if (j->slot < 0)
        return;
    curl_multi_remove_handle(sms_multi, slot_easy[j->slot]);
    curl_easy_cleanup(slot_easy[j->slot]);
    curl_slist_free_all(slot_headers[j->slot]);
    slot_easy[j->slot] = NULL;
    slot_headers[j->slot] = NULL;
    j->slot = -1;
}

/*
 * The provider's error code of a JSON error reply (Twilio: top-level numeric "code", e.g. 21211)
 * into out; false when the reply has none (or not digits only).
 */
static bool
sms_provider_error(SmsJob *j, char *out, size_t outsz)
{
    MemoryContext old = MemoryContextSwitchTo(sms_batch_context);   /* the parser's allocations */
    bool        found = afp_push_json_get(j->resp, j->resp_len, "code", out, outsz);
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
 * Sets the outcome of a finished transfer from the libcurl result and the HTTP status; the code
 * of a 4xx reply carries the provider's error code when it has one ("400 21211").
 */
static void
sms_finish(SmsJob *j, CURLcode rc)
{
    long        status = 0;
    char        detail[200];

    if (rc == CURLE_ABORTED_BY_CALLBACK || (rc != CURLE_OK && afp_send_should_abort()))
        j->outcome = AFP_SEND_ABORTED;
    else if (rc != CURLE_OK)
    {
        j->outcome = AFP_SEND_ERROR;
        snprintf(j->code, sizeof(j->code), "curl:%d", (int) rc);
        sms_copy_clean(j->message, sizeof(j->message), j->errbuf[0] ? j->errbuf : curl_easy_strerror(rc));
    }
    else
    {
        curl_easy_getinfo(slot_easy[j->slot], CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300)
            j->outcome = AFP_SEND_SENT;
        else
        {
            char        perr[16];

            j->outcome = AFP_SEND_ERROR;
            snprintf(j->code, sizeof(j->code), "%ld", status);
            if (status >= 400 && status < 500 && sms_provider_error(j, perr, sizeof(perr)))
                snprintf(j->code, sizeof(j->code), "%ld %s", status, perr);
            sms_copy_clean(detail, sizeof(detail), j->resp);
            snprintf(j->message, sizeof(j->message), "HTTP %ld%s%s", status, detail[0] ? ": " : "", detail);
        }
    }
    /* circuit breaker; a 429 pauses the provider for every worker (afp_ratelimit.c) */
    afp_rate_report_send(j->provider, "http", j->outcome, j->code, j->retry_after);
    sms_release(j);
}

/* True when two provider names (either may be NULL) are the same. */
static bool
sms_same_provider(const char *a, const char *b)
{
    return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

/*
 * Starts the not yet started jobs from index from on that their provider admits (rate limit,
 * pause, circuit; afp_rate_gate) while slots are free. Jobs of a provider that is down or would
 * wait too long are deferred. Returns the ms until a waiting job may be admitted, -1 if none waits.
 */
static long
sms_start_admitted(SmsJob *jobs, int from, int n, int *active, int concurrency, long timeout_ms,
                   int64 batch_start_ms)
{
    const char *waiting[8];
    int         nwaiting = 0, slot = 0, i, k;
    long        rate_wait = -1;

    for (i = from; i < n && *active < concurrency; i++)
    {
        SmsJob     *j = &jobs[i];
        long        wait;
        int         retry_s;
        bool        skip = false;

        if (j->outcome != AFP_SEND_PENDING || j->slot >= 0)
            continue;
        for (k = 0; k < nwaiting && !skip; k++)
            skip = sms_same_provider(waiting[k], j->provider);
        if (skip)
            continue;           /* its provider already said wait in this round */
        switch (afp_rate_gate(j->provider, batch_start_ms, &wait, &retry_s, j->message, sizeof(j->message)))
        {
            case AFP_GATE_DEFER:
                j->outcome = AFP_SEND_DEFERRED;
                j->retry_after = retry_s;
                continue;
            case AFP_GATE_WAIT:
                if (nwaiting < (int) lengthof(waiting))
                    waiting[nwaiting++] = j->provider;
                rate_wait = rate_wait < 0 ? wait : Min(rate_wait, wait);
                continue;
            case AFP_GATE_START:
                break;
        }
        while (slot < concurrency && slot_easy[slot] != NULL)
            slot++;
        if (slot >= concurrency)
            break;              /* cannot happen while *active < concurrency */
        if (sms_start(j, slot, timeout_ms))
            (*active)++;
        else
            afp_provider_report(j->provider, AFP_RESULT_ABORTED);  /* never sent: no verdict */
    }
    return rate_wait;
}

/*
 * Sends the prepared jobs, at most concurrency at a time, each admitted by its provider's rate
 * limit and circuit breaker; returns when all have an outcome. While a provider has no token the
 * transfers in flight go on and the next starts when the bucket refills (no busy wait).
 */
static void
sms_send(SmsJob *jobs, int n, int concurrency, long timeout_ms)
{
    int         next = 0, active = 0, running, i;
    CURLMsg    *msg;
    int         left;
    long        rate_wait;
    int64       batch_start_ms = afp_rate_now_ms();

    if (!sms_curl_ready)
    {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            ereport(ERROR, (errmsg("afp sms worker: curl_global_init failed")));
        sms_curl_ready = true;
    }
    if (sms_multi == NULL && (sms_multi = curl_multi_init()) == NULL)
        ereport(ERROR, (errmsg("afp sms worker: curl_multi_init failed")));
    concurrency = Max(1, Min(concurrency, SMS_MAX_SLOTS));
    curl_multi_setopt(sms_multi, CURLMOPT_MAXCONNECTS, (long) concurrency * 2);

    while (next < n || active > 0)
    {
        if (afp_send_should_abort())
        {
            for (i = 0; i < n; i++)
                if (jobs[i].outcome == AFP_SEND_PENDING)
                {
                    if (jobs[i].slot >= 0)
                        afp_rate_report_send(jobs[i].provider, "http", AFP_SEND_ABORTED, NULL, -1);
                    sms_release(&jobs[i]);
                    jobs[i].outcome = AFP_SEND_ABORTED;
                }
            return;
        }
        while (next < n && (jobs[next].outcome != AFP_SEND_PENDING || jobs[next].slot >= 0))
            next++;
        rate_wait = sms_start_admitted(jobs, next, n, &active, concurrency, timeout_ms, batch_start_ms);
        curl_multi_perform(sms_multi, &running);
        while ((msg = curl_multi_info_read(sms_multi, &left)) != NULL)
        {
            SmsJob     *j = NULL;

            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &j);
            if (j == NULL)
                continue;
            sms_finish(j, msg->data.result);
            active--;
        }
        if (active > 0)
            curl_multi_poll(sms_multi, NULL, 0, rate_wait >= 0 ? (int) Max(1, Min(100, rate_wait)) : 100, NULL);
        else if (rate_wait >= 0)
            afp_rate_sleep(Min(rate_wait, 1000));   /* nothing in flight: wait for a token */
        afp_send_absorb_interrupts();
    }
}

/* Starts a transaction with SPI and a snapshot, and shows activity in pg_stat_activity. */
static void
sms_begin_tx(const char *activity)
{
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    if (SPI_connect() != SPI_OK_CONNECT)
        ereport(ERROR, (errmsg("afp sms worker: SPI_connect failed")));
    PushActiveSnapshot(GetTransactionSnapshot());
    pgstat_report_activity(STATE_RUNNING, activity);
}

/* Commits the transaction opened by sms_begin_tx. */
static void
sms_end_tx(void)
{
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
    pgstat_report_stat(false);
    pgstat_report_activity(STATE_IDLE, NULL);
}

/* Text column as a palloc'd C string (NULL for SQL NULL). */
static char *
sms_col(HeapTuple tup, TupleDesc desc, const char *name)
{
    int         col = SPI_fnumber(desc, name);
    bool        isnull;
    Datum       d;

    if (col <= 0)
        ereport(ERROR, (errmsg("afp sms worker: afp.sms_message has no column \"%s\"", name)));
    d = SPI_getbinval(tup, desc, col, &isnull);
    return isnull ? NULL : TextDatumGetCString(d);
}

/* Claims a batch; returns the jobs (in sms_batch_context) and their number, -1 if afp is missing. */
static int
sms_claim(SmsJob **jobs_out, int batch_size, double lease_s)
{
    Oid         types[3] = {INT4OID, FLOAT8OID, INT4OID};
    Datum       values[3];
    SmsJob     *jobs = NULL;
    uint64      i;
    int         n = 0;

    sms_begin_tx("afp sms worker: claiming");
    if (!OidIsValid(get_extension_oid("afp", true)))
    {
        sms_end_tx();
        return -1;
    }
    values[0] = Int32GetDatum(batch_size);
    values[1] = Float8GetDatum(lease_s);
    values[2] = Int32GetDatum(afp_max_attempts);
    if (SPI_execute_with_args("SELECT * FROM afp.sms_claim($1, make_interval(secs => $2), $3)",
                              3, types, values, NULL, false, 0) != SPI_OK_SELECT)
        ereport(ERROR, (errmsg("afp sms worker: afp.sms_claim failed")));
    if (SPI_processed > 0)
    {
        MemoryContext old = MemoryContextSwitchTo(sms_batch_context);
        TupleDesc   desc = SPI_tuptable->tupdesc;

        jobs = palloc0(sizeof(SmsJob) * SPI_processed);
        for (i = 0; i < SPI_processed; i++)
        {
            HeapTuple   tup = SPI_tuptable->vals[i];
            SmsJob     *j = &jobs[i];
            bool        isnull;
            Datum       d;

            j->id = DatumGetInt64(SPI_getbinval(tup, desc, SPI_fnumber(desc, "id"), &isnull));
            j->attempts = DatumGetInt32(SPI_getbinval(tup, desc, SPI_fnumber(desc, "attempts"), &isnull));
            j->key = sms_col(tup, desc, "idempotency_key");
            j->recipient = sms_col(tup, desc, "recipient");
            j->provider = sms_col(tup, desc, "provider");
            j->url = sms_col(tup, desc, "url");
            j->sid = sms_col(tup, desc, "account_sid");
            j->token = sms_col(tup, desc, "auth_token");
            j->from = sms_col(tup, desc, "from_number");
            j->body = sms_col(tup, desc, "body");
            j->callback = sms_col(tup, desc, "status_callback_url");
            j->ca_file = sms_col(tup, desc, "ca_file");
            d = SPI_getbinval(tup, desc, SPI_fnumber(desc, "tls_verify"), &isnull);
            j->tls_verify = isnull ? true : DatumGetBool(d);
        }
        n = (int) SPI_processed;
        MemoryContextSwitchTo(old);
        afp_rate_sync();        /* providers' rate_per_sec / rate_burst into shared memory */
    }
    sms_end_tx();
    *jobs_out = jobs;
    return n;
}

/* Text datum of a C string, or a NULL flag. */
static Datum
sms_text_or_null(const char *s, bool *isnull)
{
    *isnull = (s == NULL || *s == '\0');
    return *isnull ? (Datum) 0 : CStringGetTextDatum(s);
}

/* Records the outcomes of a batch with one call of afp.outbox_record_results (kind http). */
static void
sms_record(SmsJob *jobs, int n, uint64 *sent, uint64 *failed)
{
    static const char *const sql =
        "SELECT afp.outbox_record_results($1, $2, $3, $4, $5, "
        "ARRAY(SELECT afp.json_field_or_null(b, 'sid') FROM unnest($6::text[]) WITH ORDINALITY AS u(b, i) ORDER BY i), "
        "$7, 'http', $8, $9, $10)";
    Oid         types[10] = {INT8ARRAYOID, INT4ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
                             TEXTARRAYOID, INT4ARRAYOID, INT4OID, INT4OID, INT4OID};
    Datum       values[10];
    Datum      *ids, *attempts, *outcomes, *codes, *messages, *bodies, *retry;
    bool       *n_codes, *n_messages, *n_bodies, *n_retry;
    int         dims[1] = {n};
    int         lbs[1] = {1};
    int         i;
    MemoryContext old;

    sms_begin_tx("afp sms worker: recording");
    old = MemoryContextSwitchTo(sms_batch_context);
    ids = palloc(sizeof(Datum) * n);
    attempts = palloc(sizeof(Datum) * n);
    outcomes = palloc(sizeof(Datum) * n);
    codes = palloc(sizeof(Datum) * n);
    messages = palloc(sizeof(Datum) * n);
    bodies = palloc(sizeof(Datum) * n);
    retry = palloc0(sizeof(Datum) * n);
    n_codes = palloc(sizeof(bool) * n);
    n_messages = palloc(sizeof(bool) * n);
    n_bodies = palloc(sizeof(bool) * n);
    n_retry = palloc(sizeof(bool) * n);
    *sent = *failed = 0;
    for (i = 0; i < n; i++)
    {
        SmsJob     *j = &jobs[i];

        ids[i] = Int64GetDatum(j->id);
        attempts[i] = Int32GetDatum(j->attempts);
        outcomes[i] = CStringGetTextDatum(j->outcome == AFP_SEND_SENT ? "sent"
                                          : j->outcome == AFP_SEND_ABORTED ? "aborted"
                                          : j->outcome == AFP_SEND_DEFERRED ? "deferred" : "error");
        codes[i] = sms_text_or_null(j->outcome == AFP_SEND_ERROR ? j->code : NULL, &n_codes[i]);
        messages[i] = sms_text_or_null(j->outcome == AFP_SEND_SENT ? NULL : j->message, &n_messages[i]);
        /* the response may not be valid UTF-8: only well-formed text reaches the server */
        bodies[i] = sms_text_or_null(j->outcome == AFP_SEND_SENT &&
                                     pg_verifymbstr(j->resp, (int) j->resp_len, true) ? j->resp : NULL,
                                     &n_bodies[i]);
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
    values[5] = PointerGetDatum(construct_md_array(bodies, n_bodies, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
    values[6] = PointerGetDatum(construct_md_array(retry, n_retry, 1, dims, lbs, INT4OID, 4, true, TYPALIGN_INT));
    values[7] = Int32GetDatum(afp_max_attempts);
    values[8] = Int32GetDatum(afp_retry_base_ms);
    values[9] = Int32GetDatum(afp_retry_max_ms);
    MemoryContextSwitchTo(old);

    if (SPI_execute_with_args(sql, 10, types, values, NULL, false, 0) != SPI_OK_SELECT)
        ereport(ERROR, (errmsg("afp sms worker: afp.outbox_record_results failed")));
    sms_end_tx();
}

/* Claims, sends and records one batch; returns the number of rows claimed (-1: no afp). */
static int
sms_run_batch(void)
{
    int         batch_size = afp_sms_batch_size;
    int         concurrency = Min(afp_sms_concurrency, SMS_MAX_SLOTS);
    long        timeout_ms = afp_http_timeout_ms;
    double      lease_s = ((double) ((batch_size + concurrency - 1) / concurrency) * timeout_ms) / 1000.0 + 60.0;
    SmsJob     *jobs = NULL;
    uint64      sent, failed;
    int         n, i;
    MemoryContext old;

    MemoryContextReset(sms_batch_context);
    n = sms_claim(&jobs, batch_size, lease_s);
    if (n <= 0)
        return n;

    old = MemoryContextSwitchTo(sms_batch_context);
    for (i = 0; i < n; i++)
        sms_prepare(&jobs[i]);
    MemoryContextSwitchTo(old);

    pgstat_report_activity(STATE_RUNNING, "afp sms worker: sending");
    afp_send_timeout_begin();
    sms_send(jobs, n, concurrency, timeout_ms);
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
        ereport(LOG, (errmsg("afp sms worker: statement_timeout; messages in flight will be retried")));
    }
    sms_hosts_reset();
    if (QueryCancelPending)
    {
        QueryCancelPending = false;
        ereport(LOG, (errmsg("afp sms worker: canceled; in-flight messages go back to the queue")));
    }
    sms_record(jobs, n, &sent, &failed);
    afp_delivery_slot_count(AFP_ROLE_SMS, sent, failed);
    MemoryContextReset(sms_batch_context);
    return n;
}

/* Ends leases held by an earlier incarnation of this worker (after a crash or restart). */
static void
sms_release_stale_leases(void)
{
    sms_begin_tx("afp sms worker: releasing stale leases");
    if (OidIsValid(get_extension_oid("afp", true)) &&
        SPI_execute("SELECT afp.outbox_release_leases('sms')", false, 0) != SPI_OK_SELECT)
        ereport(ERROR, (errmsg("afp sms worker: afp.outbox_release_leases failed")));
    sms_end_tx();
}

/* before_shmem_exit: frees libcurl state. */
static void
sms_worker_exit(int code, Datum arg)
{
    sms_cleanup();
}

/* Sleeps up to ms on the latch (woken by inserts, SIGHUP, SIGTERM). */
static void
sms_sleep(long ms)
{
    (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
}

/* Main function of the SMS worker. */
void
afp_sms_worker_main(Datum arg)
{
    AfpWorkerArgs args;
    sigjmp_buf  local_sigjmp_buf;
    volatile int errors = 0;
    volatile bool released = false;
    volatile bool missing_logged = false;

    memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
    args.database[NAMEDATALEN - 1] = '\0';

    pqsignal(SIGTERM, sms_worker_sigterm);
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    BackgroundWorkerUnblockSignals();

    BackgroundWorkerInitializeConnection(args.database, NULL, 0);
    pgstat_report_appname("afp sms worker");
    afp_delivery_slot_attach(AFP_ROLE_SMS, args.database);
    before_shmem_exit(sms_worker_exit, (Datum) 0);
    SetConfigOption("lock_timeout", "10s", PGC_SUSET, PGC_S_OVERRIDE);

    sms_batch_context = AllocSetContextCreate(TopMemoryContext, "afp sms batch", ALLOCSET_DEFAULT_SIZES);
    ereport(LOG, (errmsg("afp sms worker started for database \"%s\"", args.database)));

    if (sigsetjmp(local_sigjmp_buf, 1) != 0)
    {
        long        delay;

        error_context_stack = NULL;
        HOLD_INTERRUPTS();
        disable_all_timeouts(false);
        QueryCancelPending = false;
        EmitErrorReport();
        AbortOutOfAnyTransaction();
        sms_cleanup();
        MemoryContextSwitchTo(TopMemoryContext);
        FlushErrorState();
        MemoryContextReset(sms_batch_context);
        RESUME_INTERRUPTS();
        pgstat_report_activity(STATE_IDLE, NULL);

        released = false;       /* rows this worker claimed are unrecorded: free them */
        errors = Min(errors + 1, 10);
        delay = Min(60000L, 500L << errors);
        if (!afp_worker_got_sigterm)
            sms_sleep(delay);
    }
    PG_exception_stack = &local_sigjmp_buf;

    while (!afp_worker_got_sigterm)
    {
        int         n;

        if (QueryCancelPending)
            QueryCancelPending = false;
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
            sms_release_stale_leases();
            released = true;
        }
        n = sms_run_batch();
        if (n < 0)
        {
            if (!missing_logged)
                ereport(LOG, (errmsg("afp sms worker: extension afp is not installed in database \"%s\"; waiting",
                                     args.database)));
            missing_logged = true;
            released = false;
            sms_sleep(Max(1000L, (long) afp_poll_interval_ms));
            continue;
        }
        missing_logged = false;
        errors = 0;
        if (n >= afp_sms_batch_size)
            continue;
        sms_sleep(afp_poll_interval_ms);
    }

    ereport(LOG, (errmsg("afp sms worker for database \"%s\" stopping", args.database)));
    proc_exit(0);
}
