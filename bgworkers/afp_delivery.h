/*
 * afp_delivery.h — shared declarations of the delivery background workers (docs/delivery.md).
 *
 *   afp_delivery.c      GUCs, shared memory, registration of the launcher, the outbox wake-up
 *                       trigger and the afp_delivery_workers() status function
 *   afp_launcher.c      the launcher: starts and supervises the email, SMS and push workers
 *   afp_channel.c       the channel-worker skeleton every channel worker runs: main loop, signals,
 *                       error recovery, claim / record helpers (afp_channel.h)
 *   afp_http.c          HTTP requests of the SMS and push workers through libcurl multi:
 *                       CURLOPT_RESOLVE, abort on interrupts, replies, Retry-After (afp_http.h)
 *   afp_email_worker.c  the email worker: claim a batch, build messages, send, record results
 *   afp_email_workers.c several email workers per database (afp.email_workers)
 *   afp_mime.c          RFC 5322 / MIME message and DKIM-Signature (OpenSSL)
 *   afp_smtp.c          SMTP transfers through the libcurl multi interface
 *   afp_sms_worker.c    the SMS worker: Twilio-shaped HTTP API through the libcurl multi interface
 *   afp_sms_callback.c  X-Twilio-Signature check of status callbacks (afp_ingest_callback)
 *   afp_push_*.c        the push worker: FCM HTTP v1 and APNs over HTTP/2 (afp_push.h),
 *                       afp_jwt.c: JWT signing for both
 *   afp_ratelimit.c     per-provider token buckets, 429 pauses and circuit breakers (afp_ratelimit.h)
 *   afp_send_timeout.c  statement_timeout for the send phase of a batch (afp_send_timeout.h)
 */
#ifndef AFP_DELIVERY_H
#define AFP_DELIVERY_H

#include "postgres.h"

#include <signal.h>

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "pgtime.h"
#include "storage/spin.h"

/* ------------------------------------------------------------------ GUCs (afp_delivery.c) */
extern char *afp_delivery_database;
extern int   afp_email_batch_size;
extern int   afp_email_concurrency;
extern bool  afp_email_threads;          /* threaded SMTP engine (afp_smtp_pool.c) */
extern int   afp_email_workers;         /* email workers per database (restart to change) */
extern int   afp_poll_interval_ms;
extern int   afp_max_attempts;
extern int   afp_smtp_timeout_ms;
extern int   afp_retry_base_ms;
extern int   afp_retry_max_ms;
extern int   afp_sms_batch_size;
extern int   afp_sms_concurrency;
extern int   afp_http_timeout_ms;
extern int   afp_push_batch_size;
extern int   afp_push_concurrency;

/* ------------------------------------------------------------------ shared memory */
typedef enum AfpWorkerRole
{
    AFP_ROLE_LAUNCHER = 0,
    AFP_ROLE_EMAIL = 1,
    AFP_ROLE_SMS = 2,
    AFP_ROLE_PUSH = 3,
    AFP_NUM_ROLES = 4
} AfpWorkerRole;

/* One process slot: who runs, and its counters (protected by AfpDeliveryShared.mutex). */
typedef struct AfpWorkerSlot
{
    pid_t       pid;            /* 0 when not running */
    int         procno;         /* pgprocno for SetLatch, -1 when not running */
    char        database[NAMEDATALEN];
    TimestampTz started_at;
    uint64      batches;
    uint64      sent;
    uint64      failed;
    TimestampTz last_batch_at;
    uint64      wakeups;
} AfpWorkerSlot;

/* Upper bound of afp.email_workers. */
#define AFP_MAX_EMAIL_WORKERS 8

typedef struct AfpDeliveryShared
{
    slock_t       mutex;
    AfpWorkerSlot slots[AFP_NUM_ROLES];
    /* pgprocno of email worker i (1..afp.email_workers-1; worker 0 uses slots[AFP_ROLE_EMAIL]),
     * -1 when not running: worker 0 sets their latches when it finds work */
    int           email_procnos[AFP_MAX_EMAIL_WORKERS];
} AfpDeliveryShared;

/* NULL unless the library was loaded through shared_preload_libraries. */
extern AfpDeliveryShared *afp_delivery_shared;

/* Arguments of a dynamic worker, passed in bgw_extra. */
typedef struct AfpWorkerArgs
{
    char database[NAMEDATALEN];
    int  worker_index;          /* email: this worker's share of the rows, 0..worker_count-1 */
    int  worker_count;          /* email: afp.email_workers when the launcher started it */
} AfpWorkerArgs;

/* Defines the GUCs and, during shared_preload_libraries processing, requests shared memory and
 * registers the launcher. Called from _PG_init. */
extern void afp_delivery_init(void);

/* Publishes the calling process in its slot (and clears it again at exit). */
extern void afp_delivery_slot_attach(AfpWorkerRole role, const char *database);

/* Several email workers per database (afp_email_workers.c): registers worker index of count
 * (worker 0 takes the email slot), tells the worker's share, and lets worker 0 wake the others. */
extern void afp_email_workers_attach(int index, int count, const char *database);
extern int  afp_email_worker_index(void);
extern int  afp_email_worker_count(void);
extern void afp_email_workers_wake_others(void);

/* Adds to the counters of a slot after a batch. */
extern void afp_delivery_slot_count(AfpWorkerRole role, uint64 sent, uint64 failed);

/* ------------------------------------------------------------------ processes */
/* Entry points named in bgw_function_name; must be exported. */
extern PGDLLEXPORT void afp_launcher_main(Datum arg);
extern PGDLLEXPORT void afp_email_worker_main(Datum arg);
extern PGDLLEXPORT void afp_sms_worker_main(Datum arg);
extern PGDLLEXPORT void afp_push_worker_main(Datum arg);

/* ------------------------------------------------------------------ MIME (afp_mime.c) */
typedef struct AfpEmail
{
    const char *from;               /* From header (config "from"), required */
    const char *to;                 /* recipient addr-spec, required */
    const char *subject;
    const char *text;               /* text/plain part (UTF-8) */
    const char *html;               /* text/html part or NULL */
    const char *message_id;         /* "<...@...>" */
    const char *unsubscribe_url;    /* https List-Unsubscribe target or NULL */
    const char *unsubscribe_mailto; /* mailto: List-Unsubscribe target or NULL */
    const char *attachment;         /* attachment bytes or NULL */
    size_t      attachment_len;
    const char *attachment_type;    /* e.g. application/pdf */
    const char *attachment_name;    /* file name (ASCII) */
    const char *dkim_key_pem;       /* RSA private key (PEM) or NULL: no DKIM-Signature */
    const char *dkim_selector;
    const char *dkim_domain;
    pg_time_t   date;               /* Date header (seconds since the epoch) */
} AfpEmail;

/*
 * Builds the complete message (CRLF line ends) into out. Returns NULL on success, else a short
 * static or palloc'd reason and sets *code to a "config:..." outcome code. Never raises an ERROR
 * for bad input (only palloc can, on out-of-memory).
 */
extern const char *afp_mime_build(const AfpEmail *e, StringInfo out, const char **code);

/* Extracts the addr-spec from a From header value ("Name <a@b>" -> "a@b"); palloc'd. */
extern char *afp_mime_address_of(const char *from);

/* Message-ID for an idempotency key: "<key@domain>" with unsafe characters replaced; palloc'd. */
extern char *afp_mime_message_id(const char *key, const char *domain);

/* Frees the cached DKIM key (called at worker exit). */
extern void afp_mime_reset_cache(void);

/* ------------------------------------------------------------------ SMTP (afp_smtp.c) */
typedef enum AfpSendOutcome
{
    AFP_SEND_PENDING = 0,
    AFP_SEND_SENT,
    AFP_SEND_ERROR,
    AFP_SEND_ABORTED,
    AFP_SEND_DEFERRED           /* not started: provider down or rate-limited too long; back to the
                                 * queue ("deferred"), attempt not counted (afp_ratelimit.h) */
} AfpSendOutcome;

typedef struct AfpSmtpJob
{
    /* input */
    const char *url;            /* smtp://host:port or smtps://host:port */
    const char *username;       /* NULL: no AUTH */
    const char *password;
    const char *mail_from;      /* envelope sender addr-spec */
    const char *rcpt;           /* recipient addr-spec */
    const char *data;           /* the message */
    size_t      len;
    int         starttls;       /* 0 none, 1 try, 2 required */
    bool        tls_verify;
    const char *ca_file;        /* NULL: system CAs */
    const char *provider;       /* afp.providers.name: rate limit and circuit breaker (afp_ratelimit.h) */
    /* output */
    AfpSendOutcome outcome;
    int         retry_after;    /* AFP_SEND_DEFERRED: seconds until the row is tried again */
    char        code[32];       /* "550 5.1.1", "451", "curl:7" */
    char        message[256];   /* server reply or libcurl error text */
    /* private */
    size_t      pos;
    void       *resolve;        /* CURLOPT_RESOLVE list (owned by the resolver cache) */
    void       *easy;
    void       *rcpts;
    char        reply[256];
} AfpSmtpJob;

/*
 * Sends the jobs, at most concurrency at a time, over the process's libcurl multi handle
 * (connections are reused between batches). Returns when every job has an outcome. Transfers
 * are aborted (outcome AFP_SEND_ABORTED) when afp_send_should_abort() turns true.
 */
extern void afp_smtp_send(AfpSmtpJob *jobs, int njobs, int concurrency, long timeout_ms);

/* Releases all libcurl state of the process (error recovery and exit). */
extern void afp_smtp_cleanup(void);

/* True when transfers must stop now: SIGTERM, a cancel or die request, or postmaster death. */
extern bool afp_send_should_abort(void);

/* Absorbs pending ProcSignalBarriers; called by the send loop between polls. */
extern void afp_send_absorb_interrupts(void);

/* Set by the channel workers' SIGTERM handlers. */
extern volatile sig_atomic_t afp_worker_got_sigterm;

#endif
