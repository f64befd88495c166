-- Outcome rules for the error codes of Twilio-shaped SMS providers, next to the generic http
-- rules of sql/077_outcome_rules.sql. The SMS worker's outcome code for a 4xx reply is
-- "<HTTP status> <provider error code>" when the JSON reply has a numeric "code" (e.g.
-- "400 21211"), else the status alone; 5xx replies are the status alone. These rules come before
-- the catch-all '^4\d\d' (permanent, priority 1040). Suppression is recorded as hard_bounce (the
-- suppression's detail keeps the code).
INSERT INTO afp.outcome_rules (kind, priority, pattern, class, suppress, provider_fault, description, builtin) VALUES
    ('http', 1035, '^4\d\d (21211|21614|21635)$', 'permanent', true, false,
     'SMS (Twilio): the To number is invalid, not SMS-capable or a landline', true),
    ('http', 1036, '^4\d\d 21610$', 'permanent', true, false,
     'SMS (Twilio): the recipient unsubscribed from this sender (replied STOP)', true),
    ('http', 1037, '^4\d\d (20003|21212|21606|21659)$', 'transient', false, true,
     'SMS (Twilio): authentication failed or the From number is invalid / not SMS-capable / not ours: '
     'our account at this provider cannot send (a provider fault: fails over; retried until max attempts)', true),
    ('http', 1038, '^4\d\d (21408|21612)$', 'permanent', false, false,
     'SMS (Twilio): no permission for the destination region, or the number cannot be reached from this sender (no suppression)', true);
