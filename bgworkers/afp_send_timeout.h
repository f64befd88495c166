/*
 * afp_send_timeout.h — statement_timeout for the send phase of the delivery workers
 * (docs/delivery.md, "Signals and interrupts").
 *
 * A background worker runs no client statements, so PostgreSQL never arms statement_timeout for
 * it. The channel workers treat the send phase of each batch as one statement: when
 * statement_timeout is set for them (postgresql.conf, ALTER DATABASE / ALTER ROLE ... SET), the
 * timer is armed before the transfers start; when it fires, the pending cancel makes the progress
 * callbacks abort the transfers in flight (within a second), and the worker records the aborted
 * messages as transient failures ("curl:28", counted attempts), so a limit that is too short can
 * never requeue a message forever.
 */
#ifndef AFP_SEND_TIMEOUT_H
#define AFP_SEND_TIMEOUT_H

/* Arms statement_timeout for a send phase (no-op when it is 0). */
extern void afp_send_timeout_begin(void);

/* Disarms it; returns true when it fired during the phase (the pending cancel is consumed). */
extern bool afp_send_timeout_end(void);

/* Outcome code and message of a transfer aborted by statement_timeout. */
#define AFP_SEND_TIMEOUT_CODE "curl:28"
#define AFP_SEND_TIMEOUT_MESSAGE "send aborted by statement_timeout"

#endif
