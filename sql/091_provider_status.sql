-- Rate limits and circuit breakers of the providers (shared memory, bgworkers/afp_ratelimit.c):
-- status, and manual trip / reset for operators.

CREATE FUNCTION afp_provider_status(
    OUT provider text, OUT rate_per_sec float8, OUT burst float8, OUT tokens float8,
    OUT paused_until timestamptz, OUT circuit text, OUT consecutive_failures integer,
    OUT down_until timestamptz, OUT trips bigint, OUT admitted bigint, OUT throttled bigint,
    OUT pauses bigint, OUT last_used timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'afp_provider_status'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION afp_provider_status() IS
'Providers known to the delivery workers, from shared memory: rate limit (rate_per_sec, burst, '
'tokens now; NULL = unlimited), provider-wide pause after a 429 (paused_until), circuit breaker '
'(closed | open | half_open, consecutive_failures, down_until, trips) and counters (transfers '
'admitted, waits for a token, pauses). Empty unless afp is in shared_preload_libraries.';

CREATE FUNCTION afp_provider_trip(provider text, cooldown interval DEFAULT NULL)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'afp_provider_trip'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION afp_provider_trip(text, interval) IS
'Marks a provider down now (opens its circuit) for cooldown (NULL: afp.failover_cooldown_ms): '
'claims and dispatch use the channel''s next enabled provider; afterwards one probe message decides. '
'Returns the end of the cool-down. Superuser only; needs shared_preload_libraries.';

REVOKE ALL ON FUNCTION afp_provider_trip(text, interval) FROM PUBLIC;

CREATE FUNCTION afp_provider_reset(provider text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'afp_provider_reset'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION afp_provider_reset(text) IS
'Closes a provider''s circuit, ends a 429 pause and refills its token bucket. Returns false when '
'shared memory has no state for it. Superuser only.';

REVOKE ALL ON FUNCTION afp_provider_reset(text) FROM PUBLIC;
