/*
 * afp_ratelimit.c — per-provider token buckets, provider-wide pauses and circuit breakers in
 * shared memory (API and usage in afp_ratelimit.h; docs/delivery.md "Rate limits and failover").
 *
 * One array of AFP_RATE_SLOTS slots, keyed by provider name, protected by one spinlock (every
 * critical section is a short scan and a few assignments, no calls that can fail). A slot holds:
 *
 *   token bucket   rate (tokens per second, 0 = unlimited), burst (bucket size), tokens and the
 *                  time of the last refill; a transfer takes one token;
 *   pause          paused_until: a 429 with Retry-After stops every worker's transfers through
 *                  the provider until then;
 *   circuit        closed -> open after afp.failover_threshold consecutive provider faults
 *                  (outcome rules with provider_fault: transport errors, 5xx, ...); open for afp.failover_cooldown_ms, during which
 *                  afp.provider_available() is false and the claim picks the next enabled
 *                  provider; then half-open: the first transfer admitted is the probe, the others
 *                  wait for it; its success closes the circuit, its failure opens it again.
 *
 * Times are TimestampTz (GetCurrentTimestamp), comparable across processes.
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>
#include <signal.h>

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "afp_delivery.h"
#include "afp_ratelimit.h"

typedef enum CircuitState
{
    CIRCUIT_CLOSED = 0,
    CIRCUIT_OPEN,
    CIRCUIT_HALF_OPEN
} CircuitState;

/* One provider's limits and breaker state. */
typedef struct AfpRateSlot
{
    char        name[AFP_RATE_NAME_LEN];    /* "" = free */
    double      rate;           /* tokens per second; 0 = unlimited */
    double      burst;          /* bucket size (tokens) */
    double      tokens;
    TimestampTz refilled_at;
    TimestampTz paused_until;
    int         state;          /* CircuitState */
    int         failures;       /* consecutive provider faults */
    TimestampTz down_until;     /* open: end of the cool-down */
    pid_t       probe_pid;      /* half-open: process sending the probe */
    TimestampTz probe_started;
    TimestampTz last_used;
    uint64      admitted;
    uint64      throttled;
    uint64      pauses;
    uint64      trips;
} AfpRateSlot;

typedef struct AfpRateShared
{
    slock_t     mutex;
    AfpRateSlot slots[AFP_RATE_SLOTS];
} AfpRateShared;

static AfpRateShared *rate_shared = NULL;

/* GUC variables (see afp_rate_define_gucs). */
int         afp_failover_threshold = 5;
int         afp_failover_cooldown_ms = 30000;
int         afp_rate_max_wait_ms = 10000;
int         afp_rate_pause_default_ms = 1000;

/* Set when a slot could not be found or created (full table); logged once per process. */
static bool full_logged = false;

/* Defines the rate-limit and failover GUCs (all reloadable). */
void
afp_rate_define_gucs(void)
{
    DefineCustomIntVariable("afp.failover_threshold",
                            "Consecutive provider faults (outcome rules with provider_fault: transport errors, 5xx, SMTP 421) that open a provider's circuit.",
                            "While open the provider is skipped and its channel's next enabled provider is used.",
                            &afp_failover_threshold, 5, 1, 100000, PGC_SIGHUP, 0, NULL, NULL, NULL);
    DefineCustomIntVariable("afp.failover_cooldown_ms",
                            "How long an open circuit keeps a provider out before one probe message decides.",
                            NULL, &afp_failover_cooldown_ms, 30000, 10, 86400000, PGC_SIGHUP, GUC_UNIT_MS,
                            NULL, NULL, NULL);
    DefineCustomIntVariable("afp.rate_max_wait_ms",
                            "How long a batch waits for a rate-limited or paused provider before giving rows back to the queue.",
                            "Rows given back are retried when the provider has tokens again; the attempt is not counted.",
                            &afp_rate_max_wait_ms, 10000, 0, 3600000, PGC_SIGHUP, GUC_UNIT_MS,
                            NULL, NULL, NULL);
    DefineCustomIntVariable("afp.rate_pause_default_ms",
                            "Provider-wide pause after a 429 reply without Retry-After.",
                            NULL, &afp_rate_pause_default_ms, 1000, 0, 3600000, PGC_SIGHUP, GUC_UNIT_MS,
                            NULL, NULL, NULL);
}

/* Bytes of shared memory for the slots. */
Size
afp_rate_shmem_size(void)
{
    return MAXALIGN(sizeof(AfpRateShared));
}

/* Creates (postmaster) or attaches to the slots; the caller holds AddinShmemInitLock. */
void
afp_rate_shmem_startup(void)
{
    bool        found;

    rate_shared = ShmemInitStruct("afp rate limits", sizeof(AfpRateShared), &found);
    if (!found)
    {
        memset(rate_shared, 0, sizeof(AfpRateShared));
        SpinLockInit(&rate_shared->mutex);
    }
}

/* Milliseconds since the epoch (wall clock, as TimestampTz). */
int64
afp_rate_now_ms(void)
{
    return (int64) (GetCurrentTimestamp() / 1000);
}

/* True when the slot may be given to another provider: nothing in it that matters now. */
static bool
slot_idle(AfpRateSlot *s, TimestampTz now)
{
    return s->state == CIRCUIT_CLOSED && s->paused_until <= now && s->failures == 0 &&
        (s->rate == 0 || s->tokens >= s->burst);
}

/*
 * The slot of provider (spinlock held). With create, a free slot or the least recently used idle
 * one is taken; NULL when the table is full of busy slots.
 */
static AfpRateSlot *
slot_find(const char *provider, bool create, TimestampTz now)
{
    AfpRateSlot *free_slot = NULL, *lru = NULL;
    int         i;

    for (i = 0; i < AFP_RATE_SLOTS; i++)
    {
        AfpRateSlot *s = &rate_shared->slots[i];

        if (s->name[0] == '\0')
        {
            if (free_slot == NULL)
                free_slot = s;
            continue;
        }
        if (strncmp(s->name, provider, AFP_RATE_NAME_LEN - 1) == 0)
            return s;
        if (slot_idle(s, now) && (lru == NULL || s->last_used < lru->last_used))
            lru = s;
    }
    if (!create)
        return NULL;
    if (free_slot == NULL)
        free_slot = lru;
    if (free_slot != NULL)
    {
        memset(free_slot, 0, sizeof(*free_slot));
        strlcpy(free_slot->name, provider, AFP_RATE_NAME_LEN);
        free_slot->refilled_at = now;
        free_slot->last_used = now;
        free_slot->probe_pid = 0;
    }
    return free_slot;
}

/* Adds the tokens earned since the last refill (spinlock held). */
static void
slot_refill(AfpRateSlot *s, TimestampTz now)
{
    if (now < s->refilled_at)
        s->refilled_at = now;   /* the wall clock went back: do not stall until it catches up */
    if (s->rate > 0 && now > s->refilled_at)
    {
        s->tokens = Min(s->burst, s->tokens + s->rate * (double) (now - s->refilled_at) / 1e6);
        s->refilled_at = now;
    }
    else if (s->rate <= 0)
        s->refilled_at = now;
}

/* Milliseconds from now until t (at least 1 when t is in the future, 0 otherwise). */
static long
ms_until(TimestampTz t, TimestampTz now)
{
    if (t <= now)
        return 0;
    return (long) Max(1, (t - now + 999) / 1000);
}

/*
 * Loads rate_per_sec / rate_burst of every provider into the slots, and the provider_fault
 * outcome rules into process memory when they changed (SPI connected).
 */
void
afp_rate_sync(void)
{
    uint64      i;
    TimestampTz now = GetCurrentTimestamp();

    afp_fault_rules_sync();     /* provider_fault of afp.outcome_rules, reloaded when changed */
    if (rate_shared == NULL)
        return;
    if (SPI_execute("SELECT name, rate_per_sec::float8, rate_burst::float8 FROM afp.providers",
                    true, 0) != SPI_OK_SELECT)
        ereport(ERROR, (errmsg("afp: could not read afp.providers for the rate limits")));
    for (i = 0; i < SPI_processed; i++)
    {
        HeapTuple   tup = SPI_tuptable->vals[i];
        TupleDesc   desc = SPI_tuptable->tupdesc;
        bool        null_name, null_rate, null_burst;
        Datum       d_name = SPI_getbinval(tup, desc, 1, &null_name);
        Datum       d_rate = SPI_getbinval(tup, desc, 2, &null_rate);
        Datum       d_burst = SPI_getbinval(tup, desc, 3, &null_burst);
        char       *name;
        double      rate, burst;
        AfpRateSlot *s;

        if (null_name)
            continue;
        name = TextDatumGetCString(d_name);
        rate = null_rate ? 0 : DatumGetFloat8(d_rate);
        /* default burst: one second's worth of tokens, at least one */
        burst = null_burst ? Max(1.0, floor(rate)) : Max(1.0, DatumGetFloat8(d_burst));
        SpinLockAcquire(&rate_shared->mutex);
        s = slot_find(name, true, now);
        if (s != NULL)
        {
            slot_refill(s, now);
            if (s->rate != rate || s->burst != burst)
            {
                /* a provider that becomes limited starts with a full bucket */
                if (s->rate == 0)
                    s->tokens = burst;
                s->rate = rate;
                s->burst = burst;
                s->tokens = Min(s->tokens, burst);
                s->refilled_at = now;
            }
        }
        SpinLockRelease(&rate_shared->mutex);
        if (s == NULL && !full_logged)
        {
            full_logged = true;
            ereport(LOG, (errmsg("afp: more than %d providers: \"%s\" is not rate limited", AFP_RATE_SLOTS, name)));
        }
        pfree(name);
    }
}

/* Longest a half-open probe may take before another process may send a new one. */
static int64
probe_timeout_us(void)
{
    return ((int64) Max(afp_http_timeout_ms, afp_smtp_timeout_ms) + 10000) * 1000;
}

/* See afp_ratelimit.h. */
AfpAdmit
afp_rate_acquire(const char *provider, long *wait_ms)
{
    TimestampTz now;
    AfpRateSlot *s;
    AfpAdmit    result = AFP_ADMIT_GO;

    *wait_ms = 0;
    if (rate_shared == NULL || provider == NULL || provider[0] == '\0')
        return AFP_ADMIT_GO;
    now = GetCurrentTimestamp();
    SpinLockAcquire(&rate_shared->mutex);
    s = slot_find(provider, true, now);
    if (s == NULL)
    {
        SpinLockRelease(&rate_shared->mutex);
        return AFP_ADMIT_GO;
    }
    s->last_used = now;
    slot_refill(s, now);
    if (s->state == CIRCUIT_OPEN && now < s->down_until)
    {
        *wait_ms = ms_until(s->down_until, now);
        result = AFP_ADMIT_DOWN;
    }
    else if (s->state == CIRCUIT_HALF_OPEN && s->probe_pid != 0 &&
             now - s->probe_started < probe_timeout_us())
    {
        *wait_ms = 100;         /* the probe decides; look again shortly */
        result = AFP_ADMIT_WAIT;
    }
    else if (s->paused_until > now)
    {
        *wait_ms = ms_until(s->paused_until, now);
        result = AFP_ADMIT_WAIT;
    }
    else if (s->rate > 0 && s->tokens < 1.0)
    {
        *wait_ms = (long) Max(1.0, ceil((1.0 - s->tokens) / s->rate * 1000.0));
        result = AFP_ADMIT_WAIT;
    }
    if (result == AFP_ADMIT_GO)
    {
        if (s->rate > 0)
            s->tokens -= 1.0;
        if (s->state != CIRCUIT_CLOSED)
        {
            /* cool-down over (or the probe's process vanished): this transfer is the probe */
            s->state = CIRCUIT_HALF_OPEN;
            s->probe_pid = MyProcPid;
            s->probe_started = now;
        }
        s->admitted++;
    }
    else if (result == AFP_ADMIT_WAIT)
        s->throttled++;
    SpinLockRelease(&rate_shared->mutex);
    return result;
}

/* See afp_ratelimit.h. */
void
afp_rate_pause(const char *provider, long ms)
{
    TimestampTz now, until;
    AfpRateSlot *s;

    if (rate_shared == NULL || provider == NULL || provider[0] == '\0')
        return;
    if (ms < 0)
        ms = afp_rate_pause_default_ms;
    now = GetCurrentTimestamp();
    until = now + (TimestampTz) Min(ms, 86400000L) * 1000;
    SpinLockAcquire(&rate_shared->mutex);
    s = slot_find(provider, true, now);
    if (s != NULL && until > s->paused_until)
    {
        s->paused_until = until;
        s->pauses++;
    }
    SpinLockRelease(&rate_shared->mutex);
}

/* See afp_ratelimit.h. */
void
afp_provider_report(const char *provider, AfpProviderResult result)
{
    TimestampTz now;
    AfpRateSlot *s;
    bool        tripped = false;
    bool        recovered = false;
    int         failures = 0;

    if (rate_shared == NULL || provider == NULL || provider[0] == '\0')
        return;
    now = GetCurrentTimestamp();
    SpinLockAcquire(&rate_shared->mutex);
    s = slot_find(provider, true, now);
    if (s != NULL)
    {
        bool        my_probe = s->state == CIRCUIT_HALF_OPEN && s->probe_pid == MyProcPid;

        if (result == AFP_RESULT_ABORTED)
        {
            if (my_probe)
            {
                /* no verdict: let the next transfer probe at once */
                s->state = CIRCUIT_OPEN;
                s->down_until = now;
                s->probe_pid = 0;
            }
        }
        else if (result == AFP_RESULT_OK)
        {
            if (s->state == CIRCUIT_CLOSED || my_probe)
            {
                recovered = my_probe;
                s->state = CIRCUIT_CLOSED;
                s->failures = 0;
                s->probe_pid = 0;
            }
        }
        else
        {
            if (my_probe || (s->state == CIRCUIT_CLOSED && ++s->failures >= afp_failover_threshold))
            {
                failures = s->failures;
                s->state = CIRCUIT_OPEN;
                s->down_until = now + (TimestampTz) afp_failover_cooldown_ms * 1000;
                s->probe_pid = 0;
                s->trips++;
                tripped = true;
            }
        }
    }
    SpinLockRelease(&rate_shared->mutex);
    if (tripped)
        ereport(LOG, (errmsg("afp: provider \"%s\" marked down for %d ms (%s)", provider,
                             afp_failover_cooldown_ms,
                             failures > 0 ? "consecutive failures" : "probe failed")));
    if (recovered)
        ereport(LOG, (errmsg("afp: provider \"%s\" is up again (probe succeeded)", provider)));
}

/* See afp_ratelimit.h: the provider_fault of the matching outcome rule (afp_outcome_faults.c). */
bool
afp_provider_fault_code(const char *kind, const char *code)
{
    return afp_fault_rules_match(kind, code);
}

/* See afp_ratelimit.h. */
bool
afp_rate_wait_too_long(int64 batch_start_ms, long wait_ms)
{
    return afp_rate_now_ms() + wait_ms - batch_start_ms > (int64) afp_rate_max_wait_ms;
}

/* See afp_ratelimit.h. */
void
afp_rate_sleep(long ms)
{
    if (ms <= 0)
        return;
    (void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
}

/* See afp_ratelimit.h. */
AfpGate
afp_rate_gate(const char *provider, int64 batch_start_ms, long *wait_ms, int *retry_after_s,
              char *message, size_t message_size)
{
    long        wait = 0;
    AfpAdmit    admit = afp_rate_acquire(provider, &wait);

    *wait_ms = wait;
    *retry_after_s = 0;
    if (admit == AFP_ADMIT_GO)
        return AFP_GATE_START;
    if (admit == AFP_ADMIT_DOWN)
    {
        snprintf(message, message_size, "provider \"%s\" is down (circuit open); back to the queue",
                 provider);
        return AFP_GATE_DEFER;
    }
    if (afp_rate_wait_too_long(batch_start_ms, wait))
    {
        *retry_after_s = (int) Min(86400L, (wait + 999) / 1000);
        snprintf(message, message_size,
                 "provider \"%s\" rate-limited or paused for %ld ms more; back to the queue", provider, wait);
        return AFP_GATE_DEFER;
    }
    return AFP_GATE_WAIT;
}

/* See afp_ratelimit.h. */
void
afp_rate_report_send(const char *provider, const char *kind, int outcome, const char *code,
                     int retry_after_s)
{
    if (outcome == AFP_SEND_SENT)
        afp_provider_report(provider, AFP_RESULT_OK);
    else if (outcome == AFP_SEND_ABORTED)
        afp_provider_report(provider, AFP_RESULT_ABORTED);
    else if (outcome == AFP_SEND_ERROR)
    {
        if (kind != NULL && strcmp(kind, "http") == 0 && code != NULL && strncmp(code, "429", 3) == 0)
            afp_rate_pause(provider, retry_after_s >= 0 ? (long) retry_after_s * 1000 : -1);
        afp_provider_report(provider, afp_provider_fault_code(kind, code) ? AFP_RESULT_FAULT : AFP_RESULT_OK);
    }
}

PG_FUNCTION_INFO_V1(afp_provider_available);

/*
 * afp.provider_available(name): false while the provider's circuit is open and its cool-down runs;
 * true otherwise (also without shared memory). Used by the claim to choose a provider.
 */
Datum
afp_provider_available(PG_FUNCTION_ARGS)
{
    char       *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    TimestampTz now = GetCurrentTimestamp();
    AfpRateSlot *s;
    bool        available = true;

    if (rate_shared == NULL)
        PG_RETURN_BOOL(true);
    SpinLockAcquire(&rate_shared->mutex);
    s = slot_find(name, false, now);
    if (s != NULL && s->state == CIRCUIT_OPEN && now < s->down_until)
        available = false;
    SpinLockRelease(&rate_shared->mutex);
    PG_RETURN_BOOL(available);
}

PG_FUNCTION_INFO_V1(afp_provider_status);

/* afp_provider_status(): one row per provider slot in shared memory. */
Datum
afp_provider_status(PG_FUNCTION_ARGS)
{
    static const char *const states[] = {"closed", "open", "half_open"};
    ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
    TimestampTz now = GetCurrentTimestamp();
    int         i;

    InitMaterializedSRF(fcinfo, 0);
    if (rate_shared == NULL)
        return (Datum) 0;
    for (i = 0; i < AFP_RATE_SLOTS; i++)
    {
        AfpRateSlot s;
        Datum       values[13];
        bool        nulls[13];

        SpinLockAcquire(&rate_shared->mutex);
        slot_refill(&rate_shared->slots[i], now);
        s = rate_shared->slots[i];
        SpinLockRelease(&rate_shared->mutex);
        if (s.name[0] == '\0')
            continue;
        s.name[AFP_RATE_NAME_LEN - 1] = '\0';
        memset(nulls, 0, sizeof(nulls));
        values[0] = CStringGetTextDatum(s.name);
        values[1] = Float8GetDatum(s.rate);
        nulls[1] = (s.rate <= 0);
        values[2] = Float8GetDatum(s.burst);
        nulls[2] = (s.rate <= 0);
        values[3] = Float8GetDatum(s.tokens);
        nulls[3] = (s.rate <= 0);
        values[4] = TimestampTzGetDatum(s.paused_until);
        nulls[4] = (s.paused_until <= now);
        values[5] = CStringGetTextDatum(states[s.state]);
        values[6] = Int32GetDatum(s.failures);
        values[7] = TimestampTzGetDatum(s.down_until);
        nulls[7] = (s.state != CIRCUIT_OPEN);
        values[8] = Int64GetDatum((int64) s.trips);
        values[9] = Int64GetDatum((int64) s.admitted);
        values[10] = Int64GetDatum((int64) s.throttled);
        values[11] = Int64GetDatum((int64) s.pauses);
        values[12] = TimestampTzGetDatum(s.last_used);
        tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
    return (Datum) 0;
}

PG_FUNCTION_INFO_V1(afp_provider_trip);

/*
 * afp_provider_trip(name, cooldown interval): opens the provider's circuit now (maintenance, or a
 * provider known to be down) for cooldown (NULL: afp.failover_cooldown_ms). Returns the end.
 */
Datum
afp_provider_trip(PG_FUNCTION_ARGS)
{
    char       *name;
    TimestampTz now = GetCurrentTimestamp();
    TimestampTz until;
    AfpRateSlot *s;

    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    if (rate_shared == NULL)
        ereport(ERROR,
                (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                 errmsg("afp_provider_trip needs afp in shared_preload_libraries")));
    if (PG_ARGISNULL(1))
        until = now + (TimestampTz) afp_failover_cooldown_ms * 1000;
    else
    {
        Interval   *iv = PG_GETARG_INTERVAL_P(1);

        until = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
                                                        TimestampTzGetDatum(now),
                                                        IntervalPGetDatum(iv)));
        if (until <= now)
            ereport(ERROR,
                    (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                     errmsg("afp_provider_trip: cooldown must be positive")));
    }
    SpinLockAcquire(&rate_shared->mutex);
    s = slot_find(name, true, now);
    if (s != NULL)
    {
        s->state = CIRCUIT_OPEN;
        s->down_until = until;
        s->probe_pid = 0;
        s->trips++;
        s->last_used = now;
    }
    SpinLockRelease(&rate_shared->mutex);
    if (s == NULL)
        ereport(ERROR,
                (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
                 errmsg("afp_provider_trip: all %d provider slots are in use", AFP_RATE_SLOTS)));
    PG_RETURN_TIMESTAMPTZ(until);
}

PG_FUNCTION_INFO_V1(afp_provider_reset);

/* afp_provider_reset(name): closes the circuit, ends a pause and refills the bucket. */
Datum
afp_provider_reset(PG_FUNCTION_ARGS)
{
    char       *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
    TimestampTz now = GetCurrentTimestamp();
    AfpRateSlot *s;
    bool        found = false;

    if (rate_shared == NULL)
        PG_RETURN_BOOL(false);
    SpinLockAcquire(&rate_shared->mutex);
    s = slot_find(name, false, now);
    if (s != NULL)
    {
        s->state = CIRCUIT_CLOSED;
        s->failures = 0;
        s->probe_pid = 0;
        s->paused_until = 0;
        s->tokens = s->burst;
        s->refilled_at = now;
        found = true;
    }
    SpinLockRelease(&rate_shared->mutex);
    PG_RETURN_BOOL(found);
}
