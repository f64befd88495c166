/*
 * afp_smtp.c — SMTP transfers: the libcurl multi engine, and what it shares with the threaded
 * engine (afp_smtp_pool.c, afp_smtp_int.h). afp_smtp_send uses the threaded engine while
 * afp.email_threads is on (the default) and the multi engine described here when it is off.
 *
 * One multi handle per worker process lives for the life of the process, so its connection
 * cache reuses SMTP connections from batch to batch. A batch runs at most `concurrency`
 * transfers at a time; the loop polls libcurl with a 100 ms timeout and checks
 * afp_send_should_abort() between polls, and every transfer has a progress callback that checks
 * it too, so SIGTERM, pg_cancel_backend() and postmaster death stop the sends within ~100 ms.
 *
 * libcurl's SMTP waits for the reply to the end of the message data in a blocking loop inside
 * curl_multi_perform (1 s poll intervals, calling the progress callback in between): a slow final
 * reply stalls the other transfers of the worker, and the abort check there has a latency of up
 * to a second. After a transport error (e.g. that wait timing out) libcurl may keep the
 * connection although a late reply is still coming, so the whole connection cache is dropped
 * before the next transfer starts.
 *
 * Safety in a backend process:
 *   - CURLOPT_NOSIGNAL: libcurl installs no signal handlers and uses no alarm().
 *   - Host names are resolved here, before the transfers, and given to libcurl with
 *     CURLOPT_RESOLVE: libcurl starts no resolver thread, the multi engine keeps the process
 *     single-threaded, and PostgreSQL's signal handlers run in the main thread, where a signal
 *     interrupts libcurl's poll() so that the progress callback sees the request within
 *     milliseconds. (The threaded engine's threads block every signal; see afp_smtp_pool.c.)
 *   - No palloc/ereport while easy handles are attached (no longjmp can leak them); the handles
 *     are also tracked in static arrays so error recovery can release them (afp_smtp_cleanup).
 *   - Only the smtp and smtps protocols are allowed; TLS peer and host verification are on
 *     unless the provider sets tls_verify = false.
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "afp_delivery.h"
#include "afp_ratelimit.h"
#include "afp_smtp_int.h"

#define MAX_ACTIVE  256
#define MAX_SOCKETS 1024

static bool   curl_ready = false;
static CURLM *multi = NULL;
static CURL  *active_easy[MAX_ACTIVE];

/* Every socket libcurl opened for us and has not closed yet (see smtp_drop_connections). */
static curl_socket_t open_sockets[MAX_SOCKETS];
static int    n_open_sockets = 0;

/* CURLOPT_OPENSOCKETFUNCTION: opens the socket and remembers it. */
static curl_socket_t
smtp_open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    curl_socket_t s = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);

    if (s != CURL_SOCKET_BAD && n_open_sockets < MAX_SOCKETS)
        open_sockets[n_open_sockets++] = s;
    return s;
}

/* CURLOPT_CLOSESOCKETFUNCTION: forgets and closes the socket. */
static int
smtp_close_socket(void *clientp, curl_socket_t s)
{
    int         i;

    for (i = 0; i < n_open_sockets; i++)
    {
        if (open_sockets[i] == s)
        {
            open_sockets[i] = open_sockets[--n_open_sockets];
            break;
        }
    }
    return close(s);
}

/*
 * Shuts down every socket libcurl holds, so that closing the connections afterwards cannot
 * block: libcurl says QUIT on an SMTP connection it closes and waits for the reply, which a
 * stalled server never sends.
 */
static void
smtp_shutdown_sockets(void)
{
    int         i;

    for (i = 0; i < n_open_sockets; i++)
        (void) shutdown(open_sockets[i], SHUT_RDWR);
}

/* Initialises libcurl once per process (before any thread of the threaded engine starts). */
void
afp_smtp_global_init(void)
{
    if (!curl_ready)
    {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            ereport(ERROR, (errmsg("afp email worker: curl_global_init failed")));
        curl_ready = true;
    }
}

/* Returns the process's multi handle, initialising libcurl on first use. */
static CURLM *
smtp_multi(int concurrency)
{
    afp_smtp_global_init();
    if (multi == NULL)
    {
        multi = curl_multi_init();
        if (multi == NULL)
            ereport(ERROR, (errmsg("afp email worker: curl_multi_init failed")));
        memset(active_easy, 0, sizeof(active_easy));
    }
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long) concurrency * 2);
    return multi;
}

/* A resolved host: the CURLOPT_RESOLVE entry "host:port:addr[,addr...]" or the failure. */
typedef struct ResolvedHost
{
    char        host[256];
    int         port;
    time_t      at;
    struct curl_slist *resolve;     /* NULL when resolution failed */
    char        error[128];
} ResolvedHost;

#define MAX_HOSTS 16
#define RESOLVE_TTL 60

static ResolvedHost hosts[MAX_HOSTS];

/* Splits "smtp[s]://[user@]host[:port][/]" into host and port; false for IP literals and bad URLs. */
static bool
url_host(const char *url, char *host, size_t size, int *port)
{
    const char *p = strstr(url, "://");
    const char *end, *at;
    size_t      len;
    unsigned char buf[sizeof(struct in6_addr)];

    if (p == NULL)
        return false;
    *port = pg_strncasecmp(url, "smtps", 5) == 0 ? 465 : 25;
    p += 3;
    end = p + strcspn(p, "/?#");
    at = memchr(p, '@', end - p);
    if (at)
        p = at + 1;
    if (*p == '[')
        return false;           /* IPv6 literal */
    len = strcspn(p, ":/?#");
    if (len == 0 || len >= size)
        return false;
    memcpy(host, p, len);
    host[len] = '\0';
    if (p[len] == ':')
        *port = atoi(p + len + 1);
    return inet_pton(AF_INET, host, buf) != 1;
}

/* Returns the cache entry for host:port, resolving it when missing or older than RESOLVE_TTL. */
static ResolvedHost *
smtp_resolve(const char *host, int port)
{
    ResolvedHost *h = NULL;
    ResolvedHost *oldest = &hosts[0];
    struct addrinfo hints, *res = NULL, *ai;
    char        entry[1024];
    time_t      now = time(NULL);
    int         i, rc;

    for (i = 0; i < MAX_HOSTS; i++)
    {
        if (hosts[i].port == port && strcmp(hosts[i].host, host) == 0)
            h = &hosts[i];
        if (hosts[i].at < oldest->at)
            oldest = &hosts[i];
    }
    if (h && now - h->at < RESOLVE_TTL)
        return h;
    if (h == NULL)
        h = oldest;
    if (h->resolve)
        curl_slist_free_all(h->resolve);
    memset(h, 0, sizeof(*h));
    strlcpy(h->host, host, sizeof(h->host));
    h->port = port;
    h->at = now;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0)
    {
        snprintf(h->error, sizeof(h->error), "could not resolve host %s: %s", host, gai_strerror(rc));
        return h;
    }
    snprintf(entry, sizeof(entry), "%s:%d:", host, port);
    for (ai = res; ai; ai = ai->ai_next)
    {
        char        addr[INET6_ADDRSTRLEN];
        size_t      len = strlen(entry);

        if (ai->ai_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *) ai->ai_addr)->sin_addr, addr, sizeof(addr));
        else if (ai->ai_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *) ai->ai_addr)->sin6_addr, addr, sizeof(addr));
        else
            continue;
        if (strstr(entry + strlen(host), addr) != NULL || len + strlen(addr) + 4 >= sizeof(entry))
            continue;
        snprintf(entry + len, sizeof(entry) - len, "%s%s%s%s", entry[len - 1] == ':' ? "" : ",",
                 ai->ai_family == AF_INET6 ? "[" : "", addr, ai->ai_family == AF_INET6 ? "]" : "");
    }
    freeaddrinfo(res);
    h->resolve = curl_slist_append(NULL, entry);
    if (h->resolve == NULL)
        snprintf(h->error, sizeof(h->error), "out of memory");
    return h;
}

/*
 * Resolves the host of every job before any transfer starts (getaddrinfo in this thread, cached
 * for a minute) and hands libcurl the addresses with CURLOPT_RESOLVE, so that libcurl never
 * starts its resolver thread: this process stays single-threaded and signals keep going to the
 * main thread, where they interrupt libcurl's poll() at once. Jobs whose host does not resolve
 * fail with curl:6.
 */
void
afp_smtp_resolve_hosts(AfpSmtpJob *jobs, int njobs, long timeout_ms)
{
    int         i;

    for (i = 0; i < njobs; i++)
    {
        AfpSmtpJob *j = &jobs[i];
        char        host[256];
        int         port;
        ResolvedHost *h;

        j->resolve = NULL;
        if (j->outcome != AFP_SEND_PENDING || j->url == NULL || !url_host(j->url, host, sizeof(host), &port))
            continue;
        h = smtp_resolve(host, port);
        if (h->resolve == NULL)
        {
            j->outcome = AFP_SEND_ERROR;
            strlcpy(j->code, "curl:6", sizeof(j->code));
            strlcpy(j->message, h->error, sizeof(j->message));
            continue;
        }
        j->resolve = h->resolve;
    }
}

/* CURLOPT_READFUNCTION: hands libcurl the next piece of the message. */
size_t
afp_smtp_read_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
    AfpSmtpJob *j = (AfpSmtpJob *) userdata;
    size_t      room = size * nitems;
    size_t      n = Min(room, j->len - j->pos);

    memcpy(buf, j->data + j->pos, n);
    j->pos += n;
    return n;
}

/*
 * CURLOPT_HEADERFUNCTION: libcurl passes every SMTP reply line here. Keeps the first error reply
 * (4xx/5xx: the one that failed the transaction; a QUIT reply may follow it) and else the last.
 */
size_t
afp_smtp_reply_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
    AfpSmtpJob *j = (AfpSmtpJob *) userdata;
    size_t      n = size * nitems;
    size_t      k = n;

    if (n >= 3 && buf[0] >= '1' && buf[0] <= '5' && buf[1] >= '0' && buf[1] <= '9' &&
        buf[2] >= '0' && buf[2] <= '9')
    {
        bool        is_error = buf[0] == '4' || buf[0] == '5';
        bool        have_error = j->reply[0] == '4' || j->reply[0] == '5';

        if (have_error)
            return n;
        if (!is_error && buf[0] == '2' && buf[1] == '2' && buf[2] == '1')
            return n;           /* "221 Bye" to QUIT */
        while (k > 0 && (buf[k - 1] == '\r' || buf[k - 1] == '\n'))
            k--;
        k = Min(k, sizeof(j->reply) - 1);
        memcpy(j->reply, buf, k);
        j->reply[k] = '\0';
    }
    return n;
}

/* CURLOPT_XFERINFOFUNCTION: a non-zero return aborts the transfer (CURLE_ABORTED_BY_CALLBACK).
 * libcurl calls it at least once a second, also inside its blocking waits for SMTP replies. */
static int
smtp_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    return afp_send_should_abort() ? 1 : 0;
}

/* Copies s into a fixed buffer as printable ASCII (control and 8-bit bytes become '?'),
 * so that it is valid text in any server encoding. */
void
afp_smtp_copy_clean(char *dst, size_t size, const char *s)
{
    size_t      i;

    for (i = 0; s && s[i] && i + 1 < size; i++)
        dst[i] = ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e) ? '?' : s[i];
    dst[i] = '\0';
}

/*
 * Connection pools per TLS profile. libcurl compares the TLS settings (CA file, verification)
 * only when it reuses an smtps:// connection, not an smtp:// connection upgraded by STARTTLS: a
 * connection verified against one provider's CA could otherwise carry the messages of another
 * provider with other TLS settings to the same server. So every distinct (URL, STARTTLS mode,
 * verification, CA file) gets its own connection cache, a share handle with
 * CURL_LOCK_DATA_CONNECT (credentials are compared by libcurl itself).
 */
#define MAX_PROFILES 16

typedef struct SmtpProfile
{
    char        key[512];
    CURLSH     *share;
} SmtpProfile;

static SmtpProfile profiles[MAX_PROFILES];
static int  n_profiles = 0;

/* The TLS profile of job j as a string (URL, STARTTLS mode, verification, CA file); false when
 * it does not fit in size. */
bool
afp_smtp_profile_key(const AfpSmtpJob *j, char *key, size_t size)
{
    int         len = snprintf(key, size, "%s|%d|%d|%s", j->url ? j->url : "", j->starttls,
                               j->tls_verify ? 1 : 0, j->ca_file ? j->ca_file : "");

    return len >= 0 && (size_t) len < size;
}

/* The share handle of job j's TLS profile, created on first use; NULL when there is no room
 * (the caller then uses a fresh connection that is not kept). No palloc: handles are attached. */
static CURLSH *
smtp_share_for(const AfpSmtpJob *j)
{
    char        key[512];
    int         i;
    CURLSH     *sh;

    if (!afp_smtp_profile_key(j, key, sizeof(key)))
        return NULL;
    for (i = 0; i < n_profiles; i++)
        if (strcmp(profiles[i].key, key) == 0)
            return profiles[i].share;
    if (n_profiles >= MAX_PROFILES || (sh = curl_share_init()) == NULL)
        return NULL;
    if (curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK)
    {
        curl_share_cleanup(sh);
        return NULL;
    }
    strlcpy(profiles[n_profiles].key, key, sizeof(profiles[n_profiles].key));
    profiles[n_profiles].share = sh;
    return profiles[n_profiles++].share;
}

/*
 * The options of one transfer of job j on easy handle e that both engines set (afp_smtp_int.h):
 * URL, envelope (from_addr "<...>", rcpts), the message through afp_smtp_read_cb, replies through
 * afp_smtp_reply_cb, errors into j->message, time limits, CURLOPT_RESOLVE, TLS and AUTH. Options
 * of an earlier job on a reused handle (credentials, resolve list) are reset.
 */
void
afp_smtp_easy_setup(CURL *e, AfpSmtpJob *j, long timeout_ms, const char *from_addr,
                    struct curl_slist *rcpts)
{
    long        ssl = j->starttls == 2 ? CURLUSESSL_ALL : j->starttls == 1 ? CURLUSESSL_TRY : CURLUSESSL_NONE;

    j->pos = 0;
    j->reply[0] = '\0';
    j->message[0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, j->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, from_addr);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, afp_smtp_read_cb);
    curl_easy_setopt(e, CURLOPT_READDATA, j);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t) j->len);
    curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024L);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, afp_smtp_reply_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, j);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->message);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT, Max(1L, timeout_ms / 1000));
    curl_easy_setopt(e, CURLOPT_RESOLVE, j->resolve);
    curl_easy_setopt(e, CURLOPT_USE_SSL, ssl);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, j->tls_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, j->tls_verify ? 2L : 0L);
    /* unset: the default bundle (system CAs); a reused handle always serves one TLS profile, so
     * its CA file never changes (afp_smtp_profile_key) */
    if (j->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, j->ca_file);
    curl_easy_setopt(e, CURLOPT_USERNAME, j->username);
    curl_easy_setopt(e, CURLOPT_PASSWORD, j->username ? (j->password ? j->password : "") : NULL);
    curl_easy_setopt(e, CURLOPT_PRIVATE, j);
}

/* The envelope of job j: "<from>" into from_addr and a one-entry recipient list (NULL, with the
 * job failed, when out of memory). */
struct curl_slist *
afp_smtp_envelope(AfpSmtpJob *j, char *from_addr, size_t size)
{
    char        addr[300];
    struct curl_slist *rcpts;

    snprintf(addr, sizeof(addr), "<%s>", j->rcpt);
    rcpts = curl_slist_append(NULL, addr);
    if (rcpts == NULL)
    {
        j->outcome = AFP_SEND_ERROR;
        strlcpy(j->code, "curl:27", sizeof(j->code));
        strlcpy(j->message, "curl_slist_append failed (out of memory)", sizeof(j->message));
        return NULL;
    }
    snprintf(from_addr, size, "<%s>", j->mail_from);
    return rcpts;
}

/* Creates and attaches the easy handle of job j; false (with the job failed) on error. */
static bool
smtp_start(CURLM *m, AfpSmtpJob *j, int slot, long timeout_ms)
{
    CURL       *e = curl_easy_init();
    char        from[300];
    struct curl_slist *rcpts;

    j->outcome = AFP_SEND_ERROR;
    if (e == NULL)
    {
        strlcpy(j->code, "curl:27", sizeof(j->code));
        strlcpy(j->message, "curl_easy_init failed (out of memory)", sizeof(j->message));
        return false;
    }
    rcpts = afp_smtp_envelope(j, from, sizeof(from));
    if (rcpts == NULL)
    {
        curl_easy_cleanup(e);
        return false;
    }
    afp_smtp_easy_setup(e, j, timeout_ms, from, rcpts);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, smtp_progress);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, smtp_open_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, smtp_close_socket);
    {
        CURLSH     *sh = smtp_share_for(j);

        if (sh != NULL)
            curl_easy_setopt(e, CURLOPT_SHARE, sh);
        else
        {
            curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
            curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
        }
    }

    if (curl_multi_add_handle(m, e) != CURLM_OK)
    {
        curl_easy_cleanup(e);
        curl_slist_free_all(rcpts);
        strlcpy(j->code, "curl:multi", sizeof(j->code));
        strlcpy(j->message, "curl_multi_add_handle failed", sizeof(j->message));
        return false;
    }
    j->easy = e;
    j->rcpts = rcpts;
    j->outcome = AFP_SEND_PENDING;
    active_easy[slot] = e;
    return true;
}

/* Detaches and frees the easy handle of job j. */
static void
smtp_release(CURLM *m, AfpSmtpJob *j)
{
    int         i;

    if (j->easy == NULL)
        return;
    for (i = 0; i < MAX_ACTIVE; i++)
        if (active_easy[i] == j->easy)
            active_easy[i] = NULL;
    curl_multi_remove_handle(m, (CURL *) j->easy);
    curl_easy_cleanup((CURL *) j->easy);
    curl_slist_free_all((struct curl_slist *) j->rcpts);
    j->easy = NULL;
    j->rcpts = NULL;
}

/* Finishes the transfer of job j on the multi handle: its outcome (afp_smtp_classify), then the
 * handle is released. Returns what afp_smtp_classify returns. */
static bool
smtp_finish(CURLM *m, AfpSmtpJob *j, CURLcode rc)
{
    long        resp = 0;

    curl_easy_getinfo((CURL *) j->easy, CURLINFO_RESPONSE_CODE, &resp);
    smtp_release(m, j);
    return afp_smtp_classify(j, rc, resp);
}

/*
 * Turns a finished transfer (libcurl's result rc, the last SMTP reply code resp) into an outcome:
 * sent, aborted, or an error code for the rules. Returns true when the failure leaves a
 * connection in an unknown state (a transport error such as a timeout while waiting for the reply
 * to the message data: libcurl may keep that connection cached although a late reply is still on
 * its way). No palloc or ereport: the threaded engine calls it outside the main thread.
 */
bool
afp_smtp_classify(AfpSmtpJob *j, CURLcode rc, long resp)
{
    char        errtext[256];

    afp_smtp_copy_clean(errtext, sizeof(errtext), j->message[0] ? j->message : curl_easy_strerror(rc));

    if (rc == CURLE_OK)
    {
        j->outcome = AFP_SEND_SENT;
        j->code[0] = '\0';
        afp_smtp_copy_clean(j->message, sizeof(j->message), j->reply);
        return false;
    }
    if (rc == CURLE_ABORTED_BY_CALLBACK)
    {
        j->outcome = AFP_SEND_ABORTED;
        strlcpy(j->code, "aborted", sizeof(j->code));
        strlcpy(j->message, "transfer aborted (shutdown or cancel)", sizeof(j->message));
        return true;
    }
    j->outcome = AFP_SEND_ERROR;
    if (resp >= 400 && resp <= 599)
    {
        const char *r = j->reply;
        int         n = 0;

        snprintf(j->code, sizeof(j->code), "%03ld", resp);
        /* enhanced status code (RFC 3463) after the reply code, e.g. "550 5.1.1 ..." */
        if (strncmp(r, j->code, 3) == 0 && (r[3] == ' ' || r[3] == '-') &&
            (r[4] == '2' || r[4] == '4' || r[4] == '5') && r[5] == '.')
        {
            n = 4;
            while (r[n] && ((r[n] >= '0' && r[n] <= '9') || r[n] == '.') && n < 16)
                n++;
            if (r[n] == '\0' || r[n] == ' ')
                snprintf(j->code, sizeof(j->code), "%03ld %.*s", resp, n - 4, r + 4);
        }
        afp_smtp_copy_clean(j->message, sizeof(j->message), r[0] ? r : errtext);
        return false;
    }
    snprintf(j->code, sizeof(j->code), "curl:%d", (int) rc);
    strlcpy(j->message, errtext, sizeof(j->message));
    return true;
}

/* True when two provider names (either may be NULL) are the same. */
static bool
smtp_same_provider(const char *a, const char *b)
{
    return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

/*
 * Whether pending job j may start now, in a round of starts over a batch (both engines; main
 * thread): not when its provider said wait earlier in the round (the jobs of other providers go
 * on), else the provider's rate limit and circuit breaker decide (afp_ratelimit.c): wait (the
 * provider is remembered and round->rate_wait lowered to its wait), defer (the job's outcome
 * becomes AFP_SEND_DEFERRED) or go.
 */
bool
afp_smtp_admit(AfpSmtpJob *j, int64 batch_start_ms, AfpSmtpRound *round)
{
    long        wait;
    AfpGate     gate;
    int         k;

    for (k = 0; k < round->nwaiting; k++)
        if (smtp_same_provider(round->waiting[k], j->provider))
            return false;
    gate = afp_rate_gate(j->provider, batch_start_ms, &wait, &j->retry_after,
                         j->message, sizeof(j->message));
    if (gate == AFP_GATE_WAIT)
    {
        if (round->nwaiting < (int) lengthof(round->waiting))
            round->waiting[round->nwaiting++] = j->provider;
        round->rate_wait = round->rate_wait < 0 ? wait : Min(round->rate_wait, wait);
        return false;
    }
    if (gate == AFP_GATE_DEFER)
    {
        j->outcome = AFP_SEND_DEFERRED;
        return false;
    }
    return true;
}

/* Gives job j, which never started, back as aborted (and tells its provider's circuit breaker). */
void
afp_smtp_abort_job(AfpSmtpJob *j)
{
    afp_rate_report_send(j->provider, "smtp", AFP_SEND_ABORTED, NULL, -1);
    j->outcome = AFP_SEND_ABORTED;
    strlcpy(j->code, "aborted", sizeof(j->code));
    strlcpy(j->message, "transfer aborted (shutdown or cancel)", sizeof(j->message));
}

/*
 * Sends the jobs; see afp_delivery.h. Jobs start in order, except that a job whose provider
 * must wait (rate limit, pause, half-open probe) does not hold up the jobs of other providers.
 */
void
afp_smtp_send(AfpSmtpJob *jobs, int njobs, int concurrency, long timeout_ms)
{
    CURLM      *m;
    int         next = 0, active = 0;
    bool        poisoned = false;
    int         i;
    int64       batch_start_ms = afp_rate_now_ms();
    AfpSmtpRound round;

    if (afp_email_threads)
    {
        afp_smtp_pool_send(jobs, njobs, concurrency, timeout_ms);     /* afp_smtp_pool.c */
        return;
    }
    afp_smtp_pool_stop();       /* switched off: no idle threads left behind */
    concurrency = Max(1, Min(concurrency, MAX_ACTIVE));
    m = smtp_multi(concurrency);

    afp_smtp_resolve_hosts(jobs, njobs, timeout_ms);

    for (i = 0; i < njobs; i++)
        jobs[i].easy = NULL;

    while (next < njobs || active > 0)
    {
        CURLMsg    *msg;
        int         queued, running = 0;
        CURLMcode   mc;

        if (afp_send_should_abort())
            break;
        afp_send_absorb_interrupts();
        if (poisoned && active == 0)
        {
            /* drop every cached connection before the next transfer can reuse a bad one */
            afp_smtp_cleanup();
            m = smtp_multi(concurrency);
            poisoned = false;
        }
        /* next: the first job not started yet (started ones have an easy handle or an outcome) */
        while (next < njobs && (jobs[next].outcome != AFP_SEND_PENDING || jobs[next].easy != NULL))
            next++;
        round.nwaiting = 0;
        round.rate_wait = -1;
        for (i = next; !poisoned && active < concurrency && i < njobs; i++)
        {
            AfpSmtpJob *j = &jobs[i];
            int         slot;

            if (j->outcome != AFP_SEND_PENDING || j->easy != NULL)
                continue;       /* in flight, or already failed while building */
            if (!afp_smtp_admit(j, batch_start_ms, &round))
                continue;
            for (slot = 0; slot < MAX_ACTIVE && active_easy[slot] != NULL; slot++)
                ;
            if (slot < MAX_ACTIVE && smtp_start(m, j, slot, timeout_ms))
                active++;
            else
                afp_rate_report_send(j->provider, "smtp", AFP_SEND_ABORTED, NULL, -1);  /* never sent */
        }
        if (active == 0)
        {
            if (round.rate_wait >= 0)
                afp_rate_sleep(Min(round.rate_wait, 1000));    /* nothing in flight: wait for a token */
            continue;
        }

        mc = curl_multi_perform(m, &running);
        if (mc != CURLM_OK)
        {
            ereport(LOG, (errmsg("afp email worker: curl_multi_perform: %s", curl_multi_strerror(mc))));
            break;
        }
        while ((msg = curl_multi_info_read(m, &queued)) != NULL)
        {
            AfpSmtpJob *j = NULL;

            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &j);
            if (j == NULL)
                continue;
            if (smtp_finish(m, j, msg->data.result))
                poisoned = true;
            afp_rate_report_send(j->provider, "smtp", j->outcome, j->code, -1);
            active--;
        }
        if (active > 0)
            curl_multi_poll(m, NULL, 0, round.rate_wait >= 0 ? (int) Max(1, Min(100, round.rate_wait)) : 100, NULL);
    }

    if (poisoned)
        afp_smtp_cleanup();

    /*
     * Stopped early with transfers in flight: cut their connections first. libcurl finishes an
     * SMTP transfer removed from the multi handle as if its upload were complete: it sends the
     * end-of-data "." and the server accepts the message cut short (seen: a truncated message
     * delivered after SIGTERM during the upload, then the whole one again).
     */
    for (i = 0; i < njobs && multi != NULL; i++)
    {
        if (jobs[i].easy != NULL)
        {
            smtp_shutdown_sockets();
            poisoned = true;    /* the cached connections are shut down too: drop them below */
            break;
        }
    }

    /* stopped early: abort whatever is in flight or not started */
    for (i = 0; i < njobs; i++)
    {
        AfpSmtpJob *j = &jobs[i];

        if (j->easy != NULL && multi != NULL)
            smtp_release(multi, j);
        if (j->outcome == AFP_SEND_PENDING)
            afp_smtp_abort_job(j);
    }
    if (poisoned)
        afp_smtp_cleanup();
}

/* Releases every easy handle still attached and the multi handle (connections closed without
 * waiting for the servers). */
void
afp_smtp_cleanup(void)
{
    int         i;

    afp_smtp_pool_stop();       /* the threaded engine's threads and connections */
    if (multi == NULL)
        return;
    smtp_shutdown_sockets();
    for (i = 0; i < MAX_ACTIVE; i++)
    {
        if (active_easy[i] != NULL)
        {
            curl_multi_remove_handle(multi, active_easy[i]);
            curl_easy_cleanup(active_easy[i]);
            active_easy[i] = NULL;
        }
    }
    curl_multi_cleanup(multi);
    multi = NULL;
    /* the per-profile connection caches (their sockets are shut down already) */
    for (i = 0; i < n_profiles; i++)
        curl_share_cleanup(profiles[i].share);
    n_profiles = 0;
}
