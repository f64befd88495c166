/*
 * afp_smtp_pool.c — the threaded SMTP engine of the email worker (afp.email_threads = on, the
 * default; afp_smtp.c holds the libcurl multi engine used when it is off).
 *
 * Why: libcurl's SMTP (7.88) waits for the server's reply to the end of the message data in a
 * blocking loop inside the transfer's "done" step. On a multi handle that wait stalls every other
 * transfer of the process, so a worker sends at most one message per server round trip
 * (measured: 4 workers x 8 transfers against a server that answers the data after 100 ms:
 * 36 msgs/s). Here every transfer runs in a thread of its own through the easy interface (one
 * easy handle per TLS profile and thread, so connections are reused between messages and
 * batches), and a slow reply holds only its own thread.
 *
 * Thread rules (PostgreSQL itself is not thread-safe): the threads call only libcurl, libc and
 * the thread-safe helpers of afp_smtp_int.h; they never palloc, ereport, take a PostgreSQL lock or
 * touch shared memory, and every signal is blocked in them, so PostgreSQL's handlers run in the
 * main thread. The main thread does everything else: the rate-limit / circuit gate before a job
 * starts and the report after it ends (afp_ratelimit.c), the interrupt checks. A thread reads the
 * job the main thread queued (in the batch's memory) and writes only that job's outcome fields,
 * then hands it back. To stop (SIGTERM, cancel, statement_timeout, postmaster death, an ERROR)
 * the main thread takes back the queued jobs, sets a flag the transfers' progress callbacks
 * return (libcurl calls them at least once a second, also inside its blocking waits) and shuts
 * the threads' sockets down, so transfers end at once, and it waits until every thread has
 * handed its job back before it returns or rethrows the ERROR: no thread ever works on memory
 * that has been freed.
 *
 * The threads live as long as the process; afp_smtp_pool_stop ends them (error recovery, exit,
 * a change of afp.email_concurrency), closing their connections without waiting for the servers.
 */
#include "postgres.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "afp_delivery.h"
#include "afp_ratelimit.h"
#include "afp_smtp_int.h"

#define POOL_MAX_THREADS 64     /* per email worker: afp.email_concurrency above this is capped */
#define POOL_MAX_HANDLES 8      /* easy handles (TLS profiles) a thread keeps */
#define POOL_MAX_SOCKETS 16     /* sockets a thread tracks for shutdown */
#define POOL_STACK_SIZE (2 * 1024 * 1024)

/* One easy handle a thread keeps for one TLS profile (afp_smtp_profile_key). */
typedef struct PoolHandle
{
    char        key[512];
    CURL       *easy;
} PoolHandle;

/* One thread of the pool. sockets/nsockets are guarded by pool_mu; the rest is the thread's. */
typedef struct PoolThread
{
    pthread_t   tid;
    PoolHandle  handles[POOL_MAX_HANDLES];
    int         nhandles;
    curl_socket_t sockets[POOL_MAX_SOCKETS];
    int         nsockets;
} PoolThread;

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_work_cv;     /* a job was queued, or the pool is closing */
static pthread_cond_t pool_done_cv;     /* a job was handed back */
static bool pool_cv_ready = false;

static PoolThread *pool_threads = NULL; /* malloc'd: lives outside PostgreSQL's memory */
static int  pool_nthreads = 0;
static bool pool_closing = false;       /* guarded by pool_mu */

/* The batch in progress (set and cleared by the main thread under pool_mu). */
static AfpSmtpJob *pool_jobs = NULL;
static long pool_timeout_ms = 0;
static int *pool_queue = NULL;          /* job numbers queued for the threads */
static int  pool_qhead = 0, pool_qtail = 0;
static int *pool_done = NULL;           /* job numbers handed back */
static int  pool_dhead = 0, pool_dtail = 0;

static int  pool_abort = 0;             /* read by the progress callbacks (atomic builtins) */
static int  pool_active = 0;            /* jobs queued or in a thread (main thread only) */

/* CURLOPT_XFERINFOFUNCTION of the threads' transfers: non-zero aborts the transfer. */
static int
pool_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    return __atomic_load_n(&pool_abort, __ATOMIC_RELAXED) ? 1 : 0;
}

/* CURLOPT_OPENSOCKETFUNCTION of a thread's handles: opens the socket and remembers it. */
static curl_socket_t
pool_open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    PoolThread *t = (PoolThread *) clientp;
    curl_socket_t s = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);

    if (s == CURL_SOCKET_BAD)
        return s;
    pthread_mutex_lock(&pool_mu);
    if (t->nsockets < POOL_MAX_SOCKETS)
        t->sockets[t->nsockets++] = s;
    pthread_mutex_unlock(&pool_mu);
    return s;
}

/* CURLOPT_CLOSESOCKETFUNCTION of a thread's handles: forgets and closes the socket. */
static int
pool_close_socket(void *clientp, curl_socket_t s)
{
    PoolThread *t = (PoolThread *) clientp;
    int         i;

    pthread_mutex_lock(&pool_mu);
    for (i = 0; i < t->nsockets; i++)
    {
        if (t->sockets[i] == s)
        {
            t->sockets[i] = t->sockets[--t->nsockets];
            break;
        }
    }
    pthread_mutex_unlock(&pool_mu);
    return close(s);
}

/* Shuts down the sockets of thread only (NULL: of every thread), so that transfers on them end
 * at once and closing their connections cannot wait for a server. */
static void
pool_shutdown_sockets(PoolThread *only)
{
    int         i, k;

    pthread_mutex_lock(&pool_mu);
    for (i = 0; i < pool_nthreads; i++)
    {
        PoolThread *t = &pool_threads[i];

        if (only != NULL && t != only)
            continue;
        for (k = 0; k < t->nsockets; k++)
            (void) shutdown(t->sockets[k], SHUT_RDWR);
    }
    pthread_mutex_unlock(&pool_mu);
}

/* Closes every connection of thread t (sockets shut down first) and frees its handles. */
static void
pool_drop_handles(PoolThread *t)
{
    int         i;

    pool_shutdown_sockets(t);
    for (i = 0; i < t->nhandles; i++)
        curl_easy_cleanup(t->handles[i].easy);
    t->nhandles = 0;
}

/* A new easy handle with the options that are the same for every transfer of thread t. */
static CURL *
pool_new_handle(PoolThread *t)
{
    CURL       *e = curl_easy_init();

    if (e == NULL)
        return NULL;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, pool_progress);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, pool_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, pool_close_socket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, t);
    return e;
}

/*
 * The easy handle of thread t for job j's TLS profile: the one kept for it, or a new one kept from
 * now on. Connections are reused only within a handle, so they never carry a message of another
 * TLS profile (see afp_smtp.c on STARTTLS). When the profile does not fit or the thread keeps
 * POOL_MAX_HANDLES already, a one-off handle (*temporary) that reuses no connection.
 */
static CURL *
pool_handle_for(PoolThread *t, const AfpSmtpJob *j, bool *temporary)
{
    char        key[512];
    CURL       *e;
    int         i;

    *temporary = false;
    if (afp_smtp_profile_key(j, key, sizeof(key)))
    {
        for (i = 0; i < t->nhandles; i++)
            if (strcmp(t->handles[i].key, key) == 0)
                return t->handles[i].easy;
        if (t->nhandles < POOL_MAX_HANDLES)
        {
            e = pool_new_handle(t);
            if (e == NULL)
                return NULL;
            strlcpy(t->handles[t->nhandles].key, key, sizeof(t->handles[t->nhandles].key));
            t->handles[t->nhandles++].easy = e;
            return e;
        }
    }
    e = pool_new_handle(t);
    if (e != NULL)
    {
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
        *temporary = true;
    }
    return e;
}

/* Sends job j in thread t (blocking) and sets its outcome. Thread-safe: no PostgreSQL calls. */
static void
pool_transfer(PoolThread *t, AfpSmtpJob *j, long timeout_ms)
{
    bool        temporary;
    CURL       *e = pool_handle_for(t, j, &temporary);
    char        from[300];
    struct curl_slist *rcpts;
    long        resp = 0;
    CURLcode    rc;
    bool        unknown;

    if (e == NULL)
    {
        j->outcome = AFP_SEND_ERROR;
        strlcpy(j->code, "curl:27", sizeof(j->code));
        strlcpy(j->message, "curl_easy_init failed (out of memory)", sizeof(j->message));
        return;
    }
    rcpts = afp_smtp_envelope(j, from, sizeof(from));
    if (rcpts == NULL)
    {
        if (temporary)
            curl_easy_cleanup(e);
        return;
    }
    afp_smtp_easy_setup(e, j, timeout_ms, from, rcpts);
    rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp);
    /* the handle must not keep pointers into this job or the resolver cache */
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, NULL);
    curl_easy_setopt(e, CURLOPT_RESOLVE, NULL);
    curl_slist_free_all(rcpts);

    unknown = afp_smtp_classify(j, rc, resp);
    if (__atomic_load_n(&pool_abort, __ATOMIC_RELAXED) && j->outcome != AFP_SEND_SENT)
    {
        /* stopped by the main thread (its sockets were shut down): not a failed attempt */
        j->outcome = AFP_SEND_ABORTED;
        strlcpy(j->code, "aborted", sizeof(j->code));
        strlcpy(j->message, "transfer aborted (shutdown or cancel)", sizeof(j->message));
        unknown = true;
    }
    if (temporary)
        curl_easy_cleanup(e);
    else if (unknown)
        pool_drop_handles(t);   /* a late reply may still come on that connection: drop them */
}

/* A thread: takes queued jobs, sends them, hands them back, until the pool closes. */
static void *
pool_thread_main(void *arg)
{
    PoolThread *t = (PoolThread *) arg;

    pthread_mutex_lock(&pool_mu);
    for (;;)
    {
        AfpSmtpJob *j;
        long        timeout_ms;
        int         n;

        while (!pool_closing && pool_qhead == pool_qtail)
            pthread_cond_wait(&pool_work_cv, &pool_mu);
        if (pool_closing)
            break;
        n = pool_queue[pool_qhead++];
        j = &pool_jobs[n];
        timeout_ms = pool_timeout_ms;
        pthread_mutex_unlock(&pool_mu);

        pool_transfer(t, j, timeout_ms);

        pthread_mutex_lock(&pool_mu);
        pool_done[pool_dtail++] = n;
        pthread_cond_signal(&pool_done_cv);
    }
    pthread_mutex_unlock(&pool_mu);
    pool_drop_handles(t);
    return NULL;
}

/* Starts nthreads threads with every signal blocked in them (ERROR when none starts). */
static void
pool_start(int nthreads)
{
    sigset_t    all, old;
    pthread_attr_t attr;
    int         i, rc = 0;

    afp_smtp_global_init();
    if (!pool_cv_ready)
    {
        pthread_condattr_t ca;

        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&pool_work_cv, &ca);
        pthread_cond_init(&pool_done_cv, &ca);
        pthread_condattr_destroy(&ca);
        pool_cv_ready = true;
    }
    pool_threads = calloc(nthreads, sizeof(PoolThread));
    if (pool_threads == NULL)
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("afp email worker: out of memory")));
    pool_closing = false;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, POOL_STACK_SIZE);
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (i = 0; i < nthreads; i++)
    {
        /* pool_nthreads counts the started ones: pool_shutdown_sockets looks at them only */
        rc = pthread_create(&pool_threads[i].tid, &attr, pool_thread_main, &pool_threads[i]);
        if (rc != 0)
            break;
        pool_nthreads = i + 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (pool_nthreads == 0)
    {
        free(pool_threads);
        pool_threads = NULL;
        ereport(ERROR, (errmsg("afp email worker: could not start SMTP threads: %s", strerror(rc))));
    }
    if (pool_nthreads < nthreads)
        ereport(LOG, (errmsg("afp email worker: started %d of %d SMTP threads: %s",
                             pool_nthreads, nthreads, strerror(rc))));
}

/* Ends the threads and closes their connections; see afp_smtp_int.h. */
void
afp_smtp_pool_stop(void)
{
    int         i;

    if (pool_threads == NULL)
        return;
    pthread_mutex_lock(&pool_mu);
    pool_closing = true;
    pthread_cond_broadcast(&pool_work_cv);
    pthread_mutex_unlock(&pool_mu);
    __atomic_store_n(&pool_abort, 1, __ATOMIC_RELAXED);
    pool_shutdown_sockets(NULL);
    for (i = 0; i < pool_nthreads; i++)
        pthread_join(pool_threads[i].tid, NULL);
    free(pool_threads);
    pool_threads = NULL;
    pool_nthreads = 0;
    pool_closing = false;
    __atomic_store_n(&pool_abort, 0, __ATOMIC_RELAXED);
}

/* Queues job n for the threads. */
static void
pool_enqueue(int n)
{
    pthread_mutex_lock(&pool_mu);
    pool_queue[pool_qtail++] = n;
    pthread_cond_signal(&pool_work_cv);
    pthread_mutex_unlock(&pool_mu);
}

/* Waits up to wait_ms for jobs to be handed back; stores their numbers in got, returns how many. */
static int
pool_wait_done(int *got, int wait_ms)
{
    struct timespec until;
    int         n = 0;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long) (wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L)
    {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&pool_mu);
    while (pool_dhead == pool_dtail)
        if (pthread_cond_timedwait(&pool_done_cv, &pool_mu, &until) == ETIMEDOUT)
            break;
    while (pool_dhead < pool_dtail)
        got[n++] = pool_done[pool_dhead++];
    pthread_mutex_unlock(&pool_mu);
    return n;
}

/* Stops the batch: takes back the jobs no thread has picked up (started[n] false again), makes the
 * running transfers abort and shuts their sockets down. No ereport. */
static void
pool_abort_batch(bool *started)
{
    pthread_mutex_lock(&pool_mu);
    while (pool_qhead < pool_qtail)
    {
        started[pool_queue[--pool_qtail]] = false;
        pool_active--;
    }
    pthread_mutex_unlock(&pool_mu);
    __atomic_store_n(&pool_abort, 1, __ATOMIC_RELAXED);
    pool_shutdown_sockets(NULL);
}

/* Aborts the batch and waits until every thread has handed its job back. No ereport. */
static void
pool_drain(bool *started, int *got)
{
    pool_abort_batch(started);
    while (pool_active > 0)
    {
        pool_active -= pool_wait_done(got, 100);
        pool_shutdown_sockets(NULL);
    }
}

/*
 * The main thread's loop over a batch: starts jobs in order through the providers' gates (a job
 * whose provider must wait does not hold up other providers' jobs), at most nthreads at a time,
 * reports every finished one, and stops early when afp_send_should_abort() turns true.
 */
static void
pool_run(AfpSmtpJob *jobs, int njobs, int nthreads, bool *started, int *got)
{
    int         next = 0, i, k, ngot;
    bool        aborting = false;
    int64       batch_start_ms = afp_rate_now_ms();
    AfpSmtpRound round;

    while (next < njobs || pool_active > 0)
    {
        if (!aborting && afp_send_should_abort())
        {
            aborting = true;
            pool_abort_batch(started);
        }
        afp_send_absorb_interrupts();
        if (aborting)
            next = njobs;
        while (next < njobs && (jobs[next].outcome != AFP_SEND_PENDING || started[next]))
            next++;
        round.nwaiting = 0;
        round.rate_wait = -1;
        for (i = next; pool_active < nthreads && i < njobs; i++)
        {
            if (jobs[i].outcome != AFP_SEND_PENDING || started[i])
                continue;
            if (!afp_smtp_admit(&jobs[i], batch_start_ms, &round))
                continue;
            started[i] = true;
            pool_active++;
            pool_enqueue(i);
        }
        if (pool_active == 0)
        {
            if (round.rate_wait >= 0 && !aborting)
                afp_rate_sleep(Min(round.rate_wait, 1000));    /* nothing in flight: wait for a token */
            continue;
        }
        ngot = pool_wait_done(got, round.rate_wait >= 0 ? (int) Max(1, Min(100, round.rate_wait)) : 100);
        for (k = 0; k < ngot; k++)
        {
            AfpSmtpJob *j = &jobs[got[k]];

            afp_rate_report_send(j->provider, "smtp", j->outcome, j->code, -1);
            pool_active--;
        }
        if (aborting)
            pool_shutdown_sockets(NULL);
    }

    /* stopped early: the jobs that never started */
    for (i = 0; i < njobs; i++)
    {
        AfpSmtpJob *j = &jobs[i];

        if (j->outcome == AFP_SEND_PENDING && !started[i])
            afp_smtp_abort_job(j);
    }
}

/* Hands the threads a batch (its jobs and the arrays for the queued and handed-back job numbers),
 * or forgets it (NULLs; no job may be queued or in a thread any more). Main thread only. */
static void
pool_set_batch(AfpSmtpJob *jobs, long timeout_ms, int *queue, int *done)
{
    pthread_mutex_lock(&pool_mu);
    pool_jobs = jobs;
    pool_timeout_ms = timeout_ms;
    pool_queue = queue;
    pool_done = done;
    pool_qhead = pool_qtail = pool_dhead = pool_dtail = 0;
    pthread_mutex_unlock(&pool_mu);
    __atomic_store_n(&pool_abort, 0, __ATOMIC_RELAXED);
}

/* Sends the jobs through the threads; see afp_smtp_int.h and afp_smtp_send. */
void
afp_smtp_pool_send(AfpSmtpJob *jobs, int njobs, int concurrency, long timeout_ms)
{
    int         want = Max(1, Min(concurrency, POOL_MAX_THREADS));
    int         nthreads;
    bool       *started;
    int        *queue, *done, *got;
    int         i;

    if (pool_threads != NULL && pool_nthreads != want)
        afp_smtp_pool_stop();   /* afp.email_concurrency changed */
    if (pool_threads == NULL)
        pool_start(want);
    nthreads = pool_nthreads;

    afp_smtp_resolve_hosts(jobs, njobs, timeout_ms);
    for (i = 0; i < njobs; i++)
        jobs[i].easy = NULL;
    started = palloc0(sizeof(bool) * Max(njobs, 1));
    queue = palloc(sizeof(int) * Max(njobs, 1));
    done = palloc(sizeof(int) * Max(njobs, 1));
    got = palloc(sizeof(int) * Max(njobs, 1));

    pool_set_batch(jobs, timeout_ms, queue, done);
    pool_active = 0;

    PG_TRY();
    {
        pool_run(jobs, njobs, nthreads, started, got);
    }
    PG_CATCH();
    {
        /* no thread may go on working on this batch's memory */
        pool_drain(started, got);
        pool_set_batch(NULL, 0, NULL, NULL);
        PG_RE_THROW();
    }
    PG_END_TRY();
    pool_set_batch(NULL, 0, NULL, NULL);
}
