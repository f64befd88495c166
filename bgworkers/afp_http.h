/*
 * afp_http.h — HTTP requests of the channel workers (SMS, push) through one libcurl multi handle
 * per process (afp_http.c; docs/delivery.md, "Signals and interrupts").
 *
 * A worker fills one AfpHttpReq per message (URL, body, headers, credentials, provider) and hands
 * an array of them to afp_http_run, which resolves the host names first (CURLOPT_RESOLVE, so
 * libcurl starts no resolver thread), admits each request through its provider's rate limit and
 * circuit breaker (afp_ratelimit.h), runs up to `concurrency` transfers at a time with
 * CURLOPT_NOSIGNAL and a progress callback that aborts on afp_send_should_abort(), keeps the
 * first AFP_HTTP_RESP_MAX bytes of each reply and its Retry-After, and reports every finished
 * transfer to the provider's circuit breaker. The multi handle lives as long as the worker:
 * connections (and HTTP/2 multiplexing) are reused across batches.
 */
#ifndef AFP_HTTP_H
#define AFP_HTTP_H

#include "postgres.h"

#include "afp_delivery.h"

#define AFP_HTTP_RESP_MAX   8192    /* response bytes kept */
#define AFP_HTTP_MAX_HDRS   8       /* request headers per request */
#define AFP_HTTP_MAX_SLOTS  256     /* transfers in flight at most (bound of afp.*_concurrency) */

/* The HTTP version a request asks for. */
typedef enum AfpHttpVersion
{
    AFP_HTTP_1_1 = 0,               /* HTTP/1.1 (the zero value: token exchanges) */
    AFP_HTTP_2,                     /* HTTP/2 over TLS, multiplexed streams (CURLOPT_PIPEWAIT) */
    AFP_HTTP_DEFAULT                /* whatever libcurl negotiates by default */
} AfpHttpVersion;

typedef struct AfpHttpReq AfpHttpReq;

/*
 * Outcome code of a reply that is not 2xx, as reported to the provider's circuit breaker
 * (afp_rate_report_send); without one the code is the HTTP status. May palloc.
 */
typedef void (*AfpHttpReplyCode) (const AfpHttpReq *r, char *code, size_t size);

struct AfpHttpReq
{
    /* input (palloc'd strings, set before afp_http_run) */
    const char *url;
    const char *body;               /* POST body (NULL: GET) */
    const char *headers[AFP_HTTP_MAX_HDRS]; /* "Name: value", NULL-terminated if fewer */
    AfpHttpVersion version;
    const char *username;           /* HTTP Basic auth when username or password is set */
    const char *password;
    bool        tls_verify;
    const char *ca_file;            /* NULL: system CAs */
    const char *provider;           /* afp.providers.name: rate limit and circuit breaker
                                     * (afp_ratelimit.h); NULL for token requests */
    AfpHttpReplyCode reply_code;    /* NULL: the status */
    /* output */
    AfpSendOutcome outcome;         /* SENT = a response arrived (any status), ERROR = transport,
                                     * DEFERRED = not started (provider down or rate-limited) */
    long        status;             /* HTTP status of the response */
    long        http_version;       /* 1 or 2 (major version of the response) */
    int         retry_after;        /* Retry-After in seconds, -1 when absent */
    char        apns_id[64];        /* apns-id response header ("" when absent) */
    char        code[32];           /* "curl:N" for transport failures */
    char        message[256];       /* libcurl error text */
    char        resp[AFP_HTTP_RESP_MAX + 1];
    size_t      resp_len;
    /* private */
    int         slot;
    char        errbuf[256];
};

/* Resets the output fields of r (before a first or repeated run). */
extern void afp_http_req_reset(AfpHttpReq *r);

/*
 * Performs the requests, at most concurrency at a time, over the process's libcurl multi handle
 * (connections and HTTP/2 multiplexing reused between calls), each admitted by its provider's
 * rate limit and circuit breaker (afp_rate_gate; a request that would wait too long or whose
 * provider is down ends DEFERRED with retry_after). Returns when every request has an outcome;
 * requests still open when afp_send_should_abort() turns true end ABORTED. who names the worker
 * in ERRORs (libcurl initialisation failures).
 */
extern void afp_http_run(AfpHttpReq **reqs, int n, int concurrency, long timeout_ms, const char *who);

/* Forgets the host names resolved for the current batch (each batch resolves anew). */
extern void afp_http_forget_hosts(void);

/* Releases all libcurl state of the process (error recovery and exit). */
extern void afp_http_cleanup(void);

/*
 * Copies s (a reply excerpt or error text; NULL = "") into dst (size bytes, NUL-terminated) as
 * printable ASCII, every other byte replaced, so it is valid text in any server encoding.
 */
extern void afp_http_copy_printable(char *dst, size_t size, const char *s, char replacement);

#endif
