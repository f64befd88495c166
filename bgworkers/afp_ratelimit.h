/*
 * afp_ratelimit.h — per-provider rate limits, provider-wide pauses and circuit breakers in shared
 * memory, for every channel worker (docs/delivery.md, "Rate limits and failover").
 *
 * How a channel worker uses it (email, SMS, push):
 *
 *   claim transaction:   afp_rate_sync()                  -- loads rate_per_sec / rate_burst of
 *                                                            every provider (SPI must be connected)
 *   before each transfer:
 *       long wait;
 *       switch (afp_rate_acquire(provider, &wait))
 *       {
 *           case AFP_ADMIT_GO:   start the transfer (one token was taken);
 *           case AFP_ADMIT_WAIT: do not start it yet; keep the transfers in flight running and
 *                                try again after at most `wait` ms (never busy-wait: poll the
 *                                multi handle or afp_rate_sleep(wait) when nothing is in flight);
 *                                if the wait is too long for the batch (afp_rate_wait_too_long)
 *                                give the row back (outcome "deferred", retry after `wait`);
 *           case AFP_ADMIT_DOWN: the provider's circuit is open: give the row back at once
 *                                (outcome "deferred"); the next claim picks another provider.
 *       }
 *   after each transfer:
 *       afp_provider_report(provider, result)   -- AFP_RESULT_OK for any reply that shows the
 *                                                 provider works (2xx, also 4xx about the message),
 *                                                 AFP_RESULT_FAULT for codes whose outcome rule has
 *                                                 provider_fault (afp_provider_fault_code(kind, code):
 *                                                 transport errors, 5xx, ...), AFP_RESULT_ABORTED
 *                                                 when the transfer was aborted by us;
 *       on 429: afp_rate_pause(provider, retry_after_ms) -- pauses the provider for every worker.
 *
 * The functions never raise an ERROR (no palloc, only a spinlock), so they are safe while libcurl
 * easy handles are attached. Without shared memory (library not preloaded) everything admits.
 */
#ifndef AFP_RATELIMIT_H
#define AFP_RATELIMIT_H

#include "postgres.h"

/* Provider slots in shared memory (providers beyond this are not limited; a LOG says so). */
#define AFP_RATE_SLOTS          64
/* Bytes of a provider name that identify its slot (longer names are compared truncated). */
#define AFP_RATE_NAME_LEN       64

typedef enum AfpAdmit
{
    AFP_ADMIT_GO = 0,           /* token taken: start the transfer */
    AFP_ADMIT_WAIT,             /* no token (or paused, or a probe is in flight): retry later */
    AFP_ADMIT_DOWN              /* circuit open: give the row back, another provider takes it */
} AfpAdmit;

typedef enum AfpProviderResult
{
    AFP_RESULT_OK = 0,          /* the provider answered (any reply that is not a provider fault) */
    AFP_RESULT_FAULT,           /* transport error or server-side failure (5xx, SMTP 421) */
    AFP_RESULT_ABORTED          /* aborted by us (shutdown, cancel): says nothing about the provider */
} AfpProviderResult;

/* GUCs (afp_ratelimit.c) */
extern int  afp_failover_threshold;
extern int  afp_failover_cooldown_ms;
extern int  afp_rate_max_wait_ms;
extern int  afp_rate_pause_default_ms;

/* Defines the GUCs above (called from afp_delivery_init). */
extern void afp_rate_define_gucs(void);

/* Shared memory size and initialisation (called from afp_delivery.c's shmem hooks). */
extern Size afp_rate_shmem_size(void);
extern void afp_rate_shmem_startup(void);

/*
 * Loads rate_per_sec and rate_burst of all providers of afp.providers into their slots, and the
 * provider_fault outcome rules when they changed (afp_fault_rules_sync). Call in a transaction
 * with SPI connected (e.g. right after the claim). Cheap: two small queries.
 */
extern void afp_rate_sync(void);

/*
 * Asks to start one transfer through provider: takes a token when the bucket has one, the
 * provider is not paused and its circuit lets it through. *wait_ms is set for AFP_ADMIT_WAIT (time
 * until a token, the end of a pause or the next probe check) and AFP_ADMIT_DOWN (time until the
 * cool-down ends). A NULL or empty provider always gets AFP_ADMIT_GO.
 */
extern AfpAdmit afp_rate_acquire(const char *provider, long *wait_ms);

/* Pauses provider for every worker until now + ms (a 429 with Retry-After); never shortens a pause. */
extern void afp_rate_pause(const char *provider, long ms);

/* Reports the end of a transfer admitted by afp_rate_acquire to the provider's circuit breaker. */
extern void afp_provider_report(const char *provider, AfpProviderResult result);

/*
 * True when an outcome code means the provider itself failed, as afp.outcome_rules say: the rule
 * of the kind with the lowest (priority, id) whose pattern matches the code has provider_fault
 * (seeded: "curl:N" transport errors, HTTP 5xx, SMTP 421, Twilio authentication / From-number
 * errors). No matching rule, or rules not loaded yet, = not a fault. Never raises an ERROR.
 */
extern bool afp_provider_fault_code(const char *kind, const char *code);

/*
 * The provider_fault rules in process memory (afp_outcome_faults.c): afp_fault_rules_sync (SPI
 * connected; called by afp_rate_sync) reloads them when a fingerprint query says afp.outcome_rules
 * changed; afp_fault_rules_match evaluates them without palloc or ERROR.
 */
extern void afp_fault_rules_sync(void);
extern bool afp_fault_rules_match(const char *kind, const char *code);

/* True when waiting wait_ms more would take the batch past afp.rate_max_wait_ms since batch_start_ms. */
extern bool afp_rate_wait_too_long(int64 batch_start_ms, long wait_ms);

/* Milliseconds on a monotonic clock (for batch_start_ms). */
extern int64 afp_rate_now_ms(void);

/* Sleeps up to ms on the process latch (woken by SIGTERM, cancel, inserts); for waits with nothing in flight. */
extern void afp_rate_sleep(long ms);

/* ------------------------------------------------------------------ helpers for the send loops */
typedef enum AfpGate
{
    AFP_GATE_START = 0,         /* token taken: start the transfer now */
    AFP_GATE_WAIT,              /* keep the job; look again within *wait_ms */
    AFP_GATE_DEFER              /* give the job back: outcome AFP_SEND_DEFERRED, *retry_after_s, message */
} AfpGate;

/*
 * afp_rate_acquire plus the batch policy: a provider that is down, or a wait that would take the
 * batch past afp.rate_max_wait_ms (counted from batch_start_ms), gives AFP_GATE_DEFER with the
 * seconds after which the row should be tried again (0 for a provider that is down: the next
 * claim picks another provider) and a message for the delivery event.
 */
extern AfpGate afp_rate_gate(const char *provider, int64 batch_start_ms, long *wait_ms,
                             int *retry_after_s, char *message, size_t message_size);

/*
 * Reports a finished transfer (outcome and outcome code of the job) to the provider's circuit
 * breaker, and pauses the provider on an HTTP 429 (retry_after_s, -1 when absent: then
 * afp.rate_pause_default_ms). kind is "smtp" or "http".
 */
extern void afp_rate_report_send(const char *provider, const char *kind, int outcome,
                                 const char *code, int retry_after_s);

#endif
