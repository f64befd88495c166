/*
 * afp_http.c — HTTP requests of the channel workers (SMS, push) through one libcurl multi handle
 * per process; see afp_http.h.
 *
 * Requests with version AFP_HTTP_2 negotiate HTTP/2 over TLS (ALPN, CURL_HTTP_VERSION_2TLS; cleartext
 * http:// stays HTTP/1.1) and wait for an existing connection to the same host
 * (CURLOPT_PIPEWAIT), so that all APNs (and FCM) requests of a batch are multiplexed as streams
 * over one connection (CURLMOPT_PIPELINING = CURLPIPE_MULTIPLEX).
 * The multi handle lives as long as the worker: connections are reused across batches.
 *
 * Safety in a backend process:
 *   - CURLOPT_NOSIGNAL; a progress callback aborts every transfer when afp_send_should_abort()
 *     (SIGTERM, cancel or die request, postmaster death);
 *   - host names are resolved here with getaddrinfo before the transfers and given to libcurl
 *     with CURLOPT_RESOLVE, so libcurl starts no resolver thread and signals interrupt its poll();
 *   - no palloc/ereport while easy handles are attached; easy handles and header lists live in
 *     static arrays that afp_http_cleanup releases after an ERROR;
 *   - only http and https; TLS peer and host verification unless the provider turns it off.
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <curl/curl.h>

#include "afp_http.h"
#include "afp_ratelimit.h"

#define HTTP_MAX_HOSTS  16

/* A host resolved for the current batch: its CURLOPT_RESOLVE entry or the failure. */
typedef struct HttpHost
{
    char        host[256];
    long        port;
    struct curl_slist *resolve;
    bool        failed;
} HttpHost;

static CURLM *http_multi = NULL;
static bool http_curl_ready = false;
static CURL *slot_easy[AFP_HTTP_MAX_SLOTS];
static struct curl_slist *slot_headers[AFP_HTTP_MAX_SLOTS];
static HttpHost http_hosts[HTTP_MAX_HOSTS];
static int  http_nhosts = 0;

/* Resets the output fields of a request. */
void
afp_http_req_reset(AfpHttpReq *r)
{
    r->outcome = AFP_SEND_PENDING;
    r->status = 0;
    r->http_version = 0;
    r->retry_after = -1;
    r->apns_id[0] = '\0';
    r->code[0] = '\0';
    r->message[0] = '\0';
    r->resp[0] = '\0';
    r->resp_len = 0;
    r->slot = -1;
    r->errbuf[0] = '\0';
}

/* Forgets the resolved hosts (each batch resolves anew, so DNS changes are seen). */
void
afp_http_forget_hosts(void)
{
    int         i;

    for (i = 0; i < http_nhosts; i++)
        curl_slist_free_all(http_hosts[i].resolve);
    http_nhosts = 0;
}

/* Releases every transfer and the multi handle (connections closed). */
void
afp_http_cleanup(void)
{
    int         i;

    for (i = 0; i < AFP_HTTP_MAX_SLOTS; i++)
    {
        if (slot_easy[i])
        {
            if (http_multi)
                curl_multi_remove_handle(http_multi, slot_easy[i]);
            curl_easy_cleanup(slot_easy[i]);
            slot_easy[i] = NULL;
        }
        curl_slist_free_all(slot_headers[i]);
        slot_headers[i] = NULL;
    }
    if (http_multi)
        curl_multi_cleanup(http_multi);
    http_multi = NULL;
    afp_http_forget_hosts();
}

/* Appends the addresses of res to entry ("host:port:addr,addr"); returns the new length. */
static int
http_append_addrs(char *entry, size_t size, int len, struct addrinfo *res)
{
    struct addrinfo *ai;

    for (ai = res; ai && len < (int) size - 64; ai = ai->ai_next)
    {
        char        addr[INET6_ADDRSTRLEN];
        const void *src;

        if (ai->ai_family == AF_INET)
            src = &((struct sockaddr_in *) ai->ai_addr)->sin_addr;
        else if (ai->ai_family == AF_INET6)
            src = &((struct sockaddr_in6 *) ai->ai_addr)->sin6_addr;
        else
            continue;
        if (inet_ntop(ai->ai_family, src, addr, sizeof(addr)) == NULL || strstr(entry, addr))
            continue;
        len += snprintf(entry + len, size - len, "%s%s%s%s", entry[len - 1] == ':' ? "" : ",",
                        ai->ai_family == AF_INET6 ? "[" : "", addr,
                        ai->ai_family == AF_INET6 ? "]" : "");
    }
    return len;
}

/*
 * The CURLOPT_RESOLVE list for the host of url: NULL for IP literals (nothing to resolve) and on
 * failure (then *error is set). Cached per batch and host; the entries stay valid until
 * afp_http_forget_hosts, which runs only while no transfer is attached.
 */
static struct curl_slist *
http_resolve(const char *url, const char **error)
{
    CURLU      *u = curl_url();
    char       *host = NULL, *port = NULL;
    unsigned char buf[sizeof(struct in6_addr)];
    HttpHost   *h = NULL;
    long        portnum;
    int         i;

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
        goto done;
    for (i = 0; i < http_nhosts && h == NULL; i++)
        if (http_hosts[i].port == portnum && strcmp(http_hosts[i].host, host) == 0)
            h = &http_hosts[i];
    if (h == NULL)
    {
        struct addrinfo hints, *res = NULL;
        char        entry[1024];
        int         len;

        if (http_nhosts == HTTP_MAX_HOSTS)
        {
            /* entries may be in use by attached transfers: never reset here */
            *error = "too many provider hosts in one batch";
            goto done;
        }
        h = &http_hosts[http_nhosts++];
        memset(h, 0, sizeof(*h));
        strlcpy(h->host, host, sizeof(h->host));
        h->port = portnum;
        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        h->failed = true;
        if (getaddrinfo(host, NULL, &hints, &res) == 0 && res != NULL)
        {
            len = snprintf(entry, sizeof(entry), "%s:%ld:", host, portnum);
            if (entry[http_append_addrs(entry, sizeof(entry), len, res) - 1] != ':')
            {
                h->resolve = curl_slist_append(NULL, entry);
                h->failed = (h->resolve == NULL);
            }
            freeaddrinfo(res);
        }
    }
    if (h->failed)
        *error = "could not resolve the provider host";
done:
    curl_free(host);
    curl_free(port);
    if (u)
        curl_url_cleanup(u);
    return (*error == NULL && h) ? h->resolve : NULL;
}

/* CURLOPT_WRITEFUNCTION: keeps the first AFP_HTTP_RESP_MAX bytes of the response. */
static size_t
http_write(char *buf, size_t size, size_t nitems, void *userdata)
{
    AfpHttpReq *r = (AfpHttpReq *) userdata;
    size_t      n = size * nitems;
    size_t      keep = Min(n, AFP_HTTP_RESP_MAX - r->resp_len);

    memcpy(r->resp + r->resp_len, buf, keep);
    r->resp_len += keep;
    r->resp[r->resp_len] = '\0';
    return n;
}

/* The value of header line buf if its name is name (trimmed, into value); else false. */
static bool
http_header_value(const char *buf, size_t n, const char *name, char *value, size_t size)
{
    size_t      nlen = strlen(name);
    size_t      len;

    if (n <= nlen + 1 || pg_strncasecmp(buf, name, nlen) != 0 || buf[nlen] != ':')
        return false;
    buf += nlen + 1;
    n -= nlen + 1;
    while (n > 0 && (*buf == ' ' || *buf == '\t'))
        buf++, n--;
    while (n > 0 && (buf[n - 1] == '\r' || buf[n - 1] == '\n' || buf[n - 1] == ' '))
        n--;
    len = Min(n, size - 1);
    memcpy(value, buf, len);
    value[len] = '\0';
    return true;
}

/* CURLOPT_HEADERFUNCTION: picks up Retry-After (seconds or an HTTP date) and apns-id. */
static size_t
http_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    AfpHttpReq *r = (AfpHttpReq *) userdata;
    size_t      n = size * nitems;
    char        value[128];

    if (http_header_value(buf, n, "retry-after", value, sizeof(value)))
    {
        char       *end;
        long        secs = strtol(value, &end, 10);

        if (end != value && *end == '\0')
            r->retry_after = (int) Max(0, Min(secs, 86400L));
        else
        {
            time_t      t = curl_getdate(value, NULL);

            if (t > 0)
                r->retry_after = (int) Max(0, Min((long) (t - time(NULL)), 86400L));
        }
    }
    else if (http_header_value(buf, n, "apns-id", value, sizeof(value)))
        strlcpy(r->apns_id, value, sizeof(r->apns_id));
    return n;
}

/* CURLOPT_XFERINFOFUNCTION: aborts the transfer on shutdown, cancel or postmaster death. */
static int
http_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    return afp_send_should_abort() ? 1 : 0;
}

/* Marks r failed before or instead of a transfer. */
static void
http_fail(AfpHttpReq *r, const char *code, const char *message)
{
    r->outcome = AFP_SEND_ERROR;
    strlcpy(r->code, code, sizeof(r->code));
    strlcpy(r->message, message, sizeof(r->message));
}

/* Starts request r in slot; false (r failed) when it cannot be started. */
static bool
http_start(AfpHttpReq *r, int slot, long timeout_ms, struct curl_slist *resolve)
{
    CURL       *e = curl_easy_init();
    struct curl_slist *h = NULL;
    int         i;

    if (e == NULL)
    {
        http_fail(r, "curl:27", "curl_easy_init failed");
        return false;
    }
    for (i = 0; i < AFP_HTTP_MAX_HDRS && r->headers[i]; i++)
    {
        struct curl_slist *next = curl_slist_append(h, r->headers[i]);

        if (next == NULL)
        {
            curl_slist_free_all(h);
            curl_easy_cleanup(e);
            http_fail(r, "curl:27", "out of memory");
            return false;
        }
        h = next;
    }
    slot_easy[slot] = e;
    slot_headers[slot] = h;
    r->slot = slot;
    curl_easy_setopt(e, CURLOPT_PRIVATE, (void *) r);
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (r->body)
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    if (r->version != AFP_HTTP_DEFAULT)
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, r->version == AFP_HTTP_2
                         ? (long) CURL_HTTP_VERSION_2TLS : (long) CURL_HTTP_VERSION_1_1);
    if (r->version == AFP_HTTP_2 && pg_strncasecmp(r->url, "https:", 6) == 0)
        curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);  /* wait for the connection to multiplex on */
    if (r->username || r->password)
    {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, r->username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, r->password);
    }
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *) r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *) r);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, http_progress);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, r->tls_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, r->tls_verify ? 2L : 0L);
    if (r->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, r->ca_file);
    if (resolve)
        curl_easy_setopt(e, CURLOPT_RESOLVE, resolve);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    if (curl_multi_add_handle(http_multi, e) != CURLM_OK)
    {
        curl_easy_cleanup(e);
        curl_slist_free_all(h);
        slot_easy[slot] = NULL;
        slot_headers[slot] = NULL;
        r->slot = -1;
        http_fail(r, "curl:27", "curl_multi_add_handle failed");
        return false;
    }
    return true;
}

/* Detaches and frees the transfer of r. */
static void
http_release(AfpHttpReq *r)
{
    if (r->slot < 0)
        return;
    curl_multi_remove_handle(http_multi, slot_easy[r->slot]);
    curl_easy_cleanup(slot_easy[r->slot]);
    curl_slist_free_all(slot_headers[r->slot]);
    slot_easy[r->slot] = NULL;
    slot_headers[r->slot] = NULL;
    r->slot = -1;
}

/* Copies s as printable ASCII; see afp_http.h. */
void
afp_http_copy_printable(char *dst, size_t size, const char *s, char replacement)
{
    size_t      i;

    for (i = 0; s && s[i] && i + 1 < size; i++)
        dst[i] = ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e) ? replacement : s[i];
    dst[i] = '\0';
}

/* Sets the outcome of a finished transfer. */
static void
http_finish(AfpHttpReq *r, CURLcode rc)
{
    CURL       *e = slot_easy[r->slot];

    if (rc == CURLE_ABORTED_BY_CALLBACK || (rc != CURLE_OK && afp_send_should_abort()))
        r->outcome = AFP_SEND_ABORTED;
    else if (rc != CURLE_OK)
    {
        r->outcome = AFP_SEND_ERROR;
        snprintf(r->code, sizeof(r->code), "curl:%d", (int) rc);
        afp_http_copy_printable(r->message, sizeof(r->message),
                                r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc), '?');
    }
    else
    {
        long        version = 0;

        r->outcome = AFP_SEND_SENT;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
        curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version);
        r->http_version = version == CURL_HTTP_VERSION_2_0 ? 2 : version == CURL_HTTP_VERSION_3 ? 3 : 1;
    }
    if (r->provider)
    {
        /* circuit breaker (transport errors and 5xx are faults); a 429 pauses the provider */
        char        code[sizeof(r->code)];

        if (r->outcome == AFP_SEND_SENT && (r->status < 200 || r->status >= 300) && r->reply_code)
            r->reply_code(r, code, sizeof(code));
        else
            snprintf(code, sizeof(code), "%ld", r->status);
        afp_rate_report_send(r->provider, "http",
                             r->outcome == AFP_SEND_SENT && (r->status < 200 || r->status >= 300)
                             ? AFP_SEND_ERROR : r->outcome,
                             r->outcome == AFP_SEND_SENT ? code : r->code, r->retry_after);
    }
    http_release(r);
}

/* True when two provider names (either may be NULL) are the same. */
static bool
http_same_provider(const char *a, const char *b)
{
    return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

/*
 * Starts the requests from index from on that are not started yet and that their provider admits
 * (afp_rate_gate), while slots are free. Returns the ms until a waiting request may be admitted,
 * -1 when none waits.
 */
static long
http_start_admitted(AfpHttpReq **reqs, int from, int n, int *active, int concurrency,
                    long timeout_ms, int64 batch_start_ms)
{
    const char *waiting[8];
    int         nwaiting = 0, slot = 0, i, k;
    long        rate_wait = -1;

    for (i = from; i < n && *active < concurrency; i++)
    {
        AfpHttpReq *r = reqs[i];
        const char *error;
        struct curl_slist *resolve;
        long        wait;
        int         retry_s;
        bool        skip = false;

        if (r->outcome != AFP_SEND_PENDING || r->slot >= 0)
            continue;
        for (k = 0; k < nwaiting && !skip; k++)
            skip = http_same_provider(waiting[k], r->provider);
        if (skip)
            continue;           /* its provider already said wait in this round */
        if (r->provider)
        {
            switch (afp_rate_gate(r->provider, batch_start_ms, &wait, &retry_s, r->message, sizeof(r->message)))
            {
                case AFP_GATE_DEFER:
                    r->outcome = AFP_SEND_DEFERRED;
                    r->retry_after = retry_s;
                    continue;
                case AFP_GATE_WAIT:
                    if (nwaiting < (int) lengthof(waiting))
                        waiting[nwaiting++] = r->provider;
                    rate_wait = rate_wait < 0 ? wait : Min(rate_wait, wait);
                    continue;
                case AFP_GATE_START:
                    break;
            }
        }
        while (slot < concurrency && slot_easy[slot] != NULL)
            slot++;
        if (slot >= concurrency)
            break;
        resolve = http_resolve(r->url, &error);
        if (error)
            http_fail(r, "curl:6", error);
        else if (http_start(r, slot, timeout_ms, resolve))
            (*active)++;
        else if (r->provider)
            afp_provider_report(r->provider, AFP_RESULT_ABORTED);  /* never sent: no verdict */
    }
    return rate_wait;
}

/* Runs the requests; see afp_http.h. */
void
afp_http_run(AfpHttpReq **reqs, int n, int concurrency, long timeout_ms, const char *who)
{
    int         next = 0, active = 0, running, left, i;
    CURLMsg    *msg;
    long        rate_wait;
    int64       batch_start_ms = afp_rate_now_ms();

    if (!http_curl_ready)
    {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            ereport(ERROR, (errmsg("%s: curl_global_init failed", who)));
        http_curl_ready = true;
    }
    if (http_multi == NULL)
    {
        if ((http_multi = curl_multi_init()) == NULL)
            ereport(ERROR, (errmsg("%s: curl_multi_init failed", who)));
        curl_multi_setopt(http_multi, CURLMOPT_PIPELINING, (long) CURLPIPE_MULTIPLEX);
    }
    concurrency = Max(1, Min(concurrency, AFP_HTTP_MAX_SLOTS));
    curl_multi_setopt(http_multi, CURLMOPT_MAXCONNECTS, (long) concurrency * 2);
    curl_multi_setopt(http_multi, CURLMOPT_MAX_CONCURRENT_STREAMS, (long) Max(concurrency, 100));

    /* resolve before any transfer starts (getaddrinfo may not run while handles are attached) */
    for (i = 0; i < n; i++)
    {
        const char *error;

        if (reqs[i]->outcome != AFP_SEND_PENDING)
            continue;
        (void) http_resolve(reqs[i]->url, &error);
        if (error)
            http_fail(reqs[i], "curl:6", error);
    }

    while (next < n || active > 0)
    {
        if (afp_send_should_abort())
        {
            for (i = 0; i < n; i++)
                if (reqs[i]->outcome == AFP_SEND_PENDING)
                {
                    if (reqs[i]->slot >= 0 && reqs[i]->provider)
                        afp_rate_report_send(reqs[i]->provider, "http", AFP_SEND_ABORTED, NULL, -1);
                    http_release(reqs[i]);
                    reqs[i]->outcome = AFP_SEND_ABORTED;
                    strlcpy(reqs[i]->message, "transfer aborted (shutdown or cancel)",
                            sizeof(reqs[i]->message));
                }
            return;
        }
        while (next < n && (reqs[next]->outcome != AFP_SEND_PENDING || reqs[next]->slot >= 0))
            next++;
        rate_wait = http_start_admitted(reqs, next, n, &active, concurrency, timeout_ms, batch_start_ms);
        curl_multi_perform(http_multi, &running);
        while ((msg = curl_multi_info_read(http_multi, &left)) != NULL)
        {
            AfpHttpReq *r = NULL;

            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &r);
            if (r == NULL)
                continue;
            http_finish(r, msg->data.result);
            active--;
        }
        if (active > 0)
            curl_multi_poll(http_multi, NULL, 0, rate_wait >= 0 ? (int) Max(1, Min(100, rate_wait)) : 100, NULL);
        else if (rate_wait >= 0)
            afp_rate_sleep(Min(rate_wait, 1000));   /* nothing in flight: wait for a token */
        afp_send_absorb_interrupts();
    }
}
