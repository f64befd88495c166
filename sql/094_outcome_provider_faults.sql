-- Which outcome codes are provider faults (afp.outcome_rules.provider_fault): they count towards
-- the consecutive failures that open a provider's circuit (bgworkers/afp_ratelimit.c,
-- afp_outcome_faults.c). Seeded: transport failures of both kinds, HTTP 5xx and SMTP 421
-- (service not available), plus the Twilio account errors of sql/093_sms_outcome_rules.sql.
UPDATE afp.outcome_rules SET provider_fault = true
 WHERE builtin AND ((pattern = '^curl:') OR (kind = 'http' AND pattern = '^5\d\d'));

INSERT INTO afp.outcome_rules (kind, priority, pattern, class, suppress, provider_fault, description, builtin) VALUES
    ('smtp', 1045, '^421( |$)', 'transient', false, true,
     'SMTP 421: service not available, the server is closing the connection (a provider fault)', true);

CREATE FUNCTION afp.outcome_provider_fault(kind text, code text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'afp_outcome_provider_fault'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION afp.outcome_provider_fault(text, text) IS
'Whether the delivery workers'' circuit breaker counts the outcome code as a provider fault: the '
'provider_fault of the rule of afp.outcome_rules of this kind with the lowest (priority, id) '
'whose pattern matches (no match = false). Evaluated by the same C code and cache as in the workers.';
