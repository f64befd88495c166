/*
 * afp_smtp_int.h — internals shared by the two SMTP engines of the email worker: the libcurl
 * multi engine (afp_smtp.c) and the threaded engine (afp_smtp_pool.c, afp.email_threads).
 *
 * Functions marked "thread-safe" use no PostgreSQL memory, locks or error reporting and may run
 * in the threaded engine's threads.
 */
#ifndef AFP_SMTP_INT_H
#define AFP_SMTP_INT_H

#include <curl/curl.h>

#include "afp_delivery.h"

/* curl_global_init once per process (ERROR on failure; main thread only). */
extern void afp_smtp_global_init(void);

/* Resolves the jobs' hosts into CURLOPT_RESOLVE lists (main thread only; afp_smtp.c). */
extern void afp_smtp_resolve_hosts(AfpSmtpJob *jobs, int njobs, long timeout_ms);

/* The envelope of job j: "<from>" into from_addr and the recipient list; NULL with the job failed
 * when out of memory. Thread-safe. */
extern struct curl_slist *afp_smtp_envelope(AfpSmtpJob *j, char *from_addr, size_t size);

/* The options of one transfer of job j on e (URL, envelope, message, replies, time limits, TLS,
 * AUTH); not the progress, socket or share options. Thread-safe. */
extern void afp_smtp_easy_setup(CURL *e, AfpSmtpJob *j, long timeout_ms, const char *from_addr,
                                struct curl_slist *rcpts);

/* The outcome of a finished transfer; true when its connection is in an unknown state.
 * Thread-safe. */
extern bool afp_smtp_classify(AfpSmtpJob *j, CURLcode rc, long resp);

/* Job j's TLS profile as a string; false when it does not fit. Thread-safe. */
extern bool afp_smtp_profile_key(const AfpSmtpJob *j, char *key, size_t size);

/* Printable-ASCII copy of s. Thread-safe. */
extern void afp_smtp_copy_clean(char *dst, size_t size, const char *s);

/* CURLOPT_READFUNCTION and CURLOPT_HEADERFUNCTION of a job (userdata: the AfpSmtpJob). */
extern size_t afp_smtp_read_cb(char *buf, size_t size, size_t nitems, void *userdata);
extern size_t afp_smtp_reply_cb(char *buf, size_t size, size_t nitems, void *userdata);

/* One round of starts over a batch: the providers that said wait, and the shortest wait (ms,
 * -1 for none). */
typedef struct AfpSmtpRound
{
    const char *waiting[8];
    int         nwaiting;
    long        rate_wait;
} AfpSmtpRound;

/* Whether pending job j may start now (rate limit, circuit breaker; main thread only). */
extern bool afp_smtp_admit(AfpSmtpJob *j, int64 batch_start_ms, AfpSmtpRound *round);

/* Gives a job that never started back as aborted (main thread only). */
extern void afp_smtp_abort_job(AfpSmtpJob *j);

/* The threaded engine (afp_smtp_pool.c): sends the jobs like afp_smtp_send, and stops its
 * threads (closing their connections without waiting for the servers). */
extern void afp_smtp_pool_send(AfpSmtpJob *jobs, int njobs, int concurrency, long timeout_ms);
extern void afp_smtp_pool_stop(void);

#endif
