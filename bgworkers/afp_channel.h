/*
 * afp_channel.h — the skeleton every channel worker (email, SMS, push) runs (afp_channel.c;
 * docs/delivery.md, "Workers").
 *
 * A channel worker describes itself with an AfpChannel (name, shared-memory role, batch-size GUC,
 * lease release, one-batch function, libcurl reset) and calls afp_channel_main from its
 * bgw_function_name entry point. The skeleton does the rest, the same for every channel:
 *
 *   start    SIGTERM / SIGHUP handlers, connect to afp.delivery_database, publish the process in
 *            its slot, application_name = name, lock_timeout 10s, batch memory context;
 *   loop     config reload, release of the leases of an earlier incarnation (at start, after an
 *            ERROR and while afp is not installed), run_batch; a full batch is followed at once
 *            by the next, otherwise a latch wait of afp.poll_interval_ms (woken by the outbox
 *            trigger, SIGHUP, SIGTERM);
 *   errors   an ERROR is caught: transaction rolled back, libcurl state reset (ch->reset), batch
 *            memory freed, and a growing sleep (1 s .. 60 s) before the next try;
 *   exit     on SIGTERM after the batch is recorded; ch->reset and ch->at_exit at process exit.
 *
 * Inside run_batch a worker uses the helpers below for its claim (afp_channel_claim), the send
 * phase (afp_channel_send_begin / _end: pg_stat_activity and statement_timeout) and the record
 * step (afp_channel_record: one statement with the outcome arrays).
 */
#ifndef AFP_CHANNEL_H
#define AFP_CHANNEL_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "executor/spi.h"

#include "afp_delivery.h"

typedef struct AfpChannel
{
    const char *name;               /* "afp sms worker": application_name and log prefix */
    AfpWorkerRole role;             /* shared-memory slot (afp_delivery_slot_attach / _count) */
    const int  *batch_size;         /* the batch-size GUC: a full batch is followed at once */
    const char *release_sql;        /* ends this channel's leases, e.g. afp.outbox_release_leases('sms') */
    int         (*run_batch) (void);    /* claims, sends and records one batch: rows claimed, -1 = no afp */
    void        (*reset) (void);    /* releases libcurl state (after an ERROR and at exit) */
    void        (*at_exit) (void);  /* frees caches at exit (NULL: nothing) */
    /* optional: publishes the process and logs its start (NULL: the slot of role, and
     * "<name> started for database ...") */
    void        (*attach) (const AfpWorkerArgs *args);
    /* optional: ends the leases instead of release_sql (in a transaction, SPI connected, afp
     * installed) */
    void        (*release_leases) (void);
} AfpChannel;

/* Per-batch memory, reset before and after every run_batch and after an ERROR. */
extern MemoryContext afp_channel_batch_context;

/* Runs the worker described by ch (see above); never returns. */
extern void afp_channel_main(const AfpChannel *ch) pg_attribute_noreturn();

/* Starts a transaction with SPI and a snapshot, and shows "<name>: <what>" in pg_stat_activity. */
extern void afp_channel_begin_tx(const char *what);

/* Commits the transaction opened by afp_channel_begin_tx; the worker shows as idle again. */
extern void afp_channel_end_tx(void);

/* The lease of a batch: every round of transfers (plus extra_rounds) times the timeout, plus a minute. */
extern double afp_channel_lease_s(int batch_size, int concurrency, long timeout_ms, int extra_rounds);

/* Reads the n claimed rows of tt (called in afp_channel_batch_context, SPI connected). */
typedef void (*AfpClaimReader) (SPITupleTable *tt, int n, void *arg);

/*
 * The claim: one transaction running sql, a claim function called with $1 = batch_size,
 * $2 = lease (seconds), $3 = afp.max_attempts and nextra more parameters ($4...); read copies the
 * rows out, then afp_rate_sync() loads the providers' rate limits. Returns the number of rows,
 * -1 when afp is not installed.
 */
extern int  afp_channel_claim(const char *sql, int batch_size, double lease_s, int nextra,
                              const Oid *extra_types, const Datum *extra_values,
                              AfpClaimReader read, void *arg);

/* Text column of a claimed row as a palloc'd C string (NULL for SQL NULL); ERROR if missing. */
extern char *afp_channel_text(HeapTuple tup, TupleDesc desc, const char *name);

/* Integer and boolean columns of a claimed row (isnull_value for SQL NULL). */
extern int64 afp_channel_int64(HeapTuple tup, TupleDesc desc, const char *name, int64 isnull_value);
extern bool afp_channel_bool(HeapTuple tup, TupleDesc desc, const char *name, bool isnull_value);

/* The send phase: "<name>: sending" in pg_stat_activity and statement_timeout armed. */
extern void afp_channel_send_begin(void);

/* Ends the send phase: true when statement_timeout fired (see afp_send_timeout.h). */
extern bool afp_channel_send_end(void);

/* What is recorded for one claimed row. */
typedef struct AfpResult
{
    int64       id;
    int32       attempts;           /* as claimed: a result counts only for that claim */
    AfpSendOutcome outcome;         /* SENT, ERROR, ABORTED or DEFERRED */
    const char *code;               /* outcome code (recorded for ERROR only) */
    const char *message;            /* last_error / event text; NULL or "": none */
    const char *detail;             /* $6: provider message id (push) or reply body (SMS); NULL: none */
    int         retry_after;        /* seconds until the next attempt at the earliest; -1: none */
} AfpResult;

/* Called inside the record transaction with the record statement's SPI result. */
typedef void (*AfpRecordHook) (void);

/*
 * Records a batch: a send phase ended by statement_timeout (timed_out) turns aborted rows into
 * transient failures (AFP_SEND_TIMEOUT_CODE, the attempt counts); a pending cancel is consumed
 * (the transfers it aborted go back to the queue); then one transaction runs sql with
 * $1 ids, $2 attempts, $3 outcomes, $4 codes, $5 messages, $6 details (text[]), $7 retry-after
 * seconds (int[]), $8 afp.max_attempts, $9 afp.retry_base_ms, $10 afp.retry_max_ms, calls hook
 * (if any), commits, and adds the sent / failed counts to the worker's slot.
 */
extern void afp_channel_record(AfpResult *res, int n, bool timed_out, const char *sql, AfpRecordHook hook);

#endif
