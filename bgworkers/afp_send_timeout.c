/*
 * afp_send_timeout.c — statement_timeout for the send phase of the delivery workers; see
 * afp_send_timeout.h.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/timeout.h"

#include "afp_send_timeout.h"

/* Arms the STATEMENT_TIMEOUT timer (registered for every backend by InitPostgres) when
 * statement_timeout is set; on expiry it raises a cancel (SIGINT) like for a query. */
void
afp_send_timeout_begin(void)
{
    if (StatementTimeout > 0)
        enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);
}

/* Disarms the timer; true when it fired, in which case its cancel request is cleared too. */
bool
afp_send_timeout_end(void)
{
    bool        fired;

    if (get_timeout_active(STATEMENT_TIMEOUT))
        disable_timeout(STATEMENT_TIMEOUT, false);
    fired = get_timeout_indicator(STATEMENT_TIMEOUT, true);
    if (fired)
        QueryCancelPending = false;
    return fired;
}
